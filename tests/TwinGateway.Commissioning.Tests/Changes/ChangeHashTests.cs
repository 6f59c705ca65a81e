using System.Text.Json;
using TwinGateway.Commissioning.Changes;
using TwinGateway.Core.Changes;

namespace TwinGateway.Commissioning.Tests.Changes;

public sealed class ChangeHashTests
{
    private const string Original = """
        line: demo-line
        title: Palletizer robot at 90 %
        reason: gripper vacuum needs more time
        operations:
          - set: robot2.speedOverride
            value: 90
          - call: ns=1;s=DemoLine.cnc1.ResetCounters
            object: ns=1;s=DemoLine.cnc1
            arguments: [1, true, "x", [1.5, 2]]
          - pose: robot1.pickBuffer
            joints: [-60, -45, 70, 0, 65, -60]
        """;

    private const string Reformatted = """
        # the same change, written differently
        title: "Palletizer robot at 90 %"
        line: 'demo-line'
        reason: >-
          gripper vacuum needs more time
        operations:
          - { value: 90.0, set: robot2.speedOverride }   # 90.0 is 90
          - { call: "ns=1;s=DemoLine.cnc1.ResetCounters", object: "ns=1;s=DemoLine.cnc1", arguments: [1.0, TRUE, "x", [15e-1, 2]] }
          - pose: robot1.pickBuffer
            joints:
              - -60
              - -45
              - 70
              - 0
              - 65
              - -60
        """;

    private static ChangeRequest Load(string text) => ChangeRequestLoader.Parse(text, "c.yaml").GetChangeOrThrow();

    [Fact]
    public void The_same_change_hashes_the_same_whatever_its_YAML_formatting()
    {
        var hash = ChangeHash.Compute(Load(Original));

        Assert.Matches("^[0-9a-f]{64}$", hash);
        Assert.Equal(hash, ChangeHash.Compute(Load(Reformatted)));
    }

    [Theory]
    [InlineData("value: 90", "value: 90.5")]
    [InlineData("title: Palletizer robot at 90 %", "title: Palletizer robot at 90%")]
    [InlineData("reason: gripper vacuum needs more time", "reason: gripper vacuum needs more time.")]
    [InlineData("line: demo-line", "line: demo-line2")]
    [InlineData("set: robot2.speedOverride", "set: robot1.speedOverride")]
    [InlineData("arguments: [1, true, \"x\", [1.5, 2]]", "arguments: [1, false, \"x\", [1.5, 2]]")]
    [InlineData("arguments: [1, true, \"x\", [1.5, 2]]", "arguments: [1, true, \"x\", [1.5, 2, 3]]")]
    [InlineData("arguments: [1, true, \"x\", [1.5, 2]]", "arguments: [\"1\", true, \"x\", [1.5, 2]]")]
    [InlineData("joints: [-60, -45, 70, 0, 65, -60]", "joints: [-60, -45, 70, 0, 65, -60.001]")]
    [InlineData("pose: robot1.pickBuffer", "pose: robot1.home")]
    [InlineData("object: ns=1;s=DemoLine.cnc1", "object: ns=1;s=DemoLine.cnc2")]
    public void Any_edit_changes_the_hash(string from, string to)
    {
        var edited = Original.Replace(from, to, StringComparison.Ordinal);
        Assert.NotEqual(Original, edited);

        Assert.NotEqual(ChangeHash.Compute(Load(Original)), ChangeHash.Compute(Load(edited)));
    }

    [Fact]
    public void Operation_order_a_controller_and_the_definition_text_are_part_of_the_content()
    {
        var change = Load(Original);
        var swapped = change with { Operations = [change.Operations[1], change.Operations[0], change.Operations[2]] };
        var withController = change with { Operations = change.Operations.SetItem(1, ((CallOperation)change.Operations[1]) with { ControllerId = "plc1" }) };
        var definition = change with { Operations = [new DefinitionOperation("v2.yaml", null, "id: demo-line\n")] };
        var otherText = change with { Operations = [new DefinitionOperation("v2.yaml", null, "id: demo-line \n")] };
        var otherPath = change with { Operations = [new DefinitionOperation("elsewhere/v2.yaml", null, "id: demo-line\n")] };

        Assert.NotEqual(ChangeHash.Compute(change), ChangeHash.Compute(swapped));
        Assert.NotEqual(ChangeHash.Compute(change), ChangeHash.Compute(withController));
        Assert.NotEqual(ChangeHash.Compute(definition), ChangeHash.Compute(otherText));
        Assert.Equal(ChangeHash.Compute(definition), ChangeHash.Compute(otherPath));
    }

    [Fact]
    public void The_encoding_of_a_small_change_is_the_documented_bytes()
    {
        var change = new ChangeRequest
        {
            LineId = "l",
            Title = "t",
            Reason = "r",
            Operations = [new SetOperation("a.b", ChangeValue.Of(-0.0)), new SetOperation("c", ChangeValue.Of(true))],
        };

        // Written by hand from ChangeHash's table: magic, three strings, count 2, then the two set operations.
        var expected = string.Concat(
            "5447434841 4e474531".Replace(" ", "", StringComparison.Ordinal), // "TGCHANGE1"
            "00000001", "6c", "00000001", "74", "00000001", "72",              // "l" "t" "r"
            "00000002",                                                        // two operations
            "00000003", "736574", "00000003", "612e62", "01", "00000001", "30", // set "a.b" number "0" (negative zero)
            "00000003", "736574", "00000001", "63", "02", "01");               // set "c" Boolean true

        Assert.Equal(expected, Convert.ToHexStringLower(ChangeHash.Encode(change)));
    }

    [Fact]
    public void The_canonical_JSON_round_trips_and_has_a_fixed_field_order()
    {
        using var folder = new ChangeFolder();
        folder.WriteDemoLine("v2.yaml", t => t.Replace("mean: 30, stddev: 1.5", "mean: 28, stddev: 1.5", StringComparison.Ordinal));
        var path = folder.Write("c.yaml", Original + "\n  - definition: v2.yaml\n");
        var change = ChangeRequestLoader.LoadFile(path).GetChangeOrThrow();

        var json = ChangeJson.WriteString(change);
        var back = ChangeJson.Read(json);

        Assert.StartsWith("""{"line":"demo-line","title":"Palletizer robot at 90 %","reason":"gripper vacuum needs more time","source":{"file":""", json, StringComparison.Ordinal);
        Assert.Contains("""{"kind":"set","signal":"robot2.speedOverride","value":90,"source":{""", json, StringComparison.Ordinal);
        Assert.Equal(ChangeHash.Compute(change), ChangeHash.Compute(back));
        Assert.Equal(json, ChangeJson.WriteString(back));
        Assert.Equal(change.Operations.Select(o => o.Source), back.Operations.Select(o => o.Source));
        var definition = Assert.IsType<DefinitionOperation>(back.Operations[^1]);
        Assert.Equal(28, definition.Definition!.FindStation("assembly")!.CycleTime!.Mean);
    }

    [Fact]
    public void Reading_JSON_that_is_not_a_change_names_the_field()
    {
        var error = Assert.Throws<JsonException>(() => ChangeJson.Read("""{"line":"l","title":"t","reason":"r","operations":[{"kind":"set","signal":"a"}]}"""));

        Assert.Contains("operations[0].value: missing", error.Message, StringComparison.Ordinal);
    }
}
