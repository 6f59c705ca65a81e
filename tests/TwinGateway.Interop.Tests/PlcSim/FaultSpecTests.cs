using TwinGateway.PlcSim;
using TwinGateway.Simulation;

namespace TwinGateway.Interop.Tests.PlcSim;

/// <summary>The command line's <c>--fault</c> syntax (<see cref="FaultSpec"/>): pure parsing, no PLC started.</summary>
public sealed class FaultSpecTests
{
    public static TheoryData<string, TwinFault> Faults => new()
    {
        { "jam:cnc1", new Jam("cnc1") },
        { "sensor-offset:cnc1.spindleTemperature:5", new SensorOffset("cnc1.spindleTemperature", 5) },
        { "tool-wear:cnc1:0.5", new ToolWear("cnc1", 0.5) },
        { "bearing-heat:cnc2:3", new BearingHeat("cnc2", 3) },
        { "gain:cnc1.spindleTemperature:1.1", new GainChange("cnc1.spindleTemperature", 1.1) },
        { "noise:line.airPressure:3", new NoiseIncrease("line.airPressure", 3) },
        { "stuck:cnc2.doorOpen", new StuckSensor("cnc2.doorOpen") },
        { "leak:line.airPressure:-0.25", new SlowLeak("line.airPressure", -0.25) },
    };

    [Theory]
    [MemberData(nameof(Faults))]
    public void Every_kind_parses_and_formats_back(string text, TwinFault expected)
    {
        Assert.True(FaultSpec.TryParse(text, out var fault, out var error), error);
        Assert.Equal(expected, fault);
        Assert.Equal(text, FaultSpec.Format(fault));
    }

    [Theory]
    [InlineData("gain:cnc1.spindleTemperature", "expected gain:SIGNAL:FACTOR")]
    [InlineData("gain:cnc1.spindleTemperature:", "expected gain:SIGNAL:FACTOR")]
    [InlineData("noise:line.airPressure:x2", "'x2' is not a number (expected noise:SIGNAL:FACTOR")]
    [InlineData("noise::2", "expected noise:SIGNAL:FACTOR")]
    [InlineData("stuck:cnc2.doorOpen:1", "expected stuck:SIGNAL")]
    [InlineData("stuck", "expected stuck:SIGNAL")]
    [InlineData("leak:line.airPressure:NaN", "'NaN' is not a number (expected leak:SIGNAL:UNITS_PER_HOUR")]
    [InlineData("leak:line.airPressure:1e999", "'1e999' is not a number")]
    [InlineData("drift:line.airPressure:1", "unknown fault 'drift'")]
    public void Malformed_specs_are_refused_saying_what_was_expected(string text, string expected)
    {
        Assert.False(FaultSpec.TryParse(text, out _, out var error));
        Assert.Contains($"--fault '{text}'", error, StringComparison.Ordinal);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_syntax_lists_every_kind()
    {
        foreach (var kind in new[] { "jam:", "sensor-offset:", "tool-wear:", "bearing-heat:", "gain:", "noise:", "stuck:", "leak:" })
        {
            Assert.Contains(kind, FaultSpec.Syntax, StringComparison.Ordinal);
        }
    }
}
