using TwinGateway.OpcUa.Server;

namespace TwinGateway.Testing;

/// <summary>
/// Our own <see cref="UaServer"/> in this process on a free loopback port, with the demo address space (2,000 Scale
/// variables) and the interop Test folder, user operator / secret1 besides anonymous, and MaxReferencesPerNode 100 so
/// a browse of Test.Big (1,500 children) must go on with BrowseNext. Everything it logs lands in <see cref="Log"/>,
/// which fails the collection when the fixture ends if the server logged an error that no test declared expected.
/// </summary>
public sealed class OurServerFixture : IAsyncLifetime
{
    /// <summary>Scale variables: Scale.00000 .. Scale.01999 (five digits), Double, changed every 100 ms.</summary>
    public const int ScaleCount = 2000;

    /// <summary>References per node before the server hands out a continuation point.</summary>
    public const int MaxReferencesPerNode = 100;

    /// <summary>The namespace of every demo and test node.</summary>
    public const int NamespaceIndex = 1;

    private OurServerPeer? _peer;

    /// <summary>Everything the server logged (warnings for refused requests are expected; errors are not).</summary>
    public TestLog Log { get; } = new();

    public UaServer Server => _peer?.Server ?? throw new InvalidOperationException("The our-server fixture has not been initialized.");

    /// <summary><c>opc.tcp://127.0.0.1:{port}</c>.</summary>
    public string EndpointUrl => Server.EndpointUrl;

    public async Task InitializeAsync() => _peer = await OurServerPeer.StartAsync(new OurServerSettings
    {
        ScaleCount = ScaleCount,
        MaxReferencesPerNode = MaxReferencesPerNode,
        Loggers = Log,
    });

    /// <summary>Stops the server, then fails if it logged an error no test declared (<see cref="TestLog.Expect(int)"/>).</summary>
    public async Task DisposeAsync()
    {
        if (_peer is not null)
        {
            await _peer.DisposeAsync();
            _peer = null;
        }

        Log.Dispose();
    }
}
