using TwinGateway.Core.Lines;

namespace TwinGateway.Simulation.Tests;

public sealed class InterlockAndForkTests
{
    [Theory]
    [InlineData(TwinMode.Real, 1UL)]
    [InlineData(TwinMode.Real, 2UL)]
    [InlineData(TwinMode.Shadow, 3UL)]
    public void Interlocks_are_never_violated_and_they_do_hold(TwinMode mode, ulong seed)
    {
        var line = DemoLine.Definition;
        var twin = new LineTwin(line, new TwinOptions { Mode = mode, Seed = seed });
        for (var step = 0; step < 36_000; step++)
        {
            twin.Step();
            foreach (var interlock in line.Interlocks)
            {
                Assert.False(interlock.IsViolated(twin.GetValue), $"{interlock.Id} violated at {twin.SimTime:O}");
            }

            if (twin.GetValue("robot2.inOutfeedZone") == 1 && twin.GetStationLevel("outfeed") > 0)
            {
                Assert.Equal(0, twin.GetValue("outfeed.running"));
            }
        }

        Assert.True(twin.InterlockHolds > 10, $"only {twin.InterlockHolds} holds");
        Assert.Equal(0, twin.InterlockViolations);
    }

    [Fact]
    public void A_held_station_resumes_and_the_door_interlock_does_not_lock_itself()
    {
        // cnc1's door is open whenever the spindle is not running; the interlock must not keep the spindle from starting.
        var twin = DemoLine.Run(TimeSpan.FromHours(1), new TwinOptions { Seed = 1 });

        Assert.True(twin.GetValue("cnc1.partsProduced") > 30);
        Assert.True(twin.GetValue("assembly.partsProduced") > 60);
    }

    [Fact]
    public void A_fork_is_independent_and_continues_exactly_like_its_original()
    {
        var original = DemoLine.Run(TimeSpan.FromMinutes(30), new TwinOptions { Mode = TwinMode.Real, Seed = 31 });
        original.InjectFault(new BearingHeat("cnc1", 2));
        var atFork = DeterminismTests.Bits(original);
        var time = original.SimTime;

        var fork = original.Fork();
        Assert.Equal(time, fork.SimTime);
        Assert.Equal(atFork, DeterminismTests.Bits(fork));
        Assert.Single(fork.ActiveFaults);

        fork.RunUntil(fork.SimTime.AddMinutes(30));
        fork.SetInput("cnc1.spindleSpeedSetpoint", 11_000);
        Assert.Equal(time, original.SimTime);
        Assert.Equal(atFork, DeterminismTests.Bits(original));

        original.RunUntil(original.SimTime.AddMinutes(30));
        fork.SetInput("cnc1.spindleSpeedSetpoint", 8_000);
        Assert.Equal(DeterminismTests.Bits(original), DeterminismTests.Bits(fork));
        Assert.Equal(original.PartsProduced, fork.PartsProduced);
    }

    [Fact]
    public void A_fork_with_a_changed_cycle_time_diverges()
    {
        var original = DemoLine.Run(TimeSpan.FromMinutes(20), new TwinOptions { Seed = 32 });
        var slower = PartFlowTests.WithStation(original.Line, "assembly", s => s with { CycleTime = new NormalDistribution(60, 1) });

        var fork = original.Fork(slower);
        Assert.Equal(original.SimTime, fork.SimTime);
        Assert.Equal(original.PartsProduced, fork.PartsProduced);

        original.RunUntil(original.SimTime.AddHours(1));
        fork.RunUntil(fork.SimTime.AddHours(1));

        Assert.True(fork.PartsProduced < original.PartsProduced - 20, $"fork {fork.PartsProduced}, original {original.PartsProduced}");
        Assert.InRange(fork.GetValue("assembly.lastCycleTime"), 55, 65);
        Assert.InRange(original.GetValue("assembly.lastCycleTime"), 25, 35);
    }

    [Fact]
    public void A_fork_with_another_seed_diverges_and_a_what_if_fork_keeps_the_definition_changes_only()
    {
        var original = DemoLine.Run(TimeSpan.FromMinutes(10), new TwinOptions { Seed = 33 });
        var reseeded = original.Fork(seed: 99);
        var whatIf = original.Fork(null, null, TwinMode.WhatIf);
        Assert.Equal(99UL, reseeded.Options.Seed);
        Assert.Equal(TwinMode.WhatIf, whatIf.Options.Mode);
        Assert.True(whatIf.Options.RandomFailuresEnabled);

        original.RunUntil(original.SimTime.AddMinutes(20));
        reseeded.RunUntil(reseeded.SimTime.AddMinutes(20));

        Assert.NotEqual(DeterminismTests.Bits(original), DeterminismTests.Bits(reseeded));
    }

    [Fact]
    public void A_fork_may_drop_and_add_stations_signals_and_interlocks()
    {
        var original = DemoLine.Run(TimeSpan.FromMinutes(15), new TwinOptions { Seed = 34 });
        original.InjectFault(new SensorOffset("cnc1.coolantLevel", 3));
        var line = original.Line;
        var changed = line with
        {
            Signals = [.. line.Signals.Where(s => s.Id != "cnc1.coolantLevel")],
            Interlocks = [.. line.Interlocks.Where(i => i.Id != "cnc1-door-spindle")],
        };

        var fork = original.Fork(changed);
        fork.RunUntil(fork.SimTime.AddMinutes(15));

        Assert.False(fork.TryGetValue("cnc1.coolantLevel", out _));
        Assert.Empty(fork.ActiveFaults); // the offset's signal is gone
        Assert.True(fork.PartsProduced >= original.PartsProduced);
    }

    [Fact]
    public void A_copy_at_another_step_continues_the_part_flow_from_where_the_twin_is()
    {
        // The gateway's shadow twin steps 100 ms; a validation forks it at the policy's 1 s. The copy keeps the step
        // count (18,000 here), so its part flow must not read that count at the new length (5 h instead of 30 min).
        var shadow = DemoLine.Run(TimeSpan.FromMinutes(30), new TwinOptions { Mode = TwinMode.Shadow, Seed = 7 });
        var copy = (LineTwin)shadow.WithStep(TimeSpan.FromSeconds(1));
        Assert.Equal(shadow.SimTime, copy.SimTime);
        Assert.Equal(shadow.Steps, copy.Steps);
        var parts = shadow.PartsProduced;

        copy.Step();
        Assert.Equal(shadow.SimTime.AddSeconds(1), copy.SimTime);
        Assert.InRange(copy.PartsProduced, parts, parts + 1);

        // Same random streams, same events: an hour at 1 s ends where the 100 ms twin's hour ends, within a part.
        copy.RunUntil(shadow.SimTime.AddHours(1));
        shadow.RunUntil(shadow.SimTime.AddHours(1));
        Assert.InRange(shadow.PartsProduced - parts, 60, 140);
        Assert.InRange(copy.PartsProduced, shadow.PartsProduced - 1, shadow.PartsProduced + 1);

        // And a saved copy restores with the same time base.
        var restored = LineTwin.Restore(copy.Line, copy.SaveState());
        copy.Step();
        restored.Step();
        Assert.Equal(DeterminismTests.Bits(copy), DeterminismTests.Bits(restored));
    }
}
