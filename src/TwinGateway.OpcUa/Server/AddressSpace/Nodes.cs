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
    private readonly Lock _referencesLock = new();
    private readonly List<ReferenceEntry> _references = [];
    private HashSet<ReferenceEntry>? _referenceSet;
    private ReferenceEntry[]? _snapshot = [];

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

    /// <summary>
    /// A snapshot of the references. Adding one invalidates the snapshot, which the next reader rebuilds, so building a
    /// folder of 100,000 variables stays linear and readers never see a half-updated list.
    /// </summary>
    public IReadOnlyList<ReferenceEntry> References
    {
        get
        {
            var snapshot = Volatile.Read(ref _snapshot);
            if (snapshot is not null)
            {
                return snapshot;
            }

            lock (_referencesLock)
            {
                return _snapshot ??= [.. _references];
            }
        }
    }

    internal void AddReference(ReferenceEntry reference)
    {
        lock (_referencesLock)
        {
            // Small lists are scanned; large ones (folders of thousands) get a set, so duplicates are refused in O(1).
            if (_referenceSet is null && _references.Count >= 32)
            {
                _referenceSet = [.. _references];
            }

            var added = _referenceSet?.Add(reference) ?? !_references.Contains(reference);
            if (added)
            {
                _references.Add(reference);
                _snapshot = null;
            }
        }
    }

    internal void RemoveReferencesTo(NodeId target)
    {
        lock (_referencesLock)
        {
            _references.RemoveAll(r => r.TargetId.IsLocal && r.TargetId.NodeId == target);
            _referenceSet = null;
            _snapshot = null;
        }
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
