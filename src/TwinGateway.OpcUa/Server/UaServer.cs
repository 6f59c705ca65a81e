using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TwinGateway.OpcUa.Channel;
using TwinGateway.OpcUa.Server.AddressSpace;
using TwinGateway.OpcUa.Server.Subscriptions;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Server;

/// <summary>
/// Our OPC UA server (binary over UA-TCP; SecurityPolicy None and, with a certificate, the secured policies): address space, sessions, the services of
/// OPC 10000-4 that PLC and SCADA clients use, and a subscription engine sized for 100,000 monitored items.
/// Binds to loopback unless told otherwise. Start with <see cref="StartAsync"/>; build the address space through
/// <see cref="AddressSpace"/> before or after.
/// </summary>
public sealed partial class UaServer : IAsyncDisposable
{
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<ServerConnection, Task> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private Socket? _listener;
    private Task? _acceptLoop;
    private ITimer? _housekeeping;
    private DateTime _startTime;

    public UaServer(UaServerOptions? options = null, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
    {
        Options = options ?? new UaServerOptions();
        Options.Validate();
        Time = timeProvider ?? TimeProvider.System;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger("TwinGateway.OpcUa.Server");
        AddressSpace = new UaAddressSpace(Options.ApplicationUri, Time);
        Diagnostics = new ServerDiagnostics();
        Sessions = new SessionManager(this, _loggerFactory.CreateLogger("TwinGateway.OpcUa.Server.Sessions"));
        Subscriptions = new SubscriptionEngine(this, _loggerFactory.CreateLogger("TwinGateway.OpcUa.Server.Subscriptions"));
        State = ServerState.Suspended;
        AddServerObject();
    }

    public UaServerOptions Options { get; }

    public TimeProvider Time { get; }

    public UaAddressSpace AddressSpace { get; }

    public ServerDiagnostics Diagnostics { get; }

    internal SessionManager Sessions { get; }

    internal SubscriptionEngine Subscriptions { get; }

    /// <summary>The port listened on (the real one when <see cref="UaServerOptions.Port"/> was 0).</summary>
    public int Port { get; private set; }

    public string EndpointUrl => $"opc.tcp://{Options.PublicHostName ?? FormatHost(Options.ListenAddress)}:{Port}";

    public ServerState State { get; private set; }

    public int SessionCount => Sessions.Count;

    public int ConnectionCount => _connections.Count;

    public int SubscriptionCount => Subscriptions.SubscriptionCount;

    public int MonitoredItemCount => Subscriptions.MonitoredItemCount;

    private static string FormatHost(IPAddress address) =>
        address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) ? Dns.GetHostName()
        : address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]"
        : address.ToString();

    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var listener = new Socket(Options.ListenAddress.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(Options.ListenAddress, Options.Port));
            listener.Listen(128);
        }
        catch (SocketException ex)
        {
            listener.Dispose();
            throw new ServiceResultException(StatusCodes.BadResourceUnavailable,
                $"cannot listen on {Options.ListenAddress}:{Options.Port}: {ex.SocketErrorCode} ({ex.Message})", ex);
        }

        _listener = listener;
        Port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        _startTime = Time.GetUtcNow().UtcDateTime;
        State = ServerState.Running;
        Subscriptions.Start();
        _housekeeping = Time.CreateTimer(_ => Housekeeping(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        _acceptLoop = Task.Run(AcceptLoopAsync, CancellationToken.None);
        Log.Listening(_logger, EndpointUrl, AddressSpace.Count);
        return Task.CompletedTask;
    }

    private async Task AcceptLoopAsync()
    {
        var token = _stopping.Token;
        var connectionLogger = _loggerFactory.CreateLogger("TwinGateway.OpcUa.Server.Connections");
        while (!token.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener!.AcceptAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionAborted or SocketError.ConnectionReset)
            {
                continue;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            socket.NoDelay = true;
            if (_connections.Count >= Options.MaxConnections)
            {
                Diagnostics.CountRefused();
                Diagnostics.CountRejected(StatusCodes.BadTcpServerTooBusy);
                _ = RefuseAsync(socket);
                continue;
            }

            Diagnostics.CountAccepted();
            var connection = new ServerConnection(this, socket, connectionLogger, token);
            // In the table before it runs: with the peer's bytes already buffered, RunAsync can refuse and close the
            // connection without ever yielding, and OnConnectionClosed must find it there to remove it.
            _connections[connection] = Task.CompletedTask;
            var run = connection.RunAsync();
            _connections.TryUpdate(connection, run, Task.CompletedTask);
        }
    }

    /// <summary>Answers a connection over the limit with an Error message instead of a silent close.</summary>
    private async Task RefuseAsync(Socket socket)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            var error = new Transport.ErrorMessage(StatusCodes.BadTcpServerTooBusy, $"the server serves {Options.MaxConnections} connections (MaxConnections)").Encode();
            await socket.SendAsync(error, SocketFlags.None, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The peer is gone.
        }
        finally
        {
            socket.Dispose();
        }
    }

    internal void OnConnectionClosed(ServerConnection connection)
    {
        if (_connections.TryRemove(connection, out _))
        {
            _ = connection.DisposeAsync().AsTask();
        }
    }

    private void Housekeeping()
    {
        try
        {
            Sessions.ExpireIdle();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.HousekeepingFailed(_logger, ex);
        }
    }

    /// <summary>For fault tests: drops every client socket abruptly (sessions stay, as after a network cut).</summary>
    public void DropAllConnections()
    {
        foreach (var connection in _connections.Keys)
        {
            connection.Abort();
        }
    }

    public async Task StopAsync()
    {
        if (State == ServerState.Shutdown)
        {
            return;
        }

        State = ServerState.Shutdown;
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener?.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }

        foreach (var connection in _connections.Keys)
        {
            connection.Close();
        }

        await Task.WhenAll(_connections.Values).ConfigureAwait(false);
        if (_housekeeping is not null)
        {
            await _housekeeping.DisposeAsync().ConfigureAwait(false);
        }

        await Subscriptions.DisposeAsync().ConfigureAwait(false);
        Log.Stopped(_logger, EndpointUrl);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    internal static ServiceFault Fault(uint requestHandle, uint status) =>
        new() { ResponseHeader = new ResponseHeader { RequestHandle = requestHandle, ServiceResult = status } };

    /// <summary>
    /// One endpoint per offered policy and mode (<see cref="UaServerOptions.OfferedSecurity"/>), each with our certificate
    /// and its user token policies: anonymous, user name (on a secured endpoint with the endpoint's policy, so the
    /// password travels encrypted with it; on None in clear, for trusted networks), and X.509 user certificates when a
    /// validator for them is set.
    /// </summary>
    internal EndpointDescription[] GetEndpointDescriptions()
    {
        var certificate = Options.Certificate?.Der;
        return [.. Options.OfferedSecurity.Select(security => new EndpointDescription
        {
            EndpointUrl = EndpointUrl,
            Server = ApplicationDescription,
            ServerCertificate = security.IsNone ? null : certificate,
            SecurityMode = security.Mode,
            SecurityPolicyUri = security.PolicyUri,
            UserIdentityTokens = UserTokenPolicies(security),
            TransportProfileUri = SecurityPolicies.UaTcpBinaryTransport,
            SecurityLevel = SecurityLevel(security),
        })];
    }

    private UserTokenPolicy[] UserTokenPolicies(EndpointSecurity security)
    {
        var tokens = new List<UserTokenPolicy>();
        if (Options.AllowAnonymous)
        {
            tokens.Add(new UserTokenPolicy { PolicyId = "anonymous", TokenType = UserTokenType.Anonymous });
        }

        if (Options.Authenticator is not null)
        {
            // On None the password travels in clear, so keep such endpoints on trusted networks.
            tokens.Add(new UserTokenPolicy { PolicyId = UserNamePolicyId(security.PolicyUri), TokenType = UserTokenType.UserName, SecurityPolicyUri = security.PolicyUri });
        }

        if (Options.UserCertificateValidator is not null && !security.IsNone)
        {
            tokens.Add(new UserTokenPolicy { PolicyId = "certificate" + PolicySuffix(security.PolicyUri), TokenType = UserTokenType.Certificate, SecurityPolicyUri = security.PolicyUri });
        }

        return [.. tokens];
    }

    /// <summary>"username" on None (as before security), "username_Basic256Sha256" and so on on the secured endpoints.</summary>
    internal static string UserNamePolicyId(string policyUri) => "username" + PolicySuffix(policyUri);

    private static string PolicySuffix(string policyUri) =>
        policyUri == SecurityPolicies.None ? "" : "_" + policyUri[(policyUri.LastIndexOf('#') + 1)..];

    /// <summary>Higher for encryption than signing alone, and for the stronger policies; 0 for None.</summary>
    private static byte SecurityLevel(EndpointSecurity security) => security.IsNone
        ? (byte)0
        : (byte)((security.Mode == MessageSecurityMode.SignAndEncrypt ? 100 : 50) + security.PolicyUri switch
        {
            SecurityPolicies.Aes256Sha256RsaPss => 30,
            SecurityPolicies.Basic256Sha256 => 20,
            _ => 10,
        });

    internal ApplicationDescription ApplicationDescription => new()
    {
        ApplicationUri = Options.ApplicationUri,
        ProductUri = Options.ProductUri,
        ApplicationName = new LocalizedText("en", Options.ApplicationName),
        ApplicationType = ApplicationType.Server,
        DiscoveryUrls = [EndpointUrl],
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 2201, Level = LogLevel.Information, Message = "OPC UA server listening on {Endpoint} with {NodeCount} nodes")]
        public static partial void Listening(ILogger logger, string endpoint, int nodeCount);

        [LoggerMessage(EventId = 2202, Level = LogLevel.Information, Message = "OPC UA server on {Endpoint} stopped")]
        public static partial void Stopped(ILogger logger, string endpoint);

        [LoggerMessage(EventId = 2203, Level = LogLevel.Error, Message = "Server housekeeping failed")]
        public static partial void HousekeepingFailed(ILogger logger, Exception exception);
    }
}
