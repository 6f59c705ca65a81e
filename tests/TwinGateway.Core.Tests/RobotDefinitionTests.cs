using TwinGateway.Core.Lines;

namespace TwinGateway.Core.Tests;

public sealed class RobotDefinitionTests
{
    private const string RobotCell = """
        id: cell
        name: Robot cell
        controllers:
          - id: plc1
            endpointUrl: opc.tcp://localhost:4840
        stations:
          - id: feed
            kind: conveyor
            cycleTime: 5
          - id: r1
            kind: robot
            cycleTime: 10
        signals:
          - id: r1.j1
            dataType: Double
            direction: controllerOutput
            nodeId: ns=2;s=r1.j1
            model: { kind: axisPosition, noise: 0.1 }
          - id: r1.j2
            dataType: Float
            direction: controllerOutput
            nodeId: ns=2;s=r1.j2
          - id: r1.program
            dataType: Int32
            direction: controllerOutput
            nodeId: ns=2;s=r1.program
          - id: r1.inPickZone
            dataType: Boolean
            direction: controllerOutput
            nodeId: ns=2;s=r1.inPickZone
            model: { kind: robotZone, positions: [pick] }
        robots:
          - id: robot1
            station: r1
            axes:
              - { name: j1, min: -90, max: 90, positionSignal: r1.j1 }
              - { name: j2, min: -45, max: 45, positionSignal: r1.j2 }
            positions:
              - { name: home, joints: [0, 0] }
              - { name: pick, joints: [80, 30] }
            programs:
              - { name: cycle, number: 1, path: [pick, home] }
            programSignal: r1.program
        topology:
          - { from: feed, to: r1 }

        """;

    [Fact]
    public void Robot_signals_take_their_models_from_the_robot()
    {
        var result = LineDefinitionLoader.Parse(RobotCell, "cell.yaml");
        Assert.Empty(result.Errors);
        var line = result.GetDefinitionOrThrow();
        var robot = Assert.Single(line.Robots);
        Assert.Equal("r1", robot.StationId);
        Assert.Equal(["j1", "j2"], robot.Axes.Select(a => a.Name));
        Assert.Equal("deg", robot.Axes[0].Unit);
        Assert.Equal([80.0, 30.0], robot.Positions[1].Joints.ToArray());
        Assert.Equal(["pick", "home"], robot.Programs[0].Path.ToArray());

        Assert.Equal(new AxisPositionModel("robot1", "j1", 0.1), line.FindSignal("r1.j1")!.Model);
        Assert.Equal(new AxisPositionModel("robot1", "j2", 0), line.FindSignal("r1.j2")!.Model);
        Assert.Equal(new RobotProgramModel("robot1"), line.FindSignal("r1.program")!.Model);
        var zone = Assert.IsType<RobotZoneModel>(line.FindSignal("r1.inPickZone")!.Model);
        Assert.Equal("robot1", zone.Robot);
        Assert.Equal(["pick"], zone.Positions.ToArray());
    }

    [Fact]
    public void Joint_count_must_match_the_axes()
    {
        var error = Assert.Single(Errors(Change("[80, 30]", "[80]")));
        Assert.Equal((40, 31, "robots[0].positions[1].joints"), (error.Line, error.Column, error.Path));
        Assert.Equal("position 'pick' has 1 joint values, but the robot has 2 axes", error.Message);
    }

    [Fact]
    public void Joint_values_stay_within_the_axis_limits()
    {
        var error = Assert.Single(Errors(Change("[80, 30]", "[80, 60]")));
        Assert.Equal((40, 36, "robots[0].positions[1].joints[1]"), (error.Line, error.Column, error.Path));
        Assert.Equal("joint 2 of position 'pick' is 60, outside axis 'j2' limits -45 to 45", error.Message);
    }

    [Fact]
    public void Program_moves_only_to_known_positions()
    {
        var error = Assert.Single(Errors(Change("path: [pick, home]", "path: [pick, hom]")));
        Assert.Equal((42, 48, "robots[0].programs[0].path[1]"), (error.Line, error.Column, error.Path));
        Assert.Equal("program 'cycle' moves to unknown position 'hom' (did you mean 'home'?)", error.Message);
    }

    [Fact]
    public void Robot_works_only_at_a_robot_station()
    {
        var error = Assert.Single(Errors(Change("station: r1", "station: feed")));
        Assert.Equal((34, 14, "robots[0].station"), (error.Line, error.Column, error.Path));
        Assert.Equal("robot works at station 'feed', which is a conveyor; a robot works at a station of kind robot", error.Message);
    }

    [Fact]
    public void Robot_station_without_a_robot_is_reported()
    {
        var yaml = RobotCell[..RobotCell.IndexOf("robots:", StringComparison.Ordinal)]
            .Replace("model: { kind: axisPosition, noise: 0.1 }", "model: { kind: constant, value: 0 }", StringComparison.Ordinal)
            .Replace("model: { kind: robotZone, positions: [pick] }", "model: { kind: state, is: processing }", StringComparison.Ordinal)
            + "topology:\n  - { from: feed, to: r1 }\n";
        var error = Assert.Single(Errors(yaml));
        Assert.Equal((10, 9, "stations[1].id"), (error.Line, error.Column, error.Path));
        Assert.Equal("station 'r1' has kind robot, but no robot works at it (add one under robots: with station: r1)", error.Message);
    }

    [Fact]
    public void Axis_position_signal_must_be_named_by_a_robot_axis()
    {
        var error = Assert.Single(Errors(Change("positionSignal: r1.j1 }", "positionSignal: r1.j2 }").Replace("- { name: j2, min: -45, max: 45, positionSignal: r1.j2 }", "- { name: j2, min: -45, max: 45 }", StringComparison.Ordinal)));
        Assert.Equal((18, 20, "signals[0].model.kind"), (error.Line, error.Column, error.Path));
        Assert.Equal("model kind 'axisPosition' takes its values from a robot, but no robot names signal 'r1.j1' as an axis positionSignal", error.Message);
    }

    [Fact]
    public void A_signal_carries_one_robot_value()
    {
        var error = Assert.Single(Errors(Change("positionSignal: r1.j2 }", "positionSignal: r1.j1 }")));
        Assert.Equal((37, 56, "robots[0].axes[1].positionSignal"), (error.Line, error.Column, error.Path));
        Assert.Equal("signal 'r1.j1' is already robot robot1 axis j1's position signal", error.Message);
    }

    [Fact]
    public void Robot_zone_positions_must_exist()
    {
        var error = Assert.Single(Errors(Change("positions: [pick] }", "positions: [place] }")));
        Assert.Equal((31, 43, "signals[3].model.positions[0]"), (error.Line, error.Column, error.Path));
        Assert.Equal("robot 'robot1' has no position 'place'", error.Message);
    }

    private static string Change(string oldText, string newText)
    {
        Assert.Equal(RobotCell.IndexOf(oldText, StringComparison.Ordinal), RobotCell.LastIndexOf(oldText, StringComparison.Ordinal));
        Assert.Contains(oldText, RobotCell, StringComparison.Ordinal);
        return RobotCell.Replace(oldText, newText, StringComparison.Ordinal);
    }

    private static IReadOnlyList<LineDefinitionError> Errors(string yaml) => LineDefinitionLoader.Parse(yaml, "cell.yaml").Errors;
}
