namespace TwinGateway.Simulation.Tests;

public sealed class DeterminismTests
{
    private static readonly TimeSpan OneHour = TimeSpan.FromHours(1);

    [Fact]
    public void Two_twins_with_the_same_seed_have_bit_identical_values_after_one_simulated_hour()
    {
        var options = new TwinOptions { Seed = 17, Mode = TwinMode.Real };
        var first = new LineTwin(DemoLine.Definition, options);
        var second = new LineTwin(DemoLine.Definition, options);

        for (var minute = 0; minute < 60; minute++)
        {
            first.RunUntil(first.SimTime.AddMinutes(1));
            second.RunUntil(second.SimTime.AddMinutes(1));
            Assert.Equal(Bits(first), Bits(second));
        }

        Assert.Equal(DemoLine.Start + OneHour, first.SimTime);
        Assert.Equal(36_000, first.Steps);
        Assert.Equal(first.PartsProduced, second.PartsProduced);
        Assert.Equal(first.InterlockHolds, second.InterlockHolds);
    }

    [Fact]
    public void The_same_inputs_at_the_same_steps_give_the_same_values()
    {
        var first = new LineTwin(DemoLine.Definition, new TwinOptions { Seed = 3 });
        var second = new LineTwin(DemoLine.Definition, new TwinOptions { Seed = 3 });

        foreach (var twin in new[] { first, second })
        {
            twin.RunUntil(twin.SimTime.AddMinutes(5));
            twin.SetInput("cnc1.spindleSpeedSetpoint", 9500);
            twin.SetInput("infeed.speedSetpoint", 18);
            twin.RunUntil(twin.SimTime.AddMinutes(10));
            twin.SetInput("line.autoMode", 0);
            twin.RunUntil(twin.SimTime.AddMinutes(5));
        }

        Assert.Equal(Bits(first), Bits(second));
    }

    [Fact]
    public void Different_seeds_give_different_values()
    {
        var first = DemoLine.Run(OneHour, new TwinOptions { Seed = 1 });
        var second = DemoLine.Run(OneHour, new TwinOptions { Seed = 2 });

        var a = Bits(first);
        var b = Bits(second);
        var differing = a.Zip(b).Count(p => p.First != p.Second);
        Assert.True(differing > 50, $"only {differing} of {a.Length} signals differ between seeds 1 and 2");
    }

    [Fact]
    public void The_twin_reads_no_clock_its_time_is_start_plus_steps()
    {
        var start = new DateTime(2030, 6, 1, 12, 0, 0, DateTimeKind.Utc);
        var twin = new LineTwin(DemoLine.Definition, new TwinOptions { Start = start, Step = TimeSpan.FromMilliseconds(250) });

        Assert.Equal(start, twin.SimTime);
        twin.Step();
        twin.Step();
        Assert.Equal(start.AddMilliseconds(500), twin.SimTime);
        twin.RunUntil(start.AddSeconds(10).AddMilliseconds(100));
        Assert.Equal(start.AddSeconds(10), twin.SimTime); // never beyond the requested time
        Assert.Equal(40, twin.Steps);
    }

    [Fact]
    public void A_step_allocates_nothing()
    {
        var twin = new LineTwin(DemoLine.Definition, new TwinOptions { Mode = TwinMode.Real });
        twin.RunUntil(twin.SimTime.AddMinutes(10)); // warm up: every path taken at least once

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 6_000; i++)
        {
            twin.Step();
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    internal static long[] Bits(LineTwin twin)
    {
        var values = new double[twin.Signals.Count];
        twin.CopyValues(values);
        return [.. values.Select(BitConverter.DoubleToInt64Bits)];
    }
}
