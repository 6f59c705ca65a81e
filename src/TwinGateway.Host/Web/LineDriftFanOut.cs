using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using TwinGateway.Drift.Live;

namespace TwinGateway.Host.Web;

/// <summary>
/// Hands a line monitor's frame scores to every open drift plot. <see cref="LineDriftMonitor.FrameScored"/> is one
/// delegate, so this wraps whatever it held (calling it first, as before) the first time a page asks for the line.
/// Each subscriber has a small channel that drops its oldest frame when the page cannot keep up; the monitor never waits.
/// </summary>
internal sealed class LineDriftFanOut
{
    /// <summary>Frames a slow page may fall behind by (one a second by default: a minute) before the oldest go.</summary>
    private const int Capacity = 64;

    private static readonly ConditionalWeakTable<LineDriftMonitor, LineDriftFanOut> s_all = [];
    private static readonly Lock s_create = new();
    private readonly Lock _lock = new();
    private ImmutableArray<Channel<FrameScore>> _subscribers = [];

    private LineDriftFanOut(LineDriftMonitor monitor)
    {
        var existing = monitor.FrameScored;
        monitor.FrameScored = existing is null ? Publish : score =>
        {
            existing(score);
            Publish(score);
        };
    }

    /// <summary>The monitor's fan-out, created (and hooked in) once.</summary>
    public static LineDriftFanOut Of(LineDriftMonitor monitor)
    {
        ArgumentNullException.ThrowIfNull(monitor);
        lock (s_create)
        {
            if (!s_all.TryGetValue(monitor, out var fanOut))
            {
                fanOut = new LineDriftFanOut(monitor);
                s_all.Add(monitor, fanOut);
            }

            return fanOut;
        }
    }

    /// <summary>The frames scored from now until <paramref name="cancellationToken"/> fires.</summary>
    public async IAsyncEnumerable<FrameScore> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<FrameScore>(new BoundedChannelOptions(Capacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
            SingleWriter = true,
        });
        lock (_lock)
        {
            _subscribers = _subscribers.Add(channel);
        }

        try
        {
            while (await channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (channel.Reader.TryRead(out var score))
                {
                    yield return score;
                }
            }
        }
        finally
        {
            lock (_lock)
            {
                _subscribers = _subscribers.Remove(channel);
            }
        }
    }

    private void Publish(FrameScore score)
    {
        // An ImmutableArray is swapped whole under the lock; a reader sees the old or the new one.
        foreach (var subscriber in _subscribers)
        {
            subscriber.Writer.TryWrite(score);
        }
    }
}
