using System.Threading.Channels;
using TwinGateway.Core.Alerts;

namespace TwinGateway.Drift.Live;

/// <summary>
/// Alert events to every watcher (gRPC streams, the console). A watcher that falls more than its capacity behind
/// loses the oldest events, counted in <see cref="Dropped"/>; the alerts themselves are in the store and a watcher
/// that reconnects lists them again.
/// </summary>
public sealed class AlertFeed
{
    private readonly Lock _lock = new();
    private readonly List<Channel<AlertEvent>> _watchers = [];
    private long _dropped;

    public long Dropped => Interlocked.Read(ref _dropped);

    public void Publish(AlertEvent alertEvent)
    {
        lock (_lock)
        {
            foreach (var watcher in _watchers)
            {
                if (!watcher.Writer.TryWrite(alertEvent))
                {
                    Interlocked.Increment(ref _dropped);
                }
            }
        }
    }

    /// <summary>Events from now on until <paramref name="cancellationToken"/> fires.</summary>
    public async IAsyncEnumerable<AlertEvent> WatchAsync(int capacity = 1024, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateBounded<AlertEvent>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        }, _ => Interlocked.Increment(ref _dropped));
        lock (_lock)
        {
            _watchers.Add(channel);
        }

        try
        {
            await foreach (var item in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return item;
            }
        }
        finally
        {
            lock (_lock)
            {
                _watchers.Remove(channel);
            }
        }
    }
}
