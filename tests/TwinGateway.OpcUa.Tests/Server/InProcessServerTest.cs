using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Server;

namespace TwinGateway.OpcUa.Tests.Server;

/// <summary>Our server on a free loopback port with our client connected to it, started and stopped per test.</summary>
public abstract class InProcessServerTest : IAsyncLifetime
{
    protected UaServer Server { get; private set; } = null!;

    protected OpcUaClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = new UaServer(new UaServerOptions { Port = 0 });
        await Server.StartAsync();
        Client = await OpcUaClient.ConnectAsync(Server.EndpointUrl);
    }

    public async Task DisposeAsync()
    {
        await Client.DisposeAsync();
        await Server.DisposeAsync();
    }
}
