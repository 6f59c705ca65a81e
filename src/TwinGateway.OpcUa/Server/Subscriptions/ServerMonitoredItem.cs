using TwinGateway.OpcUa.Server.AddressSpace;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Server.Subscriptions;

/// <summary>
/// One monitored item: what it samples, its filter and its queue (OPC 10000-4 §5.12). The queue is a ring buffer of
/// the size the client asked for (revised); when full, the discard policy drops the oldest or newest value and the
/// overflow bit is set on the value next to the gap, so the loss is visible to the client.
/// </summary>
internal sealed class ServerMonitoredItem
{
    private DataValue[] _queue;
    private int _head;
    private int _count;
    private long _version = -1;
    private DataValue _last;
    private bool _hasLast;

    public ServerMonitoredItem(uint id, ServerSubscription subscription, Node node, uint attributeId, uint clientHandle, double samplingInterval, uint queueSize, bool discardOldest, MonitoringMode mode, DataChangeFilter? filter)
    {
        Id = id;
        Subscription = subscription;
        Node = node;
        AttributeId = attributeId;
        ClientHandle = clientHandle;
        SamplingInterval = samplingInterval;
        DiscardOldest = discardOldest;
        MonitoringMode = mode;
        Filter = filter;
        _queue = new DataValue[Math.Max(1, queueSize)];
    }

    public uint Id { get; }

    public ServerSubscription Subscription { get; }

    public Node Node { get; }

    public uint AttributeId { get; }

    public uint ClientHandle { get; set; }

    public double SamplingInterval { get; set; }

    public uint QueueSize => (uint)_queue.Length;

    public bool DiscardOldest { get; set; }

    public MonitoringMode MonitoringMode { get; set; }

    public DataChangeFilter? Filter { get; set; }

    /// <summary>The sampling group this item belongs to (owned by the engine).</summary>
    public SamplingGroup? Group { get; set; }

    /// <summary>Position in <see cref="Group"/>'s item list, for O(1) removal.</summary>
    public int GroupIndex { get; set; } = -1;

    /// <summary>Set while the item sits in its subscription's ready list.</summary>
    public bool IsReady { get; set; }

    /// <summary>Deleted items may still sit in the ready list; publishing skips them.</summary>
    public bool IsDeleted { get; set; }

    public int QueuedCount => _count;

    /// <summary>
    /// True when the item reports every change of a stored Value (the engine takes them from the variable as they are
    /// set) instead of sampling on a timer; false for a ReadHandler (computed on read) or another attribute.
    /// </summary>
    public bool IsChangeDriven { get; init; }

    /// <summary>Change-driven: the earliest engine clock reading (timestamp ticks) at which the next change may be reported.</summary>
    public long NextReportTicks { get; set; }

    /// <summary>Change-driven: a change came before <see cref="NextReportTicks"/> and waits in the engine's deferred list.</summary>
    public bool ChangeDeferred { get; set; }

    /// <summary>Whether items on <paramref name="node"/>'s <paramref name="attributeId"/> report changes rather than sample.</summary>
    public static bool ReportsChanges(Node node, uint attributeId) =>
        attributeId == Attributes.Value && node is VariableNode { ReadHandler: null };

    public void Resize(uint queueSize)
    {
        var size = (int)Math.Max(1, queueSize);
        if (size == _queue.Length)
        {
            return;
        }

        var next = new DataValue[size];
        var keep = Math.Min(_count, size);
        for (var i = 0; i < keep; i++)
        {
            next[i] = _queue[(_head + _count - keep + i) % _queue.Length];
        }

        _queue = next;
        _head = 0;
        _count = keep;
    }

    /// <summary>Samples the node; returns true when a value was queued. Called by the sampling loop only.</summary>
    public bool Sample(DateTime now, ServerDiagnostics diagnostics)
    {
        DataValue value;
        if (Node is VariableNode variable && AttributeId == Attributes.Value)
        {
            if (!variable.TryReadIfChanged(ref _version, now, out value))
            {
                return false;
            }

            if ((variable.AccessLevel & AccessLevels.CurrentRead) == 0)
            {
                value = new DataValue(default, StatusCodes.BadNotReadable);
            }
        }
        else
        {
            value = Node.ReadAttribute(AttributeId, now);
        }

        return Offer(value, now, diagnostics);
    }

    /// <summary>
    /// Change-driven: queues every value the variable was set to since the last one this item saw, oldest first
    /// (filters apply to each); returns true when one was queued. <paramref name="buffer"/> is the engine's scratch space.
    /// </summary>
    public bool ReportChanges(VariableNode variable, Span<DataValue> buffer, DateTime now, ServerDiagnostics diagnostics)
    {
        var n = variable.ReadChangesSince(ref _version, buffer, out var missed);
        if (missed > 0)
        {
            diagnostics.CountChangesMissed(missed);
        }

        var queued = false;
        var readable = (variable.AccessLevel & AccessLevels.CurrentRead) != 0;
        for (var i = 0; i < n; i++)
        {
            queued |= Offer(readable ? buffer[i] : new DataValue(default, StatusCodes.BadNotReadable), now, diagnostics);
        }

        return queued;
    }

    /// <summary>Applies the filter to a value read at <paramref name="now"/> and queues it when it passes.</summary>
    private bool Offer(DataValue value, DateTime now, ServerDiagnostics diagnostics)
    {
        if (_hasLast && !PassesFilter(_last, value))
        {
            return false;
        }

        _last = value;
        _hasLast = true;
        if (AttributeId == Attributes.Value)
        {
            // The sample's clock reading is its ServerTimestamp; the source time is never later than it.
            value = value with { SourceTimestamp = value.SourceTimestamp == default ? now : Node.SourceTimeAt(value.SourceTimestamp, now) };
        }

        Enqueue(value with { ServerTimestamp = now }, diagnostics);
        return true;
    }

    /// <summary>Forces the current value into the queue (initial value, or sendInitialValues after a transfer).</summary>
    public void QueueCurrentValue(DateTime now, ServerDiagnostics diagnostics)
    {
        _version = -1;
        _hasLast = false;
        Sample(now, diagnostics);
    }

    private bool PassesFilter(DataValue previous, DataValue current)
    {
        var trigger = Filter?.Trigger ?? DataChangeTrigger.StatusValue;
        if (previous.StatusCode != current.StatusCode)
        {
            return true;
        }

        if (trigger == DataChangeTrigger.Status)
        {
            return false;
        }

        if (trigger == DataChangeTrigger.StatusValueTimestamp && previous.SourceTimestamp != current.SourceTimestamp)
        {
            return true;
        }

        if (Filter is { DeadbandType: (uint)DeadbandType.Absolute or (uint)DeadbandType.Percent } f
            && previous.Value.IsNumeric && current.Value.IsNumeric)
        {
            var limit = f.DeadbandValue;
            if (f.DeadbandType == (uint)DeadbandType.Percent && Node is VariableNode { EURange: { } range })
            {
                limit = f.DeadbandValue / 100.0 * (range.High - range.Low);
            }

            return Math.Abs(current.Value.ToDouble() - previous.Value.ToDouble()) > limit;
        }

        return !previous.Value.Equals(current.Value);
    }

    private void Enqueue(DataValue value, ServerDiagnostics diagnostics)
    {
        if (_count < _queue.Length)
        {
            _queue[(_head + _count) % _queue.Length] = value;
            _count++;
            return;
        }

        diagnostics.CountOverflow();
        if (_queue.Length == 1)
        {
            // Queue of one: the newest value replaces the old one; the overflow bit is not set (OPC 10000-4 §5.12.1.5).
            _queue[_head] = value;
            return;
        }

        if (DiscardOldest)
        {
            _head = (_head + 1) % _queue.Length;
            _queue[(_head + _count - 1) % _queue.Length] = value;
            // The oldest value kept now follows a gap.
            ref var first = ref _queue[_head];
            first = first with { StatusCode = new StatusCode(first.StatusCode.Code | 0x0480) };
        }
        else
        {
            ref var last = ref _queue[(_head + _count - 1) % _queue.Length];
            last = value with { StatusCode = new StatusCode(value.StatusCode.Code | 0x0480) };
        }
    }

    /// <summary>Takes as many queued values as fit in <paramref name="destination"/>, oldest first.</summary>
    public int Drain(Span<DataValue> destination)
    {
        var n = Math.Min(destination.Length, _count);
        for (var i = 0; i < n; i++)
        {
            destination[i] = _queue[_head];
            _queue[_head] = default;
            _head = (_head + 1) % _queue.Length;
        }

        _count -= n;
        return n;
    }

    public void Clear()
    {
        Array.Clear(_queue);
        _head = 0;
        _count = 0;
    }
}
