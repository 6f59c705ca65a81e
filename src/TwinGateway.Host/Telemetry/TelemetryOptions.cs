using Microsoft.Extensions.Options;
using TwinGateway.Telemetry.Forwarding;
using TwinGateway.Telemetry.Recording;

namespace TwinGateway.Host.Telemetry;

/// <summary>The flight recorder's settings (section <c>Telemetry</c>); the InfluxDB forwarder's are <c>Telemetry:Influx</c>.</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary>
    /// Record every sample the gateway receives. Off only for gateways that must not keep data; the recorder still
    /// answers queries and replays of what it holds.
    /// </summary>
    public bool Record { get; set; } = true;

    /// <summary>The gateway's data folder; a relative path is resolved against the working directory.</summary>
    public string DataFolder { get; set; } = "data";

    /// <summary>The flight recorder's DuckDB file, inside <see cref="DataFolder"/>.</summary>
    public string DatabaseFile { get; set; } = "flight-recorder.duckdb";

    /// <summary>How often buffered samples are committed (the most a crash can lose).</summary>
    public int FlushIntervalMilliseconds { get; set; } = 200;

    /// <summary>Samples held in memory while commits fail before producers wait (never dropped).</summary>
    public int MaxPendingSamples { get; set; } = 4_000_000;

    /// <summary>
    /// Bytes of samples held in memory waiting for a commit before producers wait (never dropped); bounds the memory
    /// a full disk or a slow commit can take. 64 MiB is about a million samples, nine minutes of the demo line.
    /// </summary>
    public long MaxPendingBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>DuckDB's memory limit in MB (its own default is 80% of the machine; 256 keeps the gateway under 600 MB at full ingest).</summary>
    public int MemoryLimitMegabytes { get; set; } = 256;

    /// <summary>Days samples are kept; samples not yet forwarded to InfluxDB are kept longer.</summary>
    public double RetentionDays { get; set; } = 30;

    /// <summary>Minutes between runs of the retention job.</summary>
    public double RetentionCheckMinutes { get; set; } = 60;

    /// <summary>Seconds between runs of the forwarding job (each run drains the whole backlog).</summary>
    public double ForwardIntervalSeconds { get; set; } = 1;

    /// <summary>Seconds between log lines with the forwarder's backlog and lag.</summary>
    public double StatusLogSeconds { get; set; } = 60;

    /// <summary>Move a corrupt database file aside and start a new one (true), or refuse to start (false).</summary>
    public bool MoveCorruptDatabaseAside { get; set; } = true;

    public string DatabasePath => Path.GetFullPath(Path.Combine(DataFolder, DatabaseFile));

    public RecorderOptions ToRecorderOptions() => new()
    {
        DatabasePath = DatabasePath,
        FlushIntervalMilliseconds = FlushIntervalMilliseconds,
        MaxPendingSamples = MaxPendingSamples,
        MaxPendingBytes = MaxPendingBytes,
        Retention = TimeSpan.FromDays(RetentionDays),
        MoveCorruptDatabaseAside = MoveCorruptDatabaseAside,
        MemoryLimitMegabytes = MemoryLimitMegabytes,
    };
}

/// <summary>Validates the telemetry and forwarder settings at start, every problem at once.</summary>
internal sealed class TelemetryOptionsValidator(IOptions<InfluxForwarderOptions> influx) : IValidateOptions<TelemetryOptions>
{
    public ValidateOptionsResult Validate(string? name, TelemetryOptions options)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(options.DataFolder))
        {
            problems.Add("Telemetry:DataFolder is empty");
        }

        if (options.RetentionDays is < 0.001 or > 36_500)
        {
            problems.Add($"Telemetry:RetentionDays is {options.RetentionDays}; it must be 0.001..36500");
        }

        if (options.RetentionCheckMinutes is < 0.01 or > 10_080)
        {
            problems.Add($"Telemetry:RetentionCheckMinutes is {options.RetentionCheckMinutes}; it must be 0.01..10080");
        }

        if (options.ForwardIntervalSeconds is < 0.01 or > 3600)
        {
            problems.Add($"Telemetry:ForwardIntervalSeconds is {options.ForwardIntervalSeconds}; it must be 0.01..3600");
        }

        if (options.StatusLogSeconds is < 1 or > 86_400)
        {
            problems.Add($"Telemetry:StatusLogSeconds is {options.StatusLogSeconds}; it must be 1..86400");
        }

        if (!string.IsNullOrWhiteSpace(options.DataFolder))
        {
            problems.AddRange(options.ToRecorderOptions().Validate().Select(p => $"Telemetry:{p}"));
            if (CannotWrite(options.DataFolder) is { } why)
            {
                problems.Add($"Telemetry:DataFolder '{Path.GetFullPath(options.DataFolder)}' cannot be written: {why}");
            }
        }

        if (influx.Value.Enabled)
        {
            problems.AddRange(influx.Value.Validate().Select(p => p.StartsWith("Telemetry:", StringComparison.Ordinal) ? p : $"Telemetry:Influx:{p}"));
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    /// <summary>Creates the folder and a probe file in it; the reason when that fails, else null.</summary>
    private static string? CannotWrite(string folder)
    {
        try
        {
            Directory.CreateDirectory(folder);
            var probe = Path.Combine(folder, $".write-probe-{Environment.ProcessId}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return ex.Message;
        }
    }
}
