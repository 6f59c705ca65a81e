using System.Diagnostics;
using DuckDB.NET.Data;

namespace TwinGateway.Telemetry.Recording;

/// <summary>
/// The writer thread: commits what has gathered in batches through DuckDB's appender, keeps and retries what a failed commit
/// could not write, and reopens an invalidated database.
/// </summary>
public sealed partial class TelemetryRecorder
{
    /// <summary>The oldest pending samples being committed, as slices of the pending buffer (the writer's only).</summary>
    private readonly List<ArraySegment<TelemetrySample>> _batch = [];

    /// <summary>
    /// For tests: when set, the writer takes one permit before each batch it commits, so a test holds commits back (and
    /// fills the buffer) without a full disk, and lets them through one at a time.
    /// </summary>
    internal SemaphoreSlim? CommitGate { get; set; }

    private void WriterLoop()
    {
        var retryDelay = TimeSpan.FromMilliseconds(100);
        var interval = TimeSpan.FromMilliseconds(_options.FlushIntervalMilliseconds);
        var retrying = false;
        while (true)
        {
            // A failed read or mark update may have invalidated the database while no commit was pending.
            if (Interlocked.Exchange(ref _reconnectRequested, 0) == 1)
            {
                TryReconnect();
            }

            int round;
            lock (_gate)
            {
                var deadline = _time.GetTimestamp() + (long)(interval.TotalSeconds * Stopwatch.Frequency);
                while (!retrying && !_stopping && !_flushRequested && _pending.Count < _options.MaxBatchSamples
                       && Volatile.Read(ref _reconnectRequested) == 0)
                {
                    var left = _time.GetElapsedTime(_time.GetTimestamp(), deadline);
                    if (left <= TimeSpan.Zero)
                    {
                        break;
                    }

                    Monitor.Wait(_gate, left);
                }

                _flushRequested = false;
                if (_pending.Count == 0)
                {
                    retrying = false;
                    CompleteFlushWaitersLocked(null);
                    if (_stopping)
                    {
                        return;
                    }

                    continue;
                }

                // This round commits what is pending now; what producers append meanwhile waits for the next round.
                round = _pending.Count;
            }

            var failed = CommitPending(round);
            if (failed is null)
            {
                retryDelay = TimeSpan.FromMilliseconds(100);
                retrying = false;
                continue;
            }

            bool stopping;
            lock (_gate)
            {
                stopping = _stopping;
                CompleteFlushWaitersLocked(failed);
            }

            if (stopping)
            {
                Log.LostAtStop(_logger, PendingSnapshot(), _options.DatabasePath, failed.Message);
                return;
            }

            Thread.Sleep(retryDelay);
            retryDelay = TimeSpan.FromTicks(Math.Min(retryDelay.Ticks * 2, _options.MaxRetryDelay.Ticks));
            TryReconnect();
            retrying = true;
        }
    }

    private long PendingSnapshot()
    {
        lock (_gate)
        {
            return _pending.Count;
        }
    }

    /// <summary>
    /// Commits the oldest <paramref name="round"/> pending samples in batches, each in its own transaction; returns the
    /// error that stopped it, or null when they are all committed. A committed batch leaves the buffer, which makes room
    /// for the producers; a failed one stays, with the sequence numbers it will have.
    /// </summary>
    private TelemetryStoreException? CommitPending(int round)
    {
        while (round > 0)
        {
            int count;
            long firstSeq;
            lock (_gate)
            {
                // A reconnect may have found part of the round on disk already (see TryReconnect).
                count = Math.Min(Math.Min(round, _pending.Count), _options.MaxBatchSamples);
                if (count == 0)
                {
                    return null;
                }

                firstSeq = _lastSeq + 1;
                _pending.PeekOldest(count, _batch);
            }

            CommitGate?.Wait();
            try
            {
                WriteBatch(_batch, firstSeq);
            }
            catch (Exception ex) when (ex is DuckDBException or IOException or InvalidOperationException)
            {
                var error = new TelemetryStoreException($"cannot commit {count} samples to the flight recorder {_options.DatabasePath}: {Describe(ex)}", ex);
                lock (_gate)
                {
                    _commitFailures++;
                    var first = _failingSince is null;
                    _failingSince ??= _time.GetUtcNow();
                    if (first || _lastError != error.Message)
                    {
                        Log.CommitFailed(_logger, _options.DatabasePath, _pending.Count, error.Message);
                    }

                    _lastError = error.Message;
                }

                return error;
            }

            // Copied before the samples leave the buffer: their segments are reused once they have.
            TelemetrySample[]? live = null;
            if (HasLiveSubscribers)
            {
                live = new TelemetrySample[count];
                var at = 0;
                foreach (var slice in _batch)
                {
                    slice.AsSpan().CopyTo(live.AsSpan(at));
                    at += slice.Count;
                }
            }

            lock (_gate)
            {
                _pending.RemoveOldest(count);
                _lastSeq = firstSeq + count - 1;
                _committed += count;
                _lastCommitAt = _time.GetUtcNow();
                if (_failingSince is { } since)
                {
                    Log.CommitRecovered(_logger, _options.DatabasePath, _time.GetUtcNow() - since, _pending.Count);
                    _failingSince = null;
                }

                CompleteFlushWaitersLocked(null);
                Monitor.PulseAll(_gate);
            }

            round -= count;
            if (live is not null)
            {
                PublishLive(live, firstSeq);
            }
        }

        return null;
    }

    private void WriteBatch(List<ArraySegment<TelemetrySample>> batch, long firstSeq)
    {
        using var transaction = _writeConnection.BeginTransaction();
        using (var appender = _writeConnection.CreateAppender("samples"))
        {
            var seq = firstSeq;
            foreach (var slice in batch)
            {
                foreach (ref readonly var s in slice.AsSpan())
                {
                    appender.CreateRow()
                        .AppendValue(seq++)
                        .AppendValue(s.Series.Id)
                        .AppendValue(s.SourceTime)
                        .AppendValue(s.ServerTime)
                        .AppendValue(s.Value)
                        .AppendValue(s.Status)
                        .AppendValue(s.Expected)
                        .EndRow();
                }
            }
        }

        transaction.Commit();
    }

    /// <summary>
    /// After a failed commit DuckDB may have invalidated the database (it does after an I/O error), so every
    /// connection is reopened. A commit whose outcome is unknown (written but not acknowledged) is found by the highest
    /// sequence number on disk, and its samples are not written twice.
    /// </summary>
    private void TryReconnect()
    {
        lock (_controlLock)
        {
            try
            {
                _writeConnection.Dispose();
                _control.Dispose();
                _control = OpenAndPrepare(_connectionString, _options.MemoryLimitMegabytes);
                _writeConnection = new DuckDBConnection(_connectionString);
                _writeConnection.Open();
                var onDisk = ScalarInt64(_control, "SELECT coalesce(max(seq), 0) FROM samples");
                lock (_gate)
                {
                    var first = _lastSeq + 1;
                    if (onDisk >= first && _pending.Count > 0)
                    {
                        var already = (int)Math.Min(onDisk - first + 1, _pending.Count);
                        _pending.RemoveOldest(already);
                        _lastSeq = first + already - 1;
                        _committed += already;
                        Monitor.PulseAll(_gate);
                    }
                }
            }
            catch (Exception ex) when (ex is DuckDBException or IOException or InvalidOperationException)
            {
                Log.ReconnectFailed(_logger, _options.DatabasePath, Describe(ex));
            }
        }
    }

    private void CompleteFlushWaitersLocked(Exception? error)
    {
        for (var i = _flushWaiters.Count - 1; i >= 0; i--)
        {
            var (target, done) = _flushWaiters[i];
            if (_committed >= target)
            {
                done.TrySetResult();
                _flushWaiters.RemoveAt(i);
            }
            else if (error is not null)
            {
                done.TrySetException(error);
                _flushWaiters.RemoveAt(i);
            }
        }
    }
}
