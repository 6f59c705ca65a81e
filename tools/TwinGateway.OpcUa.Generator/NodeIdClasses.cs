namespace TwinGateway.OpcUa.Generator;

/// <summary>One generated static class of node id constants, sorted by name.</summary>
internal sealed record NodeIdClass(string Name, string Summary, IReadOnlyList<(string Name, uint Id)> Ids);

/// <summary>
/// Chooses and names the well-known node ids: every DataType, ReferenceType, ObjectType and VariableType, and of the
/// instances only the top-level folders and the Server object's subtree. Names follow the specification's NodeIds table:
/// the SymbolicName, else the BrowseName; an instance's name joins its parents' names with '_'
/// (<c>Server_ServerStatus_State</c>).
/// </summary>
internal static class NodeIdClasses
{
    private const uint ServerObject = 2253;

    public static List<NodeIdClass> Build(NodeSet nodeSet, TypeModel types, List<string> warnings)
    {
        var dataTypes = new List<(string, uint)>();
        var referenceTypes = new List<(string, uint)>();
        var objectTypes = new List<(string, uint)>();
        var variableTypes = new List<(string, uint)>();
        var objects = new List<(string, uint)>();
        var variables = new List<(string, uint)>();
        var methods = new List<(string, uint)>();

        foreach (var node in nodeSet.Nodes)
        {
            switch (node.NodeClass)
            {
                case UaNodeClass.DataType:
                    dataTypes.Add((Naming.Identifier(node.SymbolicName ?? node.BrowseName), node.Id));
                    break;
                case UaNodeClass.ReferenceType:
                    referenceTypes.Add((Naming.Identifier(node.SymbolicName ?? node.BrowseName), node.Id));
                    break;
                case UaNodeClass.ObjectType:
                    objectTypes.Add((Naming.Identifier(node.SymbolicName ?? node.BrowseName), node.Id));
                    break;
                case UaNodeClass.VariableType:
                    variableTypes.Add((Naming.Identifier(node.SymbolicName ?? node.BrowseName), node.Id));
                    break;
                case UaNodeClass.Object or UaNodeClass.Variable or UaNodeClass.Method:
                    if (InstanceName(nodeSet, node) is { } name)
                    {
                        (node.NodeClass switch
                        {
                            UaNodeClass.Object => objects,
                            UaNodeClass.Variable => variables,
                            _ => methods,
                        }).Add((name, node.Id));
                    }

                    break;
            }
        }

        // The NodeSet leaves out the service messages' DataTypes; add the generated ones (ids from the NodeIds table).
        var known = new HashSet<uint>(dataTypes.Select(d => d.Item2));
        foreach (var s in types.Structs.Where(s => s.DataTypeId != 0 && !known.Contains(s.DataTypeId)))
        {
            dataTypes.Add((s.Name, s.DataTypeId));
            known.Add(s.DataTypeId);
        }

        return
        [
            Make("DataTypeIds", "DataType nodes: the built-in types, structures, enumerations and service messages.", dataTypes, warnings),
            Make("MethodIds", "Methods of the Server object.", methods, warnings),
            Make("ObjectIds", "The standard folders (RootFolder, ObjectsFolder, ...) and the Server object's subtree.", objects, warnings),
            Make("ObjectTypeIds", "ObjectType nodes.", objectTypes, warnings),
            Make("ReferenceTypeIds", "ReferenceType nodes.", referenceTypes, warnings),
            Make("VariableIds", "Variables of the Server object's subtree.", variables, warnings),
            Make("VariableTypeIds", "VariableType nodes.", variableTypes, warnings),
        ];
    }

    /// <summary>The constant's name for an instance we keep, or null for one we leave out.</summary>
    private static string? InstanceName(NodeSet nodeSet, UaNode node)
    {
        var segments = new List<string>();
        var current = node;
        var seen = new HashSet<uint>();
        while (true)
        {
            if (!seen.Add(current.Id))
            {
                return null;
            }

            segments.Add(Naming.Identifier(current.SymbolicName ?? current.BrowseName).TrimStart('@'));
            var parent = nodeSet.Parent(current);
            if (parent is null)
            {
                break;
            }

            current = parent;
        }

        if (current.Id == ServerObject)
        {
            segments.Reverse();
            return string.Join('_', segments);
        }

        // A top-level folder (RootFolder, ObjectsFolder, TypesFolder, ..., InterfaceTypes, Locations).
        if (segments.Count == 1 && node.NodeClass == UaNodeClass.Object && NodeSet.TypeDefinition(node) == NodeSet.FolderType)
        {
            return segments[0];
        }

        return null;
    }

    private static NodeIdClass Make(string name, string summary, List<(string Name, uint Id)> ids, List<string> warnings)
    {
        var result = new List<(string, uint)>();
        var used = new Dictionary<string, uint>(StringComparer.Ordinal);
        foreach (var (n, id) in ids.OrderBy(i => i.Name, StringComparer.Ordinal).ThenBy(i => i.Id))
        {
            var unique = n;
            if (used.TryGetValue(n, out var other))
            {
                if (other == id)
                {
                    continue;
                }

                unique = CodeWriter.Inv($"{n}_{id}");
                warnings.Add($"{name}: {n} names both i={other} and i={id}; the second is {unique}");
            }

            used[unique] = id;
            result.Add((unique, id));
        }

        return new NodeIdClass(name, summary, result);
    }
}
