using TwinGateway.Commissioning.Changes;
using TwinGateway.Core.Changes;

namespace TwinGateway.Commissioning.Tests.Changes;

public sealed class ChangeRequestLoaderTests
{
    private const string Example = """
        line: demo-line
        title: Palletizer robot at 90 %
        reason: gripper vacuum needs more time
        operations:
          - set: robot2.speedOverride        # a signal id; written to its node
            value: 90
          - call: ns=1;s=DemoLine.cnc1.ResetCounters
            object: ns=1;s=DemoLine.cnc1
            arguments: []
          - pose: robot1.pickBuffer
            joints: [-60, -45, 70, 0, 65, -60]
        """;

    [Fact]
    public void The_issue_example_loads_with_a_location_per_operation()
    {
        var result = ChangeRequestLoader.Parse(Example, "change.yaml");

        Assert.True(result.Succeeded, string.Join('\n', result.Problems));
        var change = result.Change!;
        Assert.Equal("demo-line", change.LineId);
        Assert.Equal("Palletizer robot at 90 %", change.Title);
        Assert.Equal(3, change.Operations.Length);
        var set = Assert.IsType<SetOperation>(change.Operations[0]);
        Assert.Equal("robot2.speedOverride", set.SignalId);
        Assert.Equal(ChangeValue.Of(90), set.Value);
        Assert.Equal(5, set.Source!.Value.Line);
        Assert.Equal(5, set.Source!.Value.Column);
        var call = Assert.IsType<CallOperation>(change.Operations[1]);
        Assert.Equal("ns=1;s=DemoLine.cnc1.ResetCounters", call.MethodId);
        Assert.Equal("ns=1;s=DemoLine.cnc1", call.ObjectId);
        Assert.Empty(call.Arguments);
        Assert.Equal(7, call.Source!.Value.Line);
        var pose = Assert.IsType<PoseOperation>(change.Operations[2]);
        Assert.Equal(("robot1", "pickBuffer"), (pose.RobotId, pose.Position));
        Assert.Equal(new double[] { -60, -45, 70, 0, 65, -60 }, pose.Joints.ToArray());
        Assert.Equal(10, pose.Source!.Value.Line);
    }

    [Fact]
    public void Values_keep_their_YAML_type_and_a_quoted_scalar_is_text()
    {
        var result = ChangeRequestLoader.Parse("""
            line: demo-line
            title: t
            reason: r
            operations:
              - { set: a.b, value: true }
              - { set: a.b, value: "90" }
              - { set: a.b, value: 1.5e2 }
              - { call: m, object: o, arguments: [1, false, text, [1, 2]], controller: plc1 }
            """, "c.yaml");

        Assert.True(result.Succeeded, string.Join('\n', result.Problems));
        var ops = result.Change!.Operations;
        Assert.Equal(ChangeValue.Of(true), ((SetOperation)ops[0]).Value);
        Assert.Equal(ChangeValueKind.Text, ((SetOperation)ops[1]).Value.Kind);
        Assert.Equal(150, ((SetOperation)ops[2]).Value.Number);
        var call = (CallOperation)ops[3];
        Assert.Equal("plc1", call.ControllerId);
        Assert.Equal([ChangeValueKind.Number, ChangeValueKind.Boolean, ChangeValueKind.Text, ChangeValueKind.Numbers], call.Arguments.Select(a => a.Kind));
    }

    [Fact]
    public void Every_problem_is_listed_at_once_with_file_line_column_and_field()
    {
        var result = ChangeRequestLoader.Parse("""
            line: demo-line
            reason: r
            colour: blue
            operations:
              - set: robot2.speedOverride
                value: [1, 2]
              - pose: robot1
                joints: [1, x]
              - set: a.b
                valeu: 3
              - frobnicate: x
              - set: a.b
                call: m
            """, "bad.yaml");

        Assert.False(result.Succeeded);
        Assert.Null(result.Change);
        var problems = result.Problems.Select(p => p.ToString()).ToList();
        Assert.Contains(problems, p => p.StartsWith("bad.yaml:1:1: title: missing required field 'title'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("bad.yaml:3:1: colour: unknown field 'colour'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("bad.yaml:6:12: operations[0].value: expected a single value", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("bad.yaml:7:11: operations[1].pose: expected robot.position", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("bad.yaml:8:17: operations[1].joints[1]: expected a number, found 'x'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("bad.yaml:10:5: operations[2].valeu: unknown field 'valeu'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("bad.yaml:9:5: operations[2].value: missing required field 'value'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("bad.yaml:11:5: operations[3]: an operation names its kind", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("bad.yaml:12:5: operations[4]: an operation has one kind; found set and call", StringComparison.Ordinal));
        Assert.Equal(9, problems.Count);
    }

    [Fact]
    public void A_YAML_syntax_error_is_reported_with_its_position()
    {
        var result = ChangeRequestLoader.Parse("line: demo-line\ntitle: [unclosed\n", "broken.yaml");

        var problem = Assert.Single(result.Problems);
        Assert.StartsWith("broken.yaml:", problem.ToString(), StringComparison.Ordinal);
        Assert.Contains("YAML syntax error", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_definition_is_loaded_relative_to_the_change_file_and_its_text_kept_exactly()
    {
        using var folder = new ChangeFolder();
        var definitionPath = folder.WriteDemoLine("demo-line-v2.yaml", text => text.Replace("mean: 30, stddev: 1.5", "mean: 28, stddev: 1.5", StringComparison.Ordinal));
        var changePath = folder.Write("change.yaml", """
            line: demo-line
            title: Faster assembly
            reason: new press tool
            operations:
              - definition: demo-line-v2.yaml
            """);

        var result = ChangeRequestLoader.LoadFile(changePath);

        Assert.True(result.Succeeded, string.Join('\n', result.Problems));
        var definition = Assert.IsType<DefinitionOperation>(Assert.Single(result.Change!.Operations));
        Assert.Equal("demo-line-v2.yaml", definition.Path);
        Assert.Equal(File.ReadAllText(definitionPath), definition.Text);
        Assert.NotNull(definition.Definition);
        Assert.Equal(28, definition.Definition.FindStation("assembly")!.CycleTime!.Mean);
    }

    [Fact]
    public void A_missing_definition_file_names_the_field_and_the_path()
    {
        using var folder = new ChangeFolder();
        var changePath = folder.Write("change.yaml", "line: demo-line\ntitle: t\nreason: r\noperations:\n  - definition: nowhere.yaml\n");

        var problem = Assert.Single(ChangeRequestLoader.LoadFile(changePath).Problems);

        Assert.Equal((5, 17, "operations[0].definition"), (problem.Line, problem.Column, problem.Field));
        Assert.Contains("nowhere.yaml", problem.Message, StringComparison.Ordinal);
    }
}
