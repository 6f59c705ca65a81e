using TwinGateway.Core.Lines;

namespace TwinGateway.Simulation.Tests;

/// <summary>Axis-limit violations, poses taught at run time, and the counter reset a PLC offers.</summary>
public sealed class RobotPoseTests
{
    [Fact]
    public void The_demo_line_never_leaves_its_axis_limits()
    {
        var twin = DemoLine.Run(TimeSpan.FromHours(1), new TwinOptions { Seed = 8, Mode = TwinMode.Real });

        Assert.True(twin.GetStationProduced("robot1") > 50);
        Assert.Equal(0, twin.AxisLimitViolations);
    }

    [Fact]
    public void A_fork_whose_definition_narrows_an_axis_counts_the_steps_outside_it()
    {
        var twin = DemoLine.Run(TimeSpan.FromMinutes(10), new TwinOptions { Seed = 9 });

        // robot1 swings a1 from -60 (pickBuffer) to 75 (assembly); a1 narrowed to +-50 leaves both outside.
        var narrowed = twin.Line with
        {
            Robots = [.. twin.Line.Robots.Select(r => r.Id == "robot1" ? r with { Axes = r.Axes.SetItem(0, r.Axes[0] with { Min = -50, Max = 50 }) } : r)],
        };
        var same = (LineTwin)twin.ForkWhatIf(null, 9);
        var fork = (LineTwin)twin.ForkWhatIf(narrowed, 9);
        var outside = 0L;
        for (var i = 0; i < 18_000; i++)
        {
            same.Step();
            fork.Step();
            var a1 = fork.GetValue("robot1.a1Position");
            if (a1 is < -50.1 or > 50.1)
            {
                outside++;
            }
        }

        Assert.Equal(0, same.AxisLimitViolations);
        Assert.True(outside > 1000, $"robot1 a1 was outside +-50 on {outside} steps only");

        // Counted once per step whichever joints are outside; the noise of the position signal (0.01 deg) aside, the same steps.
        Assert.InRange(fork.AxisLimitViolations, outside, outside + 200);
        Assert.True(fork.AxisLimitViolations < 18_000, "robot1 rests at home, inside the narrowed limits, between parts");
    }

    [Fact]
    public void A_taught_pose_moves_the_robot_and_stays_in_forks()
    {
        var twin = DemoLine.Run(TimeSpan.FromMinutes(5), new TwinOptions { Seed = 10 });

        twin.SetRobotPosition("robot1", "pickBuffer", [-80, -45, 70, 0, 65, -60]);

        Assert.Equal([-80.0, -45, 70, 0, 65, -60], twin.Line.FindRobot("robot1")!.Positions[1].Joints.ToArray());
        Assert.Equal("ns=1;s=DemoLine.robot1.positions.pickBuffer", twin.Line.FindRobot("robot1")!.Positions[1].NodeId);
        var lowest = double.MaxValue;
        for (var i = 0; i < 6_000; i++)
        {
            twin.Step();
            lowest = Math.Min(lowest, twin.GetValue("robot1.a1Position"));
        }

        Assert.InRange(lowest, -80.05, -79.95);
        Assert.Equal(-80.0, twin.Fork().Line.FindRobot("robot1")!.Positions[1].Joints[0]);
        Assert.Equal(0, twin.AxisLimitViolations);
    }

    [Fact]
    public void A_pose_outside_the_limits_or_of_the_wrong_length_is_refused_and_changes_nothing()
    {
        var twin = DemoLine.Run(TimeSpan.FromMinutes(1), new TwinOptions { Seed = 11 });
        var before = twin.Line;

        var outside = Assert.Throws<ArgumentException>(() => twin.SetRobotPosition("robot1", "pickBuffer", [-60, 25, 70, 0, 65, -60]));
        var length = Assert.Throws<ArgumentException>(() => twin.SetRobotPosition("robot1", "pickBuffer", [-60, -45, 70]));
        var nan = Assert.Throws<ArgumentException>(() => twin.SetRobotPosition("robot1", "pickBuffer", [double.NaN, -45, 70, 0, 65, -60]));
        var position = Assert.Throws<ArgumentException>(() => twin.SetRobotPosition("robot1", "pickBufer", [-60, -45, 70, 0, 65, -60]));
        var robot = Assert.Throws<ArgumentException>(() => twin.SetRobotPosition("robot3", "home", [0, -90, 90, 0, 0, 0]));

        Assert.StartsWith("joint 2 of position 'pickBuffer' of robot 'robot1' is 25, outside axis 'a2' limits -130 to 20", outside.Message, StringComparison.Ordinal);
        Assert.StartsWith("position 'pickBuffer' of robot 'robot1' takes 6 joint values, one per axis; 3 given", length.Message, StringComparison.Ordinal);
        Assert.Contains("joint 1", nan.Message, StringComparison.Ordinal);
        Assert.StartsWith("robot 'robot1' has no position 'pickBufer' (it has home, pickBuffer, aboveAssembly, placeAssembly)", position.Message, StringComparison.Ordinal);
        Assert.StartsWith("line 'demo-line' has no robot 'robot3'", robot.Message, StringComparison.Ordinal);
        Assert.Same(before, twin.Line);
    }

    [Fact]
    public void ResetCounters_zeroes_the_station_counters_and_nothing_else()
    {
        var twin = DemoLine.Run(TimeSpan.FromHours(1), new TwinOptions { Seed = 12, Mode = TwinMode.Real });
        var parts = twin.PartsProduced;
        var assembly = twin.GetStationProduced("assembly");
        Assert.True(twin.GetStationProduced("inspection") > 50);

        twin.ResetCounters("inspection");

        Assert.Equal(0, twin.GetStationProduced("inspection"));
        Assert.Equal(0, twin.GetValue("inspection.partsProduced"));
        Assert.Equal(0, twin.GetValue("inspection.partsGood"));
        Assert.Equal(0, twin.GetValue("inspection.partsRejected"));
        Assert.Equal(parts, twin.PartsProduced);
        Assert.Equal(assembly, twin.GetStationProduced("assembly"));

        twin.RunUntil(twin.SimTime.AddMinutes(10));
        Assert.InRange(twin.GetValue("inspection.partsProduced"), 5, 40);
        Assert.Equal(twin.GetValue("inspection.partsProduced"), twin.GetValue("inspection.partsGood") + twin.GetValue("inspection.partsRejected"));
        Assert.Throws<KeyNotFoundException>(() => twin.ResetCounters("nowhere"));
    }
}
