using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.Host.Cli;

/// <summary>Finds the built-in type behind a node's DataType, walking HasSubtype up to a built-in type.</summary>
internal static class DataTypes
{
    private const uint Enumeration = 29;
    private const uint HasSubtype = 45;

    public static async Task<(BuiltInType Type, bool IsArray)> ResolveValueTypeAsync(OpcUaClient client, NodeId node, CancellationToken ct)
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
        // ValueRank: -1 scalar, 0 one or more dimensions, >= 1 that many; -2 any and -3 scalar-or-one-dimension are written as scalars.
        return (await ToBuiltInAsync(client, dataType, ct).ConfigureAwait(false), valueRank >= 0);
    }

    public static async Task<BuiltInType> ToBuiltInAsync(OpcUaClient client, NodeId dataType, CancellationToken ct)
    {
        var current = dataType;
        for (var hops = 0; hops < 16; hops++)
        {
            if (current.NamespaceIndex == 0 && current.IdType == IdType.Numeric)
            {
                var n = current.NumericId;
                if (n is >= 1 and <= 25)
                {
                    return (BuiltInType)n;
                }

                if (n == Enumeration)
                {
                    return BuiltInType.Int32;
                }
            }

            var parents = await client.BrowseAsync(current, BrowseDirection.Inverse, new NodeId(HasSubtype), includeSubtypes: false, cancellationToken: ct).ConfigureAwait(false);
            if (parents.Count == 0)
            {
                break;
            }

            current = parents[0].NodeId.NodeId;
        }

        throw new ServiceResultException(StatusCodes.BadTypeMismatch, $"data type {dataType} does not derive from a built-in type this command can write; use --type");
    }

    /// <summary>The method's input argument types, from its InputArguments property; empty when it takes none.</summary>
    public static async Task<IReadOnlyList<(string Name, BuiltInType Type, bool IsArray)>?> ResolveInputArgumentTypesAsync(OpcUaClient client, NodeId method, CancellationToken ct)
    {
        var paths = await client.TranslateBrowsePathsAsync([OpcUaClient.MakeBrowsePath(method, new QualifiedName("InputArguments"))], ct).ConfigureAwait(false);
        if (paths is not [{ StatusCode.IsGood: true, Targets: [var target, ..] }])
        {
            return [];
        }

        var value = await client.ReadAttributeAsync(target.TargetId.NodeId, Attributes.Value, ct).ConfigureAwait(false);
        if (value.Value.ArrayValue is not ExtensionObject[] arguments)
        {
            return null;
        }

        var result = new List<(string, BuiltInType, bool)>();
        foreach (var eo in arguments)
        {
            if (eo.Body is not Argument argument)
            {
                return null;
            }

            result.Add((argument.Name ?? "", await ToBuiltInAsync(client, argument.DataType, ct).ConfigureAwait(false), argument.ValueRank >= 0));
        }

        return result;
    }
}
