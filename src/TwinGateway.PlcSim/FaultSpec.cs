using System.Globalization;
using TwinGateway.Simulation;

namespace TwinGateway.PlcSim;

/// <summary>
/// The command line's fault syntax: <c>jam:STATION</c>, <c>sensor-offset:SIGNAL:OFFSET</c>,
/// <c>tool-wear:STATION:SECONDS_PER_HOUR</c>, <c>bearing-heat:STATION:DEGREES_PER_HOUR</c>, <c>gain:SIGNAL:FACTOR</c>,
/// <c>noise:SIGNAL:FACTOR</c>, <c>stuck:SIGNAL</c>, <c>leak:SIGNAL:UNITS_PER_HOUR</c> (numbers in invariant culture).
/// Only the syntax is checked here; whether the line has the target and the number fits the fault is
/// <see cref="LineTwin.CheckFault"/>'s to say.
/// </summary>
public static class FaultSpec
{
    public const string Syntax = "jam:STATION | sensor-offset:SIGNAL:OFFSET | tool-wear:STATION:SECONDS_PER_HOUR | bearing-heat:STATION:DEGREES_PER_HOUR"
        + " | gain:SIGNAL:FACTOR | noise:SIGNAL:FACTOR | stuck:SIGNAL | leak:SIGNAL:UNITS_PER_HOUR";

    public static bool TryParse(string text, out TwinFault fault, out string error)
    {
        ArgumentNullException.ThrowIfNull(text);
        fault = null!;
        error = "";
        var parts = text.Split(':');
        var kind = parts[0].Trim().ToUpperInvariant();
        var expectedParts = kind is "JAM" or "STUCK" ? 2 : 3;
        if (kind is not ("JAM" or "SENSOR-OFFSET" or "TOOL-WEAR" or "BEARING-HEAT" or "GAIN" or "NOISE" or "STUCK" or "LEAK"))
        {
            error = $"--fault '{text}': unknown fault '{parts[0]}' (expected {Syntax})";
            return false;
        }

        if (parts.Length != expectedParts || parts.Skip(1).Any(p => p.Trim().Length == 0))
        {
            error = $"--fault '{text}': expected {Example(kind)}";
            return false;
        }

        var target = parts[1].Trim();
        double number = 0;
        var numberOk = expectedParts == 2
            || (double.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out number) && double.IsFinite(number));
        if (!numberOk)
        {
            error = $"--fault '{text}': '{parts[2]}' is not a number (expected {Example(kind)})";
            return false;
        }

        fault = kind switch
        {
            "JAM" => new Jam(target),
            "SENSOR-OFFSET" => new SensorOffset(target, number),
            "TOOL-WEAR" => new ToolWear(target, number),
            "BEARING-HEAT" => new BearingHeat(target, number),
            "GAIN" => new GainChange(target, number),
            "NOISE" => new NoiseIncrease(target, number),
            "STUCK" => new StuckSensor(target),
            _ => new SlowLeak(target, number),
        };
        return true;
    }

    /// <summary>The form that <see cref="TryParse"/> reads back.</summary>
    public static string Format(TwinFault fault) => fault switch
    {
        Jam j => $"jam:{j.StationId}",
        SensorOffset s => string.Create(CultureInfo.InvariantCulture, $"sensor-offset:{s.SignalId}:{s.Offset}"),
        ToolWear t => string.Create(CultureInfo.InvariantCulture, $"tool-wear:{t.StationId}:{t.CycleTimeIncreasePerHour}"),
        BearingHeat b => string.Create(CultureInfo.InvariantCulture, $"bearing-heat:{b.StationId}:{b.DegreesPerHour}"),
        GainChange g => string.Create(CultureInfo.InvariantCulture, $"gain:{g.SignalId}:{g.Factor}"),
        NoiseIncrease n => string.Create(CultureInfo.InvariantCulture, $"noise:{n.SignalId}:{n.Factor}"),
        StuckSensor s => $"stuck:{s.SignalId}",
        SlowLeak l => string.Create(CultureInfo.InvariantCulture, $"leak:{l.SignalId}:{l.UnitsPerHour}"),
        _ => fault.ToString(),
    };

    private static string Example(string kind) => kind switch
    {
        "JAM" => "jam:STATION (for example jam:cnc1)",
        "SENSOR-OFFSET" => "sensor-offset:SIGNAL:OFFSET (for example sensor-offset:cnc1.spindleTemperature:5)",
        "TOOL-WEAR" => "tool-wear:STATION:SECONDS_PER_HOUR (for example tool-wear:cnc1:0.5)",
        "BEARING-HEAT" => "bearing-heat:STATION:DEGREES_PER_HOUR (for example bearing-heat:cnc2:3)",
        "GAIN" => "gain:SIGNAL:FACTOR (for example gain:cnc1.spindleTemperature:1.1)",
        "NOISE" => "noise:SIGNAL:FACTOR (for example noise:cnc1.spindleTemperature:3)",
        "STUCK" => "stuck:SIGNAL (for example stuck:cnc1.spindleTemperature)",
        _ => "leak:SIGNAL:UNITS_PER_HOUR (for example leak:line.airPressure:-0.2)",
    };
}
