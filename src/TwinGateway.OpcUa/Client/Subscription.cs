using System.Threading.Channels;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Client;

/// <summary>Requested settings of a subscription (OPC 10000-4 §5.13.2); the server revises them.</summary>
public sealed record SubscriptionOptions
{
    public TimeSpan PublishingInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Publishing intervals without data before the server sends a keep-alive.</summary>
    public uint KeepAliveCount { get; init; } = 10;

    /// <summary>Publishing intervals without a Publish request before the server deletes the subscription (at least 3 x keep-alive).</summary>
    public uint LifetimeCount { get; init; } = 60;

    /// <summary>0: no limit.</summary>
    public uint MaxNotificationsPerPublish { get; init; }

    public byte Priority { get; init; }

    public bool PublishingEnabled { get; init; } = true;
}

/// <summary>What to monitor and how (OPC 10000-4 §5.12.2).</summary>
public sealed record MonitoredItemOptions(NodeId NodeId)
{
    public uint AttributeId { get; init; } = Attributes.Value;

    /// <summary>-1: the subscription's publishing interval; 0: the fastest the server can.</summary>
    public TimeSpan SamplingInterval { get; init; } = TimeSpan.FromMilliseconds(-1);

    public uint QueueSize { get; init; } = 1;

    public bool DiscardOldest { get; init; } = true;

    public MonitoringMode MonitoringMode { get; init; } = MonitoringMode.Reporting;

    /// <summary>Trigger and deadband; null reports every change of value or status.</summary>
    public DataChangeFilter? Filter { get; init; }

    public string? IndexRange { get; init; }

    /// <summary>A filter that reports only changes larger than <paramref name="deadband"/> (absolute, in the value's unit).</summary>
    public static DataChangeFilter AbsoluteDeadband(double deadband, DataChangeTrigger trigger = DataChangeTrigger.StatusValue) =>
        new() { Trigger = trigger, DeadbandType = (uint)DeadbandType.Absolute, DeadbandValue = deadband };

    /// <summary>A filter that reports changes larger than <paramref name="percent"/> of the item's EURange.</summary>
    public static DataChangeFilter PercentDeadband(double percent, DataChangeTrigger trigger = DataChangeTrigger.StatusValue) =>
        new() { Trigger = trigger, DeadbandType = (uint)DeadbandType.Percent, DeadbandValue = percent };
}

/// <summary>One monitored item of a <see cref="Subscription"/>: what the application asked for and what the server granted.</summary>
public sealed class MonitoredItem
{
    internal MonitoredItem(Subscription subscription, uint clientHandle, MonitoredItemOptions options)
    {
        Subscription = subscription;
        ClientHandle = clientHandle;
        Options = options;
    }

    public Subscription Subscription { get; }

    public uint ClientHandle { get; }

    public MonitoredItemOptions Options { get; internal set; }

    public NodeId NodeId => Options.NodeId;

    /// <summary>The server's id for the item (changes when the subscription is recreated).</summary>
    public uint ServerId { get; internal set; }

    /// <summary>Result of the last create/modify: <c>BadNodeIdUnknown</c> and the like say why an item is not monitored.</summary>
    public StatusCode Status { get; internal set; }

    public double RevisedSamplingInterval { get; internal set; }

    public uint RevisedQueueSize { get; internal set; }

    public bool IsCreated => Status.IsGood && ServerId != 0;

    public override string ToString() => $"{NodeId} (handle {ClientHandle}, {Status.Name})";
}

/// <summary>A value of one monitored item, as delivered.</summary>
public readonly record struct MonitoredItemValue(MonitoredItem Item, DataValue Value);

/// <summary>What a subscription delivers, in order.</summary>
public abstract record SubscriptionEvent(Subscription Subscription);

/// <summary>
/// The data changes of one NotificationMessage. A message with more than 1,000 values arrives as several batches with
/// the same sequence number (so no array reaches the large-object heap).
/// </summary>
public sealed record DataChangeBatch(Subscription Subscription, uint SequenceNumber, DateTime PublishTime, bool Republished, MonitoredItemValue[] Values)
    : SubscriptionEvent(Subscription);

/// <summary>The events of one NotificationMessage: the selected fields of each.</summary>
public sealed record EventBatch(Subscription Subscription, uint SequenceNumber, DateTime PublishTime, (MonitoredItem Item, Variant[] Fields)[] Events)
    : SubscriptionEvent(Subscription);

/// <summary>The server changed the subscription's status (for example BadTimeout when it expired).</summary>
public sealed record SubscriptionStatusChanged(Subscription Subscription, StatusCode Status)
    : SubscriptionEvent(Subscription);

/// <summary>
/// Notifications that were lost and could not be republished: which messages and the time span whose changes are gone.
/// Never silent. A consumer records it as a gap from <see cref="Start"/> to <see cref="End"/> with <see cref="Reason"/>.
/// </summary>
/// <param name="Subscription">The subscription that lost them.</param>
/// <param name="FirstMissing">Sequence number of the first message lost.</param>
/// <param name="LastMissing">
/// Sequence number of the last message lost; null when it cannot be known because the subscription itself was lost
/// with its session and recreated (everything from <paramref name="FirstMissing"/> on, of the old subscription).
/// </param>
/// <param name="Start">
/// Publish time of the last message (data or keep-alive) received in order before the gap: nothing before it was lost.
/// The subscription's creation time (client clock) when nothing was received yet.
/// </param>
/// <param name="End">
/// Publish time of the first message received after the gap; when that is not known (a subscription recreated, a
/// transfer whose retained messages were gone), the time the loss was found (client clock), after which current
/// values follow.
/// </param>
/// <param name="Reason">Why the messages are gone, in words.</param>
public sealed record NotificationGap(Subscription Subscription, uint FirstMissing, uint? LastMissing, DateTimeOffset Start, DateTimeOffset End, string Reason)
    : SubscriptionEvent(Subscription)
{
    /// <summary>The time span whose changes are lost (zero when the server's and the client's clocks disagree the other way).</summary>
    public TimeSpan Duration => End > Start ? End - Start : TimeSpan.Zero;

    /// <summary>The lost sequence numbers in words: <c>130</c>, <c>130..140</c> or <c>130 onwards</c>.</summary>
    public string MissingRange => FormatRange(FirstMissing, LastMissing);

    internal static string FormatRange(uint first, uint? last) => last switch
    {
        null => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{first} onwards"),
        { } l when l == first => first.ToString(System.Globalization.CultureInfo.InvariantCulture),
        { } l => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{first}..{l}"),
    };
}

/// <summary>
/// A subscription on an <see cref="OpcUaClient"/>'s session. Survives reconnects: the client transfers or recreates it,
/// and the application keeps reading <see cref="Events"/>.
/// </summary>
public sealed class Subscription
{
    private readonly Lock _itemsLock = new();
    private readonly Dictionary<uint, MonitoredItem> _items = [];
    private readonly Channel<SubscriptionEvent> _events = System.Threading.Channels.Channel.CreateUnbounded<SubscriptionEvent>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
    private long _notificationCount;
    private long _overflowCount;
    private long _gapCount;

    internal Subscription(OpcUaClient client, SubscriptionOptions options)
    {
        Client = client;
        Options = options;
    }

    public OpcUaClient Client { get; }

    public SubscriptionOptions Options { get; internal set; }

    /// <summary>The server's id (changes when the subscription is recreated after a lost session).</summary>
    public uint Id { get; internal set; }

    public double RevisedPublishingInterval { get; internal set; }

    public uint RevisedKeepAliveCount { get; internal set; }

    public uint RevisedLifetimeCount { get; internal set; }

    public bool IsDeleted { get; internal set; }

    /// <summary>Data changes, events, status changes and gaps, in the order the server sent them.</summary>
    public ChannelReader<SubscriptionEvent> Events => _events.Reader;

    /// <summary>Data values delivered so far.</summary>
    public long NotificationCount => Interlocked.Read(ref _notificationCount);

    /// <summary>Values whose status carried the overflow bit: the server's queue discarded values before them.</summary>
    public long OverflowCount => Interlocked.Read(ref _overflowCount);

    /// <summary>Gaps reported (see <see cref="NotificationGap"/>).</summary>
    public long GapCount => Interlocked.Read(ref _gapCount);

    /// <summary>Sequence number of the last NotificationMessage delivered (null before the first).</summary>
    internal uint? LastSequenceNumber { get; set; }

    internal long LastHeardTicks { get; set; }

    /// <summary>
    /// Publish time of the last message (data or keep-alive) taken in order, or the creation time before the first:
    /// where a gap found next starts.
    /// </summary>
    internal DateTimeOffset LastPublishTime { get; set; }

    internal SemaphoreSlim ProcessingLock { get; } = new(1, 1);

    public IReadOnlyCollection<MonitoredItem> Items
    {
        get
        {
            lock (_itemsLock)
            {
                return [.. _items.Values];
            }
        }
    }

    internal bool TryGetItem(uint clientHandle, out MonitoredItem item)
    {
        lock (_itemsLock)
        {
            return _items.TryGetValue(clientHandle, out item!);
        }
    }

    internal void AddItem(MonitoredItem item)
    {
        lock (_itemsLock)
        {
            _items[item.ClientHandle] = item;
        }
    }

    internal void RemoveItem(MonitoredItem item)
    {
        lock (_itemsLock)
        {
            _items.Remove(item.ClientHandle);
        }
    }

    internal void Deliver(SubscriptionEvent e)
    {
        switch (e)
        {
            case DataChangeBatch batch:
                Interlocked.Add(ref _notificationCount, batch.Values.Length);
                var overflows = 0;
                foreach (var v in batch.Values)
                {
                    if (v.Value.StatusCode.Overflow)
                    {
                        overflows++;
                    }
                }

                if (overflows > 0)
                {
                    Interlocked.Add(ref _overflowCount, overflows);
                }

                break;
            case NotificationGap:
                Interlocked.Increment(ref _gapCount);
                break;
        }

        _events.Writer.TryWrite(e);
    }

    internal void Complete() => _events.Writer.TryComplete();

    /// <summary>Adds monitored items (in batches the server accepts). Each item's <see cref="MonitoredItem.Status"/> tells whether it was created.</summary>
    public Task<IReadOnlyList<MonitoredItem>> AddItemsAsync(IEnumerable<MonitoredItemOptions> items, CancellationToken cancellationToken = default) =>
        Client.CreateMonitoredItemsAsync(this, items, cancellationToken);

    public Task<IReadOnlyList<StatusCode>> ModifyItemsAsync(IReadOnlyList<(MonitoredItem Item, MonitoredItemOptions Options)> changes, CancellationToken cancellationToken = default) =>
        Client.ModifyMonitoredItemsAsync(this, changes, cancellationToken);

    public Task<IReadOnlyList<StatusCode>> RemoveItemsAsync(IReadOnlyList<MonitoredItem> items, CancellationToken cancellationToken = default) =>
        Client.DeleteMonitoredItemsAsync(this, items, cancellationToken);

    public Task<IReadOnlyList<StatusCode>> SetMonitoringModeAsync(MonitoringMode mode, IReadOnlyList<MonitoredItem> items, CancellationToken cancellationToken = default) =>
        Client.SetMonitoringModeAsync(this, mode, items, cancellationToken);

    public Task ModifyAsync(SubscriptionOptions options, CancellationToken cancellationToken = default) =>
        Client.ModifySubscriptionAsync(this, options, cancellationToken);

    public Task<StatusCode> SetPublishingModeAsync(bool enabled, CancellationToken cancellationToken = default) =>
        Client.SetPublishingModeAsync(this, enabled, cancellationToken);

    public Task DeleteAsync(CancellationToken cancellationToken = default) =>
        Client.DeleteSubscriptionAsync(this, cancellationToken);

    public override string ToString() => $"Subscription {Id} ({RevisedPublishingInterval} ms, {Items.Count} items)";
}
