using TwinGateway.Core.Lines;

namespace TwinGateway.Core.Tests;

/// <summary>A robot position's optional <c>nodeId</c>: the node that holds the pose on the controller.</summary>
public sealed class PositionNodeIdTests
{
    private static readonly string DemoText = File.ReadAllText(RepositoryPaths.DemoLine);

    [Fact]
    public void Every_demo_position_has_a_node_beside_its_robots_signals()
    {
        var demo = LineDefinitionLoader.Parse(DemoText, "demo-line.yaml").GetDefinitionOrThrow();

        var positions = demo.Robots.SelectMany(r => r.Positions.Select(p => (Robot: r.Id, Position: p))).ToList();
        Assert.Equal(9, positions.Count);
        Assert.All(positions, x => Assert.Equal($"ns=1;s=DemoLine.{x.Robot}.positions.{x.Position.Name}", x.Position.NodeId));
        Assert.Equal("ns=1;s=DemoLine.robot1.positions.pickBuffer", demo.FindRobot("robot1")!.Positions[1].NodeId);
    }

    [Fact]
    public void A_position_without_a_node_id_has_none()
    {
        var text = DemoText.Replace(", nodeId: ns=1;s=DemoLine.robot2.positions.home }", " }", StringComparison.Ordinal);

        var robot2 = LineDefinitionLoader.Parse(text, "demo-line.yaml").GetDefinitionOrThrow().FindRobot("robot2")!;

        Assert.Null(robot2.Positions[0].NodeId);
        Assert.NotNull(robot2.Positions[1].NodeId);
    }

    [Theory]
    [InlineData("ns=1;s=DemoLine.robot1.a1Position", "duplicate nodeId 'ns=1;s=DemoLine.robot1.a1Position' (already the node of signal 'robot1.a1Position' at line")]
    [InlineData("ns=1;s=DemoLine.robot1.positions.home", "duplicate nodeId 'ns=1;s=DemoLine.robot1.positions.home' (first used by a position at line 121)")]
    [InlineData("ns=x;s=Nope", "nodeId 'ns=x;s=Nope' is not a valid node id: ")]
    public void A_bad_position_node_id_is_reported_at_the_field(string nodeId, string message)
    {
        const string Old = "nodeId: ns=1;s=DemoLine.robot1.positions.pickBuffer";
        var text = DemoText.Replace(Old, "nodeId: " + nodeId, StringComparison.Ordinal);

        var errors = LineDefinitionLoader.Parse(text, "demo-line.yaml").Errors;

        var error = Assert.Single(errors);
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
        Assert.Equal("robots[0].positions[1].nodeId", error.Path);
        var at = DemoText.IndexOf(Old, StringComparison.Ordinal) + "nodeId: ".Length;
        Assert.Equal(DemoText[..at].Count(c => c == '\n') + 1, error.Line);
        Assert.Equal(at - DemoText.LastIndexOf('\n', at) , error.Column);
    }
}
