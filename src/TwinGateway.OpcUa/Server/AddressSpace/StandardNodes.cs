using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Server.AddressSpace;

/// <summary>
/// The standard nodes every OPC UA server has (OPC 10000-5): the type hierarchy (generated from the NodeSet into
/// StandardNodes.g.cs) and the Root/Objects/Types/Views folders. The Server object's live variables are added by
/// <see cref="UaServer"/>, which owns their values.
/// </summary>
internal static partial class StandardNodes
{
    public static void AddTo(UaAddressSpace space)
    {
        AddTypes(space);
        AddFolders(space);
    }

    /// <summary>Generated: every DataType, ReferenceType, ObjectType and VariableType of namespace 0, with HasSubtype references.</summary>
    static partial void AddTypes(UaAddressSpace space);

    private static void AddFolders(UaAddressSpace space)
    {
        var organizes = new NodeId(ReferenceTypeIds.Organizes);
        var typeDefinition = new NodeId(ReferenceTypeIds.HasTypeDefinition);
        var folderType = new NodeId(ObjectTypeIds.FolderType);
        AddFolder(space, ObjectIds.RootFolder, "Root");
        foreach (var (id, name) in new[] { (ObjectIds.ObjectsFolder, "Objects"), (ObjectIds.TypesFolder, "Types"), (ObjectIds.ViewsFolder, "Views") })
        {
            AddFolder(space, id, name);
            space.AddReference(new NodeId(ObjectIds.RootFolder), organizes, new NodeId(id));
        }

        foreach (var (id, name, root) in new[]
        {
            (ObjectIds.ObjectTypesFolder, "ObjectTypes", ObjectTypeIds.BaseObjectType),
            (ObjectIds.VariableTypesFolder, "VariableTypes", VariableTypeIds.BaseVariableType),
            (ObjectIds.DataTypesFolder, "DataTypes", DataTypeIds.BaseDataType),
            (ObjectIds.ReferenceTypesFolder, "ReferenceTypes", ReferenceTypeIds.References),
        })
        {
            AddFolder(space, id, name);
            space.AddReference(new NodeId(ObjectIds.TypesFolder), organizes, new NodeId(id));
            if (space.Find(new NodeId(root)) is not null)
            {
                space.AddReference(new NodeId(id), organizes, new NodeId(root));
            }
        }

        void AddFolder(UaAddressSpace s, uint id, string name)
        {
            if (s.Find(new NodeId(id)) is not null)
            {
                return;
            }

            s.Add(new ObjectNode(new NodeId(id), new QualifiedName(0, name)));
            s.AddReference(new NodeId(id), typeDefinition, folderType);
        }
    }
}
