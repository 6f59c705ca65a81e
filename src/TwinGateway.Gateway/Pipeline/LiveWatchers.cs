using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace TwinGateway.Gateway.Pipeline;

/// <summary>Live watchers of a line (gRPC streams, displays): how many, what they got, what they lost.</summary>
public sealed record WatcherStatus(int Watchers, long Delivered, long Dropped, int Capacity);

/// <summary>
/// The line's live watchers. Each has its own bounded queue that drops the oldest update when the watcher cannot keep
/// up, so a slow client never slows the line; every dropped update is counted.
/// </summary>
internal sealed class LiveWatchers
{
    /// <summary>Updates a watcher's queue holds: 10,000 is 5 s of the demo line's 1,910 values a second.</summary>
    public const int Capacity = 10_000;

    private readonly ConcurrentDictionary<Channel<SignalSnapshot>, byte> _watchers = new();
    private long _delivered;
    private long _dropped;

    public WatcherStatus Status => new(_watchers.Count, Interlocked.Read(ref _delivered), Interlocked.Read(ref _dropped), Capacity);

    public bool Any => !_watchers.IsEmpty;

    public void Publish(SignalSnapshot update)
    {
        foreach (var watcher in _watchers.Keys)
        {
            watcher.Writer.TryWrite(update);
        }
    }

    public async IAsyncEnumerable<SignalSnapshot> WatchAsync(IReadOnlySet<string>? signalIds, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<SignalSnapshot>(
            new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => Interlocked.Increment(ref _dropped));
        _watchers[channel] = 0;
        try
        {
            await foreach (var update in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                Interlocked.Increment(ref _delivered);
                if (signalIds is null || signalIds.Count == 0 || signalIds.Contains(update.SignalId))
                {
                    yield return update;
                }
            }
        }
        finally
        {
            _watchers.TryRemove(channel, out _);
        }
    }
}
