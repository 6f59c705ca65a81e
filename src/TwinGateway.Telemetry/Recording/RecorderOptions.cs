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
    /// controller links, whose OPC UA subscriptions queue on the server. <see cref="MaxPendingBytes"/> bounds the same
    /// buffer in memory; whichever is reached first makes producers wait.
    /// </summary>
    public int MaxPendingSamples { get; init; } = 4_000_000;

    /// <summary>
    /// Most memory the samples waiting for a commit may take, in bytes (64 bytes a sample); producers wait beyond it as
    /// they do at <see cref="MaxPendingSamples"/>, nothing is dropped. The buffer grows in segments of 1 MiB and holds at
    /// most this plus 2 MiB. 64 MiB (1,048,576 samples) keeps 9 minutes of the demo line's 1,910 samples/s through a full
    /// disk, and at the recorder's top rate (about 4 M samples/s here) a quarter of a second, enough for the producers to
    /// fill the next batch while the writer commits one (bench/results/telemetry-ingest-after.json).
    /// </summary>
    public long MaxPendingBytes { get; init; } = 64L * 1024 * 1024;

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
    /// without a limit. DuckDB fills whatever limit it has while ingesting (it held 472 MB under 512), so 256 keeps the
    /// recorder's process under 600 MB at its top ingest rate (bench/results/telemetry-ingest-after.json). Large queries
    /// spill to a temporary folder beside the file instead: replaying one hour of the demo line (a sort of 6.9 M rows)
    /// runs at 4.6 M samples/s under 256 and 8.5 M under 512 (same machine, same load); raise it where long replays matter
    /// more than memory.
    /// </summary>
    public int MemoryLimitMegabytes { get; init; } = 256;

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

        var batchBytes = (long)MaxBatchSamples * PendingSamples.SampleBytes;
        if (MaxPendingBytes < batchBytes)
        {
            problems.Add($"MaxPendingBytes: {MaxPendingBytes} is less than one batch of MaxBatchSamples ({MaxBatchSamples} samples of {PendingSamples.SampleBytes} bytes = {batchBytes})");
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
