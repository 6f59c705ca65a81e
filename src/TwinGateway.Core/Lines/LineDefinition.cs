using System.Collections.Immutable;

namespace TwinGateway.Core.Lines;

/// <summary>
/// A production line as its definition file (<c>config/lines/*.yaml</c>) describes it: the controllers the gateway talks to,
/// the stations and the part flow between them, the signals mapped to controller nodes, the robots and the interlocks.
/// Instances come from <see cref="LineDefinitionLoader"/>, which has checked every cross-reference, so a consumer can
/// look an id up and rely on finding it.
/// </summary>
/// <remarks>
/// Units throughout the model: times in seconds, rates per hour, signal values in the signal's own <see cref="SignalDefinition.Unit"/>.
/// The Find* methods search linearly; a simulation engine that looks ids up per step builds its own index once.
/// </remarks>
public sealed record LineDefinition
{
    /// <summary>The line's id, unique across all loaded line files (for example <c>demo-line</c>).</summary>
    public required string Id { get; init; }

    /// <summary>A display name for people.</summary>
    public required string Name { get; init; }

    public string? Description { get; init; }

    public required ImmutableArray<ControllerDefinition> Controllers { get; init; }

    public required ImmutableArray<StationDefinition> Stations { get; init; }

    public required ImmutableArray<SignalDefinition> Signals { get; init; }

    public required ImmutableArray<RobotDefinition> Robots { get; init; }

    public required ImmutableArray<InterlockDefinition> Interlocks { get; init; }

    /// <summary>The part-flow graph: a part finished at <see cref="PartFlowEdge.From"/> moves on to <see cref="PartFlowEdge.To"/>.</summary>
    public required ImmutableArray<PartFlowEdge> Topology { get; init; }

    /// <summary>Where the line was defined (the start of the file's top-level mapping).</summary>
    public SourceLocation? Source { get; init; }

    public ControllerDefinition? FindController(string id) => Find(Controllers, id, static c => c.Id);

    public StationDefinition? FindStation(string id) => Find(Stations, id, static s => s.Id);

    public SignalDefinition? FindSignal(string id) => Find(Signals, id, static s => s.Id);

    public RobotDefinition? FindRobot(string id) => Find(Robots, id, static r => r.Id);

    /// <summary>The signals that belong to a station, in definition order.</summary>
    public IEnumerable<SignalDefinition> SignalsOf(string stationId) =>
        Signals.Where(s => string.Equals(s.StationId, stationId, StringComparison.Ordinal));

    /// <summary>The stations a part finished at <paramref name="stationId"/> may move to, in definition order.</summary>
    public IEnumerable<string> Downstream(string stationId) =>
        Topology.Where(e => string.Equals(e.From, stationId, StringComparison.Ordinal)).Select(e => e.To);

    /// <summary>The stations that feed parts into <paramref name="stationId"/>, in definition order.</summary>
    public IEnumerable<string> Upstream(string stationId) =>
        Topology.Where(e => string.Equals(e.To, stationId, StringComparison.Ordinal)).Select(e => e.From);

    private static T? Find<T>(ImmutableArray<T> items, string id, Func<T, string> idOf)
        where T : class
    {
        foreach (var item in items)
        {
            if (string.Equals(idOf(item), id, StringComparison.Ordinal))
            {
                return item;
            }
        }

        return null;
    }
}

/// <summary>
/// A controller (PLC or robot controller) the gateway connects to over OPC UA.
/// </summary>
/// <param name="Id">Unique within the line; signals name it.</param>
/// <param name="EndpointUrl">An <c>opc.tcp://host:port[/path]</c> endpoint.</param>
/// <param name="CredentialsRef">
/// The name of a credential held elsewhere (the gateway's secret store); null for anonymous access.
/// A line file never holds a password.
/// </param>
public sealed record ControllerDefinition(string Id, string EndpointUrl, string? CredentialsRef)
{
    public SourceLocation? Source { get; init; }
}

/// <summary>One edge of the part-flow graph: parts finished at <paramref name="From"/> move on to <paramref name="To"/>.</summary>
public sealed record PartFlowEdge(string From, string To);

/// <summary>A position in a line definition file; line and column are 1-based.</summary>
public readonly record struct SourceLocation(string File, int Line, int Column)
{
    public override string ToString() => $"{File}:{Line}:{Column}";
}
