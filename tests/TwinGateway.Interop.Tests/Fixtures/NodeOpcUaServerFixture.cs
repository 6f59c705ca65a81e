using System.Diagnostics.CodeAnalysis;

namespace TwinGateway.Interop.Tests.Fixtures;

/// <summary>One node-opcua server (no bench items) shared by every test in the "node-opcua" collection.</summary>
public sealed class NodeOpcUaServerFixture : IAsyncLifetime
{
    private NodeOpcUaServer? _server;

    /// <summary>The running server.</summary>
    public NodeOpcUaServer Server =>
        _server ?? throw new InvalidOperationException("The node-opcua server fixture has not been initialized.");

    public async Task InitializeAsync() => _server = await NodeOpcUaServer.StartAsync(new NodeOpcUaServerOptions());

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
            _server = null;
        }
    }
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
