using System.Net;
using System.Net.Sockets;

namespace TwinGateway.Testing;

/// <summary>Free loopback TCP ports.</summary>
public static class FreePort
{
    /// <summary>A port the OS just handed out for 127.0.0.1:0; free once this returns (unless someone races us).</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
