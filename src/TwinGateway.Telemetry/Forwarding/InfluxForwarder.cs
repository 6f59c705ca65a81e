using System.Text;
using InfluxDB.Client;
using InfluxDB.Client.Api.Domain;
using InfluxDB.Client.Core.Exceptions;
using Microsoft.Extensions.Logging;
using TwinGateway.Telemetry.Recording;

namespace TwinGateway.Telemetry.Forwarding;

/// <summary>
/// Store and forward from the flight recorder to InfluxDB: each call writes the recorder's backlog in batches through
/// InfluxDB.Client's v2 write API and moves the durable high-water mark only after the server acknowledged a batch.
/// </summary>
/// <remarks>
/// A failed batch keeps the mark where it was, so the next attempt sends the same batch again: nothing is lost, and the
/// only duplicate an attempt can produce is a point the server had accepted before the failure reached us (a timeout
/// after the write), which InfluxDB stores as the same series and timestamp overwritten with the same value.
/// A batch the server rejects for its content (400) is retried like any other failure rather than skipped, because
/// skipping would lose samples; the forwarder then stays in <see cref="ForwarderState.Failing"/> with the server's
/// message until someone acts on it.
/// The host calls <see cref="ForwardAsync"/> every second and <see cref="LogStatus"/> every minute.
/// </remarks>
public sealed partial class InfluxForwarder : IDisposable
{
    /// <summary>The consumer name the high-water mark is stored under in the recorder.</summary>
    public const string ConsumerName = "influx";

    private readonly TelemetryRecorder _recorder;
    private readonly InfluxForwarderOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly InfluxDBClient? _client;
    private readonly WriteApiAsync? _writeApi;
    private readonly StringBuilder _lines;
    private readonly SemaphoreSlim _forwarding = new(1, 1);
    private bool _disposed;

    public InfluxForwarder(TelemetryRecorder recorder, InfluxForwarderOptions options, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(recorder);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException($"InfluxDB forwarder settings are invalid: {string.Join("; ", problems)}", nameof(options));
        }

        _recorder = recorder;
        _options = options;
        _time = time;
        _logger = logger;
        _highWater = recorder.GetHighWater(ConsumerName);

        // About 80 characters a line; sized once so the builder does not grow in chunks on every batch.
        _lines = new StringBuilder(options.Enabled ? Math.Min(options.BatchSize, 20_000) * 96 : 0);
        if (!options.Enabled)
        {
            return;
        }

        _client = new InfluxDBClient(new InfluxDBClientOptions(options.Url)
        {
            Token = options.Token,
            Org = options.Organization,
            Bucket = options.Bucket,
            Timeout = options.RequestTimeout,
        });
        if (options.Gzip)
        {
            _client.EnableGzip();
        }

        _writeApi = _client.GetWriteApiAsync();
        Log.Started(_logger, options.Url, options.Bucket, options.Organization, _highWater, Math.Max(0, recorder.LastSeq - _highWater));
    }

    /// <summary>
    /// Writes what the recorder had committed when the call started, batch by batch, and returns when it is all
    /// acknowledged or a batch failed. During the backoff after a failure, and while another call runs, it returns
    /// at once. Failures are reported in the result and <see cref="Status"/>, never thrown; only cancellation throws.
    /// </summary>
    public async Task<ForwardResult> ForwardAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_writeApi is null)
        {
            return new ForwardResult(ForwardOutcome.Disabled, 0, 0, _highWater, null);
        }

        lock (_statusLock)
        {
            if (_nextAttemptAt is { } next && _time.GetUtcNow() < next)
            {
                return new ForwardResult(ForwardOutcome.BackingOff, 0, 0, _highWater, _lastError);
            }
        }

        if (!await _forwarding.WaitAsync(0, cancellationToken).ConfigureAwait(false))
        {
            return new ForwardResult(ForwardOutcome.Busy, 0, 0, _highWater, null);
        }

        try
        {
            return await ForwardBacklogAsync(_writeApi, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lock (_statusLock)
            {
                // Cancelled mid-way: neither caught up nor failed, so the state says only that nothing runs.
                if (_state == ForwarderState.Forwarding)
                {
                    _state = ForwarderState.Idle;
                }
            }

            _forwarding.Release();
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _client?.Dispose();
        _forwarding.Dispose();
    }

    private async Task<ForwardResult> ForwardBacklogAsync(WriteApiAsync writeApi, CancellationToken cancellationToken)
    {
        // Bounded by what was committed at the start, so a recorder that outpaces the server cannot keep one call
        // (and the job that made it) running for ever; the next call takes the rest.
        var target = _recorder.LastSeq;
        long mark;
        try
        {
            mark = _recorder.GetHighWater(ConsumerName);
        }
        catch (TelemetryStoreException ex)
        {
            return RecorderFailed(ex, _highWater, 0, 0);
        }

        var points = 0;
        var batches = 0;
        lock (_statusLock)
        {
            _highWater = mark;
        }

        while (mark < target)
        {
            cancellationToken.ThrowIfCancellationRequested();
            IReadOnlyList<RecordedSample> batch;
            try
            {
                batch = _recorder.ReadAfter(mark, _options.BatchSize);
            }
            catch (TelemetryStoreException ex)
            {
                return RecorderFailed(ex, mark, points, batches);
            }

            if (batch.Count == 0)
            {
                break;
            }

            lock (_statusLock)
            {
                _state = ForwarderState.Forwarding;
            }

            _lines.Clear();
            for (var i = 0; i < batch.Count; i++)
            {
                InfluxLineProtocol.Append(_lines, batch[i].Sample);
            }

            try
            {
                // The raw-string overload: one string per batch, where the IEnumerable<string> overloads would take
                // one string per point and join them into a second copy.
                await writeApi.WriteRecordAsync(_lines.ToString(), WritePrecision.Ns, _options.Bucket, _options.Organization, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (Exception ex) when (cancellationToken.IsCancellationRequested)
            {
                // The client reports cancellation as an HttpException; callers expect the standard exception.
                throw new OperationCanceledException("forwarding to InfluxDB was cancelled", ex, cancellationToken);
            }
            catch (Exception ex) when (ex is InfluxException or HttpRequestException or IOException or TimeoutException or OperationCanceledException)
            {
                var error = OnFailure(Redacted(Classify(ex)), LagOf(batch[0].Sample, _time.GetUtcNow()));
                return new ForwardResult(ForwardOutcome.Failed, points, batches, mark, error);
            }

            var last = batch[^1].Seq;
            try
            {
                _recorder.SetHighWater(ConsumerName, last);
            }
            catch (TelemetryStoreException ex)
            {
                // InfluxDB has the batch but the mark could not be stored: the batch is sent again later, the one
                // duplicate the forwarder allows (same series and timestamps).
                return RecorderFailed(ex, mark, points, batches);
            }

            mark = last;
            points += batch.Count;
            batches++;
            OnBatchWritten(mark, batch.Count);
        }

        OnCaughtUp(mark);
        return new ForwardResult(ForwardOutcome.CaughtUp, points, batches, mark, null);
    }

    /// <summary>The recorder itself failed (a full disk, say): back off like a server failure, nothing is lost.</summary>
    private ForwardResult RecorderFailed(TelemetryStoreException ex, long mark, int points, int batches)
    {
        var error = OnFailure(new Failure("recorder", $"cannot forward from the flight recorder: {ex.Message}", NeedsAction: false, RetryAfter: null), TimeSpan.Zero);
        return new ForwardResult(ForwardOutcome.Failed, points, batches, mark, error);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5200, Level = LogLevel.Information, Message = "Forwarding telemetry to InfluxDB at {Url} (bucket {Bucket}, organization {Organization}) from high-water mark {HighWater}; backlog {Backlog} samples")]
        public static partial void Started(ILogger logger, string url, string bucket, string organization, long highWater, long backlog);

        [LoggerMessage(EventId = 5201, Level = LogLevel.Error, Message = "{Error}; {Backlog} samples wait in the flight recorder (lag {Lag}), next attempt in {Delay}")]
        public static partial void Refused(ILogger logger, string error, long backlog, TimeSpan lag, TimeSpan delay);

        [LoggerMessage(EventId = 5202, Level = LogLevel.Warning, Message = "{Error}; {Backlog} samples wait in the flight recorder (lag {Lag}), next attempt in {Delay}")]
        public static partial void Failed(ILogger logger, string error, long backlog, TimeSpan lag, TimeSpan delay);

        [LoggerMessage(EventId = 5203, Level = LogLevel.Debug, Message = "InfluxDB write attempt {Attempt} failed the same way, next in {Delay}: {Error}")]
        public static partial void FailedAgain(ILogger logger, int attempt, TimeSpan delay, string error);

        [LoggerMessage(EventId = 5204, Level = LogLevel.Information, Message = "InfluxDB at {Url} accepts writes again after {Outage} and {Attempts} failed attempts; catching up {Backlog} samples")]
        public static partial void Recovered(ILogger logger, string url, TimeSpan outage, int attempts, long backlog);

        [LoggerMessage(EventId = 5205, Level = LogLevel.Information, Message = "InfluxDB at {Url}: caught up {Points} points in {Batches} batches in {Duration}; high-water mark {HighWater}")]
        public static partial void CaughtUp(ILogger logger, string url, long points, int batches, TimeSpan duration, long highWater);

        [LoggerMessage(EventId = 5206, Level = LogLevel.Information, Message = "InfluxDB forwarding to {Url}: {State}, backlog {Backlog} samples, lag {Lag}; {Points} points in {Batches} batches so far")]
        public static partial void StatusOk(ILogger logger, string url, ForwarderState state, long backlog, TimeSpan lag, long points, long batches);

        [LoggerMessage(EventId = 5207, Level = LogLevel.Warning, Message = "InfluxDB forwarding to {Url} failing since {Since}: backlog {Backlog} samples, lag {Lag}, next attempt at {NextAttemptAt}: {Error}")]
        public static partial void StatusFailing(ILogger logger, string url, DateTimeOffset? since, long backlog, TimeSpan lag, DateTimeOffset? nextAttemptAt, string? error);
    }
}
