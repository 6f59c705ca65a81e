using TwinGateway.Core.Lines;

namespace TwinGateway.Telemetry.Replay;

/// <summary>What <see cref="TelemetryReplayer.RunAsync"/> replays and how it judges the twin.</summary>
public sealed class ReplayOptions
{
    /// <summary>The line whose recorded telemetry is replayed; its id selects the recorded samples.</summary>
    public required LineDefinition Line { get; init; }

    /// <summary>Start of the range (inclusive). An unspecified kind is taken as UTC, a local time is converted.</summary>
    public required DateTime From { get; init; }

    /// <summary>End of the range (exclusive).</summary>
    public required DateTime To { get; init; }

    /// <summary>Null: as fast as possible; N: N times faster than real time (1 is real time).</summary>
    public double? Speed { get; init; }

    /// <summary>Seed of the replay twin; the same seed, line and recording give the same report.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>The replay twin's step. Recorded samples are compared with the twin's latest step at or before them.</summary>
    public TimeSpan Step { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The controller outputs to compare and report; null or empty compares every modelled output. Controller
    /// inputs are always read and fed, whatever the filter, because the twin's outputs depend on them.
    /// </summary>
    public IReadOnlyCollection<string>? Signals { get; init; }

    /// <summary>Time buckets over [From, To) per compared signal in the plot series.</summary>
    public int PlotPoints { get; init; } = 500;

    /// <summary>Share of a signal's nominal range (High - Low) the twin may miss by before it counts as out of tolerance.</summary>
    public double ToleranceFraction { get; init; } = 0.05;

    /// <summary>
    /// The smallest tolerance of a continuous signal, in its unit: the whole tolerance of one without a nominal range.
    /// Zero makes any difference count for those.
    /// </summary>
    public double AbsoluteTolerance { get; init; }

    /// <summary>Tolerances by signal id, in the signal's unit, that replace the rule for those signals.</summary>
    public IReadOnlyDictionary<string, double>? ToleranceOverrides { get; init; }

    /// <summary>How often progress is reported, measured on the replay's <see cref="TimeProvider"/>.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The tolerance of <paramref name="signal"/>: an override if one is given; 0.5 for Boolean and integer signals
    /// (any mismatch of a whole unit counts); otherwise <c>max(ToleranceFraction * (High - Low), AbsoluteTolerance)</c>.
    /// </summary>
    public double ToleranceOf(SignalDefinition signal)
    {
        ArgumentNullException.ThrowIfNull(signal);
        if (ToleranceOverrides is not null && ToleranceOverrides.TryGetValue(signal.Id, out var tolerance))
        {
            return tolerance;
        }

        if (signal.DataType == SignalDataType.Boolean || signal.DataType.IsInteger())
        {
            return 0.5;
        }

        return signal.NominalRange is { } range
            ? Math.Max(ToleranceFraction * (range.High - range.Low), AbsoluteTolerance)
            : AbsoluteTolerance;
    }

    /// <summary>Every problem with these options, each on its own; empty when they can be run.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (Line is null)
        {
            problems.Add("no line given");
            return problems;
        }

        if (FromUtc >= ToUtc)
        {
            problems.Add($"the range is empty: from {FromUtc:O} is not before to {ToUtc:O}");
        }

        if (Speed is { } speed && !(double.IsFinite(speed) && speed > 0))
        {
            problems.Add($"speed {speed} is not a positive number (leave it out to replay as fast as possible)");
        }

        if (Step <= TimeSpan.Zero)
        {
            problems.Add($"step {Step} is not positive");
        }

        if (PlotPoints < 1)
        {
            problems.Add($"plot points {PlotPoints} is less than 1");
        }

        if (!(double.IsFinite(ToleranceFraction) && ToleranceFraction >= 0))
        {
            problems.Add($"tolerance fraction {ToleranceFraction} is not a non-negative number");
        }

        if (!(double.IsFinite(AbsoluteTolerance) && AbsoluteTolerance >= 0))
        {
            problems.Add($"absolute tolerance {AbsoluteTolerance} is not a non-negative number");
        }

        if (ProgressInterval <= TimeSpan.Zero)
        {
            problems.Add($"progress interval {ProgressInterval} is not positive");
        }

        foreach (var id in Signals ?? [])
        {
            var signal = Line.FindSignal(id);
            if (signal is null)
            {
                problems.Add($"line '{Line.Id}' has no signal '{id}'");
            }
            else if (signal.Direction != SignalDirection.ControllerOutput)
            {
                problems.Add($"signal '{id}' is a controllerInput: only controller outputs are compared (inputs are always fed)");
            }
        }

        foreach (var (id, tolerance) in ToleranceOverrides ?? new Dictionary<string, double>())
        {
            if (Line.FindSignal(id) is null)
            {
                problems.Add($"tolerance given for signal '{id}', which line '{Line.Id}' does not define");
            }

            if (!(double.IsFinite(tolerance) && tolerance >= 0))
            {
                problems.Add($"tolerance {tolerance} of signal '{id}' is not a non-negative number");
            }
        }

        return problems;
    }

    internal DateTime FromUtc => AsUtc(From);

    internal DateTime ToUtc => AsUtc(To);

    private static DateTime AsUtc(DateTime time) => time.Kind switch
    {
        DateTimeKind.Utc => time,
        DateTimeKind.Local => time.ToUniversalTime(),
        _ => DateTime.SpecifyKind(time, DateTimeKind.Utc),
    };
}
