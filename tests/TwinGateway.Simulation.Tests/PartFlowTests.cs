using TwinGateway.Core.Lines;

namespace TwinGateway.Simulation.Tests;

public sealed class PartFlowTests
{
    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    public void After_one_hour_the_demo_line_produced_what_its_cycle_times_allow(ulong seed)
    {
        var twin = DemoLine.Run(TimeSpan.FromHours(1), new TwinOptions { Seed = seed, Mode = TwinMode.Real });

        // Parts arrive every 34..42 s (38 s mean: at most ~95 an hour); two CNCs at ~73 s take ~98 an hour; the rest is
        // faster. Failures, the start-up (the first part needs ~3 minutes through the line) and 2% rejects cost a few.
        Assert.InRange(twin.PartsProduced, 70, 95);
        var infeed = twin.GetStationProduced("infeed");
        Assert.InRange(infeed, 85, 106);
        Assert.True(twin.GetStationProduced("cnc1") > 30 && twin.GetStationProduced("cnc2") > 30, "both CNC cells must work");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void No_station_ever_holds_more_than_its_capacity_and_parts_are_conserved(bool slowAssembly)
    {
        // With a 90 s assembly, the buffer and the infeed fill up and the CNCs block.
        var line = slowAssembly ? WithStation(DemoLine.Definition, "assembly", s => s with { CycleTime = new FixedDistribution(90) }) : DemoLine.Definition;
        var twin = new LineTwin(line, new TwinOptions { Mode = TwinMode.Real, Seed = 5 });
        var maxLevel = new int[line.Stations.Length];
        var bufferLevel = twin.IndexOf("buffer.level");
        for (var step = 0; step < 36_000; step++)
        {
            twin.Step();
            for (var s = 0; s < line.Stations.Length; s++)
            {
                var level = twin.GetStationLevel(line.Stations[s].Id);
                maxLevel[s] = Math.Max(maxLevel[s], level);
                Assert.True(level <= line.Stations[s].Capacity, $"{line.Stations[s].Id} holds {level} parts, capacity {line.Stations[s].Capacity}, at {twin.SimTime:O}");
            }

            Assert.InRange(twin.GetValue(bufferLevel), 0, 12);
        }

        var inLine = line.Stations.Sum(s => twin.GetStationLevel(s.Id));
        var rejected = (long)twin.GetValue("inspection.partsRejected");
        Assert.True(twin.GetStationProduced("infeed") == twin.PartsProduced + rejected + inLine,
            $"entered {twin.GetStationProduced("infeed")}, left {twin.PartsProduced}, rejected {rejected}, in the line {inLine}: "
            + string.Join(", ", line.Stations.Select(s => $"{s.Id} {twin.GetStationLevel(s.Id)}")));
        Assert.True(twin.GetStationProduced("buffer") > 30, "the parts did not pass the buffer");
        if (slowAssembly)
        {
            Assert.Equal(12, maxLevel[line.Stations.IndexOf(line.FindStation("buffer")!)]);
            Assert.Equal(4, maxLevel[line.Stations.IndexOf(line.FindStation("infeed")!)]);
        }
    }

    [Fact]
    public void Inspection_rejects_about_the_reject_rate()
    {
        // 30% instead of the demo's 2%, so four hours give enough rejects to check the rate.
        var line = WithStation(DemoLine.Definition, "inspection", s => s with { RejectRate = 0.3 });
        var twin = DemoLine.Run(TimeSpan.FromHours(4), new TwinOptions { Seed = 11 }, line);

        var good = twin.GetValue("inspection.partsGood");
        var rejected = twin.GetValue("inspection.partsRejected");
        var inspected = twin.GetValue("inspection.partsProduced");
        Assert.Equal(inspected, good + rejected);
        Assert.True(inspected > 250, $"only {inspected} parts inspected");
        var rate = rejected / inspected;
        Assert.InRange(rate, 0.22, 0.38); // about 3 standard deviations of a binomial with ~350 parts
        Assert.True(twin.PartsProduced <= good);
    }

    [Fact]
    public void The_demo_rejects_are_counted_and_leave_the_line()
    {
        var twin = DemoLine.Run(TimeSpan.FromHours(10), new TwinOptions { Seed = 4 });

        var rejected = twin.GetValue("inspection.partsRejected");
        var inspected = twin.GetValue("inspection.partsProduced");
        Assert.InRange(rejected / inspected, 0.005, 0.04); // 2% of ~900
    }

    [Fact]
    public void A_slower_bottleneck_lowers_the_output()
    {
        var slowAssembly = WithStation(DemoLine.Definition, "assembly", s => s with { CycleTime = new FixedDistribution(90) });

        var normal = DemoLine.Run(TimeSpan.FromHours(1), new TwinOptions { Seed = 9 });
        var slow = DemoLine.Run(TimeSpan.FromHours(1), new TwinOptions { Seed = 9 }, slowAssembly);

        Assert.InRange(slow.PartsProduced, 35, 41); // 3,600 s / 90 s, less the start-up
        Assert.True(normal.PartsProduced > slow.PartsProduced + 30);
        Assert.Equal(12, slow.GetStationLevel("buffer")); // the buffer filled up in front of the bottleneck
        Assert.Equal(StationState.Blocked, slow.GetStationState("buffer"));
    }

    [Fact]
    public void Random_failures_happen_in_real_mode_and_not_in_shadow_mode()
    {
        var often = DemoLine.Definition with
        {
            Stations = [.. DemoLine.Definition.Stations.Select(s => s.Id == "cnc1" ? s with { FailureRatePerHour = 6, MeanTimeToRepairSeconds = 120 } : s)],
        };

        Assert.True(FailedSteps(new LineTwin(often, new TwinOptions { Mode = TwinMode.Real })) > 100);
        Assert.Equal(0, FailedSteps(new LineTwin(often, new TwinOptions { Mode = TwinMode.Shadow })));
        Assert.True(FailedSteps(new LineTwin(often, new TwinOptions { Mode = TwinMode.Shadow, RandomFailures = true })) > 100);

        static int FailedSteps(LineTwin twin)
        {
            var failed = 0;
            for (var i = 0; i < 36_000; i++)
            {
                twin.Step();
                failed += twin.GetStationState("cnc1") == StationState.Failed ? 1 : 0;
                Assert.Equal(twin.GetStationState("cnc1") == StationState.Failed ? 1 : 0, twin.GetValue("cnc1.faulted"));
            }

            return failed;
        }
    }

    [Fact]
    public void Robots_run_their_program_within_their_axis_limits()
    {
        var line = DemoLine.Definition;
        var twin = new LineTwin(line, new TwinOptions { Mode = TwinMode.Real });
        var robot = line.FindRobot("robot1")!;
        var sawProgram = false;
        var sawZone = false;
        for (var i = 0; i < 12_000; i++)
        {
            twin.Step();
            foreach (var axis in robot.Axes)
            {
                Assert.InRange(twin.GetValue(axis.PositionSignal!), axis.Min - 0.1, axis.Max + 0.1);
            }

            var program = twin.GetValue("robot1.program");
            Assert.True(program is 0 or 10, $"program {program}");
            Assert.Equal(program == 10, twin.GetStationState("robot1") is StationState.Processing or StationState.Failed && program != 0);
            sawProgram |= program == 10;
            sawZone |= twin.GetValue("robot1.inAssemblyZone") == 1;
        }

        Assert.True(sawProgram && sawZone);
    }

    internal static LineDefinition WithStation(LineDefinition line, string id, Func<StationDefinition, StationDefinition> change) =>
        line with { Stations = [.. line.Stations.Select(s => s.Id == id ? change(s) : s)] };
}
