using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Server.Subscriptions;

/// <summary>
/// A subscription (OPC 10000-4 §5.13): its items, its publishing timer state (keep-alive and lifetime counters), the
/// sequence numbers and the retransmission queue that Republish reads. Mutated only under the engine's lock.
/// </summary>
internal sealed class ServerSubscription
{
    private readonly SortedDictionary<uint, NotificationMessage> _retransmission = [];
    private readonly Queue<uint> _retransmissionOrder = new();
    private uint _nextSequenceNumber = 1;
    private long _retainedBytes;

    public ServerSubscription(uint id, Session session)
    {
        Id = id;
        Session = session;
    }

    public uint Id { get; }

    /// <summary>The owning session; null while orphaned (its session closed without deleting it), until transferred or expired.</summary>
    public Session? Session { get; set; }

    /// <summary>While orphaned: the user (null for anonymous) of the session that left it, the only one who may transfer it.</summary>
    public string? OrphanedUserName { get; set; }

    public double PublishingInterval { get; set; }

    public uint MaxKeepAliveCount { get; set; }

    public uint LifetimeCount { get; set; }

    public uint MaxNotificationsPerPublish { get; set; }

    public bool PublishingEnabled { get; set; }

    public byte Priority { get; set; }

    public Dictionary<uint, ServerMonitoredItem> Items { get; } = [];

    /// <summary>Items with queued values, in the order they became ready.</summary>
    public List<ServerMonitoredItem> Ready { get; } = [];

    public long NextPublishTicks { get; set; }

    public uint KeepAliveCounter { get; set; }

    public uint LifetimeCounter { get; set; }

    /// <summary>True until the first message (data or keep-alive) went out: the first cycle always sends a keep-alive.</summary>
    public bool FirstMessagePending { get; set; } = true;

    /// <summary>
    /// The last cycle had something to send but no Publish request (the "late" state of OPC 10000-4 §5.13.1.2): the next
    /// request is answered at once instead of a full publishing interval later, so queued values are not overwritten meanwhile.
    /// </summary>
    public bool IsLate { get; set; }

    /// <summary>A StatusChangeNotification waiting to be sent (GoodSubscriptionTransferred, BadTimeout).</summary>
    public StatusCode? PendingStatusChange { get; set; }

    public bool IsClosed { get; set; }

    public uint NextSequenceNumber => _nextSequenceNumber;

    /// <summary>Takes the next sequence number: 1..UInt32.MaxValue, wrapping to 1, never 0.</summary>
    public uint TakeSequenceNumber()
    {
        var sequence = _nextSequenceNumber;
        _nextSequenceNumber = sequence == uint.MaxValue ? 1 : sequence + 1;
        return sequence;
    }

    /// <summary>
    /// Keeps a sent message for Republish, dropping the oldest past <paramref name="maxRetained"/> messages or
    /// <paramref name="maxRetainedBytes"/> of encoded notifications (the newest message is always kept). The queue is the
    /// holder of the message's pooled bodies (<see cref="EncodedDataChanges"/>) until it lets the message go.
    /// </summary>
    public void Retain(NotificationMessage message, int maxRetained, long maxRetainedBytes = long.MaxValue)
    {
        if (_retransmission.Remove(message.SequenceNumber, out var replaced))
        {
            // Only after the sequence numbers wrapped: the old message is gone for good.
            _retainedBytes -= EncodedDataChanges.SizeOf(replaced);
            EncodedDataChanges.ReleaseAll(replaced);
        }

        _retransmission[message.SequenceNumber] = message;
        _retainedBytes += EncodedDataChanges.SizeOf(message);
        _retransmissionOrder.Enqueue(message.SequenceNumber);
        while ((_retransmission.Count > maxRetained || (_retainedBytes > maxRetainedBytes && _retransmission.Count > 1))
            && _retransmissionOrder.TryDequeue(out var oldest))
        {
            Forget(oldest);
        }

        if (_retransmissionOrder.Count > (2 * _retransmission.Count) + 16)
        {
            // Acknowledged messages leave their numbers here; without this the queue grew by 20 entries a second
            // (one per message at 100,000 items) for as long as the subscription lived.
            var kept = _retransmissionOrder.Where(_retransmission.ContainsKey).ToArray();
            _retransmissionOrder.Clear();
            foreach (var sequenceNumber in kept)
            {
                _retransmissionOrder.Enqueue(sequenceNumber);
            }
        }
    }

    /// <summary>Encoded notification bytes the retransmission queue holds.</summary>
    public long RetainedBytes => _retainedBytes;

    public bool Acknowledge(uint sequenceNumber) => Forget(sequenceNumber);

    /// <summary>
    /// The message to send again, with its pooled bodies held for the response that carries it (the caller releases them
    /// with <see cref="EncodedDataChanges.ReleaseAll"/> once encoded); null when it is no longer held.
    /// </summary>
    public NotificationMessage? Retransmit(uint sequenceNumber) =>
        _retransmission.GetValueOrDefault(sequenceNumber) is { } message && EncodedDataChanges.TryHoldAll(message) ? message : null;

    /// <summary>Lets every retained message go (the subscription is deleted).</summary>
    public void ForgetAll()
    {
        foreach (var message in _retransmission.Values)
        {
            EncodedDataChanges.ReleaseAll(message);
        }

        _retransmission.Clear();
        _retransmissionOrder.Clear();
        _retainedBytes = 0;
    }

    private bool Forget(uint sequenceNumber)
    {
        if (!_retransmission.Remove(sequenceNumber, out var message))
        {
            return false;
        }

        _retainedBytes -= EncodedDataChanges.SizeOf(message);
        EncodedDataChanges.ReleaseAll(message);
        return true;
    }

    /// <summary>Sequence numbers the server still holds, for Publish responses and TransferSubscriptions.</summary>
    public uint[] AvailableSequenceNumbers => [.. _retransmission.Keys];

    /// <summary>Puts the current value of every item into its queue (sendInitialValues).</summary>
    public void QueueInitialValues(DateTime now, ServerDiagnostics diagnostics)
    {
        foreach (var item in Items.Values)
        {
            if (item.MonitoringMode != MonitoringMode.Disabled)
            {
                item.QueueCurrentValue(now, diagnostics);
                MarkReady(item);
            }
        }
    }

    public void MarkReady(ServerMonitoredItem item)
    {
        if (!item.IsReady && item.MonitoringMode == MonitoringMode.Reporting && item.QueuedCount > 0)
        {
            item.IsReady = true;
            Ready.Add(item);
        }
    }
}
