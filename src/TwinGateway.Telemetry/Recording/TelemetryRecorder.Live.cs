using System.Threading.Channels;

namespace TwinGateway.Telemetry.Recording;

/// <summary>Live samples: every committed sample goes to the subscribers that asked for its line and signal.</summary>
public sealed partial class TelemetryRecorder
{
    private readonly Lock _liveLock = new();
    private LiveSubscription[] _live = [];

    private bool HasLiveSubscribers => Volatile.Read(ref _live).Length > 0;

    /// <summary>
    /// Subscribes to samples as they are committed. A subscriber that falls <paramref name="capacity"/> samples behind
    /// is ended with <see cref="LiveSubscriberTooSlowException"/> (naming the sequence number to resume from with a
    /// range query) rather than silently losing samples or slowing the recorder down.
    /// </summary>
    public LiveSubscription SubscribeLive(string? lineId, IReadOnlySet<string>? signalIds, int capacity = 100_000)
    {
        var subscription = new LiveSubscription(this, lineId, signalIds is { Count: > 0 } ? signalIds : null, capacity);
        lock (_liveLock)
        {
            _live = [.. _live, subscription];
        }

        return subscription;
    }

    internal void Unsubscribe(LiveSubscription subscription)
    {
        lock (_liveLock)
        {
            _live = [.. _live.Where(s => s != subscription)];
        }
    }

    private void PublishLive(TelemetrySample[] samples, long firstSeq)
    {
        foreach (var subscription in Volatile.Read(ref _live))
        {
            subscription.Offer(samples, firstSeq);
        }
    }

    private void CloseLive()
    {
        LiveSubscription[] all;
        lock (_liveLock)
        {
            all = _live;
            _live = [];
        }

        foreach (var subscription in all)
        {
            subscription.Complete(null);
        }
    }
}

/// <summary>One live subscriber's samples; dispose it to unsubscribe.</summary>
public sealed class LiveSubscription : IDisposable
{
    private readonly TelemetryRecorder _recorder;
    private readonly string? _lineId;
    private readonly IReadOnlySet<string>? _signalIds;
    private readonly Channel<RecordedSample> _channel;
    private readonly int _capacity;

    internal LiveSubscription(TelemetryRecorder recorder, string? lineId, IReadOnlySet<string>? signalIds, int capacity)
    {
        _recorder = recorder;
        _lineId = lineId;
        _signalIds = signalIds;
        _capacity = capacity;
        _channel = Channel.CreateBounded<RecordedSample>(new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
    }

    public ChannelReader<RecordedSample> Reader => _channel.Reader;

    internal void Offer(TelemetrySample[] samples, long firstSeq)
    {
        for (var i = 0; i < samples.Length; i++)
        {
            var sample = samples[i];
            if ((_lineId is null || sample.Series.LineId == _lineId) && (_signalIds is null || _signalIds.Contains(sample.Series.SignalId)))
            {
                if (!_channel.Writer.TryWrite(new RecordedSample(firstSeq + i, sample)))
                {
                    Complete(new LiveSubscriberTooSlowException(
                        $"the live stream fell {_capacity} samples behind and was ended; samples from sequence number {firstSeq + i} on are in the flight recorder (query the range to resume)",
                        firstSeq + i));
                    return;
                }
            }
        }
    }

    internal void Complete(Exception? error)
    {
        _channel.Writer.TryComplete(error);
        _recorder.Unsubscribe(this);
    }

    public void Dispose() => Complete(null);
}

/// <summary>A live subscriber did not keep up; <see cref="ResumeFromSeq"/> is the first sample it did not get.</summary>
public sealed class LiveSubscriberTooSlowException : Exception
{
    public LiveSubscriberTooSlowException(string message, long resumeFromSeq)
        : base(message)
    {
        ResumeFromSeq = resumeFromSeq;
    }

    public LiveSubscriberTooSlowException()
    {
    }

    public LiveSubscriberTooSlowException(string message)
        : base(message)
    {
    }

    public LiveSubscriberTooSlowException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public long ResumeFromSeq { get; }
}
