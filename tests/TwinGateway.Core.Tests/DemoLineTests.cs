using TwinGateway.Core.Lines;

namespace TwinGateway.Core.Tests;

public sealed class DemoLineTests
{
    private static readonly LineDefinitionResult Loaded = LineDefinitionLoader.LoadFile(RepositoryPaths.DemoLine);

    private static LineDefinition Demo => Loaded.GetDefinitionOrThrow();

    [Fact]
    public void Demo_line_loads_without_errors()
    {
        Assert.Empty(Loaded.Errors);
        Assert.Equal("demo-line", Demo.Id);
    }

    [Fact]
    public void Demo_line_has_the_advertised_size()
    {
        Assert.InRange(Demo.Stations.Length, 6, 10);
        Assert.Equal(2, Demo.Robots.Length);
        Assert.InRange(Demo.Signals.Length, 180, 230);
        Assert.InRange(Demo.Interlocks.Length, 2, 4);
        Assert.All(Demo.Robots, r => Assert.Equal(6, r.Axes.Length));
    }

    [Fact]
    public void Demo_line_node_ids_are_unique_and_follow_the_simulated_plc_scheme()
    {
        var controller = Assert.Single(Demo.Controllers);
        Assert.Equal("plc1", controller.Id);
        Assert.Equal("opc.tcp://127.0.0.1:4841", controller.EndpointUrl);

        Assert.Equal(Demo.Signals.Length, Demo.Signals.Select(s => s.NodeId).Distinct(StringComparer.Ordinal).Count());
        Assert.All(Demo.Signals, s =>
        {
            Assert.Equal("plc1", s.ControllerId);
            Assert.Equal($"ns=1;s=DemoLine.{s.Id}", s.NodeId);
            Assert.Null(NodeIdText.Validate(s.NodeId));
        });
    }

    [Fact]
    public void Every_demo_signal_has_a_model_the_twin_can_compute()
    {
        Assert.All(Demo.Signals, s => Assert.NotNull(s.Model));
        Assert.All(Demo.Signals.Where(s => s.Direction == SignalDirection.ControllerInput), s => Assert.IsType<SetpointModel>(s.Model));
    }

    [Fact]
    public void Robot_axis_signals_get_their_robot_and_axis_from_the_robot_definition()
    {
        foreach (var robot in Demo.Robots)
        {
            foreach (var axis in robot.Axes)
            {
                var signal = Demo.FindSignal(axis.PositionSignal!);
                var model = Assert.IsType<AxisPositionModel>(signal!.Model);
                Assert.Equal(robot.Id, model.Robot);
                Assert.Equal(axis.Name, model.Axis);
                Assert.Equal(new NominalRange(axis.Min, axis.Max), signal.NominalRange);
            }

            var program = Assert.IsType<RobotProgramModel>(Demo.FindSignal(robot.ProgramSignal!)!.Model);
            Assert.Equal(robot.Id, program.Robot);
        }

        var zone = Assert.IsType<RobotZoneModel>(Demo.FindSignal("robot2.inOutfeedZone")!.Model);
        Assert.Equal("robot2", zone.Robot);
    }

    [Fact]
    public void Demo_part_flow_runs_from_infeed_to_outfeed()
    {
        var sources = Demo.Stations.Where(s => !Demo.Upstream(s.Id).Any()).Select(s => s.Id);
        var sinks = Demo.Stations.Where(s => !Demo.Downstream(s.Id).Any()).Select(s => s.Id);
        Assert.Equal(["infeed"], sources);
        Assert.Equal(["outfeed"], sinks);
        Assert.Equal(["cnc1", "cnc2"], Demo.Downstream("infeed"));
    }

    [Fact]
    public void Demo_interlocks_evaluate_over_signal_values()
    {
        var interlock = Demo.Interlocks.Single(i => i.Id == "robot2-outfeed-zone");
        var values = new Dictionary<string, double> { ["robot2.inOutfeedZone"] = 1, ["outfeed.running"] = 1 };
        Assert.True(interlock.IsViolated(id => values[id]));
        values["outfeed.running"] = 0;
        Assert.False(interlock.IsViolated(id => values[id]));

        var door = Demo.Interlocks.Single(i => i.Id == "cnc1-door-spindle");
        Assert.Equal(["line.autoMode", "cnc1.doorOpen"], door.When.Signals);
    }

    [Fact]
    public void Demo_stations_have_plausible_timing()
    {
        var cnc1 = Demo.FindStation("cnc1")!;
        Assert.Equal(StationKind.Machine, cnc1.Kind);
        var normal = Assert.IsType<NormalDistribution>(cnc1.CycleTime);
        Assert.Equal(72, normal.Mean);
        Assert.Equal(0.2, cnc1.FailureRatePerHour);
        Assert.Equal(900, cnc1.MeanTimeToRepairSeconds);

        Assert.Null(Demo.FindStation("buffer")!.CycleTime);
        Assert.Equal(0.02, Demo.FindStation("inspection")!.RejectRate);
    }
}
