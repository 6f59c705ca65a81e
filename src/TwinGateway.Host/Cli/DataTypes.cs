using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.Host.Cli;

/// <summary>What a value or field is: a built-in type, or a structure the server described (then BuiltIn is ExtensionObject).</summary>
internal sealed record TypeInfo(BuiltInType BuiltIn, StructureInfo? Structure = null, string? Name = null)
{
    public string DisplayName => Structure?.Name ?? Name ?? BuiltIn.ToString();
}

/// <summary>A structure as its DataTypeDefinition describes it (OPC 10000-3 §8.48): kind, encoding id and fields in order.</summary>
internal sealed record StructureInfo(NodeId DataType, string Name, NodeId EncodingId, StructureType Kind, IReadOnlyList<FieldInfo> Fields);

/// <summary>One field: its name, type, ValueRank (-1 scalar, 0/1 array) and whether it is optional.</summary>
internal sealed record FieldInfo(string Name, TypeInfo Type, int ValueRank, bool IsOptional);

/// <summary>An input argument of a method, typed from its InputArguments property.</summary>
internal sealed record ArgumentInfo(string Name, TypeInfo Type, int ValueRank)
{
    public override string ToString() => $"{Name}: {Type.DisplayName}{(ValueRank >= 0 ? "[]" : "")}";
}

/// <summary>
/// Learns data types from the server: the built-in type behind a DataType (walking HasSubtype), and the fields of a
/// structure from its DataTypeDefinition attribute, so the CLI can encode and print structures it has never seen.
/// One instance per connection; answers are cached.
/// </summary>
internal sealed class DataTypes(OpcUaClient client)
{
    private const uint Enumeration = 29;
    private const uint HasSubtype = 45;
    private const uint HasEncoding = 38;

    /// <summary>Nested structures deeper than this are refused (a definition that refers to itself would never end).</summary>
    private const int MaxDepth = 8;

    private readonly Dictionary<NodeId, TypeInfo> _types = [];
    private readonly Dictionary<NodeId, StructureInfo?> _byEncoding = [];

    public async Task<(TypeInfo Type, int ValueRank)> ResolveValueTypeAsync(NodeId node, CancellationToken ct)
    {
        var values = await client.ReadAsync(
            [
                new ReadValueId { NodeId = node, AttributeId = Attributes.DataType },
                new ReadValueId { NodeId = node, AttributeId = Attributes.ValueRank },
            ], cancellationToken: ct).ConfigureAwait(false);
        if (values[0].StatusCode.IsBad)
        {
            throw new ServiceResultException(values[0].StatusCode, $"cannot read the DataType of {node}: {values[0].StatusCode.Name}");
        }

        var dataType = values[0].Value.Value is NodeId id ? id : throw new ServiceResultException(StatusCodes.BadTypeMismatch, $"{node} has no DataType");
        var valueRank = values[1].Value.IsNumeric ? (int)values[1].Value.ToDouble() : -1;
        return (await DescribeAsync(dataType, ct).ConfigureAwait(false), valueRank);
    }

    /// <summary>
    /// The type behind <paramref name="dataType"/>: a built-in type (1..25, enumerations as Int32, subtypes walked up), or
    /// a structure with the fields its DataTypeDefinition lists. A structure the server does not describe is an
    /// ExtensionObject without fields.
    /// </summary>
    public Task<TypeInfo> DescribeAsync(NodeId dataType, CancellationToken ct) => DescribeAsync(dataType, 0, ct);

    private async Task<TypeInfo> DescribeAsync(NodeId dataType, int depth, CancellationToken ct)
    {
        if (_types.TryGetValue(dataType, out var known))
        {
            return known;
        }

        if (depth > MaxDepth)
        {
            throw new ServiceResultException(StatusCodes.BadTypeMismatch, $"data type {dataType} nests structures more than {MaxDepth} deep");
        }

        if (dataType.NamespaceIndex == 0 && dataType.IdType == IdType.Numeric && dataType.NumericId is >= 1 and <= 25 or Enumeration)
        {
            return _types[dataType] = new TypeInfo(dataType.NumericId == Enumeration ? BuiltInType.Int32 : (BuiltInType)dataType.NumericId);
        }

        var attributes = await client.ReadAsync(
            [
                new ReadValueId { NodeId = dataType, AttributeId = Attributes.BrowseName },
                new ReadValueId { NodeId = dataType, AttributeId = Attributes.DataTypeDefinition },
            ], cancellationToken: ct).ConfigureAwait(false);
        var name = attributes[0].Value.Value is QualifiedName q ? q.Name ?? dataType.ToString() : dataType.ToString();
        TypeInfo type;
        switch (attributes[1].Value.Value)
        {
            case ExtensionObject { Body: StructureDefinition definition } when attributes[1].StatusCode.IsGood:
                type = new TypeInfo(BuiltInType.ExtensionObject, await StructureAsync(dataType, name, definition, depth, ct).ConfigureAwait(false), name);
                break;
            case ExtensionObject { Body: EnumDefinition } when attributes[1].StatusCode.IsGood:
                type = new TypeInfo(BuiltInType.Int32, null, name);
                break;
            default:
                var parents = await client.BrowseAsync(dataType, BrowseDirection.Inverse, new NodeId(HasSubtype), includeSubtypes: false, cancellationToken: ct).ConfigureAwait(false);
                if (parents.Count == 0)
                {
                    throw new ServiceResultException(StatusCodes.BadTypeMismatch, $"data type {dataType} does not derive from a built-in type this command can write; use --type");
                }

                var parent = await DescribeAsync(parents[0].NodeId.NodeId, depth + 1, ct).ConfigureAwait(false);
                // A subtype of a structure without its own definition: its fields are unknown, whatever the parent's are.
                type = parent.Structure is null ? parent with { Name = parent.BuiltIn == BuiltInType.ExtensionObject ? name : parent.Name } : new TypeInfo(BuiltInType.ExtensionObject, null, name);
                break;
        }

        return _types[dataType] = type;
    }

    private async Task<StructureInfo> StructureAsync(NodeId dataType, string name, StructureDefinition definition, int depth, CancellationToken ct)
    {
        var fields = new List<FieldInfo>();
        foreach (var field in definition.Fields ?? [])
        {
            var fieldName = field.Name ?? $"field{fields.Count}";
            fields.Add(new FieldInfo(fieldName, await DescribeAsync(field.DataType, depth + 1, ct).ConfigureAwait(false), field.ValueRank, field.IsOptional));
        }

        var encoding = definition.DefaultEncodingId;
        if (encoding.IsNull)
        {
            var encodings = await client.BrowseAsync(dataType, BrowseDirection.Forward, new NodeId(HasEncoding), includeSubtypes: false, cancellationToken: ct).ConfigureAwait(false);
            encoding = encodings.FirstOrDefault(e => e.BrowseName.Name == "Default Binary")?.NodeId.NodeId ?? default;
        }

        return new StructureInfo(dataType, name, encoding, definition.StructureType, fields);
    }

    /// <summary>The structure whose binary encoding is <paramref name="encodingId"/>, or null when the server does not describe it.</summary>
    private async Task<StructureInfo?> StructureByEncodingAsync(NodeId encodingId, CancellationToken ct)
    {
        if (_byEncoding.TryGetValue(encodingId, out var known))
        {
            return known;
        }

        StructureInfo? structure = null;
        try
        {
            var owners = await client.BrowseAsync(encodingId, BrowseDirection.Inverse, new NodeId(HasEncoding), includeSubtypes: false, cancellationToken: ct).ConfigureAwait(false);
            if (owners.Count > 0)
            {
                structure = (await DescribeAsync(owners[0].NodeId.NodeId, ct).ConfigureAwait(false)).Structure;
            }
        }
        catch (ServiceResultException)
        {
            // Not described: the value is printed as an opaque ExtensionObject.
        }

        return _byEncoding[encodingId] = structure;
    }

    /// <summary>
    /// The value as it is printed: structures become <see cref="StructureValue"/>s with their fields (generated types of our
    /// stack from their properties, others decoded with the server's DataTypeDefinition), arrays of them arrays.
    /// </summary>
    public async Task<object?> ToDisplayAsync(Variant value, CancellationToken ct)
    {
        if (value.Type != BuiltInType.ExtensionObject)
        {
            return value;
        }

        if (!value.IsArray)
        {
            return await ToDisplayAsync(value.Value as ExtensionObject, ct).ConfigureAwait(false) ?? (object)value;
        }

        var elements = value.ArrayValue ?? Array.Empty<object>();
        var display = new object?[elements.Length];
        for (var i = 0; i < elements.Length; i++)
        {
            var element = elements.GetValue(i) as ExtensionObject;
            display[i] = await ToDisplayAsync(element, ct).ConfigureAwait(false) ?? (object?)element;
        }

        return display;
    }

    private async Task<StructureValue?> ToDisplayAsync(ExtensionObject? value, CancellationToken ct)
    {
        switch (value)
        {
            case { Body: IEncodeable known }:
                return StructureValue.From(known);
            case { Body: byte[] body, Encoding: ExtensionObjectEncoding.Binary } when !value.TypeId.IsNull:
                if (await StructureByEncodingAsync(value.TypeId, ct).ConfigureAwait(false) is not { } structure)
                {
                    return null;
                }

                try
                {
                    return StructureCodec.Decode(body, structure);
                }
                catch (Exception ex) when (ex is ServiceResultException or FormatException or ArgumentException or InvalidOperationException)
                {
                    return null;
                }

            default:
                return null;
        }
    }

    /// <summary>
    /// The method's input arguments from its InputArguments property. Found is false when the method has no such
    /// property (it takes no arguments, or it is not a method of this server); Arguments is null when the property
    /// cannot be understood.
    /// </summary>
    public async Task<(bool Found, IReadOnlyList<ArgumentInfo>? Arguments)> ResolveInputArgumentsAsync(NodeId method, CancellationToken ct)
    {
        var paths = await client.TranslateBrowsePathsAsync([OpcUaClient.MakeBrowsePath(method, new QualifiedName("InputArguments"))], ct).ConfigureAwait(false);
        if (paths is not [{ StatusCode.IsGood: true, Targets: [var target, ..] }])
        {
            return (false, null);
        }

        var value = await client.ReadAttributeAsync(target.TargetId.NodeId, Attributes.Value, ct).ConfigureAwait(false);
        if (value.Value.ArrayValue is not ExtensionObject[] arguments)
        {
            return (true, null);
        }

        var result = new List<ArgumentInfo>();
        foreach (var eo in arguments)
        {
            if (eo.Body is not Argument argument)
            {
                return (true, null);
            }

            result.Add(new ArgumentInfo(argument.Name ?? "", await DescribeAsync(argument.DataType, ct).ConfigureAwait(false), argument.ValueRank));
        }

        return (true, result);
    }

    /// <summary>True when <paramref name="node"/> exists on the server and is a Method.</summary>
    public async Task<bool> IsMethodAsync(NodeId node, CancellationToken ct)
    {
        var nodeClass = await client.ReadAttributeAsync(node, Attributes.NodeClass, ct).ConfigureAwait(false);
        return nodeClass.StatusCode.IsGood && nodeClass.Value.IsNumeric && (int)nodeClass.Value.ToDouble() == (int)NodeClass.Method;
    }
}
