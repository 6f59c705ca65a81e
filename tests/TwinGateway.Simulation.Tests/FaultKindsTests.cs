using TwinGateway.Core.Lines;

namespace TwinGateway.Simulation.Tests;

/// <summary>
/// The sensor drift kinds (gain change, noise increase, stuck sensor, slow leak): each against a twin with the same
/// seed without the fault, stepped identically, so the difference is the fault's alone.
/// </summary>
public sealed class FaultKindsTests
{
    private const int OneMinute = 600; // steps of the default 100 ms

    [Fact]
    public void A_gain_change_scales_exactly_that_reading_and_not_the_models_following_it()
    {
        var (baseline, faulted) = Pair(21);
        RunBoth(baseline, faulted, 10 * OneMinute);
        var index = faulted.IndexOf("cnc1.spindleSpeed");
        var before = faulted.GetValue(index);

        faulted.InjectFault(new GainChange("cnc1.spindleSpeed", 0.9));

        Assert.Equal(0.9 * before, faulted.GetValue(index), 9); // at once
        var processing = 0;
        for (var minute = 0; minute < 30; minute++)
        {
            RunBoth(baseline, faulted, OneMinute);
            Assert.Equal(0.9 * baseline.GetValue(index), faulted.GetValue(index), 9);
            processing += baseline.GetValue(index) > 1000 ? 1 : 0;
        }

        Assert.True(processing > 5, $"the spindle ran in only {processing} of 30 samples");

        // cnc1.spindleVibration follows cnc1.spindleSpeed: it follows the process, not the miscalibrated reading.
        AssertOthersUnchanged(baseline, faulted, index);
    }

    [Fact]
    public void A_noise_increase_multiplies_the_models_noise_and_moves_no_other_signal()
    {
        var (baseline, faulted) = Pair(22);
        faulted.InjectFault(new NoiseIncrease("line.airPressure", 4));
        var index = faulted.IndexOf("line.airPressure");

        var (baseSigma, faultSigma) = SampleSigmas(baseline, faulted, index, 60 * OneMinute);

        Assert.InRange(baseSigma, 0.03 * 0.97, 0.03 * 1.03); // the model's noise: 0.03 bar
        Assert.InRange(faultSigma / baseSigma, 4 * 0.97, 4 * 1.03);
        AssertOthersUnchanged(baseline, faulted, index);
    }

    [Fact]
    public void A_noise_increase_adds_noise_scaled_by_the_nominal_range_to_a_signal_without_any()
    {
        // The setpoint has no noise and the range 0..12000 rpm: sigma = 1 % of 12000 × (3 - 1) = 240 rpm.
        var (baseline, faulted) = Pair(23);
        faulted.InjectFault(new NoiseIncrease("cnc1.spindleSpeedSetpoint", 3));
        var index = faulted.IndexOf("cnc1.spindleSpeedSetpoint");
        var mean = 0.0;

        var (baseSigma, faultSigma) = SampleSigmas(baseline, faulted, index, 60 * OneMinute, value => mean += value / (60 * OneMinute));

        Assert.Equal(0, baseSigma);
        Assert.InRange(faultSigma, 240 * 0.97, 240 * 1.03);
        Assert.InRange(mean, 8000 - 5, 8000 + 5);
        Assert.Equal(8000, baseline.GetValue(index));

        // Drawn from the signal's own stream: the line's noise, the part flow and every other signal are as without it.
        AssertOthersUnchanged(baseline, faulted, index);

        // And reproducible from the seed.
        var again = new LineTwin(DemoLine.Definition, new TwinOptions { Seed = 23 });
        again.InjectFault(new NoiseIncrease("cnc1.spindleSpeedSetpoint", 3));
        again.RunUntil(faulted.SimTime);
        Assert.Equal(DeterminismTests.Bits(faulted), DeterminismTests.Bits(again));
    }

    [Fact]
    public void A_stuck_sensor_keeps_its_reading_while_the_process_moves()
    {
        var (baseline, faulted) = Pair(24);
        RunBoth(baseline, faulted, 20 * OneMinute);
        var temperature = faulted.IndexOf("cnc1.spindleTemperature");
        var door = faulted.IndexOf("cnc2.doorOpen"); // a Boolean in no interlock, so the line runs on as without the fault
        var stuckTemperature = faulted.GetValue(temperature);
        var stuckDoor = faulted.GetValue(door);

        faulted.InjectFault(new StuckSensor("cnc1.spindleTemperature"));
        faulted.InjectFault(new StuckSensor("cnc2.doorOpen"));

        var temperatures = new HashSet<double>();
        var doorChanges = 0;
        for (var step = 0; step < 30 * OneMinute; step++)
        {
            var doorBefore = baseline.GetValue(door);
            baseline.Step();
            faulted.Step();
            Assert.Equal(stuckTemperature, faulted.GetValue(temperature));
            Assert.Equal(stuckDoor, faulted.GetValue(door));
            temperatures.Add(baseline.GetValue(temperature));
            doorChanges += baseline.GetValue(door) != doorBefore ? 1 : 0;
        }

        Assert.True(temperatures.Count > 1000, $"the true temperature took only {temperatures.Count} values");
        Assert.True(doorChanges > 4, $"cnc2's door moved only {doorChanges} times");
        var unchanged = DeterminismTests.Bits(baseline);
        var bits = DeterminismTests.Bits(faulted);
        for (var i = 0; i < bits.Length; i++)
        {
            Assert.True(i == temperature || i == door || bits[i] == unchanged[i], $"{faulted.Signals[i].Id} moved too");
        }
    }

    [Fact]
    public void A_stuck_text_signal_keeps_its_text()
    {
        var line = DemoLine.Definition;
        var slot = line.Signals.IndexOf(line.FindSignal("robot1.program")!);
        var textLine = line with { Signals = line.Signals.SetItem(slot, line.Signals[slot] with { DataType = SignalDataType.String, NominalRange = null }) };
        var (baseline, faulted) = (new LineTwin(textLine, new TwinOptions { Seed = 25 }), new LineTwin(textLine, new TwinOptions { Seed = 25 }));
        while (faulted.GetText(slot).Length == 0)
        {
            RunBoth(baseline, faulted, 1);
            Assert.True(faulted.Steps < 30 * OneMinute, "robot1 ran no program in 30 minutes");
        }

        var text = faulted.GetText(slot);
        faulted.InjectFault(new StuckSensor("robot1.program"));
        var idle = 0;
        for (var step = 0; step < 10 * OneMinute; step++)
        {
            RunBoth(baseline, faulted, 1);
            Assert.Equal(text, faulted.GetText(slot));
            idle += baseline.GetText(slot).Length == 0 ? 1 : 0;
        }

        Assert.True(idle > 0, "robot1 never finished its program");
        faulted.ClearFaults();
        Assert.Equal(baseline.GetText(slot), faulted.GetText(slot));
    }

    [Fact]
    public void A_slow_leak_grows_linearly_with_simulated_time_since_the_injection()
    {
        var (baseline, faulted) = Pair(26);
        RunBoth(baseline, faulted, 20 * OneMinute);
        var index = faulted.IndexOf("line.airPressure");
        faulted.InjectFault(new SlowLeak("line.airPressure", -0.6)); // bar per hour

        Assert.Equal(baseline.GetValue(index), faulted.GetValue(index));
        var elapsed = 0;
        foreach (var minutes in new[] { 15, 30, 60, 120 })
        {
            RunBoth(baseline, faulted, (minutes - elapsed) * OneMinute);
            elapsed = minutes;
            Assert.Equal(-0.6 * minutes / 60, faulted.GetValue(index) - baseline.GetValue(index), 9);
        }

        AssertOthersUnchanged(baseline, faulted, index);
    }

    [Fact]
    public void Clearing_the_faults_restores_the_true_readings_at_once_and_the_unfaulted_run_from_the_next_step()
    {
        var (baseline, faulted) = Pair(27);
        faulted.InjectFault(new GainChange("cnc1.spindleTemperature", 1.5));
        faulted.InjectFault(new NoiseIncrease("cnc1.spindleSpeedSetpoint", 5));
        faulted.InjectFault(new NoiseIncrease("cnc1.spindleCurrent", 3));
        faulted.InjectFault(new StuckSensor("cnc2.spindleTemperature"));
        faulted.InjectFault(new SlowLeak("line.airPressure", 2));
        RunBoth(baseline, faulted, 30 * OneMinute);
        Assert.Equal(5, faulted.ActiveFaults.Count);

        faulted.ClearFaults();

        Assert.Empty(faulted.ActiveFaults);
        Assert.Equal(8000, faulted.GetValue("cnc1.spindleSpeedSetpoint"));
        foreach (var signal in new[] { "cnc1.spindleTemperature", "cnc2.spindleTemperature", "line.airPressure" })
        {
            Assert.Equal(baseline.GetValue(signal), faulted.GetValue(signal), 0.5); // the process value, without this step's noise
        }

        RunBoth(baseline, faulted, 1);
        Assert.Equal(DeterminismTests.Bits(baseline), DeterminismTests.Bits(faulted));
    }

    [Fact]
    public void Snapshots_and_forks_carry_the_new_faults()
    {
        var twin = new LineTwin(DemoLine.Definition, new TwinOptions { Seed = 28 });
        twin.RunUntil(twin.SimTime.AddMinutes(10));
        twin.InjectFault(new GainChange("cnc1.spindleTemperature", 1.2));
        twin.InjectFault(new NoiseIncrease("infeed.speedSetpoint", 2));
        twin.InjectFault(new NoiseIncrease("line.cabinetTemperature", 2));
        twin.InjectFault(new StuckSensor("cnc2.spindleTemperature"));
        twin.InjectFault(new SlowLeak("line.airPressure", 0.5));
        twin.RunUntil(twin.SimTime.AddMinutes(10));

        var bytes = twin.SaveState();
        var restored = LineTwin.Restore(DemoLine.Definition, bytes);
        var fork = twin.Fork();

        Assert.Equal(bytes, restored.SaveState());
        Assert.Equal(twin.ActiveFaults, restored.ActiveFaults);
        Assert.Equal(twin.ActiveFaults, fork.ActiveFaults);
        for (var step = 0; step < 30 * OneMinute; step++)
        {
            twin.Step();
            restored.Step();
            fork.Step();
            if (step % 60 == 0)
            {
                Assert.Equal(DeterminismTests.Bits(twin), DeterminismTests.Bits(restored));
                Assert.Equal(DeterminismTests.Bits(twin), DeterminismTests.Bits(fork));
            }
        }

        Assert.Equal(twin.SaveState(), restored.SaveState());
    }

    [Fact]
    public void A_snapshot_without_the_new_faults_does_not_change()
    {
        // Kinds 5 to 8 extend format version 1 without moving a byte of a snapshot that has none of them.
        var twin = DemoLine.Run(TimeSpan.FromMinutes(5), new TwinOptions { Seed = 29 });
        twin.InjectFault(new SensorOffset("line.airPressure", 1));
        var before = twin.SaveState();
        twin.InjectFault(new StuckSensor("line.airPressure"));
        var after = twin.SaveState();

        Assert.Equal(LineTwin.SnapshotFormatVersion, BitConverter.ToUInt16(after, 7));
        Assert.Equal(before.Length + 1 + 1 + "line.airPressure".Length, after.Length); // kind, id length, id
        Assert.Equal(7, after[before.Length]);
    }

    [Fact]
    public void Bad_sensor_faults_are_refused_naming_the_signal_the_type_or_the_number()
    {
        var twin = new LineTwin(DemoLine.Definition);

        foreach (var fault in new TwinFault[]
        {
            new GainChange("cnc1.spindleTemp", 2), new NoiseIncrease("cnc1.spindleTemp", 2),
            new StuckSensor("cnc1.spindleTemp"), new SlowLeak("cnc1.spindleTemp", 1),
        })
        {
            var message = Assert.Throws<ArgumentException>(() => twin.InjectFault(fault)).Message;
            Assert.Contains("no signal 'cnc1.spindleTemp'", message, StringComparison.Ordinal);
        }

        Assert.Contains("'cnc1.doorOpen' is Boolean, not numeric: a gain change", twin.CheckFault(new GainChange("cnc1.doorOpen", 2)), StringComparison.Ordinal);
        Assert.Contains("not numeric: a noise increase", twin.CheckFault(new NoiseIncrease("cnc1.doorOpen", 2)), StringComparison.Ordinal);
        Assert.Contains("not numeric: a slow leak", twin.CheckFault(new SlowLeak("cnc1.doorOpen", 2)), StringComparison.Ordinal);
        Assert.Null(twin.CheckFault(new StuckSensor("cnc1.doorOpen"))); // any data type sticks

        foreach (var factor in new[] { 0, -1, double.NaN, double.PositiveInfinity })
        {
            Assert.Contains($"gain factor {factor}", twin.CheckFault(new GainChange("line.airPressure", factor)), StringComparison.Ordinal);
        }

        foreach (var factor in new[] { 0.5, double.NaN, double.PositiveInfinity })
        {
            Assert.Contains($"noise factor {factor}", twin.CheckFault(new NoiseIncrease("line.airPressure", factor)), StringComparison.Ordinal);
        }

        Assert.Contains($"slow leak {double.NaN} units/h is not a finite number", twin.CheckFault(new SlowLeak("line.airPressure", double.NaN)), StringComparison.Ordinal);
        Assert.Contains("no nominal range", twin.CheckFault(new NoiseIncrease("cnc1.partsProduced", 2)), StringComparison.Ordinal);
        Assert.Null(twin.CheckFault(new NoiseIncrease("line.airPressure", 1)));
        Assert.Null(twin.CheckFault(new GainChange("cnc1.partsProduced", 0.5)));
        Assert.Null(twin.CheckFault(new SlowLeak("line.airPressure", -3)));
        Assert.Empty(twin.ActiveFaults);
    }

    private static (LineTwin Baseline, LineTwin Faulted) Pair(ulong seed) =>
        (new LineTwin(DemoLine.Definition, new TwinOptions { Seed = seed }), new LineTwin(DemoLine.Definition, new TwinOptions { Seed = seed }));

    private static void RunBoth(LineTwin baseline, LineTwin faulted, int steps)
    {
        for (var step = 0; step < steps; step++)
        {
            baseline.Step();
            faulted.Step();
        }
    }

    /// <summary>The sample standard deviations of one signal in both twins over <paramref name="steps"/> steps.</summary>
    private static (double Baseline, double Faulted) SampleSigmas(LineTwin baseline, LineTwin faulted, int index, int steps, Action<double>? faultedValue = null)
    {
        var (a, b) = (new double[steps], new double[steps]);
        for (var step = 0; step < steps; step++)
        {
            baseline.Step();
            faulted.Step();
            a[step] = baseline.GetValue(index);
            b[step] = faulted.GetValue(index);
            faultedValue?.Invoke(b[step]);
        }

        return (Sigma(a), Sigma(b));

        static double Sigma(double[] values)
        {
            var mean = values.Average();
            return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));
        }
    }

    private static void AssertOthersUnchanged(LineTwin baseline, LineTwin faulted, int faultedIndex)
    {
        var unchanged = DeterminismTests.Bits(baseline);
        var bits = DeterminismTests.Bits(faulted);
        for (var i = 0; i < bits.Length; i++)
        {
            Assert.True(i == faultedIndex || bits[i] == unchanged[i], $"{faulted.Signals[i].Id} moved too");
        }
    }
}
