namespace TwinGateway.Core.Lines;

/// <summary>What a station does with parts; it decides which fields apply (see <see cref="StationDefinition"/>).</summary>
public enum StationKind
{
    /// <summary>Processes one part per cycle per unit of capacity (a CNC machine, a press, an assembly station).</summary>
    Machine,

    /// <summary>Transports parts; its cycle time is the transport time, its capacity the parts it holds at once.</summary>
    Conveyor,

    /// <summary>Holds up to <see cref="StationDefinition.Capacity"/> parts; no processing, so no cycle time is needed.</summary>
    Buffer,

    /// <summary>A robot cell; exactly one <see cref="RobotDefinition"/> names it.</summary>
    Robot,

    /// <summary>Checks parts; a fraction <see cref="StationDefinition.RejectRate"/> leaves the line as scrap.</summary>
    Inspection,
}

/// <summary>
/// The state of a station in the twin. The numeric values are what an integer <c>state</c> signal carries
/// (see <see cref="StationStateModel"/>), so they are part of the line-file contract: do not renumber.
/// </summary>
public enum StationState
{
    /// <summary>Not processing and not failed: waiting for a part (starved). A buffer is idle when empty.</summary>
    Idle = 0,

    /// <summary>Working on a part (a conveyor is moving). A buffer is processing while it holds parts and has room.</summary>
    Processing = 1,

    /// <summary>Done with a part that no downstream station can take yet. A buffer is blocked when full.</summary>
    Blocked = 2,

    /// <summary>Down: failed at <see cref="StationDefinition.FailureRatePerHour"/>, repaired after about <see cref="StationDefinition.MeanTimeToRepairSeconds"/>.</summary>
    Failed = 3,
}

/// <summary>A station of the line.</summary>
public sealed record StationDefinition
{
    /// <summary>Unique within the line; a letter, then letters, digits, '_' or '-'. <c>line</c> is reserved.</summary>
    public required string Id { get; init; }

    /// <summary>A display name; the id when the file gives none.</summary>
    public required string Name { get; init; }

    public required StationKind Kind { get; init; }

    /// <summary>
    /// Seconds per part. For a source station (no incoming edge) it is the time between arriving parts; for a conveyor the
    /// transport time. Null only for a <see cref="StationKind.Buffer"/>, which passes parts on as soon as downstream has room.
    /// </summary>
    public Distribution? CycleTime { get; init; }

    /// <summary>Parts the station holds at once (1 or more).</summary>
    public required int Capacity { get; init; }

    /// <summary>Failures per hour of operation; 0 for a station that never fails.</summary>
    public double FailureRatePerHour { get; init; }

    /// <summary>Mean seconds from a failure to the repair; above 0 whenever <see cref="FailureRatePerHour"/> is.</summary>
    public double MeanTimeToRepairSeconds { get; init; }

    /// <summary>For an <see cref="StationKind.Inspection"/> station, the fraction (0 to 1) of parts rejected; 0 otherwise.</summary>
    public double RejectRate { get; init; }

    public SourceLocation? Source { get; init; }
}
