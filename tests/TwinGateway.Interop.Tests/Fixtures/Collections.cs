using System.Diagnostics.CodeAnalysis;

namespace TwinGateway.Interop.Tests.Fixtures;

/// <summary>Tests marked <c>[Collection("our-server")]</c> share one <see cref="OurServerFixture"/> and run one after another.</summary>
[CollectionDefinition(Name)]
[SuppressMessage(
    "Naming",
    "CA1711:Identifiers should not have incorrect suffix",
    Justification = "xunit collection definitions are named after the collection they define.")]
public sealed class OurServerCollection : ICollectionFixture<OurServerFixture>
{
    /// <summary>The collection name to put in <c>[Collection(...)]</c>.</summary>
    public const string Name = "our-server";
}

/// <summary>Tests marked <c>[Collection("node-opcua")]</c> share one <see cref="NodeOpcUaServerFixture"/>.</summary>
[CollectionDefinition("node-opcua")]
[SuppressMessage(
    "Naming",
    "CA1711:Identifiers should not have incorrect suffix",
    Justification = "xunit collection definitions are named after the collection they define.")]
public sealed class NodeOpcUaCollection : ICollectionFixture<NodeOpcUaServerFixture>
{
    /// <summary>The collection name to put in <c>[Collection(...)]</c>.</summary>
    public const string Name = "node-opcua";
}
