using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using TwinGateway.Core.Twins;
using TwinGateway.Gateway;
using TwinGateway.Host.Telemetry;
using TwinGateway.Telemetry.Recording;
using TwinGateway.Telemetry.Replay;

namespace TwinGateway.Host.Web;

/// <summary>Where a replay started from the console is.</summary>
internal enum ReplayJobState
{
    Running,
    Done,
    Failed,
}

/// <summary>One replay started from the console: what was asked, its latest progress, then its report or its failure.</summary>
internal sealed class ReplayJob(long id, ReplayOptions options, string startedBy, DateTimeOffset startedAt)
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long Id { get; } = id;

    public ReplayOptions Options { get; } = options;

    public string StartedBy { get; } = startedBy;

    public DateTimeOffset StartedAt { get; } = startedAt;

    public ReplayJobState State { get; private set; } = ReplayJobState.Running;

    public ReplayProgress? Progress { get; private set; }

    public ReplayReport? Report { get; private set; }

    /// <summary>Why it failed, in words that say what to fix.</summary>
    public string? Error { get; private set; }

    /// <summary>Completes at the next progress report or at the end (whichever first); already completed when the job has ended.</summary>
    public Task Changed
    {
        get
        {
            lock (_lock)
            {
                return _changed.Task;
            }
        }
    }

    internal void Update(ReplayProgress progress)
    {
        TaskCompletionSource fired;
        lock (_lock)
        {
            if (State != ReplayJobState.Running)
            {
                return;
            }

            Progress = progress;
            fired = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        fired.TrySetResult();
    }

    internal void End(ReplayReport? report, string? error)
    {
        TaskCompletionSource fired;
        lock (_lock)
        {
            Report = report;
            Error = error;
            State = report is null ? ReplayJobState.Failed : ReplayJobState.Done;
            fired = _changed;

            // Left completed: whoever waits after the end is told at once.
        }

        fired.TrySetResult();
    }
}

/// <summary>
/// The replays started from the console: each runs in the background (through <see cref="ReplayRuns"/>, as gRPC's do)
/// and keeps its latest progress and its report, so the page can follow it and show the report after a reload. Only
/// the newest <see cref="Kept"/> are kept, in memory: a restart forgets them (the CLI writes report files for keeps).
/// </summary>
internal sealed partial class ReplayJobs(TelemetryRecorder recorder, ITwinFactory twins, LineRegistry registry, IOptions<GatewayOptions> gateway,
    TimeProvider time, IHostApplicationLifetime lifetime, ILogger<ReplayJobs> log)
{
    /// <summary>Jobs kept; a report holds at most 500 plot points per signal, so this stays in the low megabytes.</summary>
    public const int Kept = 20;

    private readonly ConcurrentDictionary<long, ReplayJob> _jobs = new();
    private long _lastId;

    public LineRegistry Lines => registry;

    /// <summary>The recorded span (first and last source time, samples) of a line; null when nothing is recorded or the recorder cannot say.</summary>
    public (DateTime First, DateTime Last, long Count)? RecordedSpan(string lineId)
    {
        try
        {
            return recorder.GetLineSpan(lineId) is { } span
                ? (TwinGateway.Telemetry.TelemetryTime.FromUnixNanoseconds(span.First), TwinGateway.Telemetry.TelemetryTime.FromUnixNanoseconds(span.Last), span.Count)
                : null;
        }
        catch (TelemetryStoreException ex)
        {
            SpanUnreadable(log, lineId, ex.Message);
            return null;
        }
    }

    public ReplayJob? Get(long id) => _jobs.GetValueOrDefault(id);

    /// <summary>Checks the request and starts the replay in the background.</summary>
    /// <exception cref="ReplayRefusedException">What is wrong with the request (nothing was started).</exception>
    public ReplayJob Start(string lineId, DateTime fromUtc, DateTime toUtc, double speed, string user)
    {
        var options = ReplayRuns.Plan(registry, gateway.Value, lineId, TwinGateway.Telemetry.TelemetryTime.ToUnixNanoseconds(fromUtc),
            TwinGateway.Telemetry.TelemetryTime.ToUnixNanoseconds(toUtc), speed, 0, null, 0);
        var job = new ReplayJob(Interlocked.Increment(ref _lastId), options, user, time.GetUtcNow());
        _jobs[job.Id] = job;
        foreach (var old in _jobs.Keys.Order().SkipLast(Kept))
        {
            _jobs.TryRemove(old, out _);
        }

        Started(log, job.Id, user, lineId, options.From, options.To, speed);
        _ = RunAsync(job);
        return job;
    }

    /// <summary>Runs a job to its end; every failure ends up in the job (and the log), none escapes unobserved.</summary>
    private async Task RunAsync(ReplayJob job)
    {
        await Task.Yield();
        try
        {
            var report = await ReplayRuns.RunAsync(recorder, twins, job.Options, new JobProgress(job), time, lifetime.ApplicationStopping).ConfigureAwait(false);
            job.End(report, null);
            Finished(log, job.Id, report.SamplesRead, report.WallSeconds);
        }
        catch (ReplayRefusedException ex)
        {
            job.End(null, ex.Message);
            Failed(log, job.Id, ex.Message);
        }
        catch (OperationCanceledException)
        {
            job.End(null, "the gateway stopped before the replay ended");
        }
#pragma warning disable CA1031 // A background job records whatever failed it: nobody else would observe it.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            job.End(null, $"the replay failed: {ex.Message}");
            Crashed(log, ex, job.Id);
        }
    }

    private sealed class JobProgress(ReplayJob job) : IProgress<ReplayProgress>
    {
        public void Report(ReplayProgress value) => job.Update(value);
    }

    [LoggerMessage(EventId = 4460, Level = LogLevel.Information, Message = "Web console: replay {Job} started by {User}: line {Line} from {From:O} to {To:O} at speed {Speed}")]
    private static partial void Started(ILogger logger, long job, string user, string line, DateTime from, DateTime to, double speed);

    [LoggerMessage(EventId = 4461, Level = LogLevel.Information, Message = "Web console: replay {Job} done: {Samples} samples in {Seconds:F1} s")]
    private static partial void Finished(ILogger logger, long job, long samples, double seconds);

    [LoggerMessage(EventId = 4462, Level = LogLevel.Warning, Message = "Web console: replay {Job} failed: {Reason}")]
    private static partial void Failed(ILogger logger, long job, string reason);

    [LoggerMessage(EventId = 4463, Level = LogLevel.Error, Message = "Web console: replay {Job} failed unexpectedly")]
    private static partial void Crashed(ILogger logger, Exception exception, long job);

    [LoggerMessage(EventId = 4464, Level = LogLevel.Warning, Message = "Web console: cannot read the recorded span of line {Line}: {Reason}")]
    private static partial void SpanUnreadable(ILogger logger, string line, string reason);
}
