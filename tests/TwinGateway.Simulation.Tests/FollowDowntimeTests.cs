using TwinGateway.Core.Lines;

namespace TwinGateway.Simulation.Tests;

/// <summary>A shadow twin holds a station down while the real line reports it failed, and lets it go when it is up.</summary>
public sealed class FollowDowntimeTests
{
    [Fact]
    public void A_station_held_down_is_failed_stops_producing_and_resumes_when_released()
    {
        var line = DemoLine.Definition;
        var cnc1 = line.Stations.IndexOf(line.FindStation("cnc1")!);
        var held = new LineTwin(line, new TwinOptions { Seed = 3, Mode = TwinMode.Shadow });
        var free = new LineTwin(line, new TwinOptions { Seed = 3, Mode = TwinMode.Shadow });
        Step(held, free, 6000);
        var producedBefore = held.GetStationProduced(cnc1);
        Assert.Equal(producedBefore, free.GetStationProduced(cnc1));

        held.FollowDowntime(cnc1, down: true);
        Assert.Equal(StationState.Failed, held.GetStationState(cnc1));
        Step(held, free, 6000); // ten simulated minutes: several cycles of cnc1
        Assert.Equal(producedBefore, held.GetStationProduced(cnc1));
        Assert.True(free.GetStationProduced(cnc1) > producedBefore + 3, "the twin that was not held kept producing");

        held.FollowDowntime(cnc1, down: false);
        Step(held, free, 6000);
        Assert.NotEqual(StationState.Failed, held.GetStationState(cnc1));
        Assert.True(held.GetStationProduced(cnc1) > producedBefore, "the released station produces again");
    }

    [Fact]
    public void A_paired_run_holds_the_shadow_down_exactly_while_the_real_line_is_failed()
    {
        var line = DemoLine.Definition;
        var run = new PairedTwinRun(line, realSeed: 11, shadowSeed: 1, TimeSpan.FromMilliseconds(100), new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var previous = new bool[line.Stations.Length];
        var failedSteps = 0;
        var mismatches = 0;
        for (var step = 0; step < 36000; step++)
        {
            // A jam is downtime the real line reports as Failed: ten minutes of it in the middle of the hour.
            if (step == 18000)
            {
                run.Real.InjectFault(new Jam("cnc2"));
            }
            else if (step == 24000)
            {
                run.Real.ClearFaults();
                Array.Clear(previous); // cleared before this step: the shadow is told it is up
            }

            run.Step(static (_, _, _) => { });
            for (var s = 0; s < line.Stations.Length; s++)
            {
                // The shadow is told the real state before each of its steps: a station the real line had failed at
                // the step before is failed in the shadow now.
                if (previous[s] && run.Shadow.GetStationState(s) != StationState.Failed)
                {
                    mismatches++;
                }

                previous[s] = run.Real.GetStationState(s) == StationState.Failed;
                failedSteps += previous[s] ? 1 : 0;
            }
        }

        Assert.True(failedSteps >= 6000, $"the real line was failed for {failedSteps} station-steps");
        Assert.Equal(0, mismatches);
    }

    private static void Step(LineTwin a, LineTwin b, int steps)
    {
        for (var i = 0; i < steps; i++)
        {
            a.Step();
            b.Step();
        }
    }
}
