using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using TwinGateway.Interop.Tests.Fixtures;

namespace TwinGateway.Interop.Tests;

/// <summary>The node-opcua peer starts and answers node-opcua's own client.</summary>
[Collection(NodeOpcUaCollection.Name)]
public sealed class NodePeerSmokeTests(NodeOpcUaServerFixture fixture)
{
    [Fact]
    public async Task Node_client_reads_the_read_only_double_from_the_node_server()
    {
        var server = fixture.Server;
        Assert.StartsWith("opc.tcp://127.0.0.1:", server.EndpointUrl, StringComparison.Ordinal);
        Assert.Equal("urn:twingateway:test:node-opcua-server", server.NamespaceUri);

        var nodeId = string.Create(CultureInfo.InvariantCulture, $"ns={server.NamespaceIndex};s=Test.ReadOnly");
        var result = await NodeScript.RunAsync(
            "client.js",
            ["--endpoint", server.EndpointUrl, "--read", nodeId],
            TimeSpan.FromSeconds(60));

        var json = result.SingleJson;
        Assert.Equal(nodeId, json.GetProperty("nodeId").GetString());
        Assert.Equal("Good", json.GetProperty("status").GetString());
        Assert.Equal("Double", json.GetProperty("dataType").GetString());
        Assert.Equal(42.5, json.GetProperty("value").GetDouble());
    }
}

/// <summary>The fault proxy forwards bytes and resets connections on demand.</summary>
public sealed class TcpFaultProxyTests
{
    [Fact]
    public async Task Proxy_forwards_to_an_echo_server_and_DropAll_resets_the_connection()
    {
        using var echo = new TcpListener(IPAddress.Loopback, 0);
        echo.Start();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var echoTask = EchoAsync(echo, stop.Token);

        await using var proxy = new TcpFaultProxy("127.0.0.1", ((IPEndPoint)echo.LocalEndpoint).Port);
        Assert.Equal(
            string.Create(CultureInfo.InvariantCulture, $"opc.tcp://127.0.0.1:{proxy.Port}/ua"),
            proxy.RewriteUrl("opc.tcp://127.0.0.1:4840/ua"));

        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port, stop.Token);
        var stream = client.GetStream();
        var hello = Encoding.ASCII.GetBytes("hello");
        await stream.WriteAsync(hello, stop.Token);
        var buffer = new byte[64];
        var received = 0;
        while (received < hello.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(received), stop.Token);
            Assert.NotEqual(0, n);
            received += n;
        }

        Assert.Equal("hello", Encoding.ASCII.GetString(buffer, 0, received));
        Assert.Equal(1, proxy.ConnectionCount);

        proxy.DropAll();

        var dropped = false;
        try
        {
            var n = await stream.ReadAsync(buffer, stop.Token);
            dropped = n == 0;
        }
        catch (IOException)
        {
            dropped = true;
        }
        catch (SocketException)
        {
            dropped = true;
        }

        Assert.True(dropped, "the client side should see the connection end after DropAll");
        await stop.CancelAsync();
        echo.Stop();
        await echoTask;
    }

    [Fact]
    public async Task Paused_proxy_holds_bytes_until_resumed()
    {
        using var echo = new TcpListener(IPAddress.Loopback, 0);
        echo.Start();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var echoTask = EchoAsync(echo, stop.Token);
        await using var proxy = new TcpFaultProxy("127.0.0.1", ((IPEndPoint)echo.LocalEndpoint).Port);

        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port, stop.Token);
        var stream = client.GetStream();
        proxy.Paused = true;
        await stream.WriteAsync(Encoding.ASCII.GetBytes("x"), stop.Token);
        var buffer = new byte[8];
        var read = stream.ReadAsync(buffer, stop.Token).AsTask();
        // The direction toward the echo stopped at the pause (a positive event, not a sleep): the byte is held there,
        // unread or read and kept, so no echo can come back.
        while (proxy.Holds == 0)
        {
            await Task.Delay(10, stop.Token);
        }

        Assert.False(read.IsCompleted, "nothing may pass while paused");

        proxy.Paused = false;
        Assert.Equal(1, await read.WaitAsync(TimeSpan.FromSeconds(10), stop.Token));
        Assert.Equal((byte)'x', buffer[0]);

        await stop.CancelAsync();
        echo.Stop();
        await echoTask;
    }

    private static async Task EchoAsync(TcpListener listener, CancellationToken ct)
    {
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                var socket = await listener.AcceptSocketAsync(ct);
                connections.Add(Task.Run(
                    async () =>
                    {
                        using (socket)
                        {
                            var buffer = new byte[1024];
                            try
                            {
                                int n;
                                while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, ct)) > 0)
                                {
                                    await socket.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, ct);
                                }
                            }
                            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
                            {
                            }
                        }
                    },
                    CancellationToken.None));
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }

        await Task.WhenAll(connections);
    }
}
