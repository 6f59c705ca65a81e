using TwinGateway.Core.Lines;

namespace TwinGateway.Core.Tests;

/// <summary>
/// config/changes/demo-line-v2.yaml: the demo line with the improvement the example change requests propose. The
/// gateway monitors the signals of the line it runs, so v2 must keep every signal exactly as the demo line has it.
/// </summary>
public sealed class DemoLineV2Tests
{
    private static readonly string V2Path = Path.Combine(RepositoryPaths.Root, "config", "changes", "demo-line-v2.yaml");

    private static readonly LineDefinitionResult Loaded = LineDefinitionLoader.LoadFile(V2Path);

    private static LineDefinition V2 => Loaded.GetDefinitionOrThrow();

    private static LineDefinition Demo { get; } = LineDefinitionLoader.LoadFile(RepositoryPaths.DemoLine).GetDefinitionOrThrow();

    [Fact]
    public void V2_loads_without_errors_as_the_same_line()
    {
        Assert.Empty(Loaded.Errors);
        Assert.Equal(Demo.Id, V2.Id);
        Assert.Equal(Demo.Controllers.Select(c => (c.Id, c.EndpointUrl, c.CredentialsRef)), V2.Controllers.Select(c => (c.Id, c.EndpointUrl, c.CredentialsRef)));
    }

    [Fact]
    public void V2_keeps_every_signal_of_the_demo_line()
    {
        // What the gateway monitors: the same nodes, carrying the same values.
        static object Monitored(SignalDefinition s) => (s.Id, s.NodeId, s.ControllerId, s.DataType, s.Direction, s.Unit, s.Model?.Kind, s.Effects.Length);

        Assert.Equal(Demo.Signals.Select(Monitored), V2.Signals.Select(Monitored));
        Assert.Equal(Demo.Stations.Select(s => s.Id), V2.Stations.Select(s => s.Id));
        Assert.Equal(Demo.Topology.ToArray(), V2.Topology.ToArray());
        Assert.Equal(Demo.Robots.SelectMany(r => r.Positions.Select(p => p.NodeId)), V2.Robots.SelectMany(r => r.Positions.Select(p => p.NodeId)));

        // Only the signals that scale with the buffer's capacity differ, in their range or gain.
        var changed = V2.Signals.Zip(Demo.Signals)
            .Where(p => p.First.NominalRange != p.Second.NominalRange || (p.First.Model is FollowModel f && f != p.Second.Model))
            .Select(p => p.First.Id);
        Assert.Equal(["buffer.level", "buffer.levelPercent", "buffer.levelHighThreshold"], changed);
        Assert.Equal(new NominalRange(0, 14), V2.FindSignal("buffer.level")!.NominalRange);
        Assert.Equal(100.0 / 14, Assert.IsType<FollowModel>(V2.FindSignal("buffer.levelPercent")!.Model).Gain, 3);
    }

    [Fact]
    public void V2_assembles_faster_and_buffers_more()
    {
        Assert.Equal(new NormalDistribution(30, 1.5), Demo.FindStation("assembly")!.CycleTime);
        Assert.Equal(new NormalDistribution(28, 1.5), V2.FindStation("assembly")!.CycleTime);
        Assert.Equal(12, Demo.FindStation("buffer")!.Capacity);
        Assert.Equal(14, V2.FindStation("buffer")!.Capacity);

        // Nothing else changed: the stations are the demo line's but for those two fields.
        var changed = V2.Stations.Zip(Demo.Stations).Where(p => p.First with { Source = null } != p.Second with { Source = null }).Select(p => p.First.Id);
        Assert.Equal(["buffer", "assembly"], changed);
    }
}
