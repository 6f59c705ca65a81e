using Microsoft.Extensions.Logging;
using TwinGateway.OpcUa.Server;
using TwinGateway.OpcUa.Server.Demo;

namespace TwinGateway.Testing;

/// <summary>
/// An OPC UA server the client suite runs against: node-opcua (an independent stack) or ours. Both expose the same
/// Test folder (tests/node/server.js and DemoNodes' interop folder), so one scenario is written once and bound to each.
/// </summary>
public interface ITestPeer : IAsyncDisposable
{
    string Name { get; }

    string EndpointUrl { get; }

    int Port { get; }

    ushort NamespaceIndex { get; }

    /// <summary>Stops the server and starts a fresh one on the same port (sessions and subscriptions are gone).</summary>
    Task RestartAsync();

    /// <summary>Whether the server transfers an anonymous session's subscriptions over SecurityMode None (node-opcua refuses, per Part 4 §5.13.7).</summary>
    bool TransfersAnonymousSubscriptions { get; }
}

/// <summary>Starts peers of either kind.</summary>
public static class TestPeers
{
    public const string NodeOpcUa = "node-opcua";
    public const string Ours = "ours";

    /// <summary>Starts a peer; ours logs into <paramref name="log"/> when one is given (node-opcua logs to its own stderr).</summary>
    public static async Task<ITestPeer> StartAsync(string kind, TestLog? log = null) => kind switch
    {
        NodeOpcUa => new NodePeer(await NodeOpcUaServer.StartAsync(new NodeOpcUaServerOptions())),
        Ours => await OurServerPeer.StartAsync(new OurServerSettings { Loggers = log }),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown peer"),
    };

    private sealed class NodePeer(NodeOpcUaServer server) : ITestPeer
    {
        public string Name => NodeOpcUa;
        public string EndpointUrl => server.EndpointUrl;
        public int Port => server.Port;
        public ushort NamespaceIndex => (ushort)server.NamespaceIndex;
        public bool TransfersAnonymousSubscriptions => false;
        public Task RestartAsync() => server.RestartAsync();
        public ValueTask DisposeAsync() => server.DisposeAsync();
    }
}

/// <summary>Settings of <see cref="OurServerPeer"/> that individual suites change.</summary>
public sealed record OurServerSettings
{
    public int Port { get; init; }

    /// <summary>Scale variables (Scale.00000 ..), changing every 100 ms; none by default.</summary>
    public int ScaleCount { get; init; }

    /// <summary>References per node before a continuation point; the server's default when null.</summary>
    public int? MaxReferencesPerNode { get; init; }

    public ILoggerFactory? Loggers { get; init; }
}

/// <summary>
/// Our own server with the demo and interop nodes (the Test folder mirrors tests/node/server.js), in this process, on a
/// free loopback port; user operator / secret1 besides anonymous.
/// </summary>
public sealed class OurServerPeer : ITestPeer
{
    private readonly OurServerSettings _settings;
    private UaServer _server;
    private DemoNodes _nodes;

    private OurServerPeer(OurServerSettings settings, UaServer server, DemoNodes nodes)
    {
        _settings = settings;
        _server = server;
        _nodes = nodes;
    }

    public static async Task<OurServerPeer> StartAsync(OurServerSettings? settings = null)
    {
        settings ??= new OurServerSettings();
        var (server, nodes) = await CreateAsync(settings);
        return new OurServerPeer(settings, server, nodes);
    }

    private static async Task<(UaServer, DemoNodes)> CreateAsync(OurServerSettings settings)
    {
        var options = new UaServerOptions
        {
            Port = settings.Port,
            ApplicationUri = "urn:twingateway:test:our-server",
            Authenticator = new StaticUserAuthenticator(new Dictionary<string, string> { ["operator"] = "secret1" }),
            MinSessionTimeout = TimeSpan.FromMilliseconds(500),
        };
        if (settings.MaxReferencesPerNode is { } max)
        {
            options = options with { MaxReferencesPerNode = max };
        }

        var server = new UaServer(options, loggerFactory: settings.Loggers);
        var nodes = DemoNodes.Add(server, scaleCount: settings.ScaleCount, interopTestFolder: true);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await server.StartAsync();
                return (server, nodes);
            }
            catch (OpcUa.Types.ServiceResultException) when (attempt < 50 && settings.Port != 0)
            {
                // The old listener's port may linger for a moment after a restart.
                await Task.Delay(100);
            }
            catch
            {
                await nodes.DisposeAsync();
                await server.DisposeAsync();
                throw;
            }
        }
    }

    public UaServer Server => _server;

    public string Name => TestPeers.Ours;

    public string EndpointUrl => _server.EndpointUrl;

    public int Port => _server.Port;

    public ushort NamespaceIndex => 1;

    public bool TransfersAnonymousSubscriptions => true;

    public async Task RestartAsync()
    {
        var port = _server.Port;
        await _nodes.DisposeAsync();
        await _server.DisposeAsync();
        (_server, _nodes) = await CreateAsync(_settings with { Port = port });
    }

    public async ValueTask DisposeAsync()
    {
        await _nodes.DisposeAsync();
        await _server.DisposeAsync();
    }
}

/// <summary>
/// One shared peer per kind for the service and subscription suites. What our server logs lands in <see cref="Log"/>,
/// which fails the suite when the fixture ends if the server logged an error no test declared expected.
/// </summary>
public abstract class PeerFixture(string kind) : IAsyncLifetime
{
    private ITestPeer? _peer;

    public ITestPeer Peer => _peer ?? throw new InvalidOperationException($"the {kind} peer did not start");

    /// <summary>The server's log (ours only; node-opcua's output is in its own process).</summary>
    public TestLog Log { get; } = new();

    public async Task InitializeAsync() => _peer = await TestPeers.StartAsync(kind, Log);

    public async Task DisposeAsync()
    {
        if (_peer is not null)
        {
            await _peer.DisposeAsync();
        }

        Log.Dispose();
    }
}

public sealed class NodeOpcUaPeerFixture() : PeerFixture(TestPeers.NodeOpcUa);

public sealed class OurServerPeerFixture() : PeerFixture(TestPeers.Ours);
