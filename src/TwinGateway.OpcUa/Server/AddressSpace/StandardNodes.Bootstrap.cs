using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Server.AddressSpace;

// Bootstrap until StandardNodes.g.cs is generated: the minimum the builders and services rely on.
internal static partial class StandardNodes
{
    static partial void AddTypes(UaAddressSpace space)
    {
        void Type<T>(T node, uint parent)
            where T : Node
        {
            space.Add(node);
            if (parent != 0)
            {
                space.AddReference(new NodeId(parent), new NodeId(ReferenceTypeIds.HasSubtype), node.NodeId);
            }
        }

        Type(new ReferenceTypeNode(new NodeId(ReferenceTypeIds.References), new QualifiedName("References")) { IsAbstract = true, Symmetric = true }, 0);
        Type(new ReferenceTypeNode(new NodeId(ReferenceTypeIds.HierarchicalReferences), new QualifiedName("HierarchicalReferences")) { IsAbstract = true }, ReferenceTypeIds.References);
        Type(new ReferenceTypeNode(new NodeId(ReferenceTypeIds.NonHierarchicalReferences), new QualifiedName("NonHierarchicalReferences")) { IsAbstract = true }, ReferenceTypeIds.References);
        Type(new ReferenceTypeNode(new NodeId(ReferenceTypeIds.HasChild), new QualifiedName("HasChild")) { IsAbstract = true }, ReferenceTypeIds.HierarchicalReferences);
        Type(new ReferenceTypeNode(new NodeId(ReferenceTypeIds.Organizes), new QualifiedName("Organizes")) { InverseName = new LocalizedText("OrganizedBy") }, ReferenceTypeIds.HierarchicalReferences);
        Type(new ReferenceTypeNode(new NodeId(ReferenceTypeIds.Aggregates), new QualifiedName("Aggregates")) { IsAbstract = true }, ReferenceTypeIds.HasChild);
        Type(new ReferenceTypeNode(new NodeId(ReferenceTypeIds.HasSubtype), new QualifiedName("HasSubtype")) { InverseName = new LocalizedText("SubtypeOf") }, ReferenceTypeIds.HasChild);
        Type(new ReferenceTypeNode(new NodeId(ReferenceTypeIds.HasComponent), new QualifiedName("HasComponent")) { InverseName = new LocalizedText("ComponentOf") }, ReferenceTypeIds.Aggregates);
        Type(new ReferenceTypeNode(new NodeId(ReferenceTypeIds.HasProperty), new QualifiedName("HasProperty")) { InverseName = new LocalizedText("PropertyOf") }, ReferenceTypeIds.Aggregates);
        Type(new ReferenceTypeNode(new NodeId(ReferenceTypeIds.HasTypeDefinition), new QualifiedName("HasTypeDefinition")) { InverseName = new LocalizedText("TypeDefinitionOf") }, ReferenceTypeIds.NonHierarchicalReferences);
        Type(new DataTypeNode(new NodeId(DataTypeIds.BaseDataType), new QualifiedName("BaseDataType")) { IsAbstract = true }, 0);
        Type(new DataTypeNode(new NodeId(DataTypeIds.Number), new QualifiedName("Number")) { IsAbstract = true }, DataTypeIds.BaseDataType);
        Type(new DataTypeNode(new NodeId(DataTypeIds.Integer), new QualifiedName("Integer")) { IsAbstract = true }, DataTypeIds.Number);
        Type(new DataTypeNode(new NodeId(DataTypeIds.UInteger), new QualifiedName("UInteger")) { IsAbstract = true }, DataTypeIds.Number);
        Type(new DataTypeNode(new NodeId(DataTypeIds.Enumeration), new QualifiedName("Enumeration")) { IsAbstract = true }, DataTypeIds.BaseDataType);
        for (var t = BuiltInType.Boolean; t <= BuiltInType.DiagnosticInfo; t++)
        {
            if (t == BuiltInType.Variant)
            {
                continue; // i=24 is BaseDataType itself
            }

            var parent = t switch
            {
                BuiltInType.SByte or BuiltInType.Int16 or BuiltInType.Int32 or BuiltInType.Int64 => DataTypeIds.Integer,
                BuiltInType.Byte or BuiltInType.UInt16 or BuiltInType.UInt32 or BuiltInType.UInt64 => DataTypeIds.UInteger,
                BuiltInType.Float or BuiltInType.Double => DataTypeIds.Number,
                _ => DataTypeIds.BaseDataType,
            };
            Type(new DataTypeNode(new NodeId((uint)t), new QualifiedName(t == BuiltInType.ExtensionObject ? "Structure" : t.ToString())), parent);
        }

        Type(new DataTypeNode(new NodeId(DataTypeIds.Argument), new QualifiedName("Argument")), (uint)BuiltInType.ExtensionObject);
        Type(new DataTypeNode(new NodeId(DataTypeIds.Duration), new QualifiedName("Duration")), (uint)BuiltInType.Double);
        Type(new DataTypeNode(new NodeId(DataTypeIds.UtcTime), new QualifiedName("UtcTime")), (uint)BuiltInType.DateTime);
        Type(new DataTypeNode(new NodeId(DataTypeIds.ServerState), new QualifiedName("ServerState")), DataTypeIds.Enumeration);
        Type(new DataTypeNode(new NodeId(DataTypeIds.BuildInfo), new QualifiedName("BuildInfo")), (uint)BuiltInType.ExtensionObject);
        Type(new DataTypeNode(new NodeId(DataTypeIds.ServerStatusDataType), new QualifiedName("ServerStatusDataType")), (uint)BuiltInType.ExtensionObject);
        Type(new ObjectTypeNode(new NodeId(ObjectTypeIds.BaseObjectType), new QualifiedName("BaseObjectType")), 0);
        Type(new ObjectTypeNode(new NodeId(ObjectTypeIds.FolderType), new QualifiedName("FolderType")), ObjectTypeIds.BaseObjectType);
        Type(new ObjectTypeNode(new NodeId(ObjectTypeIds.ServerType), new QualifiedName("ServerType")), ObjectTypeIds.BaseObjectType);
        Type(new ObjectTypeNode(new NodeId(ObjectTypeIds.ServerCapabilitiesType), new QualifiedName("ServerCapabilitiesType")), ObjectTypeIds.BaseObjectType);
        Type(new ObjectTypeNode(new NodeId(ObjectTypeIds.OperationLimitsType), new QualifiedName("OperationLimitsType")), ObjectTypeIds.FolderType);
        Type(new VariableTypeNode(new NodeId(VariableTypeIds.BaseVariableType), new QualifiedName("BaseVariableType")) { IsAbstract = true }, 0);
        Type(new VariableTypeNode(new NodeId(VariableTypeIds.BaseDataVariableType), new QualifiedName("BaseDataVariableType")), VariableTypeIds.BaseVariableType);
        Type(new VariableTypeNode(new NodeId(VariableTypeIds.PropertyType), new QualifiedName("PropertyType")), VariableTypeIds.BaseVariableType);
        Type(new VariableTypeNode(new NodeId(VariableTypeIds.ServerStatusType), new QualifiedName("ServerStatusType")), VariableTypeIds.BaseDataVariableType);
        Type(new VariableTypeNode(new NodeId(VariableTypeIds.BuildInfoType), new QualifiedName("BuildInfoType")), VariableTypeIds.BaseDataVariableType);
    }
}
