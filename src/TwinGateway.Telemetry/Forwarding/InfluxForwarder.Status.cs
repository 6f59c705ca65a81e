using TwinGateway.Telemetry.Recording;

namespace TwinGateway.Telemetry.Forwarding;

/// <summary>
/// The forwarder's status: what each batch, catch-up and failure changes, the backoff before the next attempt, the lag,
/// and the log line of each change.
/// </summary>
public sealed partial class InfluxForwarder
{
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
}
