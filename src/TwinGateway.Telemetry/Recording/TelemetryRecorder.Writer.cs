using System.Diagnostics;
using DuckDB.NET.Data;

namespace TwinGateway.Telemetry.Recording;

/// <summary>
/// The writer thread: commits what has gathered in batches through DuckDB's appender, keeps and retries what a failed commit
/// could not write, and reopens an invalidated database.
/// </summary>
public sealed partial class TelemetryRecorder
{
    private void WriterLoop()
    {
        var retryDelay = TimeSpan.FromMilliseconds(100);
        var interval = TimeSpan.FromMilliseconds(_options.FlushIntervalMilliseconds);
        while (true)
        {
            // A failed read or mark update may have invalidated the database while no commit was pending.
            if (Interlocked.Exchange(ref _reconnectRequested, 0) == 1)
            {
                TryReconnect();
            }

            lock (_gate)
            {
                var deadline = _time.GetTimestamp() + (long)(interval.TotalSeconds * Stopwatch.Frequency);
                while (!_stopping && !_flushRequested && _active.Count < _options.MaxBatchSamples && _inflightOffset >= _inflight.Count
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
                if (_inflightOffset >= _inflight.Count)
                {
                    if (_active.Count == 0)
                    {
                        CompleteFlushWaitersLocked(null);
                        if (_stopping)
                        {
                            return;
                        }

                        continue;
                    }

                    // Swap: producers fill a fresh list while this one is committed with its sequence numbers fixed.
                    (_inflight, _active) = (_active, _inflight);
                    _active.Clear();
                    _inflightOffset = 0;
                    _inflightFirstSeq = _lastSeq + 1;
                }
            }

            var failed = CommitInflight();
            if (failed is null)
            {
                retryDelay = TimeSpan.FromMilliseconds(100);
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
        }
    }

    private long PendingSnapshot()
    {
        lock (_gate)
        {
            return PendingLocked;
        }
    }

    /// <summary>Commits the in-flight list in batches; returns the error that stopped it, or null when all is committed.</summary>
    private TelemetryStoreException? CommitInflight()
    {
        while (true)
        {
            int offset, count;
            long firstSeq;
            lock (_gate)
            {
                offset = _inflightOffset;
                count = Math.Min(_inflight.Count - offset, _options.MaxBatchSamples);
                firstSeq = _inflightFirstSeq + offset;
                if (count == 0)
                {
                    return null;
                }
            }

            try
            {
                WriteBatch(_inflight, offset, count, firstSeq);
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
                        Log.CommitFailed(_logger, _options.DatabasePath, PendingLocked, error.Message);
                    }

                    _lastError = error.Message;
                }

                return error;
            }

            TelemetrySample[]? live = null;
            if (HasLiveSubscribers)
            {
                live = new TelemetrySample[count];
                _inflight.CopyTo(offset, live, 0, count);
            }

            lock (_gate)
            {
                _inflightOffset += count;
                _lastSeq = firstSeq + count - 1;
                _committed += count;
                _lastCommitAt = _time.GetUtcNow();
                if (_failingSince is { } since)
                {
                    Log.CommitRecovered(_logger, _options.DatabasePath, _time.GetUtcNow() - since, PendingLocked);
                    _failingSince = null;
                }

                if (_inflightOffset >= _inflight.Count)
                {
                    _inflight.Clear();
                    _inflightOffset = 0;
                }

                CompleteFlushWaitersLocked(null);
                Monitor.PulseAll(_gate);
            }

            if (live is not null)
            {
                PublishLive(live, firstSeq);
            }
        }
    }

    private void WriteBatch(List<TelemetrySample> samples, int offset, int count, long firstSeq)
    {
        using var transaction = _writeConnection.BeginTransaction();
        using (var appender = _writeConnection.CreateAppender("samples"))
        {
            var seq = firstSeq;
            for (var i = offset; i < offset + count; i++)
            {
                var s = samples[i];
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
                    var first = _inflightFirstSeq + _inflightOffset;
                    if (onDisk >= first && _inflight.Count > _inflightOffset)
                    {
                        var already = (int)Math.Min(onDisk - first + 1, _inflight.Count - _inflightOffset);
                        _inflightOffset += already;
                        _lastSeq = first + already - 1;
                        _committed += already;
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
