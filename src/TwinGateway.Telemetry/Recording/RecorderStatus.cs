namespace TwinGateway.Telemetry.Recording;

/// <summary>The flight recorder's state, for the API, the log and health checks.</summary>
/// <param name="DatabasePath">The DuckDB file.</param>
/// <param name="LastSeq">The last committed sequence number.</param>
/// <param name="Pending">Samples in memory waiting for a commit.</param>
/// <param name="Appended">Samples appended since the recorder was opened.</param>
/// <param name="Committed">Samples committed since the recorder was opened.</param>
/// <param name="CommitFailures">Failed commit attempts since the recorder was opened.</param>
/// <param name="LastError">The error of the failing commit; null while commits work.</param>
/// <param name="FailingSince">When commits started failing; null while they work.</param>
/// <param name="LastCommitAt">When the last commit succeeded.</param>
/// <param name="DatabaseBytes">The size of the file and its write-ahead log.</param>
/// <param name="FileExists">False when the file was removed under the running recorder (its data then goes with the last handle).</param>
public sealed record RecorderStatus(
    string DatabasePath,
    long LastSeq,
    long Pending,
    long Appended,
    long Committed,
    long CommitFailures,
    string? LastError,
    DateTimeOffset? FailingSince,
    DateTimeOffset? LastCommitAt,
    long DatabaseBytes,
    bool FileExists)
{
    public bool Healthy => LastError is null && FileExists;

    /// <summary>What is wrong, for health checks and the line's sink state; null while healthy.</summary>
    public string? Problem =>
        !FileExists ? $"the flight recorder file {DatabasePath} was removed while the gateway runs"
        : LastError is { } error ? $"{Pending} samples waiting for a commit: {error}"
        : null;
}
