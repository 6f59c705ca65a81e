
namespace TwinGateway.Testing;

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

