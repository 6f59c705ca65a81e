using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TwinGateway.Interop.Tests.Fixtures;

/// <summary>
/// A TCP forwarder on 127.0.0.1 that tests put between a client and a server to inject faults: reset every
/// connection (<see cref="DropAll"/>) or freeze the traffic without closing anything (<see cref="Paused"/>).
/// At most <see cref="MaxConnections"/> live connections; more are reset on accept.
/// </summary>
public sealed class TcpFaultProxy : IAsyncDisposable
{
    /// <summary>The most connections forwarded at once.</summary>
    public const int MaxConnections = 64;

    private const int BufferSize = 16 * 1024;

    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stopping = new();
    private int _holds;
    private readonly HashSet<Connection> _connections = [];
    private readonly Lock _pauseLock = new();
    private readonly Task _acceptLoop;
    private TaskCompletionSource _resumed = NewGate(open: true);
    private bool _paused;
    private int _connectionCount;
    private int _live;
    private int _disposed;

    /// <summary>Starts listening on a free 127.0.0.1 port and forwarding to <paramref name="targetHost"/>:<paramref name="targetPort"/>.</summary>
    public TcpFaultProxy(string targetHost, int targetPort)
    {
        ArgumentException.ThrowIfNullOrEmpty(targetHost);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(targetPort);
        _targetHost = targetHost;
        _targetPort = targetPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start(MaxConnections);
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = AcceptLoopAsync();
    }

    /// <summary>The loopback port clients connect to.</summary>
    public int Port { get; }

    /// <summary>How many connections have been accepted and forwarded so far (including closed ones).</summary>
    public int ConnectionCount => Volatile.Read(ref _connectionCount);

    /// <summary>How many connections are open now.</summary>
    public int LiveConnectionCount
    {
        get
        {
            lock (_connections)
            {
                return _connections.Count;
            }
        }
    }

    /// <summary>
    /// Times traffic toward the target stopped at the pause: before reading from the client, or holding bytes it read
    /// just before the pause. What a test waits for to know that traffic is held here, instead of sleeping and hoping.
    /// </summary>
    public int Holds => Volatile.Read(ref _holds);

    /// <summary>
    /// While true no byte is forwarded in either direction and nothing is closed: the peer looks hung (for
    /// keep-alive and timeout tests). Setting it back to false forwards what was held.
    /// </summary>
    public bool Paused
    {
        get
        {
            lock (_pauseLock)
            {
                return _paused;
            }
        }

        set
        {
            lock (_pauseLock)
            {
                if (_paused == value)
                {
                    return;
                }

                _paused = value;
                if (value)
                {
                    _resumed = NewGate(open: false);
                }
                else
                {
                    _resumed.TrySetResult();
                }
            }
        }
    }

    /// <summary>
    /// <paramref name="endpointUrl"/> with its port replaced by this proxy's, e.g.
    /// <c>opc.tcp://127.0.0.1:4840/path</c> becomes <c>opc.tcp://127.0.0.1:{Port}/path</c>.
    /// </summary>
    public string RewriteUrl(string endpointUrl)
    {
        ArgumentException.ThrowIfNullOrEmpty(endpointUrl);
        var schemeEnd = endpointUrl.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd < 0)
        {
            throw new ArgumentException($"'{endpointUrl}' is not an absolute URL.", nameof(endpointUrl));
        }

        var authorityStart = schemeEnd + 3;
        var authorityEnd = endpointUrl.IndexOf('/', authorityStart);
        if (authorityEnd < 0)
        {
            authorityEnd = endpointUrl.Length;
        }

        var authority = endpointUrl[authorityStart..authorityEnd];
        var bracket = authority.LastIndexOf(']');
        var colon = authority.LastIndexOf(':');
        var host = colon > bracket ? authority[..colon] : authority;
        return string.Concat(
            endpointUrl.AsSpan(0, authorityStart),
            host,
            ":" + Port.ToString(CultureInfo.InvariantCulture),
            endpointUrl.AsSpan(authorityEnd));
    }

    /// <summary>Resets every live connection at once (RST to both the client and the server).</summary>
    public void DropAll()
    {
        Connection[] snapshot;
        lock (_connections)
        {
            snapshot = [.. _connections];
            _connections.Clear();
        }

        foreach (var connection in snapshot)
        {
            connection.Abort();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync();
        _listener.Stop();
        Paused = false;
        DropAll();
        try
        {
            await _acceptLoop.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
        }

        _listener.Dispose();
        _stopping.Dispose();
    }

    private static TaskCompletionSource NewGate(bool open)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (open)
        {
            gate.SetResult();
        }

        return gate;
    }

    private Task HoldWhilePausedAsync(bool towardTarget, CancellationToken ct)
    {
        var gate = WaitWhilePausedAsync(ct);
        if (!gate.IsCompleted && towardTarget)
        {
            Interlocked.Increment(ref _holds);
        }

        return gate;
    }

    private Task WaitWhilePausedAsync(CancellationToken ct)
    {
        Task gate;
        lock (_pauseLock)
        {
            gate = _resumed.Task;
        }

        return gate.IsCompleted ? Task.CompletedTask : gate.WaitAsync(ct);
    }

    private async Task AcceptLoopAsync()
    {
        var pumps = new List<Task>();
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                Socket client;
                try
                {
                    client = await _listener.AcceptSocketAsync(_stopping.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
                {
                    break;
                }

                pumps.RemoveAll(t => t.IsCompleted);
                pumps.Add(ServeAsync(client));
            }
        }
        finally
        {
            try
            {
                await Task.WhenAll(pumps).WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (TimeoutException)
            {
            }
        }
    }

    private async Task ServeAsync(Socket client)
    {
        if (Interlocked.Increment(ref _live) > MaxConnections)
        {
            Interlocked.Decrement(ref _live);
            Connection.Reset(client);
            return;
        }

        client.NoDelay = true;
        Socket? upstream = null;
        Connection? connection = null;
        try
        {
            upstream = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await upstream.ConnectAsync(_targetHost, _targetPort, _stopping.Token);
            connection = new Connection(client, upstream, _stopping.Token);
            lock (_connections)
            {
                _connections.Add(connection);
            }

            Interlocked.Increment(ref _connectionCount);
            await Task.WhenAll(
                PumpAsync(connection, client, upstream, towardTarget: true),
                PumpAsync(connection, upstream, client, towardTarget: false));
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Target down, or the proxy stopping: the client sees a reset.
            Connection.Reset(client);
            if (upstream is not null)
            {
                Connection.Reset(upstream);
            }
        }
        finally
        {
            if (connection is not null)
            {
                lock (_connections)
                {
                    _connections.Remove(connection);
                }

                connection.Close();
                connection.Dispose();
            }

            Interlocked.Decrement(ref _live);
        }
    }

    private async Task PumpAsync(Connection connection, Socket from, Socket to, bool towardTarget)
    {
        var ct = connection.Token;
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                await HoldWhilePausedAsync(towardTarget, ct);
                var read = await from.ReceiveAsync(buffer.AsMemory(0, BufferSize), SocketFlags.None, ct);
                if (read == 0)
                {
                    break;
                }

                // Bytes read just before a pause are held until it ends.
                await HoldWhilePausedAsync(towardTarget, ct);
                for (var sent = 0; sent < read;)
                {
                    sent += await to.SendAsync(buffer.AsMemory(sent, read - sent), SocketFlags.None, ct);
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);

            // Either side ending ends the pair (OPC UA never half-closes).
            connection.Close();
        }
    }

    private sealed class Connection : IDisposable
    {
        private readonly Socket _client;
        private readonly Socket _upstream;
        private readonly CancellationTokenSource _cts;
        private int _closed;

        public Connection(Socket client, Socket upstream, CancellationToken stopping)
        {
            _client = client;
            _upstream = upstream;
            _cts = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        }

        public CancellationToken Token => _cts.Token;

        public static void Reset(Socket socket)
        {
            try
            {
                socket.LingerState = new LingerOption(true, 0);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
            }

            socket.Close();
        }

        /// <summary>RST both sides.</summary>
        public void Abort()
        {
            if (Interlocked.Exchange(ref _closed, 1) != 0)
            {
                return;
            }

            Reset(_client);
            Reset(_upstream);
            Cancel();
        }

        /// <summary>Graceful close of both sides.</summary>
        public void Close()
        {
            if (Interlocked.Exchange(ref _closed, 1) != 0)
            {
                return;
            }

            Shutdown(_client);
            Shutdown(_upstream);
            Cancel();
        }

        private static void Shutdown(Socket socket)
        {
            try
            {
                socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
            }

            socket.Close();
        }

        /// <summary>Called once both pumps have finished.</summary>
        public void Dispose() => _cts.Dispose();

        private void Cancel()
        {
            try
            {
                _cts.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }
}
