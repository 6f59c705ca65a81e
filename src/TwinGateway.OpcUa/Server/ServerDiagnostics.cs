using System.Collections.Concurrent;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Server;

/// <summary>Counters an operator (and the tests) can read: sessions, requests, rejections by status, notifications.</summary>
public sealed class ServerDiagnostics
{
    private readonly ConcurrentDictionary<uint, long> _rejected = new();
    private long _connectionsAccepted;
    private long _connectionsRefused;
    private long _sessionsCreated;
    private long _sessionsTimedOut;
    private long _requests;
    private long _bytesSent;
    private long _notifications;
    private long _publishResponses;
    private long _queueOverflows;
    private long _subscriptionsExpired;
    private long _changesMissed;

    public long ConnectionsAccepted => Interlocked.Read(ref _connectionsAccepted);
    public long ConnectionsRefused => Interlocked.Read(ref _connectionsRefused);
    public long SessionsCreated => Interlocked.Read(ref _sessionsCreated);
    public long SessionsTimedOut => Interlocked.Read(ref _sessionsTimedOut);
    public long Requests => Interlocked.Read(ref _requests);
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    /// <summary>Data change notifications sent in Publish responses.</summary>
    public long Notifications => Interlocked.Read(ref _notifications);

    public long PublishResponses => Interlocked.Read(ref _publishResponses);

    /// <summary>Values discarded because a monitored item's queue was full (each sets the overflow bit).</summary>
    public long QueueOverflows => Interlocked.Read(ref _queueOverflows);

    public long SubscriptionsExpired => Interlocked.Read(ref _subscriptionsExpired);

    /// <summary>
    /// Changes a change-driven monitored item never saw: the variable was set more often between two engine passes than
    /// its short history holds (the engine was held up), so only the newest values were reported.
    /// </summary>
    public long ChangesMissed => Interlocked.Read(ref _changesMissed);

    /// <summary>Requests and connections refused, by status code name.</summary>
    public IReadOnlyDictionary<string, long> Rejected => _rejected.ToDictionary(kv => new StatusCode(kv.Key).Name, kv => kv.Value);

    internal void CountRejected(StatusCode status) => _rejected.AddOrUpdate(status.CodeBits, 1, (_, n) => n + 1);
    internal void CountAccepted() => Interlocked.Increment(ref _connectionsAccepted);
    internal void CountRefused() => Interlocked.Increment(ref _connectionsRefused);
    internal void CountSession() => Interlocked.Increment(ref _sessionsCreated);
    internal void CountSessionTimeout() => Interlocked.Increment(ref _sessionsTimedOut);
    internal void CountRequest() => Interlocked.Increment(ref _requests);
    internal void CountSent(long bytes) => Interlocked.Add(ref _bytesSent, bytes);
    internal void CountPublish(int notifications)
    {
        Interlocked.Increment(ref _publishResponses);
        Interlocked.Add(ref _notifications, notifications);
    }

    internal void CountOverflow() => Interlocked.Increment(ref _queueOverflows);
    internal void CountChangesMissed(long count) => Interlocked.Add(ref _changesMissed, count);
    internal void CountSubscriptionExpired() => Interlocked.Increment(ref _subscriptionsExpired);
}
