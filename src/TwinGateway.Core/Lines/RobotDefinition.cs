using System.Collections.Immutable;

namespace TwinGateway.Core.Lines;

/// <summary>
/// A robot working at a station of kind <see cref="StationKind.Robot"/>. Per part, the twin runs the first program,
/// moving through its positions; the station's sampled cycle time is shared among the moves in proportion to each
/// move's largest joint distance. The robot starts at its first position.
/// </summary>
public sealed record RobotDefinition
{
    /// <summary>Unique among the line's robots.</summary>
    public required string Id { get; init; }

    /// <summary>The robot station it works at; each robot station has exactly one robot.</summary>
    public required string StationId { get; init; }

    public required ImmutableArray<RobotAxis> Axes { get; init; }

    /// <summary>Named poses; each has one joint value per axis, in axis order, within the axis limits.</summary>
    public required ImmutableArray<RobotPosition> Positions { get; init; }

    /// <summary>The robot's programs; the first is the one run per part.</summary>
    public required ImmutableArray<RobotProgram> Programs { get; init; }

    /// <summary>The signal carrying the active program (number or name); null when the controller does not publish it.</summary>
    public string? ProgramSignal { get; init; }

    public SourceLocation? Source { get; init; }
}

/// <summary>A robot axis with its limits (in <paramref name="Unit"/>, <c>deg</c> unless stated) and its position signal.</summary>
public sealed record RobotAxis(string Name, double Min, double Max, string Unit, string? PositionSignal);

/// <summary>A named pose: one joint value per axis, in axis order.</summary>
public sealed record RobotPosition(string Name, ImmutableArray<double> Joints)
{
    /// <summary>
    /// The node on the controller that holds the pose's joints as a Double array (one value per axis), written to
    /// teach the pose; null when the controller does not publish it.
    /// </summary>
    public string? NodeId { get; init; }
}

/// <summary>A robot program: its number on the controller and the positions it moves through, in order.</summary>
public sealed record RobotProgram(string Name, int Number, ImmutableArray<string> Path);
