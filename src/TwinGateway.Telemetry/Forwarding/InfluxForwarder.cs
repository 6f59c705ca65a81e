using System.Globalization;
using System.Net;
using System.Net.Sockets;
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

    private const int MaxServerMessageLength = 300;

    private readonly TelemetryRecorder _recorder;
    private readonly InfluxForwarderOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly InfluxDBClient? _client;
    private readonly WriteApiAsync? _writeApi;
    private readonly StringBuilder _lines;
    private readonly SemaphoreSlim _forwarding = new(1, 1);
    private readonly Lock _statusLock = new();

    // Status, guarded by _statusLock (Status is read from API threads while ForwardAsync runs).
    private ForwarderState _state = ForwarderState.Idle;
    private long _highWater;
    private string? _lastError;
    private string? _lastLoggedFailure;
    private DateTimeOffset? _lastFailureAt;
    private DateTimeOffset? _failingSince;
    private DateTimeOffset? _lastSuccessAt;
    private DateTimeOffset? _nextAttemptAt;
    private int _consecutiveFailures;
    private long _failures;
    private long _pointsForwarded;
    private long _batches;
    private bool _catchingUp;
    private long _catchUpPoints;
    private int _catchUpBatches;
    private DateTimeOffset _catchUpStartedAt;
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

    /// <summary>The forwarder's state, backlog and lag, for the API, health checks and the log.</summary>
    public ForwarderStatus Status
    {
        get
        {
            ForwarderState state;
            long highWater;
            string? lastError;
            DateTimeOffset? lastFailureAt, failingSince, lastSuccessAt, nextAttemptAt;
            long failures, points, batches;
            lock (_statusLock)
            {
                state = _state;
                highWater = _highWater;
                lastError = _lastError;
                lastFailureAt = _lastFailureAt;
                failingSince = _failingSince;
                lastSuccessAt = _lastSuccessAt;
                nextAttemptAt = _nextAttemptAt;
                failures = _failures;
                points = _pointsForwarded;
                batches = _batches;
            }

            var backlog = Math.Max(0, _recorder.LastSeq - highWater);
            return new ForwarderStatus(
                state, _options.Url, highWater, backlog, LagOf(highWater, backlog), lastError, lastFailureAt, failingSince,
                lastSuccessAt, nextAttemptAt, failures, points, batches);
        }
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

    /// <summary>Logs backlog and lag (a warning with the error while writes fail); the host calls it every minute.</summary>
    public void LogStatus()
    {
        var status = Status;
        if (status.State is ForwarderState.Backoff or ForwarderState.Failing)
        {
            Log.StatusFailing(_logger, status.Url, status.FailingSince, status.Backlog, status.Lag, status.NextAttemptAt, status.LastError);
        }
        else
        {
            Log.StatusOk(_logger, status.Url, status.State, status.Backlog, status.Lag, status.PointsForwarded, status.Batches);
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
                var error = OnFailure(Classify(ex), LagOf(batch[0].Sample, _time.GetUtcNow()));
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

    private void OnBatchWritten(long mark, int points)
    {
        var now = _time.GetUtcNow();
        bool recovered;
        DateTimeOffset? failingSince;
        int failedAttempts;
        lock (_statusLock)
        {
            recovered = _failingSince is not null;
            failingSince = _failingSince;
            failedAttempts = _consecutiveFailures;
            if (recovered)
            {
                _catchingUp = true;
                _catchUpPoints = 0;
                _catchUpBatches = 0;
                _catchUpStartedAt = now;
            }

            _highWater = mark;
            _pointsForwarded += points;
            _batches++;
            _lastSuccessAt = now;
            _lastError = null;
            _lastLoggedFailure = null;
            _failingSince = null;
            _nextAttemptAt = null;
            _consecutiveFailures = 0;
            if (_catchingUp)
            {
                _catchUpPoints += points;
                _catchUpBatches++;
            }
        }

        if (recovered)
        {
            Log.Recovered(_logger, _options.Url, now - failingSince!.Value, failedAttempts, Math.Max(0, _recorder.LastSeq - mark + points));
        }
    }

    private void OnCaughtUp(long mark)
    {
        var now = _time.GetUtcNow();
        long caughtUpPoints = 0;
        var caughtUpBatches = 0;
        var logCatchUp = false;
        DateTimeOffset startedAt;
        lock (_statusLock)
        {
            _state = ForwarderState.CaughtUp;
            _highWater = mark;
            startedAt = _catchUpStartedAt;
            if (_catchingUp)
            {
                logCatchUp = true;
                caughtUpPoints = _catchUpPoints;
                caughtUpBatches = _catchUpBatches;
                _catchingUp = false;
            }
        }

        if (logCatchUp)
        {
            Log.CaughtUp(_logger, _options.Url, caughtUpPoints, caughtUpBatches, now - startedAt, mark);
        }
    }

    private string OnFailure(Failure failure, TimeSpan lag)
    {
        var now = _time.GetUtcNow();
        TimeSpan delay;
        bool log;
        int attempt;
        long highWater;
        lock (_statusLock)
        {
            highWater = _highWater;
            _consecutiveFailures++;
            _failures++;
            attempt = _consecutiveFailures;
            delay = BackoffFor(_consecutiveFailures, failure.RetryAfter);
            _state = failure.NeedsAction ? ForwarderState.Failing : ForwarderState.Backoff;
            _lastError = failure.Message;
            _lastFailureAt = now;
            _failingSince ??= now;
            _nextAttemptAt = now + delay;

            // A flapping or down server fails every attempt the same way: one line per change, not one per retry.
            log = !string.Equals(_lastLoggedFailure, failure.Key, StringComparison.Ordinal);
            _lastLoggedFailure = failure.Key;
        }

        var backlog = Math.Max(0, _recorder.LastSeq - highWater);
        if (!log)
        {
            Log.FailedAgain(_logger, attempt, delay, failure.Message);
        }
        else if (failure.NeedsAction)
        {
            Log.Refused(_logger, failure.Message, backlog, lag, delay);
        }
        else
        {
            Log.Failed(_logger, failure.Message, backlog, lag, delay);
        }

        return failure.Message;
    }

    private TimeSpan BackoffFor(int failures, TimeSpan? retryAfter)
    {
        if (retryAfter is { } asked)
        {
            // The server knows when it expects to cope again; MaxBackoff still bounds how stale the dashboards get.
            return Min(Max(asked, _options.InitialBackoff), _options.MaxBackoff);
        }

        var delay = _options.InitialBackoff;
        for (var i = 1; i < failures && delay < _options.MaxBackoff; i++)
        {
            delay += delay;
        }

        return Min(delay, _options.MaxBackoff);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private TimeSpan LagOf(long highWater, long backlog)
    {
        if (backlog <= 0)
        {
            return TimeSpan.Zero;
        }

        try
        {
            var oldest = _recorder.ReadAfter(highWater, 1);
            return oldest.Count == 0 ? TimeSpan.Zero : LagOf(oldest[0].Sample, _time.GetUtcNow());
        }
        catch (TelemetryStoreException)
        {
            // The recorder cannot be read just now (its own status says why); the lag is unknown, not an error here.
            return TimeSpan.Zero;
        }
    }

    private static TimeSpan LagOf(in TelemetrySample sample, DateTimeOffset now)
    {
        var lag = TimeSpan.FromTicks((TelemetryTime.ToUnixNanoseconds(now) - InfluxLineProtocol.TimestampOf(sample)) / 100);
        return lag > TimeSpan.Zero ? lag : TimeSpan.Zero;
    }

    private Failure Classify(Exception ex)
    {
        var url = _options.Url;
        if (ex is HttpException { Status: >= 400 } http)
        {
            var code = http.Status;
            var said = ServerMessage(http);
            TimeSpan? retryAfter = http.RetryAfter is { } seconds && seconds >= 0 ? TimeSpan.FromSeconds(seconds) : null;
            var status = $"{code.ToString(CultureInfo.InvariantCulture)} {ReasonPhrase(code)}";
            var key = code.ToString(CultureInfo.InvariantCulture);
            return code switch
            {
                401 or 403 => new Failure(
                    key,
                    $"InfluxDB at {url} refused the token ({status}): check {InfluxForwarderOptions.SectionName}:Token{Said(said)}",
                    NeedsAction: true,
                    retryAfter),
                404 => new Failure(
                    key,
                    $"InfluxDB at {url} answered {status}: bucket '{_options.Bucket}' or organization '{_options.Organization}' not found: "
                    + $"check {InfluxForwarderOptions.SectionName}:Bucket and {InfluxForwarderOptions.SectionName}:Organization{Said(said)}",
                    NeedsAction: true,
                    retryAfter),
                413 => new Failure(
                    key,
                    $"InfluxDB at {url} rejected the batch as too large ({status}): lower {InfluxForwarderOptions.SectionName}:BatchSize "
                    + $"(now {_options.BatchSize.ToString(CultureInfo.InvariantCulture)}){Said(said)}",
                    NeedsAction: true,
                    retryAfter),
                429 => new Failure(
                    key,
                    $"InfluxDB at {url} asks for fewer writes ({status}){Said(said)}; the batch is retried",
                    NeedsAction: false,
                    retryAfter),
                >= 500 => new Failure(
                    key,
                    $"InfluxDB at {url} answered with a server error ({status}){Said(said)}; the batch is retried",
                    NeedsAction: false,
                    retryAfter),
                _ => new Failure(
                    key,
                    $"InfluxDB at {url} rejected the batch ({status}): {(said.Length > 0 ? said : "no message")}",
                    NeedsAction: true,
                    retryAfter),
            };
        }

        for (var inner = ex; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException or HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError })
            {
                return new Failure(
                    "connect",
                    $"Cannot connect to InfluxDB at {url} ({inner.Message}): check that the server runs and {InfluxForwarderOptions.SectionName}:Url",
                    NeedsAction: false,
                    null);
            }

            if (inner is OperationCanceledException or TimeoutException)
            {
                return new Failure(
                    "timeout",
                    $"InfluxDB at {url} gave no answer within {_options.RequestTimeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s: "
                    + $"check that the server is up and reachable, or raise {InfluxForwarderOptions.SectionName}:RequestTimeout",
                    NeedsAction: false,
                    null);
            }
        }

        return new Failure(ex.GetType().Name, $"Writing to InfluxDB at {url} failed: {ex.Message}", NeedsAction: false, null);
    }

    private static string Said(string serverMessage) => serverMessage.Length > 0 ? $"; the server said: {serverMessage}" : "";

    private static string ServerMessage(HttpException http)
    {
        // InfluxDB.Client puts the JSON body's "message" into Message; a proxy's HTML page arrives there whole.
        var text = (http.Message ?? "").ReplaceLineEndings(" ").Trim();
        return text.Length <= MaxServerMessageLength ? text : string.Concat(text.AsSpan(0, MaxServerMessageLength), "...");
    }

    private static string ReasonPhrase(int code) => code switch
    {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => Enum.IsDefined((HttpStatusCode)code) ? ((HttpStatusCode)code).ToString() : "",
    };

    /// <param name="Key">Identifies the kind of failure, so a repeat of the same one is not logged again.</param>
    /// <param name="Message">What went wrong and what to change, naming the URL and the setting.</param>
    /// <param name="NeedsAction">The server refuses the writes (token, bucket, content): waiting alone will not fix it.</param>
    /// <param name="RetryAfter">The wait the server asked for (429, 503).</param>
    private sealed record Failure(string Key, string Message, bool NeedsAction, TimeSpan? RetryAfter);

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
