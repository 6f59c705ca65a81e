namespace TwinGateway.Telemetry.Recording;

/// <summary>Ingest: producers append into memory under one lock, wait only while too much is pending, and may wait for a commit.</summary>
public sealed partial class TelemetryRecorder
{
    /// <summary>
    /// Adds a sample to the next commit. Waits only while the pending buffer is full (<see cref="RecorderOptions.MaxPendingSamples"/>
    /// or <see cref="RecorderOptions.MaxPendingBytes"/>), that is while commits fail or fall behind: nothing is ever dropped.
    /// </summary>
    public void Append(in TelemetrySample sample)
    {
        ArgumentNullException.ThrowIfNull(sample.Series);
        lock (_gate)
        {
            WaitForRoomLocked(1);
            _pending.Add(sample);
            _appended++;
            if (_pending.Count == _options.MaxBatchSamples)
            {
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>Adds samples to the next commit, in order (see <see cref="Append(in TelemetrySample)"/>).</summary>
    public void Append(ReadOnlySpan<TelemetrySample> samples)
    {
        var offset = 0;
        while (offset < samples.Length)
        {
            lock (_gate)
            {
                var room = WaitForRoomLocked(1);
                var take = Math.Min(room, samples.Length - offset);
                foreach (var sample in samples.Slice(offset, take))
                {
                    ArgumentNullException.ThrowIfNull(sample.Series);
                    _pending.Add(sample);
                }

                offset += take;
                _appended += take;
                if (_pending.Count >= _options.MaxBatchSamples)
                {
                    Monitor.PulseAll(_gate);
                }
            }
        }
    }

    private int WaitForRoomLocked(int wanted)
    {
        while (true)
        {
            ObjectDisposedException.ThrowIf(_stopping, this);
            var room = _maxPending - _pending.Count;
            if (room >= wanted)
            {
                return room;
            }

            // The writer pulses after every commit; the timeout only guards against a missed pulse.
            Monitor.Wait(_gate, 1000);
        }
    }

    /// <summary>The memory the pending buffer holds now: at most <see cref="RecorderOptions.MaxPendingBytes"/> plus two 1 MiB segments.</summary>
    internal long PendingBytesAllocated
    {
        get
        {
            lock (_gate)
            {
                return _pending.BytesAllocated;
            }
        }
    }

    /// <summary>
    /// Completes when every sample appended before the call is committed to disk.
    /// </summary>
    /// <exception cref="TelemetryStoreException">A commit failed since the call (the samples stay pending and are retried).</exception>
    public Task FlushAsync(CancellationToken cancellationToken = default)
    {
        TaskCompletionSource done;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_committed >= _appended)
            {
                return Task.CompletedTask;
            }

            done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _flushWaiters.Add((_appended, done));
            _flushRequested = true;
            Monitor.PulseAll(_gate);
        }

        return done.Task.WaitAsync(cancellationToken);
    }
}
