using TwinGateway.OpcUa.Server.AddressSpace;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Tests.Server;

/// <summary>The standard type nodes generated from Opc.Ua.NodeSet2.xml into StandardNodes.g.cs.</summary>
public sealed class StandardNodesTests
{
    private static readonly UaAddressSpace Space = new("urn:test");

    private static NodeId Id(uint id) => new(id);

    [Fact]
    public void Address_space_holds_every_standard_type()
    {
        Assert.True(Space.Count > 800, $"only {Space.Count} nodes");
        Assert.Equal(80, Space.Nodes.OfType<ReferenceTypeNode>().Count());
        Assert.True(Space.Nodes.OfType<DataTypeNode>().Count() >= 300);
        Assert.True(Space.Nodes.OfType<ObjectTypeNode>().Count() >= 250);
        Assert.True(Space.Nodes.OfType<VariableTypeNode>().Count() >= 60);
    }

    [Fact]
    public void Covers_what_the_bootstrap_added()
    {
        uint[] referenceTypes =
        [
            ReferenceTypeIds.References, ReferenceTypeIds.HierarchicalReferences, ReferenceTypeIds.NonHierarchicalReferences,
            ReferenceTypeIds.HasChild, ReferenceTypeIds.Organizes, ReferenceTypeIds.Aggregates, ReferenceTypeIds.HasSubtype,
            ReferenceTypeIds.HasComponent, ReferenceTypeIds.HasProperty, ReferenceTypeIds.HasTypeDefinition,
        ];
        uint[] dataTypes =
        [
            DataTypeIds.BaseDataType, DataTypeIds.Number, DataTypeIds.Integer, DataTypeIds.UInteger, DataTypeIds.Enumeration,
            DataTypeIds.Structure, DataTypeIds.Argument, DataTypeIds.Duration, DataTypeIds.UtcTime, DataTypeIds.ServerState,
            DataTypeIds.BuildInfo, DataTypeIds.ServerStatusDataType,
        ];
        uint[] objectTypes =
        [
            ObjectTypeIds.BaseObjectType, ObjectTypeIds.FolderType, ObjectTypeIds.ServerType, ObjectTypeIds.ServerCapabilitiesType,
            ObjectTypeIds.OperationLimitsType,
        ];
        uint[] variableTypes =
        [
            VariableTypeIds.BaseVariableType, VariableTypeIds.BaseDataVariableType, VariableTypeIds.PropertyType,
            VariableTypeIds.ServerStatusType, VariableTypeIds.BuildInfoType,
        ];

        Assert.All(referenceTypes, id => Assert.IsType<ReferenceTypeNode>(Space.Find(Id(id))));
        Assert.All(dataTypes, id => Assert.IsType<DataTypeNode>(Space.Find(Id(id))));
        Assert.All(objectTypes, id => Assert.IsType<ObjectTypeNode>(Space.Find(Id(id))));
        Assert.All(variableTypes, id => Assert.IsType<VariableTypeNode>(Space.Find(Id(id))));

        // Every built-in type (Boolean = 1 .. DiagnosticInfo = 25) is a DataType node.
        for (var t = BuiltInType.Boolean; t <= BuiltInType.DiagnosticInfo; t++)
        {
            Assert.IsType<DataTypeNode>(Space.Find(Id((uint)t)));
        }
    }

    [Fact]
    public void Reference_type_hierarchy()
    {
        Assert.True(Space.IsSubtypeOf(Id(ReferenceTypeIds.HasComponent), Id(ReferenceTypeIds.HierarchicalReferences)));
        Assert.True(Space.IsSubtypeOf(Id(ReferenceTypeIds.HasProperty), Id(ReferenceTypeIds.References)));
        Assert.False(Space.IsSubtypeOf(Id(ReferenceTypeIds.Organizes), Id(ReferenceTypeIds.HasChild)));
        Assert.False(Space.IsSubtypeOf(Id(ReferenceTypeIds.HasTypeDefinition), Id(ReferenceTypeIds.HierarchicalReferences)));
    }

    [Fact]
    public void Data_type_hierarchy()
    {
        Assert.Equal(Id(DataTypeIds.Double), Space.SuperType(Id(DataTypeIds.Duration)));
        Assert.Equal(Id(DataTypeIds.Enumeration), Space.SuperType(Id(DataTypeIds.ServerState)));
        Assert.Equal(Id(DataTypeIds.Structure), Space.SuperType(Id(DataTypeIds.ServerStatusDataType)));
        Assert.True(Space.IsSubtypeOf(Id(DataTypeIds.Int32), Id(DataTypeIds.Integer)));
        Assert.True(Space.IsSubtypeOf(Id(DataTypeIds.UInt16), Id(DataTypeIds.UInteger)));
        Assert.True(Space.IsSubtypeOf(Id(DataTypeIds.Duration), Id(DataTypeIds.Number)));
    }

    [Fact]
    public void Attributes_are_read_from_the_nodeset()
    {
        var baseDataType = Space.Find(Id(DataTypeIds.BaseDataType))!;
        var isAbstract = baseDataType.ReadAttribute(Attributes.IsAbstract);
        Assert.True(isAbstract.StatusCode.IsGood);
        Assert.True(isAbstract.Value.Value is true);
        Assert.True(Space.Find(Id(DataTypeIds.Double))!.ReadAttribute(Attributes.IsAbstract).Value.Value is false);

        var hasComponent = Space.Find(Id(ReferenceTypeIds.HasComponent))!;
        Assert.Equal(new LocalizedText("ComponentOf"), hasComponent.ReadAttribute(Attributes.InverseName).Value.Value);
        Assert.True(hasComponent.ReadAttribute(Attributes.Symmetric).Value.Value is false);
        Assert.True(((ReferenceTypeNode)Space.Find(Id(ReferenceTypeIds.References))!).Symmetric);

        Assert.Equal(new QualifiedName(0, "Structure"), Space.Find(Id(DataTypeIds.Structure))!.BrowseName);
        Assert.Equal("Structure", Space.Find(Id(DataTypeIds.Structure))!.DisplayName.Text);

        var serverStatusType = (VariableTypeNode)Space.Find(Id(VariableTypeIds.ServerStatusType))!;
        Assert.Equal(Id(DataTypeIds.ServerStatusDataType), serverStatusType.DataType);
        Assert.Equal(-1, serverStatusType.ValueRank);
        var baseVariableType = (VariableTypeNode)Space.Find(Id(VariableTypeIds.BaseVariableType))!;
        Assert.True(baseVariableType.IsAbstract);
        Assert.Equal(-2, baseVariableType.ValueRank);
    }

    [Fact]
    public void Every_type_but_the_four_roots_has_exactly_one_supertype()
    {
        var roots = new HashSet<NodeId>
        {
            Id(ReferenceTypeIds.References), Id(DataTypeIds.BaseDataType), Id(ObjectTypeIds.BaseObjectType), Id(VariableTypeIds.BaseVariableType),
        };
        var hasSubtype = Id(ReferenceTypeIds.HasSubtype);
        var types = Space.Nodes.OfType<TypeNode>().ToList();
        Assert.True(types.Count > 700);
        foreach (var type in types)
        {
            var supertypes = type.References.Count(r => r.IsInverse && r.ReferenceTypeId == hasSubtype);
            Assert.True(roots.Contains(type.NodeId) ? supertypes == 0 : supertypes == 1, $"{type} has {supertypes} supertypes");
            if (supertypes == 1)
            {
                // The supertype is a type of the same node class, and it lists the subtype as a forward reference.
                var parent = Space.Find(Space.SuperType(type.NodeId)!.Value)!;
                Assert.Equal(type.NodeClass, parent.NodeClass);
                Assert.Contains(parent.References, r => !r.IsInverse && r.ReferenceTypeId == hasSubtype && r.TargetId.NodeId == type.NodeId);
            }
        }
    }

    [Fact]
    public void Structures_reference_their_default_binary_encoding()
    {
        var hasEncoding = Id(ReferenceTypeIds.HasEncoding);
        var argument = Space.Find(Id(DataTypeIds.Argument))!;
        var encoding = Assert.Single(argument.References, r => !r.IsInverse && r.ReferenceTypeId == hasEncoding);
        Assert.Equal(Argument.BinaryEncodingNodeId, encoding.TargetId.NodeId);
        var node = Assert.IsType<ObjectNode>(Space.Find(encoding.TargetId.NodeId));
        Assert.Equal(new QualifiedName(0, "Default Binary"), node.BrowseName);
        Assert.Contains(node.References, r => !r.IsInverse && r.ReferenceTypeId == Id(ReferenceTypeIds.HasTypeDefinition)
            && r.TargetId.NodeId == Id(ObjectTypeIds.DataTypeEncodingType));
        Assert.Contains(node.References, r => r.IsInverse && r.ReferenceTypeId == hasEncoding && r.TargetId.NodeId == argument.NodeId);
    }
}
