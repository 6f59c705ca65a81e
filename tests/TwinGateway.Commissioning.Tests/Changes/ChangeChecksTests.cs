using TwinGateway.Commissioning.Changes;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Lines;

namespace TwinGateway.Commissioning.Tests.Changes;

public sealed class ChangeChecksTests
{
    private static readonly LineDefinition Line = GateFiles.DemoLine;

    private static ChangeRequest Change(params ChangeOperation[] operations) => new()
    {
        LineId = "demo-line",
        Title = "a title",
        Reason = "a reason",
        Operations = [.. operations.Select((op, i) => op with { Source = new SourceLocation("c.yaml", 5 + (2 * i), 5) })],
    };

    private static SetOperation Set(string signal, ChangeValue value) => new(signal, value);

    private static ChangeProblem Single(ChangeRequest change)
    {
        var result = ChangeChecks.Check(change, Line);
        return Assert.Single(result.Problems);
    }

    [Fact]
    public void A_valid_setpoint_change_passes_and_is_a_process_change()
    {
        var result = ChangeChecks.Check(Change(Set("robot2.speedOverride", ChangeValue.Of(90))), Line);

        Assert.True(result.Passed, string.Join('\n', result.Problems));
        Assert.Equal(ChangeClass.Process, result.Classification.Class);
    }

    [Fact]
    public void Unknown_line_empty_title_reason_and_operations_are_all_reported()
    {
        var change = new ChangeRequest { LineId = "other-line", Title = " ", Reason = "", Operations = [] };

        var problems = ChangeChecks.Check(change, Line).Problems;

        Assert.Equal(["title", "reason", "operations", "line"], problems.Select(p => p.Field));
        Assert.All(problems, p => Assert.Equal(-1, p.OperationIndex));
        Assert.Contains("unknown line 'other-line'", problems[3].Message, StringComparison.Ordinal);
        Assert.Contains("unknown line", ChangeChecks.Check(change with { LineId = "demo-line" }, null).Problems.Last().Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_signal_names_the_operation_and_suggests_the_id()
    {
        var problem = Single(Change(Set("robot2.speedoverride", ChangeValue.Of(90))));

        Assert.Equal((0, "set", "set"), (problem.OperationIndex, problem.OperationKind, problem.Field));
        Assert.Equal("c.yaml:5:5: operations[0] (set).set: unknown signal 'robot2.speedoverride' on line 'demo-line' (did you mean 'robot2.speedOverride'?)", problem.ToString());
    }

    [Fact]
    public void A_controller_output_is_not_writable()
    {
        var problem = Single(Change(Set("cnc1.spindleTemperature", ChangeValue.Of(40))));

        Assert.Contains("not writable: it is a controllerOutput", problem.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("line.autoMode", "number", "is Boolean: expected true or false, found the number 1")]
    [InlineData("robot2.speedOverride", "bool", "is Double: expected a number, found the Boolean true")]
    [InlineData("robot2.speedOverride", "text", "is Double: expected a number, found the text '90'")]
    [InlineData("line.shiftTarget", "fraction", "is Int32: expected a whole number, found 700.5")]
    [InlineData("robot2.speedOverride", "high", "120 is outside signal 'robot2.speedOverride''s nominal range 0 to 100 %")]
    [InlineData("line.shiftTarget", "huge", "is Int32: 3000000000 is outside the type's range -2147483648 to 2147483647")]
    public void A_value_of_the_wrong_type_or_out_of_range_names_the_value_field(string signal, string value, string expected)
    {
        var changeValue = value switch
        {
            "number" => ChangeValue.Of(1),
            "bool" => ChangeValue.Of(true),
            "text" => ChangeValue.Of("90"),
            "fraction" => ChangeValue.Of(700.5),
            "high" => ChangeValue.Of(120),
            _ => ChangeValue.Of(3e9),
        };

        var problem = Single(Change(Set(signal, changeValue)));

        Assert.Equal("value", problem.Field);
        Assert.Contains(expected, problem.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SignalDataType.String, "text", null)]
    [InlineData(SignalDataType.String, "number", "is a String: expected a text (quote it), found the number 5")]
    [InlineData(SignalDataType.DateTime, "time", null)]
    [InlineData(SignalDataType.DateTime, "text", "is a DateTime: expected an ISO 8601 time as text, found the text 'recipe-7'")]
    [InlineData(SignalDataType.Byte, "number", null)]
    [InlineData(SignalDataType.Byte, "negative", "is Byte: -1 is outside the type's range 0 to 255")]
    [InlineData(SignalDataType.UInt64, "negative", "is UInt64: -1 is outside the type's range 0 to 1.8446744073709552E+19")]
    [InlineData(SignalDataType.Float, "huge", "is Float: 1E+300 is outside the type's range")]
    [InlineData(SignalDataType.Double, "huge", null)]
    public void Every_data_type_takes_only_its_own_values(SignalDataType type, string value, string? expected)
    {
        var signal = new SignalDefinition
        {
            Id = "x.y",
            Name = "y",
            DataType = type,
            Direction = SignalDirection.ControllerInput,
            NodeId = "ns=1;s=x.y",
            ControllerId = "plc1",
        };
        var changeValue = value switch
        {
            "text" => ChangeValue.Of("recipe-7"),
            "number" => ChangeValue.Of(5),
            "time" => ChangeValue.Of("2026-12-03T10:00:00Z"),
            "negative" => ChangeValue.Of(-1),
            _ => ChangeValue.Of(1e300),
        };

        var problem = ChangeChecks.ValueProblem(signal, changeValue);

        if (expected is null)
        {
            Assert.Null(problem);
        }
        else
        {
            Assert.Equal($"signal 'x.y' {expected}", problem);
        }
    }

    [Fact]
    public void A_second_definition_in_one_change_is_reported()
    {
        var problems = ChangeChecks.Check(Change(new DefinitionOperation("a.yaml", Line, ""), new DefinitionOperation("b.yaml", Line, "")), Line).Problems;

        var problem = Assert.Single(problems);
        Assert.Equal(1, problem.OperationIndex);
        Assert.Contains("a change holds at most one definition (operation 0 has one already)", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Pose_checks_name_the_robot_position_and_axis_limits()
    {
        var problems = ChangeChecks.Check(Change(
            new PoseOperation("robot9", "home", [0, 0, 0, 0, 0, 0]),
            new PoseOperation("robot1", "nowhere", [0, -90, 90, 0, 0, 0]),
            new PoseOperation("robot1", "home", [0, -90, 90]),
            new PoseOperation("robot1", "pickBuffer", [-60, 45, 70, 0, 65, -60])), Line).Problems;

        Assert.Equal(4, problems.Length);
        Assert.Contains("unknown robot 'robot9'", problems[0].Message, StringComparison.Ordinal);
        Assert.Contains("robot 'robot1' has no position 'nowhere'", problems[1].Message, StringComparison.Ordinal);
        Assert.Equal("joints", problems[2].Field);
        Assert.Contains("has 6 axes (a1, a2, a3, a4, a5, a6); found 3 joint values", problems[2].Message, StringComparison.Ordinal);
        Assert.Equal((3, "joints[1]"), (problems[3].OperationIndex, problems[3].Field));
        Assert.Equal("45 is outside axis a2's limits -130 to 20 deg", problems[3].Message);
    }

    [Fact]
    public void A_call_naming_an_unknown_controller_is_reported()
    {
        var problem = Single(Change(new CallOperation("ns=1;s=M", "ns=1;s=O", []) { ControllerId = "plc9" }));

        Assert.Equal("controller", problem.Field);
        Assert.Contains("unknown controller 'plc9'", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_definition_that_does_not_load_reports_the_loaders_problems()
    {
        var text = GateFiles.DemoLineText.Replace("capacity: 12", "capacity: twelve", StringComparison.Ordinal);
        var problem = Single(Change(new DefinitionOperation("v2.yaml", null, text)));

        Assert.Equal("definition", problem.Field);
        Assert.Contains("the definition does not load: v2.yaml:", problem.Message, StringComparison.Ordinal);
        Assert.Contains("capacity", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_definition_for_another_line_is_reported()
    {
        var other = Line with { Id = "other-line" };
        var problem = Single(Change(new DefinitionOperation("v2.yaml", other, "")));

        Assert.Contains("is for line 'other-line', not 'demo-line'", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_definition_whose_signals_differ_says_the_line_file_and_a_restart_are_needed()
    {
        var fewer = Line with { Signals = Line.Signals.RemoveAt(Line.Signals.Length - 1) };
        var remapped = Line with { Signals = Line.Signals.SetItem(0, Line.Signals[0] with { NodeId = "ns=1;s=Elsewhere" }) };

        var removed = Single(Change(new DefinitionOperation("v2.yaml", fewer, "")));
        var changed = Single(Change(new DefinitionOperation("v2.yaml", remapped, "")));

        Assert.Contains("removes signal 'outfeed.jamDetected'", removed.Message, StringComparison.Ordinal);
        Assert.Contains("needs the line file (config/lines/demo-line.yaml) changed and the gateway restarted", removed.Message, StringComparison.Ordinal);
        Assert.Contains("changes signal 'line.autoMode'", changed.Message, StringComparison.Ordinal);
        Assert.Contains("nodeId=ns=1;s=Elsewhere", changed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Setting_an_interlock_signal_or_an_emergency_stop_pattern_is_safety_related()
    {
        var autoMode = ChangeChecks.Classify(Change(Set("line.autoMode", ChangeValue.Of(false))), Line);
        var patterns = new SignalPatterns(["line.shift*"]);
        var byPattern = ChangeChecks.Classify(Change(Set("line.shiftTarget", ChangeValue.Of(650))), Line, patterns);
        var notByDefault = ChangeChecks.Classify(Change(Set("line.shiftTarget", ChangeValue.Of(650))), Line);

        Assert.Equal(ChangeClass.Safety, autoMode.Class);
        Assert.Contains("interlock 'cnc1-door-spindle'", Assert.Single(autoMode.Deciding).Reason, StringComparison.Ordinal);
        Assert.Equal(ChangeClass.Safety, byPattern.Class);
        Assert.Contains("safetySignals pattern 'line.shift*'", Assert.Single(byPattern.Deciding).Reason, StringComparison.Ordinal);
        Assert.Equal(ChangeClass.Process, notByDefault.Class);
    }

    [Fact]
    public void The_class_is_the_most_demanding_operations_and_names_it()
    {
        var result = ChangeChecks.Classify(Change(
            new CallOperation("m", "o", []),
            Set("robot2.speedOverride", ChangeValue.Of(90)),
            new PoseOperation("robot1", "pickBuffer", [-60, -45, 70, 0, 65, -60])), Line);

        Assert.Equal(ChangeClass.Safety, result.Class);
        Assert.Equal([ChangeClass.Other, ChangeClass.Process, ChangeClass.Safety], result.Reasons.Select(r => r.Class));
        var deciding = Assert.Single(result.Deciding);
        Assert.Equal((2, "pose"), (deciding.OperationIndex, deciding.OperationKind));
        Assert.Equal(ChangeClass.Other, ChangeChecks.Classify(Change(new CallOperation("m", "o", [])), Line).Class);
    }

    [Fact]
    public void A_definition_is_classified_by_what_differs()
    {
        var interlocks = Line with { Interlocks = Line.Interlocks.RemoveAt(0) };
        var robots = Line with { Robots = Line.Robots.SetItem(0, Line.Robots[0] with { Positions = Line.Robots[0].Positions.SetItem(1, new RobotPosition("pickBuffer", [-61, -45, 70, 0, 65, -60])) }) };
        var stations = Line with { Stations = Line.Stations.SetItem(5, Line.Stations[5] with { CycleTime = new NormalDistribution(28, 1.5) }) };
        var names = Line with { Name = "Renamed" };

        ChangeClassification Of(LineDefinition d) => ChangeChecks.Classify(Change(new DefinitionOperation("v2.yaml", d, "")), Line);

        Assert.Equal(ChangeClass.Safety, Of(interlocks).Class);
        Assert.Contains("'robot2-outfeed-zone'", Of(interlocks).Deciding.Single().Reason, StringComparison.Ordinal);
        Assert.Equal(ChangeClass.Safety, Of(robots).Class);
        Assert.Equal(ChangeClass.Process, Of(stations).Class);
        Assert.Contains("'assembly'", Of(stations).Deciding.Single().Reason, StringComparison.Ordinal);
        Assert.Equal(ChangeClass.Other, Of(names).Class);
    }

    [Fact]
    public void Poses_apply_to_the_candidate_definition()
    {
        var change = Change(new PoseOperation("robot1", "pickBuffer", [-61, -45, 70, 0, 65, -60]));

        var candidate = CandidateLine.Build(change, Line)!;

        Assert.Equal(-61, candidate.FindRobot("robot1")!.Positions[1].Joints[0]);
        Assert.Equal(-60, Line.FindRobot("robot1")!.Positions[1].Joints[0]);
        Assert.Null(CandidateLine.Build(Change(Set("robot2.speedOverride", ChangeValue.Of(90))), Line));
    }

    [Fact]
    public void Safety_patterns_match_ids_with_stars_ignoring_case()
    {
        var patterns = new SignalPatterns(["*.emergencyStop", "line.estop", "*door*"]);

        Assert.Equal("*.emergencyStop", patterns.Match("line.EmergencyStop"));
        Assert.Equal("line.estop", patterns.Match("line.estop"));
        Assert.Equal("*door*", patterns.Match("cnc1.doorOpen"));
        Assert.Null(patterns.Match("line.estopper"));
        Assert.Null(patterns.Match("emergencyStop"));
        Assert.Equal(new[] { "*.emergencyStop", "line.estop", "*door*" }, patterns.Patterns.ToArray());
    }
}
