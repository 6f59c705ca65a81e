using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace TwinGateway.Host.Web;

/// <summary>
/// Serves gRPC (h2c) and the web console (HTTP/1.1) on one cleartext port, <c>Gateway:ApiUrl</c>. Kestrel cannot: an
/// endpoint that allows HTTP/1.1 and HTTP/2 without TLS speaks HTTP/1.1 only, since it chooses the protocol by ALPN,
/// which needs TLS. So the API endpoint stays HTTP/2-only (gRPC goes straight to Kestrel, as before) and this connection
/// middleware looks at a connection's first bytes: the HTTP/2 client preface goes on to Kestrel's HTTP/2; anything else
/// (a browser's HTTP/1.1 request) is relayed, byte for byte, to the gateway's own HTTP/1.1 listener on a Unix socket
/// that only this process knows. With TLS (an https ApiUrl) ALPN chooses and this middleware is not installed.
/// </summary>
internal sealed class CleartextMultiplexer
{
    private static readonly byte[] s_preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    private readonly string _socketPath;

    public CleartextMultiplexer()
    {
        // Short (Unix socket paths are limited to 107 bytes) and unique per gateway in this process (tests run several).
        _socketPath = Path.Combine(Path.GetTempPath(), $"twingw-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..12]}.sock");
    }

    /// <summary>The Unix socket of the HTTP/1.1 listener that the web console's connections are relayed to.</summary>
    public string SocketPath => _socketPath;

    /// <summary>Removes the socket file (on shutdown).</summary>
    public void DeleteSocket()
    {
        try
        {
            File.Delete(_socketPath);
        }
        catch (IOException)
        {
            // Gone already, or the folder is read-only: nothing to clean up either way.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public ConnectionDelegate Middleware(ConnectionDelegate next) => async connection =>
    {
        if (await StartsWithHttp2PrefaceAsync(connection.Transport.Input, connection.ConnectionClosed).ConfigureAwait(false))
        {
            await next(connection).ConfigureAwait(false);
            return;
        }

        await RelayAsync(connection).ConfigureAwait(false);
    };

    /// <summary>Reads until the first bytes decide, then puts everything back for whoever reads next.</summary>
    private static async Task<bool> StartsWithHttp2PrefaceAsync(PipeReader input, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult read;
            try
            {
                read = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return true; // Closed before it said anything: Kestrel's HTTP/2 handles (and logs nothing for) an empty connection.
            }

            var buffer = read.Buffer;
            var length = (int)Math.Min(buffer.Length, s_preface.Length);
            var matches = Matches(buffer.Slice(0, length), s_preface.AsSpan(0, length));
            if (!matches || length == s_preface.Length || read.IsCompleted || read.IsCanceled)
            {
                input.AdvanceTo(buffer.Start);
                return matches;
            }

            input.AdvanceTo(buffer.Start, buffer.End); // A prefix of the preface so far: wait for more.
        }
    }

    private static bool Matches(ReadOnlySequence<byte> head, ReadOnlySpan<byte> expected)
    {
        Span<byte> copy = stackalloc byte[expected.Length];
        head.CopyTo(copy);
        return copy.SequenceEqual(expected);
    }

    private async Task RelayAsync(ConnectionContext connection)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(_socketPath), connection.ConnectionClosed).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return; // Shutting down: the connection closes, as it would on any server going away.
        }

        var stream = new NetworkStream(socket, ownsSocket: false);
        await using (stream.ConfigureAwait(false))
        {
            var upstream = CopyUpAsync(connection.Transport.Input, stream, socket);
            await CopyDownAsync(stream, connection.Transport.Output).ConfigureAwait(false);
            // The listener closed its side (a response with "Connection: close", shutdown): stop waiting for the browser.
            connection.Transport.Input.CancelPendingRead();
            await upstream.ConfigureAwait(false);
        }
    }

    private static async Task CopyUpAsync(PipeReader input, NetworkStream stream, Socket socket)
    {
        try
        {
            await input.CopyToAsync(stream).ConfigureAwait(false);
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or ConnectionResetException or OperationCanceledException)
        {
            socket.Close();
        }
    }

    private static async Task CopyDownAsync(NetworkStream stream, PipeWriter output)
    {
        try
        {
            await stream.CopyToAsync(output).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or ConnectionResetException or OperationCanceledException)
        {
            // The browser or the listener went away: the relay ends with it.
        }
        finally
        {
            await output.CompleteAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>Removes the multiplexer's Unix socket file when the gateway stops.</summary>
internal sealed class MultiplexerSocketCleanup(CleartextMultiplexer multiplexer) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken)
    {
        multiplexer.DeleteSocket();
        return Task.CompletedTask;
    }
}
