namespace TwinGateway.Telemetry.Forwarding;

/// <summary>What the forwarder is doing.</summary>
public enum ForwarderState
{
    /// <summary>No attempt has finished yet (or the last one was cancelled).</summary>
    Idle,

    /// <summary>A call is writing batches.</summary>
    Forwarding,

    /// <summary>The last call wrote everything committed when it started.</summary>
    CaughtUp,

    /// <summary>The last write failed for a reason that may pass by itself (no connection, timeout, 5xx, 429); it is retried after a backoff.</summary>
    Backoff,

    /// <summary>The server refuses the writes (token, bucket, organization, content); retried after a backoff, but needs someone to act.</summary>
    Failing,
}

/// <summary>How a call of <see cref="InfluxForwarder.ForwardAsync"/> ended.</summary>
public enum ForwardOutcome
{
    /// <summary>Everything committed when the call started is in InfluxDB.</summary>
    CaughtUp,

    /// <summary>A batch failed; the high-water mark stays before it and <see cref="ForwardResult.Error"/> says why.</summary>
    Failed,

    /// <summary>Nothing tried: the backoff after the last failure has not passed.</summary>
    BackingOff,

    /// <summary>Nothing tried: another call is forwarding.</summary>
    Busy,

    /// <summary>Nothing tried: forwarding is switched off.</summary>
    Disabled,
}

/// <summary>The result of one <see cref="InfluxForwarder.ForwardAsync"/> call.</summary>
/// <param name="Outcome">How it ended.</param>
/// <param name="Points">Points this call wrote and the server acknowledged.</param>
/// <param name="Batches">Batches this call wrote.</param>
/// <param name="HighWater">The high-water mark after the call.</param>
/// <param name="Error">Why the call failed (or, while backing off, why the last one did).</param>
public readonly record struct ForwardResult(ForwardOutcome Outcome, int Points, int Batches, long HighWater, string? Error);

/// <summary>The forwarder's state for the API, health checks and the log.</summary>
/// <param name="State">What it is doing.</param>
/// <param name="Url">The InfluxDB server.</param>
/// <param name="HighWater">The last sequence number InfluxDB acknowledged.</param>
/// <param name="Backlog">Recorded samples not yet acknowledged.</param>
/// <param name="Lag">How old the oldest unforwarded sample is (zero without a backlog).</param>
/// <param name="LastError">Why the last attempt failed; null once a batch succeeds again.</param>
/// <param name="LastFailureAt">When the last attempt failed.</param>
/// <param name="FailingSince">When the current run of failures began; null while writes work.</param>
/// <param name="LastSuccessAt">When the server last acknowledged a batch.</param>
/// <param name="NextAttemptAt">When the backoff after a failure ends; null while writes work.</param>
/// <param name="Failures">Failed attempts since the forwarder started.</param>
/// <param name="PointsForwarded">Points acknowledged since the forwarder started.</param>
/// <param name="Batches">Batches acknowledged since the forwarder started.</param>
public sealed record ForwarderStatus(
    ForwarderState State,
    string Url,
    long HighWater,
    long Backlog,
    TimeSpan Lag,
    string? LastError,
    DateTimeOffset? LastFailureAt,
    DateTimeOffset? FailingSince,
    DateTimeOffset? LastSuccessAt,
    DateTimeOffset? NextAttemptAt,
    long Failures,
    long PointsForwarded,
    long Batches);
