using System.Collections.Concurrent;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Server.AddressSpace;

/// <summary>
/// The nodes a server exposes, with the API to build them: folders, objects, typed variables (pushed values or
/// callbacks, access levels) and methods with typed arguments. Thread-safe: services read while the application adds.
/// </summary>
public sealed class UaAddressSpace
{
    public const string OpcUaNamespace = "http://opcfoundation.org/UA/";

    private readonly ConcurrentDictionary<NodeId, Node> _nodes = new();
    private readonly ConcurrentDictionary<(NodeId Type, NodeId Base), bool> _subtypeCache = new();
    private readonly Lock _namespacesLock = new();
    private readonly TimeProvider _time;
    private string[] _namespaces;

    /// <param name="serverUri">The server's own namespace (index 1).</param>
    /// <param name="time">The server's clock: it stamps initial values, so none is later than a read's ServerTimestamp.</param>
    public UaAddressSpace(string serverUri, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _namespaces = [OpcUaNamespace, serverUri];
        StandardNodes.AddTo(this);
    }

    /// <summary>The NamespaceArray: index 0 is OPC UA, index 1 the server's own.</summary>
    public IReadOnlyList<string> Namespaces => Volatile.Read(ref _namespaces);

    public int Count => _nodes.Count;

    /// <summary>Returns the index of <paramref name="uri"/>, adding it when new.</summary>
    public ushort RegisterNamespace(string uri)
    {
        lock (_namespacesLock)
        {
            var index = Array.IndexOf(_namespaces, uri);
            if (index >= 0)
            {
                return (ushort)index;
            }

            _namespaces = [.. _namespaces, uri];
            return (ushort)(_namespaces.Length - 1);
        }
    }

    public Node? Find(NodeId nodeId) => _nodes.GetValueOrDefault(nodeId);

    public bool TryFind<T>(NodeId nodeId, out T node)
        where T : Node
    {
        if (_nodes.TryGetValue(nodeId, out var found) && found is T typed)
        {
            node = typed;
            return true;
        }

        node = null!;
        return false;
    }

    public IEnumerable<Node> Nodes => _nodes.Values;

    /// <summary>Adds a node; throws when its id is taken (naming the id).</summary>
    public T Add<T>(T node)
        where T : Node
    {
        ArgumentNullException.ThrowIfNull(node);
        if (node is VariableNode variable)
        {
            variable.Clock = _time;
        }

        if (!_nodes.TryAdd(node.NodeId, node))
        {
            throw new ServiceResultException(StatusCodes.BadNodeIdExists, $"node {node.NodeId} already exists");
        }

        return node;
    }

    /// <summary>Adds a reference and its inverse on the target.</summary>
    public void AddReference(NodeId source, NodeId referenceType, NodeId target)
    {
        var from = Find(source) ?? throw new ServiceResultException(StatusCodes.BadNodeIdUnknown, $"reference source {source} does not exist");
        from.AddReference(new ReferenceEntry(referenceType, false, target));
        if (referenceType == new NodeId(ReferenceTypeIds.HasTypeDefinition))
        {
            from.TypeDefinition = target;
        }

        Find(target)?.AddReference(new ReferenceEntry(referenceType, true, source));
        if (referenceType == new NodeId(ReferenceTypeIds.HasSubtype))
        {
            _subtypeCache.Clear();
        }
    }

    /// <summary>Removes a node and every reference to it.</summary>
    public bool Remove(NodeId nodeId)
    {
        if (!_nodes.TryRemove(nodeId, out var node))
        {
            return false;
        }

        foreach (var reference in node.References)
        {
            if (reference.TargetId.IsLocal)
            {
                Find(reference.TargetId.NodeId)?.RemoveReferencesTo(nodeId);
            }
        }

        return true;
    }

    /// <summary>True when <paramref name="type"/> is <paramref name="baseType"/> or derives from it through HasSubtype.</summary>
    public bool IsSubtypeOf(NodeId type, NodeId baseType)
    {
        if (type == baseType)
        {
            return true;
        }

        return _subtypeCache.GetOrAdd((type, baseType), key =>
        {
            var current = key.Type;
            for (var hops = 0; hops < 64; hops++)
            {
                var parent = SuperType(current);
                if (parent is null)
                {
                    return false;
                }

                if (parent.Value == key.Base)
                {
                    return true;
                }

                current = parent.Value;
            }

            return false;
        });
    }

    /// <summary>The type a type derives from (its inverse HasSubtype target), or null for a root.</summary>
    public NodeId? SuperType(NodeId type)
    {
        var node = Find(type);
        if (node is null)
        {
            return null;
        }

        var hasSubtype = new NodeId(ReferenceTypeIds.HasSubtype);
        foreach (var r in node.References)
        {
            if (r.IsInverse && r.ReferenceTypeId == hasSubtype && r.TargetId.IsLocal)
            {
                return r.TargetId.NodeId;
            }
        }

        return null;
    }

    /// <summary>The built-in type behind a data type, walking HasSubtype; Null for abstract types that accept many.</summary>
    internal (BuiltInType Type, NumericKind Numeric) ResolveBuiltInType(NodeId dataType)
    {
        var current = dataType;
        for (var hops = 0; hops < 64; hops++)
        {
            if (current.NamespaceIndex == 0 && current.IdType == IdType.Numeric)
            {
                switch (current.NumericId)
                {
                    case DataTypeIds.BaseDataType:
                        return (BuiltInType.Null, NumericKind.None);
                    case >= 1 and <= 25:
                        return ((BuiltInType)current.NumericId, NumericKind.None);
                    case DataTypeIds.Number:
                        return (BuiltInType.Null, NumericKind.Number);
                    case DataTypeIds.Integer:
                        return (BuiltInType.Null, NumericKind.Integer);
                    case DataTypeIds.UInteger:
                        return (BuiltInType.Null, NumericKind.UInteger);
                    case DataTypeIds.Enumeration:
                        return (BuiltInType.Int32, NumericKind.None);
                }
            }

            if (SuperType(current) is not { } parent)
            {
                break;
            }

            current = parent;
        }

        return (BuiltInType.Null, NumericKind.None);
    }

    private static void RequireParent(Node? parent, NodeId parentId)
    {
        if (parent is null)
        {
            throw new ServiceResultException(StatusCodes.BadParentNodeIdInvalid, $"parent node {parentId} does not exist");
        }
    }

    /// <summary>Adds a folder organised under <paramref name="parent"/>.</summary>
    public ObjectNode AddFolder(NodeId parent, NodeId nodeId, string browseName, string? displayName = null)
    {
        RequireParent(Find(parent), parent);
        var folder = Add(new ObjectNode(nodeId, new QualifiedName(nodeId.NamespaceIndex, browseName), new LocalizedText(displayName ?? browseName)));
        AddReference(parent, new NodeId(ReferenceTypeIds.Organizes), nodeId);
        AddReference(nodeId, new NodeId(ReferenceTypeIds.HasTypeDefinition), new NodeId(ObjectTypeIds.FolderType));
        return folder;
    }

    /// <summary>Adds an object as a component of <paramref name="parent"/> (organised when the parent is a folder).</summary>
    public ObjectNode AddObject(NodeId parent, NodeId nodeId, string browseName, NodeId? typeDefinition = null, string? displayName = null)
    {
        var parentNode = Find(parent);
        RequireParent(parentNode, parent);
        var node = Add(new ObjectNode(nodeId, new QualifiedName(nodeId.NamespaceIndex, browseName), new LocalizedText(displayName ?? browseName)));
        AddReference(parent, ChildReference(parentNode!), nodeId);
        AddReference(nodeId, new NodeId(ReferenceTypeIds.HasTypeDefinition), typeDefinition ?? new NodeId(ObjectTypeIds.BaseObjectType));
        return node;
    }

    /// <summary>
    /// Adds a variable with a data type, rank and access level. Its value is <paramref name="initialValue"/> until the
    /// application pushes another with <see cref="VariableNode.SetValue(Variant, DateTime, StatusCode)"/> or sets a ReadHandler.
    /// </summary>
    public VariableNode AddVariable(
        NodeId parent,
        NodeId nodeId,
        string browseName,
        NodeId dataType,
        Variant initialValue = default,
        int valueRank = -1,
        AccessLevels accessLevel = AccessLevels.CurrentRead,
        string? displayName = null,
        bool isProperty = false) =>
        AddVariable(parent, nodeId, new QualifiedName(nodeId.NamespaceIndex, browseName), dataType, initialValue, valueRank, accessLevel, displayName, isProperty);

    /// <summary>Adds a variable whose browse name lives in another namespace than its node id (standard properties).</summary>
    public VariableNode AddVariable(
        NodeId parent,
        NodeId nodeId,
        QualifiedName browseName,
        NodeId dataType,
        Variant initialValue,
        int valueRank,
        AccessLevels accessLevel,
        string? displayName,
        bool isProperty)
    {
        var parentNode = Find(parent);
        RequireParent(parentNode, parent);
        if (Find(dataType) is not DataTypeNode)
        {
            throw new ServiceResultException(StatusCodes.BadTypeDefinitionInvalid, $"data type {dataType} of variable {nodeId} is not a DataType node");
        }

        var (builtIn, numeric) = ResolveBuiltInType(dataType);
        var variable = new VariableNode(nodeId, browseName, new LocalizedText(displayName ?? browseName.Name))
        {
            DataType = dataType,
            BuiltInType = builtIn,
            NumericKind = numeric,
            ValueRank = valueRank,
            AccessLevel = accessLevel,
            UserAccessLevel = accessLevel,
        };
        if (!initialValue.IsNull && variable.CheckValue(initialValue).IsBad)
        {
            throw new ServiceResultException(StatusCodes.BadTypeMismatch,
                $"initial value of {nodeId} is a {initialValue.Type}{(initialValue.IsArray ? "[]" : "")}, but the variable is {dataType} with rank {valueRank}");
        }

        variable.SetValue(initialValue, _time.GetUtcNow().UtcDateTime);
        Add(variable);
        AddReference(parent, isProperty ? new NodeId(ReferenceTypeIds.HasProperty) : ChildReference(parentNode!), nodeId);
        AddReference(nodeId, new NodeId(ReferenceTypeIds.HasTypeDefinition),
            new NodeId(isProperty ? VariableTypeIds.PropertyType : VariableTypeIds.BaseDataVariableType));
        return variable;
    }

    /// <summary>
    /// Adds a structured DataType that clients learn from its DataTypeDefinition attribute: the DataType (a subtype of
    /// <paramref name="baseType"/>, Structure by default) and its "Default Binary" encoding object, joined by HasEncoding.
    /// The definition's DefaultEncodingId and BaseDataType are filled in. Values of the type are ExtensionObjects whose
    /// TypeId is <paramref name="binaryEncodingId"/>; the server stores them as they come.
    /// </summary>
    public DataTypeNode AddStructureDataType(NodeId dataTypeId, string browseName, NodeId binaryEncodingId, StructureDefinition definition, NodeId? baseType = null)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var parent = baseType ?? new NodeId(DataTypeIds.Structure);
        if (Find(parent) is not DataTypeNode)
        {
            throw new ServiceResultException(StatusCodes.BadTypeDefinitionInvalid, $"base type {parent} of {dataTypeId} is not a DataType node");
        }

        definition.DefaultEncodingId = binaryEncodingId;
        definition.BaseDataType = parent;
        var dataType = Add(new DataTypeNode(dataTypeId, new QualifiedName(dataTypeId.NamespaceIndex, browseName)) { Definition = definition });
        AddReference(parent, new NodeId(ReferenceTypeIds.HasSubtype), dataTypeId);
        Add(new ObjectNode(binaryEncodingId, new QualifiedName(0, "Default Binary")));
        AddReference(dataTypeId, new NodeId(ReferenceTypeIds.HasEncoding), binaryEncodingId);
        AddReference(binaryEncodingId, new NodeId(ReferenceTypeIds.HasTypeDefinition), new NodeId(ObjectTypeIds.DataTypeEncodingType));
        return dataType;
    }

    /// <summary>Adds a method with typed arguments; the handler runs after the arguments were checked against them.</summary>
    public MethodNode AddMethod(
        NodeId parent,
        NodeId nodeId,
        string browseName,
        IReadOnlyList<Argument> inputArguments,
        IReadOnlyList<Argument> outputArguments,
        Func<MethodCall, ValueTask<MethodResult>> handler)
    {
        var parentNode = Find(parent);
        RequireParent(parentNode, parent);
        var method = Add(new MethodNode(nodeId, new QualifiedName(nodeId.NamespaceIndex, browseName))
        {
            InputArguments = [.. inputArguments],
            OutputArguments = [.. outputArguments],
            Handler = handler,
        });
        AddReference(parent, new NodeId(ReferenceTypeIds.HasComponent), nodeId);
        if (inputArguments.Count > 0)
        {
            AddArgumentsProperty(nodeId, "InputArguments", inputArguments);
        }

        if (outputArguments.Count > 0)
        {
            AddArgumentsProperty(nodeId, "OutputArguments", outputArguments);
        }

        return method;
    }

    private void AddArgumentsProperty(NodeId method, string name, IReadOnlyList<Argument> arguments)
    {
        var id = method.IdType == IdType.String
            ? new NodeId(method.StringId + "." + name, method.NamespaceIndex)
            : new NodeId(Guid.NewGuid(), method.NamespaceIndex);
        var value = Variant.FromArray(BuiltInType.ExtensionObject, arguments.Select(a => new ExtensionObject(a)).ToArray());
        AddVariable(method, id, new QualifiedName(0, name), new NodeId(DataTypeIds.Argument), value, 1, AccessLevels.CurrentRead, name, isProperty: true);
    }

    /// <summary>An argument of a method: name, built-in data type and rank.</summary>
    public static Argument Arg(string name, uint dataType, int valueRank = -1, string? description = null) => new()
    {
        Name = name,
        DataType = new NodeId(dataType),
        ValueRank = valueRank,
        ArrayDimensions = valueRank > 0 ? new uint[valueRank] : [],
        Description = new LocalizedText(description ?? ""),
    };

    private static NodeId ChildReference(Node parent) =>
        parent is ObjectNode && parent.TypeDefinition == new NodeId(ObjectTypeIds.FolderType)
            ? new NodeId(ReferenceTypeIds.Organizes)
            : new NodeId(ReferenceTypeIds.HasComponent);
}
