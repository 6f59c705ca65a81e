using TwinGateway.Core.Lines;

namespace TwinGateway.Simulation.Tests;

public sealed class SignalTests
{
    [Fact]
    public void Every_signal_stays_in_its_nominal_range_when_no_fault_is_injected()
    {
        var line = DemoLine.Definition;
        var twin = new LineTwin(line, new TwinOptions { Mode = TwinMode.Real, Seed = 21 });
        var problems = new List<string>();
        for (var step = 0; step < 36_000; step++)
        {
            twin.Step();
            for (var i = 0; i < line.Signals.Length; i++)
            {
                var signal = line.Signals[i];
                var value = twin.GetValue(i);
                Assert.False(double.IsNaN(value), $"{signal.Id} has no value");
                if (signal.NominalRange is not { } range)
                {
                    continue;
                }

                // Noise may carry a value a little past its range (a spindle at rest reads -12..12 rpm); 6 standard deviations.
                var slack = (6 * NoiseOf(signal)) + 1e-9;
                if ((value < range.Low - slack || value > range.High + slack) && problems.Count < 20)
                {
                    problems.Add($"{signal.Id} = {value} outside [{range.Low}, {range.High}] at {twin.SimTime:O}");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void Booleans_are_0_or_1_and_integers_are_whole()
    {
        var twin = new LineTwin(DemoLine.Definition, new TwinOptions { Mode = TwinMode.Real });
        for (var step = 0; step < 6_000; step++)
        {
            twin.Step();
            for (var i = 0; i < twin.Signals.Count; i++)
            {
                var value = twin.GetValue(i);
                if (twin.Signals[i].DataType == SignalDataType.Boolean)
                {
                    Assert.True(value is 0 or 1, $"{twin.Signals[i].Id} = {value}");
                }
                else if (twin.Signals[i].DataType.IsInteger())
                {
                    Assert.Equal(Math.Round(value), value);
                }
            }
        }
    }

    [Fact]
    public void Temperatures_rise_towards_running_while_a_station_works()
    {
        var twin = DemoLine.Run(TimeSpan.FromHours(2), new TwinOptions { Seed = 8 });

        // cnc2 runs most of the time; its spindle (ambient 24, running 52, 25 min time constant) is well above ambient.
        Assert.InRange(twin.GetValue("cnc2.spindleTemperature"), 35, 53);
        Assert.InRange(twin.GetValue("line.ambientTemperature"), 22, 23);
    }

    [Fact]
    public void Shadow_mode_setpoints_drive_the_signals_that_follow_them()
    {
        var twin = new LineTwin(DemoLine.Definition, new TwinOptions { Mode = TwinMode.Shadow });
        twin.SetInput("cnc1.spindleSpeedSetpoint", 10_000);
        twin.SetInput("infeed.speedSetpoint", 20);
        Assert.Equal(10_000, twin.GetValue("cnc1.spindleSpeedSetpoint"));

        var spindle = new List<double>();
        var frequency = new List<double>();
        for (var step = 0; step < 6_000; step++)
        {
            twin.Step();
            if (twin.GetStationState("cnc1") == StationState.Processing)
            {
                spindle.Add(twin.GetValue("cnc1.spindleSpeed"));
            }

            if (twin.GetStationState("infeed") == StationState.Processing)
            {
                frequency.Add(twin.GetValue("infeed.motorFrequency"));
            }
        }

        // Settled values (after the lag) track the new setpoints: 10,000 rpm, and 4.1667 Hz per m/min of 20 m/min.
        Assert.True(spindle.Count > 100);
        Assert.InRange(spindle.Order().ElementAt(spindle.Count / 2), 9_950, 10_050);
        Assert.InRange(frequency.Order().ElementAt(frequency.Count / 2), 82.5, 84.2);
    }

    [Fact]
    public void SetInput_accepts_inputs_only_and_names_what_is_wrong()
    {
        var twin = new LineTwin(DemoLine.Definition);

        var output = Assert.Throws<ArgumentException>(() => twin.SetInput("cnc1.spindleSpeed", 1));
        Assert.Contains("cnc1.spindleSpeed", output.Message, StringComparison.Ordinal);
        var unknown = Assert.Throws<KeyNotFoundException>(() => twin.SetInput("cnc1.nope", 1));
        Assert.Contains("cnc1.nope", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("cnc9.x", Assert.Throws<KeyNotFoundException>(() => twin.GetValue("cnc9.x")).Message, StringComparison.Ordinal);
        Assert.Throws<KeyNotFoundException>(() => twin.GetStationState("cnc9"));
        Assert.False(twin.TryGetValue("cnc9.x", out _));
        Assert.True(twin.TryGetValue("line.speedOverride", out var speed));
        Assert.Equal(100, speed);
    }

    [Fact]
    public void Robot_program_signals_give_the_program_number_and_name()
    {
        var twin = new LineTwin(DemoLine.Definition, new TwinOptions { Mode = TwinMode.Real });
        var index = twin.IndexOf("robot1.program");
        var seen = false;
        for (var step = 0; step < 6_000 && !seen; step++)
        {
            twin.Step();
            if (twin.GetValue(index) == 10)
            {
                seen = true;
                Assert.Equal("10", twin.GetText(index));
            }
        }

        Assert.True(seen);
    }

    private static double NoiseOf(SignalDefinition signal) => signal.Model switch
    {
        ConstantModel m => m.Noise,
        FollowModel m => m.Noise,
        MotorCurrentModel m => m.Noise,
        TemperatureModel m => m.Noise,
        AxisPositionModel m => m.Noise,
        _ => 0,
    };
}
