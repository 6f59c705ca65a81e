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

    /// <summary>Keeps a sent message for Republish, dropping the oldest past the limit.</summary>
    public void Retain(NotificationMessage message, int maxRetained)
    {
        _retransmission[message.SequenceNumber] = message;
        _retransmissionOrder.Enqueue(message.SequenceNumber);
        while (_retransmission.Count > maxRetained && _retransmissionOrder.TryDequeue(out var oldest))
        {
            _retransmission.Remove(oldest);
        }
    }

    public bool Acknowledge(uint sequenceNumber) => _retransmission.Remove(sequenceNumber);

    public NotificationMessage? Retransmit(uint sequenceNumber) => _retransmission.GetValueOrDefault(sequenceNumber);

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
