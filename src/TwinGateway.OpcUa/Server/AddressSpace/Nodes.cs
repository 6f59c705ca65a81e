using System.Runtime.CompilerServices;
using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Server.AddressSpace;

/// <summary>A reference from one node to another (OPC 10000-3 §4.3).</summary>
public readonly record struct ReferenceEntry(NodeId ReferenceTypeId, bool IsInverse, ExpandedNodeId TargetId);

/// <summary>Access level bits of a variable (OPC 10000-3 §8.57).</summary>
[Flags]
public enum AccessLevels : byte
{
    None = 0,
    CurrentRead = 0x01,
    CurrentWrite = 0x02,
    HistoryRead = 0x04,
    HistoryWrite = 0x08,
    ReadWrite = CurrentRead | CurrentWrite,
}

/// <summary>A node of the address space. Attributes common to all node classes live here.</summary>
public abstract class Node
{
    /// <summary>
    /// Reference changes are rare (building the address space) and readers never lock, so nodes share 64 locks instead
    /// of carrying one each: a <see cref="Lock"/> is 38 B, 3.8 MB for a server of 100,000 variables.
    /// </summary>
    private static readonly Lock[] s_referenceLocks = [.. Enumerable.Range(0, 64).Select(_ => new Lock())];

    /// <summary>
    /// The references, in insertion order: exactly sized up to <see cref="ExactReferences"/> entries, so the array itself
    /// is the snapshot readers get; doubled beyond. Never written below <see cref="_referenceCount"/>: a change that
    /// removes builds a new array, so a snapshot handed out stays as it was.
    /// </summary>
    private ReferenceEntry[] _references = [];
    private int _referenceCount;

    /// <summary>Indexes into <see cref="_references"/>, for nodes past <see cref="IndexedReferences"/> (folders of thousands): duplicates refused in O(1).</summary>
    private HashSet<int>? _referenceIndex;

    /// <summary>The snapshot of a node whose array has spare room; null when it must be rebuilt.</summary>
    private ReferenceEntry[]? _snapshot;

    /// <summary>
    /// A variable has 2 references (its parent's and its type definition): a <c>List</c> grown to 4 held 4 x 88 B plus
    /// the list and a copy for the snapshot, 375 B per variable (37.9 MB at 100,000); exact arrays hold 2 x 88 B, shared
    /// with the snapshot.
    /// </summary>
    private const int ExactReferences = 8;

    private const int IndexedReferences = 32;

    protected Node(NodeId nodeId, QualifiedName browseName, LocalizedText? displayName)
    {
        NodeId = nodeId;
        BrowseName = browseName;
        DisplayName = displayName ?? new LocalizedText(browseName.Name);
    }

    public NodeId NodeId { get; }

    public abstract NodeClass NodeClass { get; }

    public QualifiedName BrowseName { get; }

    public LocalizedText DisplayName { get; set; }

    public LocalizedText Description { get; set; }

    public uint WriteMask { get; set; }

    /// <summary>The target of the node's HasTypeDefinition reference (kept beside the references for fast checks).</summary>
    public NodeId TypeDefinition { get; internal set; }

    private Lock ReferenceLock => s_referenceLocks[(RuntimeHelpers.GetHashCode(this) & int.MaxValue) % s_referenceLocks.Length];

    /// <summary>
    /// A snapshot of the references. Adding one invalidates the snapshot of a large node, which the next reader rebuilds,
    /// so building a folder of 100,000 variables stays linear and readers never see a half-updated list.
    /// </summary>
    public IReadOnlyList<ReferenceEntry> References
    {
        get
        {
            var references = Volatile.Read(ref _references);
            if (references.Length <= ExactReferences)
            {
                // Exactly sized and never written in place (see AddReference): the array is its own snapshot.
                return references;
            }

            if (Volatile.Read(ref _snapshot) is { } snapshot)
            {
                return snapshot;
            }

            lock (ReferenceLock)
            {
                return _snapshot ??= _references.AsSpan(0, _referenceCount).ToArray();
            }
        }
    }

    internal void AddReference(ReferenceEntry reference)
    {
        lock (ReferenceLock)
        {
            if (_referenceIndex is null && _referenceCount >= IndexedReferences)
            {
                _referenceIndex = new HashSet<int>(_referenceCount * 2, new ReferenceSlotComparer(this));
                for (var i = 0; i < _referenceCount; i++)
                {
                    _referenceIndex.Add(i);
                }
            }

            if (_referenceIndex is not null ? Contains(reference) : Array.IndexOf(_references, reference, 0, _referenceCount) >= 0)
            {
                return;
            }

            var count = _referenceCount;
            if (count < ExactReferences)
            {
                // Small: a new exact array each time (readers may hold the old one as their snapshot).
                var next = new ReferenceEntry[count + 1];
                _references.AsSpan(0, count).CopyTo(next);
                next[count] = reference;
                Volatile.Write(ref _references, next);
            }
            else
            {
                if (count == _references.Length)
                {
                    var next = new ReferenceEntry[count * 2];
                    _references.AsSpan(0, count).CopyTo(next);
                    Volatile.Write(ref _references, next);
                }

                // Beyond the count: no snapshot covers this slot.
                _references[count] = reference;
            }

            _referenceCount = count + 1;
            _referenceIndex?.Add(count);
            _snapshot = null;
        }
    }

    /// <summary>Called under the lock with the index built: is <paramref name="reference"/> there already?</summary>
    private bool Contains(ReferenceEntry reference)
    {
        var index = _referenceIndex!;
        var comparer = (ReferenceSlotComparer)index.Comparer;
        comparer.Probe = reference;
        try
        {
            return index.Contains(ReferenceSlotComparer.ProbeSlot);
        }
        finally
        {
            comparer.Probe = default;
        }
    }

    internal void RemoveReferencesTo(NodeId target)
    {
        lock (ReferenceLock)
        {
            // A new array: snapshots handed out keep what they had.
            var kept = _references.AsSpan(0, _referenceCount).ToArray().Where(r => !(r.TargetId.IsLocal && r.TargetId.NodeId == target)).ToArray();
            _referenceIndex = null;
            _referenceCount = kept.Length;
            _snapshot = null;
            Volatile.Write(ref _references, kept);
        }
    }

    /// <summary>
    /// Compares slots of the node's reference array by the entries in them, so the duplicate check of a large folder
    /// stores 4-byte indexes instead of copies of the 88-byte entries (19.1 MB for the 100,000 of the Scale folder).
    /// </summary>
    private sealed class ReferenceSlotComparer(Node node) : IEqualityComparer<int>
    {
        /// <summary>The slot that stands for <see cref="Probe"/>, the entry being looked up.</summary>
        public const int ProbeSlot = -1;

        public ReferenceEntry Probe { get; set; }

        private ReferenceEntry At(int slot) => slot == ProbeSlot ? Probe : node._references[slot];

        public bool Equals(int x, int y) => At(x).Equals(At(y));

        public int GetHashCode(int obj) => At(obj).GetHashCode();
    }

    /// <summary>Reads an attribute; <c>BadAttributeIdInvalid</c> when this node class has no such attribute.</summary>
    public virtual DataValue ReadAttribute(uint attributeId) => attributeId switch
    {
        Attributes.NodeId => Good(new Variant(NodeId)),
        Attributes.NodeClass => Good(new Variant((int)NodeClass)),
        Attributes.BrowseName => Good(new Variant(BrowseName)),
        Attributes.DisplayName => Good(new Variant(DisplayName)),
        Attributes.Description => Good(new Variant(Description)),
        Attributes.WriteMask => Good(new Variant(WriteMask)),
        Attributes.UserWriteMask => Good(new Variant(WriteMask)),
        _ => Bad(StatusCodes.BadAttributeIdInvalid),
    };

    /// <summary>
    /// Reads an attribute as of <paramref name="now"/>, the server's clock reading for this read (the ServerTimestamp);
    /// only a variable's Value depends on it.
    /// </summary>
    public virtual DataValue ReadAttribute(uint attributeId, DateTime now) => ReadAttribute(attributeId);

    /// <summary>
    /// The value as it leaves the server at <paramref name="serverTime"/>: a source time later than the server time
    /// (a clock ahead of ours, or a value pushed after the read took its reading) is brought back to the server time,
    /// as a SourceTimestamp after the ServerTimestamp is impossible (OPC 10000-4 §7.11).
    /// </summary>
    internal static DateTime SourceTimeAt(DateTime sourceTime, DateTime serverTime) => sourceTime > serverTime ? serverTime : sourceTime;

    protected static DataValue Good(Variant value) => new(value);

    protected static DataValue Bad(uint status) => new(default, status);

    public override string ToString() => $"{NodeClass} {NodeId} ({BrowseName})";
}

public sealed class ObjectNode(NodeId nodeId, QualifiedName browseName, LocalizedText? displayName = null) : Node(nodeId, browseName, displayName)
{
    public override NodeClass NodeClass => NodeClass.Object;

    public byte EventNotifier { get; set; }

    public override DataValue ReadAttribute(uint attributeId) => attributeId == Attributes.EventNotifier
        ? Good(new Variant(EventNotifier))
        : base.ReadAttribute(attributeId);
}

public sealed class ViewNode(NodeId nodeId, QualifiedName browseName, LocalizedText? displayName = null) : Node(nodeId, browseName, displayName)
{
    public override NodeClass NodeClass => NodeClass.View;

    public bool ContainsNoLoops { get; set; }

    public byte EventNotifier { get; set; }

    public override DataValue ReadAttribute(uint attributeId) => attributeId switch
    {
        Attributes.ContainsNoLoops => Good(new Variant(ContainsNoLoops)),
        Attributes.EventNotifier => Good(new Variant(EventNotifier)),
        _ => base.ReadAttribute(attributeId),
    };
}

/// <summary>Type nodes: object, variable, reference and data types.</summary>
public abstract class TypeNode(NodeId nodeId, QualifiedName browseName, LocalizedText? displayName) : Node(nodeId, browseName, displayName)
{
    public bool IsAbstract { get; set; }

    public override DataValue ReadAttribute(uint attributeId) => attributeId == Attributes.IsAbstract
        ? Good(new Variant(IsAbstract))
        : base.ReadAttribute(attributeId);
}

public sealed class ObjectTypeNode(NodeId nodeId, QualifiedName browseName, LocalizedText? displayName = null) : TypeNode(nodeId, browseName, displayName)
{
    public override NodeClass NodeClass => NodeClass.ObjectType;
}

public sealed class DataTypeNode(NodeId nodeId, QualifiedName browseName, LocalizedText? displayName = null) : TypeNode(nodeId, browseName, displayName)
{
    public override NodeClass NodeClass => NodeClass.DataType;

    /// <summary>
    /// The DataTypeDefinition attribute (OPC 10000-3 §5.8.3): a <see cref="StructureDefinition"/> or <see cref="EnumDefinition"/>
    /// from which a client that does not know the type encodes and decodes its values. Null: the attribute is absent.
    /// </summary>
    public IEncodeable? Definition { get; set; }

    public override DataValue ReadAttribute(uint attributeId) => attributeId == Attributes.DataTypeDefinition
        ? Definition is { } definition ? Good(new Variant(new ExtensionObject(definition))) : Bad(StatusCodes.BadAttributeIdInvalid)
        : base.ReadAttribute(attributeId);
}

public sealed class ReferenceTypeNode(NodeId nodeId, QualifiedName browseName, LocalizedText? displayName = null) : TypeNode(nodeId, browseName, displayName)
{
    public override NodeClass NodeClass => NodeClass.ReferenceType;

    public bool Symmetric { get; set; }

    public LocalizedText InverseName { get; set; }

    public override DataValue ReadAttribute(uint attributeId) => attributeId switch
    {
        Attributes.Symmetric => Good(new Variant(Symmetric)),
        Attributes.InverseName => Good(new Variant(InverseName)),
        _ => base.ReadAttribute(attributeId),
    };
}

public sealed class VariableTypeNode(NodeId nodeId, QualifiedName browseName, LocalizedText? displayName = null) : TypeNode(nodeId, browseName, displayName)
{
    public override NodeClass NodeClass => NodeClass.VariableType;

    public NodeId DataType { get; set; } = new(DataTypeIds.BaseDataType);

    public int ValueRank { get; set; } = -2;

    public Variant Value { get; set; }

    public override DataValue ReadAttribute(uint attributeId) => attributeId switch
    {
        Attributes.Value => Good(Value),
        Attributes.DataType => Good(new Variant(DataType)),
        Attributes.ValueRank => Good(new Variant(ValueRank)),
        Attributes.ArrayDimensions => Good(Variant.FromArray(BuiltInType.UInt32, ValueRank > 0 ? new uint[ValueRank] : Array.Empty<uint>())),
        _ => base.ReadAttribute(attributeId),
    };
}

/// <summary>What a method handler gets: the call's session context and the input arguments, already type-checked.</summary>
public sealed record MethodCall(NodeId ObjectId, NodeId MethodId, Variant[] InputArguments, CancellationToken Cancellation);

/// <summary>A method's outcome: a status and, when good, the output arguments.</summary>
public readonly record struct MethodResult(StatusCode Status, Variant[] Outputs)
{
    public static MethodResult Ok(params Variant[] outputs) => new(StatusCodes.Good, outputs);

    public static MethodResult Fail(uint status) => new(status, []);
}

public sealed class MethodNode(NodeId nodeId, QualifiedName browseName, LocalizedText? displayName = null) : Node(nodeId, browseName, displayName)
{
    public override NodeClass NodeClass => NodeClass.Method;

    public bool Executable { get; set; } = true;

    public Argument[] InputArguments { get; set; } = [];

    public Argument[] OutputArguments { get; set; } = [];

    public Func<MethodCall, ValueTask<MethodResult>>? Handler { get; set; }

    public override DataValue ReadAttribute(uint attributeId) => attributeId switch
    {
        Attributes.Executable => Good(new Variant(Executable && Handler is not null)),
        Attributes.UserExecutable => Good(new Variant(Executable && Handler is not null)),
        _ => base.ReadAttribute(attributeId),
    };
}
