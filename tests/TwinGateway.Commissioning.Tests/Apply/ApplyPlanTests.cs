using System.Collections.Immutable;
using TwinGateway.Commissioning.Apply;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Lines;

namespace TwinGateway.Commissioning.Tests.Apply;

/// <summary>
/// The apply's pure parts: which nodes a change writes and which signals verify it by default, the one place that
/// decides a pose's node, the read-back comparison, and the journal's values surviving their JSON.
/// </summary>
public sealed class ApplyPlanTests
{
    private static readonly LineDefinition Line = new()
    {
        Id = "line",
        Name = "line",
        Controllers = [new ControllerDefinition("plc1", "opc.tcp://127.0.0.1:4841", null)],
        Stations =
        [
            new StationDefinition { Id = "robot2", Name = "robot2", Kind = StationKind.Robot, Capacity = 1, CycleTime = new FixedDistribution(16) },
            new StationDefinition { Id = "cnc1", Name = "cnc1", Kind = StationKind.Machine, Capacity = 1, CycleTime = new FixedDistribution(72) },
        ],
        Signals =
        [
            Signal("robot2.speedOverride", SignalDataType.Double, SignalDirection.ControllerInput, new NominalRange(0, 100), new SetpointModel(100)),
            Signal("robot2.payload", SignalDataType.Double, SignalDirection.ControllerOutput, new NominalRange(0, 20), new ConstantModel(9.2, 0)),
            Signal("robot2.program", SignalDataType.Int32, SignalDirection.ControllerOutput, null, new ConstantModel(20, 0)),
            Signal("robot2.gripperClosed", SignalDataType.Boolean, SignalDirection.ControllerOutput, null, null),
            Signal("cnc1.spindleSpeed", SignalDataType.Double, SignalDirection.ControllerOutput, new NominalRange(0, 12000), new ConstantModel(8000, 0)),
        ],
        Robots =
        [
            new RobotDefinition
            {
                Id = "robot2",
                StationId = "robot2",
                Axes = [new RobotAxis("a1", -185, 185, "deg", null)],
                Positions = [new RobotPosition("home", [0])],
                Programs = [new RobotProgram("palletize", 20, ["home"])],
            },
        ],
        Interlocks = [],
        Topology = [],
    };

    private static SignalDefinition Signal(string id, SignalDataType type, SignalDirection direction, NominalRange? range, SignalModel? model) => new()
    {
        Id = id,
        StationId = id[..id.IndexOf('.', StringComparison.Ordinal)],
        Name = id[(id.IndexOf('.', StringComparison.Ordinal) + 1)..],
        DataType = type,
        Direction = direction,
        NominalRange = range,
        NodeId = $"ns=1;s=Line.{id}",
        ControllerId = "plc1",
        Model = model,
    };

    private static ChangeRequest Change(params ChangeOperation[] operations) => new()
    {
        LineId = "line",
        Title = "t",
        Reason = "r",
        Operations = [.. operations],
    };

    [Fact]
    public void A_set_writes_the_signals_node_and_is_verified_on_its_stations_modelled_ranged_signals()
    {
        var plan = ApplyPlan.Create(Change(new SetOperation("robot2.speedOverride", ChangeValue.Of(90))), Line, null, out var problem);

        Assert.Null(problem);
        var target = Assert.Single(plan.Targets);
        Assert.Equal(new ControllerNode("plc1", "ns=1;s=Line.robot2.speedOverride", SignalDataType.Double), target.Node);
        Assert.Equal(ChangeValue.Of(90), target.Value);

        // robot2.program has no range and gripperClosed no model; cnc1 is another station.
        Assert.Equal(["robot2.speedOverride", "robot2.payload"], plan.DefaultSignals);
        Assert.Null(plan.Definition);
    }

    [Fact]
    public void A_call_is_a_target_without_a_node_and_an_unknown_signal_is_a_problem_naming_the_operation()
    {
        var plan = ApplyPlan.Create(Change(
            new CallOperation("ns=1;s=M", "ns=1;s=O", [ChangeValue.Of(1)]) { ControllerId = "plc1" },
            new SetOperation("robot2.nothing", ChangeValue.Of(1))), Line, null, out var problem);

        var call = Assert.Single(plan.Targets);
        Assert.False(call.IsWrite);
        Assert.Equal("plc1", call.Call!.ControllerId);
        Assert.Equal("operation 2 (set): line line has no signal 'robot2.nothing'", problem);
    }

    [Fact]
    public void A_pose_of_a_position_without_a_node_id_fails_clearly()
    {
        ApplyPlan.Create(Change(new PoseOperation("robot2", "home", [10])), Line, null, out var problem);
        Assert.Equal("operation 1 (pose): robot robot2 position home has no nodeId: the line definition does not say which controller node holds it", problem);

        ApplyPlan.Create(Change(new PoseOperation("robot2", "away", [10])), Line, null, out problem);
        Assert.Contains("robot robot2 has no position 'away' (it has: home)", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_definition_is_adopted_and_its_changed_stations_are_verified()
    {
        var changed = Line with { Stations = [Line.Stations[0], Line.Stations[1] with { CycleTime = new FixedDistribution(70) }] };

        var plan = ApplyPlan.Create(Change(new DefinitionOperation("line.yaml", changed, "...")), Line, null, out var problem);

        Assert.Null(problem);
        Assert.Same(changed, plan.Definition);
        Assert.Empty(plan.Targets);
        Assert.Equal(["cnc1.spindleSpeed"], plan.DefaultSignals);
    }

    [Theory]
    [InlineData(SignalDataType.Double, 90.0, 90.0, true)]
    [InlineData(SignalDataType.Double, 0.1, 0.10000000149011612, false)]
    [InlineData(SignalDataType.Float, 0.1, 0.10000000149011612, true)]
    [InlineData(SignalDataType.Float, 0.1, 0.1001, false)]
    [InlineData(SignalDataType.Int32, 5.0, 6.0, false)]
    public void Read_back_compares_Floats_within_a_tiny_relative_tolerance_and_the_rest_exactly(SignalDataType type, double written, double read, bool same) =>
        Assert.Equal(same, ChangeApplier.SameValue(ChangeValue.Of(written), ChangeValue.Of(read), type));

    [Fact]
    public void Read_back_compares_Booleans_texts_and_arrays()
    {
        Assert.True(ChangeApplier.SameValue(ChangeValue.Of(1), ChangeValue.Of(true), SignalDataType.Boolean));
        Assert.False(ChangeApplier.SameValue(ChangeValue.Of(true), ChangeValue.Of(false), SignalDataType.Boolean));
        Assert.True(ChangeApplier.SameValue(ChangeValue.Of("a"), ChangeValue.Of("a"), SignalDataType.String));
        Assert.False(ChangeApplier.SameValue(ChangeValue.Of("a"), ChangeValue.Of("A"), SignalDataType.String));
        Assert.True(ChangeApplier.SameValue(ChangeValue.Of([1.0, 2.0]), ChangeValue.Of([1.0, 2.0]), SignalDataType.Double));
        Assert.False(ChangeApplier.SameValue(ChangeValue.Of([1.0, 2.0]), ChangeValue.Of([1.0]), SignalDataType.Double));
        Assert.False(ChangeApplier.SameValue(ChangeValue.Of([1.0]), ChangeValue.Of(1), SignalDataType.Double));
    }

    [Fact]
    public void The_journals_values_survive_their_JSON()
    {
        var node = new ControllerNode("plc1", "ns=1;s=Line.x", SignalDataType.Double, IsArray: true);
        NodeValue[] values =
        [
            new("set a", node with { IsArray = false }, ChangeValue.Of(90.5), null),
            new("set b", node with { DataType = SignalDataType.Boolean, IsArray = false }, ChangeValue.Of(true), null),
            new("set c", node with { DataType = SignalDataType.String, IsArray = false }, ChangeValue.Of("recipe"), null),
            new("pose d", node, ChangeValue.Of(ImmutableArray.Create(1.0, -2.5)), null),
            new("set e", node, null, "BadNodeIdUnknown"),
        ];

        var json = ApplyDetail.Serialize(values.Select((v, i) => ApplyDetail.Entry.Of(i, v)).ToList());
        var back = ApplyDetail.Deserialize<List<ApplyDetail.Entry>>(json)!.Select(e => e.ToNodeValue()).ToList();

        Assert.Equal(values.Length, back.Count);
        for (var i = 0; i < values.Length; i++)
        {
            Assert.Equal(values[i].Target, back[i].Target);
            Assert.Equal(values[i].Node, back[i].Node);
            Assert.Equal(values[i].Problem, back[i].Problem);
            Assert.Equal(values[i].Value is null, back[i].Value is null);
            if (values[i].Value is { } value)
            {
                Assert.True(ChangeApplier.SameValue(value, back[i].Value!.Value, values[i].Node.DataType), $"{value} came back as {back[i].Value}");
                Assert.Equal(value.Kind, back[i].Value!.Value.Kind);
            }
        }
    }
}
