using TwinGateway.OpcUa.Server.AddressSpace;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Tests.Server;

/// <summary>A node's reference storage: exact arrays for small nodes, an index for large folders, stable snapshots.</summary>
public sealed class NodeReferencesTests
{
    private static readonly NodeId Organizes = new(ReferenceTypeIds.Organizes);

    [Fact]
    public void A_variable_holds_exactly_its_two_references_and_the_snapshot_handed_out_does_not_change_afterwards()
    {
        var space = new UaAddressSpace("urn:test");
        var folder = space.AddFolder(new NodeId(ObjectIds.ObjectsFolder), new NodeId("f", 1), "f");
        var variable = space.AddVariable(folder.NodeId, new NodeId("v", 1), "v", new NodeId(DataTypeIds.Double), new Variant(0.0));

        var before = variable.References;
        Assert.Equal(2, before.Count);
        space.AddReference(variable.NodeId, Organizes, folder.NodeId);

        Assert.Equal(2, before.Count);
        Assert.Equal(3, variable.References.Count);
        Assert.Equal(new ReferenceEntry(Organizes, false, folder.NodeId), variable.References[2]);
    }

    [Fact]
    public void A_large_folder_refuses_duplicates_keeps_insertion_order_and_removes_references()
    {
        var space = new UaAddressSpace("urn:test");
        var folder = space.AddFolder(new NodeId(ObjectIds.ObjectsFolder), new NodeId("big", 1), "big");
        for (var i = 0; i < 1000; i++)
        {
            space.AddVariable(folder.NodeId, new NodeId($"v{i}", 1), $"v{i}", new NodeId(DataTypeIds.Double), new Variant((double)i));
        }

        var snapshot = folder.References;
        for (var i = 0; i < 1000; i += 7)
        {
            space.AddReference(folder.NodeId, new NodeId(ReferenceTypeIds.HasComponent), new NodeId($"v{i}", 1)); // the parent's reference type
            space.AddReference(folder.NodeId, new NodeId(ReferenceTypeIds.HasComponent), new NodeId($"v{i}", 1)); // again: refused
        }

        var forward = folder.References.Where(r => !r.IsInverse && r.ReferenceTypeId == new NodeId(ReferenceTypeIds.HasComponent)).ToList();
        Assert.Equal(143, forward.Count);
        Assert.Equal(snapshot.Count + 143, folder.References.Count);
        Assert.Equal(new NodeId("v0", 1), forward[0].TargetId.NodeId);
        Assert.Equal(new NodeId("v994", 1), forward[^1].TargetId.NodeId);
        Assert.DoesNotContain(snapshot, r => r.ReferenceTypeId == new NodeId(ReferenceTypeIds.HasComponent));

        Assert.True(space.Remove(new NodeId("v7", 1)));
        Assert.DoesNotContain(folder.References, r => r.TargetId.NodeId == new NodeId("v7", 1));
        Assert.Contains(snapshot, r => r.TargetId.NodeId == new NodeId("v7", 1));
        space.AddReference(folder.NodeId, new NodeId(ReferenceTypeIds.HasComponent), new NodeId("v14", 1));
        Assert.Equal(snapshot.Count + 143 - 2, folder.References.Count);
    }
}
