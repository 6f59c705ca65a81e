namespace TwinGateway.Telemetry.Replay;

/// <summary>The outcome of one replay: how the twin, fed the recorded inputs, compared with the recorded outputs.</summary>
public sealed record ReplayReport
{
    public required string LineId { get; init; }

    public required DateTime From { get; init; }

    public required DateTime To { get; init; }

    /// <summary>Null: replayed as fast as possible; N: paced at N times real time.</summary>
    public double? Speed { get; init; }

    public required ulong Seed { get; init; }

    public required double StepSeconds { get; init; }

    /// <summary>Source time of the first and last sample read (null only for a report of no samples).</summary>
    public DateTime? FirstSampleTime { get; init; }

    public DateTime? LastSampleTime { get; init; }

    public required long SamplesRead { get; init; }

    /// <summary>Controller-input samples with a usable value, fed to the twin.</summary>
    public required long InputsFed { get; init; }

    /// <summary>Controller-output samples compared with the twin.</summary>
    public required long OutputsCompared { get; init; }

    /// <summary>Controller-output samples of signals the twin does not model, or that the signal filter left out.</summary>
    public required long OutputsNotCompared { get; init; }

    /// <summary>Samples with no value, a value that is not finite, or a Bad status (severity bit 0x80000000).</summary>
    public required long Skipped { get; init; }

    /// <summary>Samples of signals the line definition does not know (recorded under an older definition, say).</summary>
    public required long Unknown { get; init; }

    public required IReadOnlyList<string> UnknownSignals { get; init; }

    public required double WallSeconds { get; init; }

    public required double SamplesPerSecond { get; init; }

    public required long TwinSteps { get; init; }

    /// <summary>How often a paced replay waited to keep to its speed.</summary>
    public required long PacingWaits { get; init; }

    /// <summary>One entry per compared signal, in line definition order.</summary>
    public required IReadOnlyList<ReplaySignalStats> Signals { get; init; }

    /// <summary>The plot series, one per compared signal, in the order of <see cref="Signals"/>.</summary>
    public required IReadOnlyList<ReplaySignalSeries> Series { get; init; }
}

/// <summary>Error statistics of one signal; error is twin minus real, in the signal's unit.</summary>
/// <param name="SignalId">The signal's id in the line definition.</param>
/// <param name="StationId">Its station; null for a line-wide signal.</param>
/// <param name="Unit">Its engineering unit, the unit of every error and mean here.</param>
/// <param name="Tolerance">The largest |error| still counted as in tolerance.</param>
/// <param name="Count">Samples compared.</param>
/// <param name="Bias">Mean error: positive when the twin reads high.</param>
/// <param name="Rms">Root mean square of the error.</param>
/// <param name="MaxAbsError">Largest |error|.</param>
/// <param name="MaxErrorAt">Source time of the sample with the largest |error| (the first such).</param>
/// <param name="SamplesAboveTolerance">Samples whose |error| exceeds the tolerance.</param>
/// <param name="TimeAboveToleranceSeconds">
/// Sum of the intervals from a sample of the signal to the next one whose |error| exceeds the tolerance (the first sample has no interval).
/// </param>
/// <param name="FractionAboveTolerance">TimeAboveToleranceSeconds over the time from the signal's first to its last sample (0 for one sample).</param>
/// <param name="MeanReal">Mean recorded value.</param>
/// <param name="MeanTwin">Mean twin value at the same instants.</param>
public sealed record ReplaySignalStats(
    string SignalId,
    string? StationId,
    string Unit,
    double Tolerance,
    long Count,
    double Bias,
    double Rms,
    double MaxAbsError,
    DateTime MaxErrorAt,
    long SamplesAboveTolerance,
    double TimeAboveToleranceSeconds,
    double FractionAboveTolerance,
    double MeanReal,
    double MeanTwin);

/// <summary>The plot series of one signal: only the buckets that hold samples.</summary>
public sealed record ReplaySignalSeries(string SignalId, IReadOnlyList<ReplayPlotBucket> Buckets);

/// <summary>One time bucket of a plot series: the real values' mean, min and max and the twin's mean.</summary>
public readonly record struct ReplayPlotBucket(DateTime Start, double RealMean, double RealMin, double RealMax, double TwinMean, long Count);

/// <summary>Where a running replay stands, for a progress bar.</summary>
/// <param name="SamplesProcessed">Samples read and replayed so far.</param>
/// <param name="SamplesTotal">Samples the replay reads, counted when it started.</param>
/// <param name="SimTime">The twin's simulated time.</param>
/// <param name="Fraction">0 to 1: processed over total, never decreasing; exactly 1 in the last report.</param>
/// <param name="SamplesPerSecond">Throughput since the start.</param>
/// <param name="Elapsed">Wall time since the start (on the replay's TimeProvider).</param>
/// <param name="EstimatedTimeLeft">Null until the first samples give a rate; zero in the last report.</param>
public sealed record ReplayProgress(
    long SamplesProcessed,
    long SamplesTotal,
    DateTime SimTime,
    double Fraction,
    double SamplesPerSecond,
    TimeSpan Elapsed,
    TimeSpan? EstimatedTimeLeft);
