namespace TwinGateway.Telemetry.Recording;

/// <summary>Settings of the <see cref="TelemetryRecorder"/> (section <c>Telemetry:Recorder</c> in the gateway).</summary>
public sealed class RecorderOptions
{
    /// <summary>The DuckDB file; created with its folder when missing.</summary>
    public required string DatabasePath { get; init; }

    /// <summary>
    /// How often buffered samples are committed. A crash loses at most this much of the newest data that was not yet
    /// committed; 200 ms keeps a commit's fixed cost (a WAL write and fsync, about 1 ms here) under 1% of the time.
    /// </summary>
    public int FlushIntervalMilliseconds { get; init; } = 200;

    /// <summary>Most samples in one commit; a larger backlog is committed in several.</summary>
    public int MaxBatchSamples { get; init; } = 200_000;

    /// <summary>
    /// Most samples held in memory while waiting for a commit (for example while the disk is full). Beyond it
    /// <see cref="TelemetryRecorder.Append(in TelemetrySample)"/> waits instead of dropping: backpressure reaches the
    /// controller links, whose OPC UA subscriptions queue on the server. 4 M pending samples take about 550 MB of
    /// managed heap (the list being committed and the list being filled).
    /// </summary>
    public int MaxPendingSamples { get; init; } = 4_000_000;

    /// <summary>How long samples are kept; the retention job deletes older ones (only those already forwarded).</summary>
    public TimeSpan Retention { get; init; } = TimeSpan.FromDays(30);

    /// <summary>
    /// What to do with a file that is not a readable DuckDB database: move it aside (kept as
    /// <c>NAME.corrupt-TIMESTAMP</c> for inspection) and start a new one, so the gateway keeps recording; or refuse to start.
    /// </summary>
    public bool MoveCorruptDatabaseAside { get; init; } = true;

    /// <summary>Longest wait between retries of a failed commit (the first retry is after 100 ms, then doubling).</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// DuckDB's memory limit (buffer pool and query memory) in MB. DuckDB's own default is 80% of the machine's memory,
    /// which it fills with cached blocks as the file grows: the ingest benchmark reached 2.4 GB of RSS after 70 M samples
    /// without a limit. Large queries spill to a temporary folder beside the file instead.
    /// </summary>
    public int MemoryLimitMegabytes { get; init; } = 512;

    /// <summary>Every problem with these settings, empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(DatabasePath))
        {
            problems.Add("DatabasePath: required (the flight recorder's DuckDB file)");
        }

        if (FlushIntervalMilliseconds is < 1 or > 60_000)
        {
            problems.Add($"FlushIntervalMilliseconds: {FlushIntervalMilliseconds} is outside 1..60000");
        }

        if (MaxBatchSamples is < 1 or > 10_000_000)
        {
            problems.Add($"MaxBatchSamples: {MaxBatchSamples} is outside 1..10000000");
        }

        if (MaxPendingSamples < MaxBatchSamples)
        {
            problems.Add($"MaxPendingSamples: {MaxPendingSamples} is less than MaxBatchSamples ({MaxBatchSamples})");
        }

        if (MemoryLimitMegabytes is < 64 or > 1_048_576)
        {
            problems.Add($"MemoryLimitMegabytes: {MemoryLimitMegabytes} is outside 64..1048576");
        }

        if (Retention < TimeSpan.FromMinutes(1))
        {
            problems.Add($"Retention: {Retention} is shorter than one minute");
        }

        return problems;
    }
}
