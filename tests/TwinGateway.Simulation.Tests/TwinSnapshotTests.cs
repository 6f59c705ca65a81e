using System.Collections;
using System.Reflection;
using TwinGateway.Core.Lines;
using TwinGateway.Core.Twins;

namespace TwinGateway.Simulation.Tests;

/// <summary>
/// Twin state snapshots (<see cref="LineTwin.SaveState"/>, <see cref="LineTwin.Restore"/>): a restored twin must
/// continue bit-identically, so a field the snapshot misses makes these tests fail.
/// </summary>
public sealed class TwinSnapshotTests
{
    /// <summary>Two simulated hours at the default 100 ms step.</summary>
    private const int TwoHours = 72_000;

    /// <summary>
    /// Fields that are not state: scratch arrays of the interlock pass, cleared before each use. A field added to the
    /// twin must either be saved by the snapshot or be listed here, with the reason.
    /// </summary>
    private static readonly HashSet<string> Scratch = new(StringComparer.Ordinal) { "_interlockWhen", "_newHeld" };

    [Theory]
    [InlineData(TwinMode.WhatIf, 41UL)]
    [InlineData(TwinMode.WhatIf, 43UL)]
    [InlineData(TwinMode.Shadow, 42UL)]
    public void A_restored_twin_continues_bit_identically_for_two_hours(TwinMode mode, ulong seed)
    {
        // The demo line fails about once an hour; ten times as often, a what-if run saves and restores stations
        // in repair and with their failure budgets part spent.
        var line = mode == TwinMode.WhatIf ? FailingTenTimesAsOften(DemoLine.Definition) : DemoLine.Definition;
        var original = Prepared(line, mode, seed);
        var bytes = original.SaveState();

        var restored = LineTwin.Restore(original.Line, bytes);

        Assert.Equal(original.Options, restored.Options);
        Assert.Equal(original.SimTime, restored.SimTime);
        AssertSameState(original, restored);
        Assert.Equal(bytes, restored.SaveState());

        // The run must exercise what the snapshot holds: failures and repairs (random failures on), robot moves,
        // interlock holds, faults injected and cleared, inputs changed.
        var zone = original.IndexOf("robot2.inOutfeedZone");
        var axis = original.IndexOf("robot1.a1Position");
        var holds = original.InterlockHolds;
        var failures = 0;
        var repairs = 0;
        var zoneChanges = 0;
        var axisMoves = 0;
        var wasFailed = new bool[line.Stations.Length];
        for (var s = 0; s < wasFailed.Length; s++)
        {
            wasFailed[s] = original.GetStationState(s) == StationState.Failed;
        }

        for (var step = 1; step <= TwoHours; step++)
        {
            var zoneBefore = original.GetValue(zone);
            var axisBefore = original.GetValue(axis);
            foreach (var twin in new[] { original, restored })
            {
                switch (step)
                {
                    case 9_000:
                        twin.SetInput("cnc1.spindleSpeedSetpoint", 9_500);
                        twin.SetInput("line.speedOverride", 85);
                        break;
                    case 20_000:
                        twin.InjectFault(new Jam("cnc2"));
                        break;
                    case 26_000:
                        twin.ClearFaults();
                        twin.InjectFault(new ToolWear("assembly", 20));
                        break;
                }

                twin.Step();
            }

            AssertSameStep(original, restored, step);
            zoneChanges += original.GetValue(zone) != zoneBefore ? 1 : 0;
            axisMoves += original.GetValue(axis) != axisBefore ? 1 : 0;
            for (var s = 0; s < wasFailed.Length; s++)
            {
                var failed = original.GetStationState(s) == StationState.Failed;
                failures += failed && !wasFailed[s] ? 1 : 0;
                repairs += !failed && wasFailed[s] ? 1 : 0;
                wasFailed[s] = failed;
            }
        }

        AssertSameState(original, restored);
        Assert.Equal(original.SaveState(), restored.SaveState());
        Assert.True(original.InterlockHolds - holds > 10, $"only {original.InterlockHolds - holds} interlock holds");
        Assert.True(zoneChanges > 10, $"robot2 entered or left its zone only {zoneChanges} times");
        Assert.True(axisMoves > 1_000, $"robot1 moved on only {axisMoves} steps");
        Assert.Equal(0, original.InterlockViolations);

        // The jam and its release count as a failure and a repair in either mode; random ones come on top in what-if.
        var minimum = mode == TwinMode.WhatIf ? 5 : 1;
        Assert.True(failures >= minimum && repairs >= minimum, $"{failures} failures, {repairs} repairs in {mode}");
    }

    [Fact]
    public void A_snapshot_holds_a_failure_in_repair_and_the_options()
    {
        var options = new TwinOptions
        {
            Seed = 0xDEAD_BEEF_0000_0001UL,
            Step = TimeSpan.FromMilliseconds(250),
            Start = new DateTime(2031, 3, 4, 5, 6, 7, DateTimeKind.Utc),
            Mode = TwinMode.Shadow,
            RandomFailures = true,
        };
        var original = new LineTwin(DemoLine.Definition, options);
        while (!Enumerable.Range(0, DemoLine.Definition.Stations.Length).Any(s => original.GetStationState(s) == StationState.Failed))
        {
            original.Step();
            Assert.True(original.SimTime < options.Start.AddHours(24), "no station failed in a day");
        }

        var restored = LineTwin.Restore(DemoLine.Definition, original.SaveState());

        Assert.Equal(options, restored.Options);
        Assert.Equal(original.SimTime, restored.SimTime);
        AssertSameState(original, restored);
        for (var step = 1; step <= 57_600; step++)
        {
            original.Step();
            restored.Step();
            AssertSameStep(original, restored, step);
        }
    }

    [Fact]
    public void What_if_forks_of_the_original_and_of_the_restored_twin_give_identical_runs()
    {
        ITwinFactory factory = new LineTwinFactory();
        var shadow = factory.CreateShadow(DemoLine.Definition, new TwinSettings(7, TimeSpan.FromMilliseconds(100), DemoLine.Start));
        shadow.SetInput("cnc1.spindleSpeedSetpoint", 10_500);
        for (var step = 0; step < 18_000; step++)
        {
            shadow.Step();
        }

        var restored = factory.Restore(DemoLine.Definition, shadow.SaveState());
        var first = shadow.ForkWhatIf(null, 99);
        var second = restored.ForkWhatIf(null, 99);

        Assert.Equal(shadow.SaveState(), restored.SaveState());
        for (var step = 1; step <= TwoHours; step++)
        {
            first.Step();
            second.Step();
            AssertSameStep(first, second, step);
        }

        Assert.True(first.PartsProduced > 50, $"{first.PartsProduced} parts");
    }

    [Fact]
    public void A_snapshot_restored_onto_a_line_without_one_of_its_stations_is_refused_naming_it()
    {
        var twin = DemoLine.Run(TimeSpan.FromMinutes(10));
        var bytes = twin.SaveState();
        var line = DemoLine.Definition;
        var withoutBuffer = line with { Stations = line.Stations.RemoveAll(s => s.Id == "buffer") };

        var error = Assert.Throws<InvalidDataException>(() => LineTwin.Restore(withoutBuffer, bytes));

        Assert.Contains("'buffer'", error.Message, StringComparison.Ordinal);
        Assert.Contains("station", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_snapshot_restored_onto_another_line_or_a_renamed_signal_is_refused()
    {
        var bytes = DemoLine.Run(TimeSpan.FromMinutes(1)).SaveState();
        var line = DemoLine.Definition;

        var otherLine = Assert.Throws<InvalidDataException>(() => LineTwin.Restore(line with { Id = "line-b" }, bytes));
        Assert.Contains("'line-b'", otherLine.Message, StringComparison.Ordinal);

        var last = line.Signals[^1];
        var renamed = line with { Signals = line.Signals.SetItem(line.Signals.Length - 1, last with { Id = last.Id + "X" }) };
        var signal = Assert.Throws<InvalidDataException>(() => LineTwin.Restore(renamed, bytes));
        Assert.Contains($"'{last.Id}'", signal.Message, StringComparison.Ordinal);
        Assert.Contains($"'{last.Id}X'", signal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Garbage_another_version_and_truncated_bytes_are_refused_clearly()
    {
        var bytes = DemoLine.Run(TimeSpan.FromMinutes(5), new TwinOptions { Mode = TwinMode.WhatIf }).SaveState();
        var line = DemoLine.Definition;
        var garbage = new byte[bytes.Length];
        new Random(5).NextBytes(garbage);

        Assert.Contains("not a twin snapshot", Assert.Throws<InvalidDataException>(() => LineTwin.Restore(line, garbage)).Message, StringComparison.Ordinal);
        Assert.Contains("not a twin snapshot", Assert.Throws<InvalidDataException>(() => LineTwin.Restore(line, [])).Message, StringComparison.Ordinal);

        var nextVersion = (byte[])bytes.Clone();
        nextVersion[7] = 2;
        nextVersion[8] = 0;
        var version = Assert.Throws<InvalidDataException>(() => LineTwin.Restore(line, nextVersion));
        Assert.Contains("version 2", version.Message, StringComparison.Ordinal);

        foreach (var cut in new[] { 10, 60, bytes.Length / 2, bytes.Length - 1 })
        {
            var error = Assert.Throws<InvalidDataException>(() => LineTwin.Restore(line, bytes.AsSpan(0, cut)));
            Assert.Contains("snapshot", error.Message, StringComparison.Ordinal);
        }

        var trailing = Assert.Throws<InvalidDataException>(() => LineTwin.Restore(line, [.. bytes, 0]));
        Assert.Contains("after its end", trailing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_format_starts_with_its_magic_and_version_and_is_the_same_for_the_same_state()
    {
        var bytes = DemoLine.Run(TimeSpan.FromMinutes(3), new TwinOptions { Seed = 8 }).SaveState();

        Assert.Equal("TGTWIN1"u8.ToArray(), bytes[..7]);
        Assert.Equal(LineTwin.SnapshotFormatVersion, BitConverter.ToUInt16(bytes, 7));
        Assert.Equal(bytes, DemoLine.Run(TimeSpan.FromMinutes(3), new TwinOptions { Seed = 8 }).SaveState());
        Assert.NotEqual(bytes, DemoLine.Run(TimeSpan.FromMinutes(3), new TwinOptions { Seed = 9 }).SaveState());
    }

    [Fact]
    public void The_field_comparison_sees_a_state_difference()
    {
        // The completeness check itself must be able to fail: a restored twin that then diverges is reported by field.
        var original = DemoLine.Run(TimeSpan.FromMinutes(5));
        var restored = LineTwin.Restore(original.Line, original.SaveState());
        Assert.Null(Difference(original, restored, "twin"));

        restored.InjectFault(new BearingHeat("cnc1", 1));

        Assert.Contains("HeatRate", Difference(original, restored, "twin"), StringComparison.Ordinal);
    }

    private static LineDefinition FailingTenTimesAsOften(LineDefinition line) =>
        line with { Stations = [.. line.Stations.Select(s => s with { FailureRatePerHour = s.FailureRatePerHour * 10 })] };

    /// <summary>A twin run for an hour in <paramref name="mode"/> with inputs set and faults injected.</summary>
    private static LineTwin Prepared(LineDefinition line, TwinMode mode, ulong seed)
    {
        var twin = new LineTwin(line, new TwinOptions { Mode = mode, Seed = seed });
        twin.SetInput("cnc1.spindleSpeedSetpoint", 11_000);
        twin.InjectFault(new BearingHeat("cnc1", 3));
        twin.RunUntil(twin.SimTime.AddMinutes(30));
        twin.InjectFault(new SensorOffset("cnc1.spindleTemperature", 1.5));
        twin.InjectFault(new ToolWear("cnc2", 10));
        twin.SetInput("line.speedOverride", 95);
        twin.RunUntil(twin.SimTime.AddMinutes(30));
        return twin;
    }

    /// <summary>Every signal value, station state, level and output, and the counters, bit for bit.</summary>
    private static void AssertSameStep(ILineTwin expected, ILineTwin actual, int step)
    {
        var line = expected.Line;
        for (var i = 0; i < line.Signals.Length; i++)
        {
            var a = expected.GetValue(i);
            var b = actual.GetValue(i);
            if (BitConverter.DoubleToInt64Bits(a) != BitConverter.DoubleToInt64Bits(b))
            {
                Assert.Fail($"step {step}: {line.Signals[i].Id} is {a:R} in the original, {b:R} in the restored twin");
            }
        }

        for (var s = 0; s < line.Stations.Length; s++)
        {
            if (expected.GetStationState(s) != actual.GetStationState(s)
                || expected.GetStationLevel(s) != actual.GetStationLevel(s)
                || expected.GetStationProduced(s) != actual.GetStationProduced(s)
                || BitConverter.DoubleToInt64Bits(expected.GetLastCycleTime(s)) != BitConverter.DoubleToInt64Bits(actual.GetLastCycleTime(s)))
            {
                Assert.Fail($"step {step}: station {line.Stations[s].Id} differs");
            }
        }

        if (expected.PartsProduced != actual.PartsProduced
            || expected.InterlockViolations != actual.InterlockViolations
            || expected.AxisLimitViolations != actual.AxisLimitViolations
            || expected.Steps != actual.Steps
            || expected.SimTime != actual.SimTime)
        {
            Assert.Fail($"step {step}: counters differ");
        }
    }

    /// <summary>Every field of the twin and its runtimes, recursively, doubles by their bits (scratch fields excepted).</summary>
    private static void AssertSameState(LineTwin expected, LineTwin actual)
    {
        var difference = Difference(expected, actual, "twin");
        Assert.True(difference is null, difference);
    }

    /// <summary>
    /// Where two object graphs differ, or null: the twin's own types field by field, collections element by element,
    /// definitions (the same instances in both) by reference or equality.
    /// </summary>
    private static string? Difference(object? a, object? b, string path)
    {
        if (ReferenceEquals(a, b))
        {
            return null;
        }

        if (a is null || b is null)
        {
            return $"{path}: {a ?? "null"} vs {b ?? "null"}";
        }

        var type = a.GetType();
        if (type != b.GetType())
        {
            return $"{path}: {type.Name} vs {b.GetType().Name}";
        }

        switch (a)
        {
            case double x:
                var y = (double)b;
                return BitConverter.DoubleToInt64Bits(x) == BitConverter.DoubleToInt64Bits(y) ? null : $"{path}: {x:R} vs {y:R}";
            case DateTime t:
                return t.ToBinary() == ((DateTime)b).ToBinary() ? null : $"{path}: {t:O} vs {(DateTime)b:O}";
            case string:
                return a.Equals(b) ? null : $"{path}: '{a}' vs '{b}'";
            case IEnumerable sequence:
                var left = sequence.Cast<object?>().ToList();
                var right = ((IEnumerable)b).Cast<object?>().ToList();
                if (left.Count != right.Count)
                {
                    return $"{path}: {left.Count} vs {right.Count} items";
                }

                for (var i = 0; i < left.Count; i++)
                {
                    if (Difference(left[i], right[i], $"{path}[{i}]") is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
        }

        if (type.IsPrimitive || type.IsEnum || type.Assembly != typeof(LineTwin).Assembly)
        {
            return a.Equals(b) ? null : $"{path}: {a} vs {b}";
        }

        for (var t = type; t is not null && t != typeof(object); t = t.BaseType)
        {
            foreach (var field in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (Scratch.Contains(field.Name))
                {
                    continue;
                }

                if (Difference(field.GetValue(a), field.GetValue(b), $"{path}.{field.Name}") is { } inner)
                {
                    return inner;
                }
            }
        }

        return null;
    }
}
