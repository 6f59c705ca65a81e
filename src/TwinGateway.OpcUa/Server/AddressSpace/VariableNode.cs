using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Server.AddressSpace;

/// <summary>
/// A variable: a value with its type, rank and access level. The value is either pushed (<see cref="SetValue(Variant, DateTime, StatusCode)"/>)
/// or produced on demand by <see cref="ReadHandler"/>. Every change bumps <see cref="Version"/>, which the subscription engine
/// compares before it reads, so sampling an unchanged variable costs one integer compare.
/// While monitored items watch a stored value for changes (<see cref="AddChangeWatcher"/>), every change also goes into a
/// short ring of recent values and signals the engine once until it has taken the signal, so the engine reports each
/// value set instead of sampling over it.
/// </summary>
public sealed class VariableNode(NodeId nodeId, QualifiedName browseName, LocalizedText? displayName = null) : Node(nodeId, browseName, displayName)
{
    private readonly Lock _valueLock = new();
    private DataValue _value;
    private long _version;

    /// <summary>
    /// Recent values while change watchers exist, slot = version % length; the newest is <see cref="_value"/> too.
    /// Two slots: the engine takes changes every 5 ms tick and the demo and PLC set values every 100 ms or slower, so one
    /// spare value covers an engine pass held up by up to a whole change period; 100,000 watched variables cost 11 MB
    /// (a DataValue is 56 bytes), four slots would cost 22 MB for passes late by more than 200 ms that lose values anyway
    /// to the publish queue.
    /// </summary>
    private DataValue[]? _history;

    /// <summary>The first version <see cref="_history"/> holds: versions before it were set before it existed.</summary>
    private long _historySince;

    private IVariableChangeListener? _changeListener;
    private int _changeSignalled;

    internal const int ChangeHistoryLength = 2;

    public override NodeClass NodeClass => NodeClass.Variable;

    public NodeId DataType { get; set; } = new(DataTypeIds.BaseDataType);

    /// <summary>The built-in type values must have; Null accepts any (abstract data types such as BaseDataType).</summary>
    public BuiltInType BuiltInType { get; set; }

    /// <summary>True when <see cref="BuiltInType"/> is abstract Number/Integer/UInteger: any numeric type of that kind is accepted.</summary>
    internal NumericKind NumericKind { get; set; }

    /// <summary>-1 scalar, 1 one-dimensional array, -2 any, -3 scalar or one dimension, 0 one or more dimensions.</summary>
    public int ValueRank { get; set; } = -1;

    public uint[]? ArrayDimensions { get; set; }

    public AccessLevels AccessLevel { get; set; } = AccessLevels.CurrentRead;

    public AccessLevels UserAccessLevel { get; set; } = AccessLevels.CurrentRead;

    /// <summary>Fastest meaningful sampling in ms; 0 = as fast as the server samples, -1 = indeterminate.</summary>
    public double MinimumSamplingInterval { get; set; }

    public bool Historizing { get; set; }

    /// <summary>Engineering-unit range, for percent deadbands (OPC 10000-8 §5.3.2).</summary>
    public (double Low, double High)? EURange { get; set; }

    /// <summary>
    /// Produces the value on each read or sample instead of the stored one. Its argument is the server's clock reading
    /// for this read, the same instant that stamps the ServerTimestamp: a handler that stamps a SourceTimestamp (or
    /// returns the time, as CurrentTime does) uses it, so the source time is never later than the server time.
    /// </summary>
    public Func<DateTime, DataValue>? ReadHandler { get; set; }

    /// <summary>The clock of the address space the variable belongs to (set when it is added), for reads without a server reading.</summary>
    internal TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>Called on a client Write after access and type checks; returns the status to report. Null: store the value.</summary>
    public Func<Variant, StatusCode>? WriteHandler { get; set; }

    /// <summary>Incremented on every change of the stored value.</summary>
    public long Version => Volatile.Read(ref _version);

    /// <summary>The current value (from <see cref="ReadHandler"/> when there is one).</summary>
    public DataValue Value => ReadValue(Clock.GetUtcNow().UtcDateTime);

    /// <summary>The value as read at <paramref name="now"/>, the server's clock reading that also stamps the ServerTimestamp.</summary>
    public DataValue ReadValue(DateTime now)
    {
        if (ReadHandler is { } read)
        {
            return read(now);
        }

        lock (_valueLock)
        {
            return _value;
        }
    }

    /// <summary>Stores a value with its source timestamp and status.</summary>
    public void SetValue(Variant value, DateTime sourceTimestamp, StatusCode status = default)
    {
        var data = new DataValue(value, status, sourceTimestamp);
        lock (_valueLock)
        {
            _value = data;
            _version++;
            if (_history is { } history)
            {
                history[(int)(_version % history.Length)] = data;
            }
        }

        // One signal until the engine takes it: 100,000 values set in one burst cost one flag exchange and one list append each.
        if (Volatile.Read(ref _changeListener) is { } listener && Interlocked.Exchange(ref _changeSignalled, 1) == 0)
        {
            listener.VariableChanged(this);
        }
    }

    /// <summary>
    /// The first monitored item reporting this variable's changes, and the others (almost always none): a field, not a
    /// list, saves the engine two dependent loads per change at 100,000 variables. Owned by the engine, under its lock.
    /// </summary>
    internal object? FirstChangeWatcher { get; private set; }

    /// <summary>Watchers after <see cref="FirstChangeWatcher"/>; null until a second one comes.</summary>
    internal List<object>? MoreChangeWatchers { get; private set; }

    /// <summary>Starts (or adds to) change reporting; the engine calls it under its lock.</summary>
    internal void AddChangeWatcher(object watcher, IVariableChangeListener listener)
    {
        if (FirstChangeWatcher is not null)
        {
            (MoreChangeWatchers ??= []).Add(watcher);
            return;
        }

        FirstChangeWatcher = watcher;
        lock (_valueLock)
        {
            _history = new DataValue[ChangeHistoryLength];
            _history[(int)(_version % ChangeHistoryLength)] = _value;
            _historySince = _version;
        }

        Volatile.Write(ref _changeListener, listener);
    }

    /// <summary>Stops change reporting for <paramref name="watcher"/>; the last one frees the history.</summary>
    internal void RemoveChangeWatcher(object watcher)
    {
        if (!ReferenceEquals(FirstChangeWatcher, watcher))
        {
            MoreChangeWatchers?.Remove(watcher);
            return;
        }

        if (MoreChangeWatchers is { Count: > 0 } more)
        {
            FirstChangeWatcher = more[^1];
            more.RemoveAt(more.Count - 1);
            return;
        }

        FirstChangeWatcher = null;
        MoreChangeWatchers = null;
        Volatile.Write(ref _changeListener, null);
        lock (_valueLock)
        {
            _history = null;
        }
    }

    /// <summary>
    /// Clears the change signal; the engine calls it before <see cref="ReadChangesSince"/>, so a change after the read
    /// signals again. A plain volatile write is enough: the read's lock acquisition is an interlocked operation, a full
    /// fence, so the clear cannot pass it, and one locked instruction per change less on the engine's path.
    /// </summary>
    internal void TakeChangeSignal() => Volatile.Write(ref _changeSignalled, 0);

    /// <summary>
    /// Copies the values set after <paramref name="knownVersion"/>, oldest first, as many as the history holds;
    /// <paramref name="missed"/> counts older ones it no longer holds.
    /// </summary>
    internal int ReadChangesSince(ref long knownVersion, Span<DataValue> destination, out long missed)
    {
        lock (_valueLock)
        {
            var pending = _version - knownVersion;
            missed = 0;
            if (pending <= 0)
            {
                return 0;
            }

            var history = _history;
            var held = history is null ? 1 : Math.Min(Math.Min(history.Length, destination.Length), _version - _historySince + 1);
            var take = (int)Math.Min(pending, held);
            missed = pending - take;
            if (history is null)
            {
                destination[0] = _value;
            }
            else
            {
                for (var i = 0; i < take; i++)
                {
                    destination[i] = history[(int)((_version - take + 1 + i) % history.Length)];
                }
            }

            knownVersion = _version;
            return take;
        }
    }

    /// <summary>Reads the stored value only when it changed since <paramref name="knownVersion"/>.</summary>
    internal bool TryReadIfChanged(ref long knownVersion, DateTime now, out DataValue value)
    {
        if (ReadHandler is { } read)
        {
            value = read(now);
            return true;
        }

        if (Volatile.Read(ref _version) == knownVersion)
        {
            value = default;
            return false;
        }

        lock (_valueLock)
        {
            value = _value;
            knownVersion = _version;
        }

        return true;
    }

    public override DataValue ReadAttribute(uint attributeId) => ReadAttribute(attributeId, Clock.GetUtcNow().UtcDateTime);

    public override DataValue ReadAttribute(uint attributeId, DateTime now) => attributeId switch
    {
        Attributes.Value => (AccessLevel & AccessLevels.CurrentRead) != 0 ? ReadValue(now) : Bad(StatusCodes.BadNotReadable),
        Attributes.DataType => Good(new Variant(DataType)),
        Attributes.ValueRank => Good(new Variant(ValueRank)),
        Attributes.ArrayDimensions => Good(Variant.FromArray(BuiltInType.UInt32, ArrayDimensions ?? (ValueRank > 0 ? new uint[ValueRank] : null))),
        Attributes.AccessLevel => Good(new Variant((byte)AccessLevel)),
        Attributes.UserAccessLevel => Good(new Variant((byte)UserAccessLevel)),
        Attributes.MinimumSamplingInterval => Good(new Variant(MinimumSamplingInterval)),
        Attributes.Historizing => Good(new Variant(Historizing)),
        Attributes.AccessLevelEx => Good(new Variant((uint)AccessLevel)),
        _ => base.ReadAttribute(attributeId),
    };

    /// <summary>Checks that <paramref name="value"/> fits the variable's type and rank; Good or BadTypeMismatch.</summary>
    public StatusCode CheckValue(Variant value)
    {
        if (value.IsNull)
        {
            return StatusCodes.Good;
        }

        var rankOk = ValueRank switch
        {
            -1 => !value.IsArray,
            -2 => true,
            -3 => !value.IsArray || value.ArrayDimensions is null,
            0 => value.IsArray,
            1 => value.IsArray && value.ArrayDimensions is null,
            var n => value.IsArray && (value.ArrayDimensions?.Length ?? 1) == n,
        };
        if (!rankOk)
        {
            return StatusCodes.BadTypeMismatch;
        }

        if (BuiltInType == BuiltInType.Null)
        {
            return NumericKind switch
            {
                NumericKind.None => StatusCodes.Good,
                NumericKind.Number => value.Type is >= BuiltInType.SByte and <= BuiltInType.Double ? StatusCodes.Good : StatusCodes.BadTypeMismatch,
                NumericKind.Integer => value.Type is BuiltInType.SByte or BuiltInType.Int16 or BuiltInType.Int32 or BuiltInType.Int64 ? StatusCodes.Good : StatusCodes.BadTypeMismatch,
                _ => value.Type is BuiltInType.Byte or BuiltInType.UInt16 or BuiltInType.UInt32 or BuiltInType.UInt64 ? StatusCodes.Good : StatusCodes.BadTypeMismatch,
            };
        }

        return value.Type == BuiltInType ? StatusCodes.Good : StatusCodes.BadTypeMismatch;
    }
}

/// <summary>Told once per burst of changes of a watched variable (see <see cref="VariableNode.AddChangeWatcher"/>).</summary>
internal interface IVariableChangeListener
{
    /// <summary>Called on the thread that set the value, outside the variable's lock: must be short and must not block.</summary>
    void VariableChanged(VariableNode variable);
}

internal enum NumericKind : byte
{
    None,
    Number,
    Integer,
    UInteger,
}
