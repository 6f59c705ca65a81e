using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TwinGateway.OpcUa.Channel;
using TwinGateway.OpcUa.Security;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Client;

/// <summary>
/// An OPC UA client session over UA-TCP (SecurityPolicy None) that survives the network: when the socket drops,
/// the server restarts or the server goes silent, it reconnects with backoff, reactivates the session on a new
/// channel, or creates a new session and transfers (or recreates) its subscriptions, republishing what the server
/// still holds. Whatever cannot be recovered is reported as a <see cref="NotificationGap"/>, never dropped silently.
/// </summary>
public sealed partial class OpcUaClient : IAsyncDisposable
{
    private readonly OpcUaClientOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _reconnectLock = new(1, 1);
    private readonly Channel<ConnectionStateChange> _stateChanges = System.Threading.Channels.Channel.CreateUnbounded<ConnectionStateChange>();
    private volatile ClientSecureChannel? _channel;
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private NodeId _authenticationToken;
    private byte[]? _serverNonce;
    private byte[]? _serverCertificate;
    private EndpointDescription[] _serverEndpoints = [];
    private EndpointDescription? _endpoint;
    private Task? _supervisor;
    private uint _requestHandle;
    private int _disposed;
    private ConnectionStateChange _state;
    private long _lastHeardTicks;
    private ConnectionOutage? _outage;

    private OpcUaClient(string endpointUrl, OpcUaClientOptions options, TimeProvider time, ILogger logger)
    {
        EndpointUrl = endpointUrl;
        _options = options;
        _time = time;
        _logger = logger;
        _state = new ConnectionStateChange(ConnectionStatus.Disconnected, StatusCodes.Good, "not connected", time.GetUtcNow());
    }

    public string EndpointUrl { get; }

    public OpcUaClientOptions Options => _options;

    /// <summary>The server's id for the current session.</summary>
    public NodeId SessionId { get; private set; }

    public TimeSpan RevisedSessionTimeout { get; private set; }

    /// <summary>The current connection state and its reason.</summary>
    public ConnectionStateChange State => _state;

    /// <summary>Every change of connection state, in order (connected, reconnecting with the reason, ...).</summary>
    public ChannelReader<ConnectionStateChange> StateChanges => _stateChanges.Reader;

    /// <summary>Times the client reconnected after a failure.</summary>
    public int ReconnectCount { get; private set; }

    /// <summary>How the last reconnect restored the session: "reactivated", "transferred" or "recreated".</summary>
    public string? LastRecovery { get; private set; }

    internal ClientSecureChannel? CurrentChannel => _channel;

    /// <summary>The security policy of the current channel.</summary>
    public SecurityPolicy SecurityPolicy => _channel?.SecurityPolicy ?? SecurityPolicy.None;

    /// <summary>The security mode of the current channel.</summary>
    public MessageSecurityMode SecurityMode => _channel?.SecurityMode ?? MessageSecurityMode.None;

    /// <summary>Connects, creates and activates a session. Throws <see cref="ServiceResultException"/> naming the cause.</summary>
    public static async Task<OpcUaClient> ConnectAsync(
        string endpointUrl,
        OpcUaClientOptions? options = null,
        TimeProvider? timeProvider = null,
        ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new OpcUaClientOptions();
        if (options.Validate() is { Count: > 0 } problems)
        {
            throw new ArgumentException("invalid OPC UA client options: " + string.Join("; ", problems), nameof(options));
        }

        var client = new OpcUaClient(endpointUrl, options, timeProvider ?? TimeProvider.System, logger ?? NullLogger.Instance);
        try
        {
            client.SetState(ConnectionStatus.Connecting, StatusCodes.Good, $"connecting to {endpointUrl}");
            var channel = await client.OpenChannelAsync(cancellationToken).ConfigureAwait(false);
            await client.CreateAndActivateSessionAsync(channel, cancellationToken).ConfigureAwait(false);
            client.OnConnected(channel, "session created");
            await client.ReadServerLimitsAsync(cancellationToken).ConfigureAwait(false);
            client._supervisor = Task.Run(client.SuperviseAsync, CancellationToken.None);
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task<ClientSecureChannel> OpenChannelAsync(CancellationToken cancellationToken)
    {
        if (_options.SecurityPolicy.IsNone)
        {
            return await ClientSecureChannel.OpenAsync(EndpointUrl, _options.Channel, _time, _logger, cancellationToken).ConfigureAwait(false);
        }

        _endpoint ??= await SelectEndpointAsync(cancellationToken).ConfigureAwait(false);
        var channelOptions = _options.Channel with
        {
            SecurityPolicy = _options.SecurityPolicy,
            SecurityMode = _options.SecurityMode,
            ClientCertificate = _options.Certificate,
            ServerCertificate = _endpoint.ServerCertificate,
            CertificateValidator = _options.CertificateValidator,
        };
        return await ClientSecureChannel.OpenAsync(EndpointUrl, channelOptions, _time, _logger, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// GetEndpoints on a None channel (discovery needs no security, OPC 10000-4 §5.4.4) and the endpoint with our
    /// policy and mode; its certificate is what the secured channel encrypts for and what the validator judges.
    /// </summary>
    private async Task<EndpointDescription> SelectEndpointAsync(CancellationToken cancellationToken)
    {
        var discovery = _options.Channel with { SecurityPolicy = SecurityPolicy.None, SecurityMode = MessageSecurityMode.None };
        var endpoints = await GetEndpointsAsync(EndpointUrl, discovery, _logger, cancellationToken).ConfigureAwait(false);
        var match = endpoints.FirstOrDefault(e => e.SecurityPolicyUri == _options.SecurityPolicy.Uri && e.SecurityMode == _options.SecurityMode
            && (string.IsNullOrEmpty(e.TransportProfileUri) || e.TransportProfileUri == SecurityPolicies.UaTcpBinaryTransport));
        if (match is null)
        {
            var offered = string.Join(", ", endpoints.Select(e => $"{(SecurityPolicy.TryGet(e.SecurityPolicyUri, out var p) ? p.Name : e.SecurityPolicyUri)}/{e.SecurityMode}").Distinct());
            throw new ServiceResultException(StatusCodes.BadSecurityPolicyRejected,
                $"{EndpointUrl} offers no {_options.SecurityPolicy.Name}/{_options.SecurityMode} endpoint (it offers: {(offered.Length == 0 ? "none" : offered)})");
        }

        if (match.ServerCertificate is not { Length: > 0 })
        {
            throw new ServiceResultException(StatusCodes.BadCertificateInvalid,
                $"the {_options.SecurityPolicy.Name}/{_options.SecurityMode} endpoint of {EndpointUrl} carries no server certificate");
        }

        return match;
    }

    private void OnConnected(ClientSecureChannel channel, string how, ConnectionOutage? ended = null)
    {
        _channel = channel;
        MarkHeard();
        _outage = null;
        SetState(ConnectionStatus.Connected, StatusCodes.Good, how, ended);
        _connected.TrySetResult();
    }

    private void SetState(ConnectionStatus status, uint reason, string message, ConnectionOutage? outage = null, int attempt = 0, TimeSpan? nextAttemptDelay = null)
    {
        var change = new ConnectionStateChange(status, reason, message, _time.GetUtcNow())
        {
            Outage = outage,
            Attempt = attempt,
            NextAttemptDelay = nextAttemptDelay,
        };
        _state = change;
        _stateChanges.Writer.TryWrite(change);
        Log.StateChanged(_logger, EndpointUrl, status, change.Reason.Name, message);
    }

    /// <summary>Something arrived from the server: it is alive (see <see cref="OpcUaClientOptions.KeepAliveInterval"/>).</summary>
    private void MarkHeard() => Volatile.Write(ref _lastHeardTicks, _time.GetTimestamp());

    private TimeSpan SilentFor => _time.GetElapsedTime(Volatile.Read(ref _lastHeardTicks));

    private RequestHeader NewHeader(TimeSpan? timeout = null) => new()
    {
        AuthenticationToken = _authenticationToken,
        Timestamp = _time.GetUtcNow().UtcDateTime,
        RequestHandle = Interlocked.Increment(ref _requestHandle),
        TimeoutHint = (uint)(timeout ?? _options.RequestTimeout).TotalMilliseconds,
    };

    /// <summary>
    /// Sends a service request on the session, waiting for a reconnect in progress (within the request timeout).
    /// The request header is filled in here.
    /// </summary>
    public async Task<TResponse> CallAsync<TResponse>(IServiceRequest request, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
        where TResponse : class, IServiceResponse
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var effective = timeout ?? _options.RequestTimeout;
        var channel = await WaitForChannelAsync(effective, cancellationToken).ConfigureAwait(false);
        request.RequestHeader = NewHeader(effective);
        var response = await channel.SendRequestAsync(request, effective, cancellationToken).ConfigureAwait(false);
        MarkHeard();
        return response as TResponse
            ?? throw new ServiceResultException(StatusCodes.BadUnknownResponse, $"expected {typeof(TResponse).Name}, got {response.GetType().Name}");
    }

    private async Task<ClientSecureChannel> WaitForChannelAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var channel = _channel;
        if (channel is { IsOpen: true } && _state.Status == ConnectionStatus.Connected)
        {
            return channel;
        }

        if (_state.Status == ConnectionStatus.Closed)
        {
            throw new ServiceResultException(StatusCodes.BadSessionClosed, "the client was closed");
        }

        try
        {
            await _connected.Task.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new ServiceResultException(StatusCodes.BadNotConnected,
                $"not connected to {EndpointUrl} ({_state}); gave up after {timeout.TotalSeconds:0.#} s");
        }

        return _channel ?? throw new ServiceResultException(StatusCodes.BadNotConnected, $"not connected to {EndpointUrl}");
    }

    private async Task CreateAndActivateSessionAsync(ClientSecureChannel channel, CancellationToken cancellationToken)
    {
        var policy = channel.SecurityPolicy;
        var ownCertificate = policy.IsNone ? null : _options.Certificate;
        var clientNonce = RandomNumberGenerator.GetBytes(32);
        var create = new CreateSessionRequest
        {
            RequestHeader = new RequestHeader { Timestamp = _time.GetUtcNow().UtcDateTime, RequestHandle = Interlocked.Increment(ref _requestHandle) },
            ClientDescription = new ApplicationDescription
            {
                // A secured session's ApplicationUri must be the one in our certificate (OPC 10000-4 §5.6.2).
                ApplicationUri = ownCertificate is { ApplicationUri.Length: > 0 } ? ownCertificate.ApplicationUri : _options.ApplicationUri,
                ProductUri = _options.ProductUri,
                ApplicationName = new LocalizedText(_options.ApplicationName),
                ApplicationType = ApplicationType.Client,
            },
            EndpointUrl = EndpointUrl,
            SessionName = _options.SessionName,
            ClientNonce = clientNonce,
            ClientCertificate = ownCertificate?.Der,
            RequestedSessionTimeout = _options.SessionTimeout.TotalMilliseconds,
            MaxResponseMessageSize = _options.Channel.Limits.MaxMessageSize,
        };
        var created = (CreateSessionResponse)await channel.SendRequestAsync(create, _options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        if (ownCertificate is not null)
        {
            SessionSignatures.CheckServer(policy, _endpoint, created, ownCertificate.Der, clientNonce, EndpointUrl);
        }

        SessionId = created.SessionId;
        _authenticationToken = created.AuthenticationToken;
        _serverNonce = created.ServerNonce;
        _serverCertificate = created.ServerCertificate;
        _serverEndpoints = created.ServerEndpoints ?? [];
        RevisedSessionTimeout = TimeSpan.FromMilliseconds(created.RevisedSessionTimeout);
        await ActivateSessionAsync(channel, cancellationToken).ConfigureAwait(false);
    }

    private async Task ActivateSessionAsync(ClientSecureChannel channel, CancellationToken cancellationToken)
    {
        var policy = channel.SecurityPolicy;
        var clientSignature = policy.IsNone || _options.Certificate is null
            ? new SignatureData()
            : SessionSignatures.Sign(policy, _options.Certificate, _serverCertificate, _serverNonce);
        var activate = new ActivateSessionRequest
        {
            RequestHeader = NewHeader(),
            ClientSignature = clientSignature,
            LocaleIds = ["en"],
            UserIdentityToken = new ExtensionObject(UserTokens.Create(_options.Identity, _serverEndpoints, _serverNonce, _serverCertificate, EndpointUrl,
                policy.Uri, channel.SecurityMode)),
            UserTokenSignature = new SignatureData(),
        };
        try
        {
            var activated = (ActivateSessionResponse)await channel.SendRequestAsync(activate, _options.RequestTimeout, cancellationToken).ConfigureAwait(false);
            _serverNonce = activated.ServerNonce;
        }
        catch (ServiceResultException ex) when (ex.StatusCode.Code is StatusCodes.BadIdentityTokenInvalid or StatusCodes.BadIdentityTokenRejected or StatusCodes.BadUserAccessDenied)
        {
            var who = _options.Identity is UserNameIdentity u ? $"user '{u.UserName}'" : "an anonymous user";
            throw new ServiceResultException(ex.StatusCode, $"{EndpointUrl} did not accept {who}: {ex.Reason}", ex);
        }
    }

    /// <summary>Closes the session (deleting its subscriptions) and the channel.</summary>
    public async Task CloseAsync(CancellationToken cancellationToken = default)
    {
        if (_state.Status == ConnectionStatus.Closed)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        StopPublishing();
        var channel = _channel;
        if (channel is { IsOpen: true })
        {
            try
            {
                var close = new CloseSessionRequest { RequestHeader = NewHeader(TimeSpan.FromSeconds(5)), DeleteSubscriptions = true };
                await channel.SendRequestAsync(close, TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
            }
            catch (ServiceResultException ex)
            {
                Log.CloseSessionFailed(_logger, EndpointUrl, ex.StatusCode.Name, ex.Reason);
            }

            await channel.CloseAsync(cancellationToken).ConfigureAwait(false);
        }

        SetState(ConnectionStatus.Closed, StatusCodes.Good, "closed by the application", _outage);
        CompleteSubscriptions();
        _stateChanges.Writer.TryComplete();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await CloseAsync().ConfigureAwait(false);
        }
        finally
        {
            if (_supervisor is not null)
            {
                await _supervisor.ConfigureAwait(false);
            }

            await WaitForPublishLoopsAsync().ConfigureAwait(false);
            if (_channel is { } channel)
            {
                await channel.DisposeAsync().ConfigureAwait(false);
            }

            _stopping.Dispose();
            _reconnectLock.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "OPC UA connection to {Endpoint}: {Status} ({Reason}) {Detail}")]
        public static partial void StateChanged(ILogger logger, string endpoint, ConnectionStatus status, string reason, string detail);

        [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Reconnect attempt {Attempt} to {Endpoint} failed with {Status}: {Reason}; next try in {DelayMs} ms")]
        public static partial void ReconnectFailed(ILogger logger, string endpoint, int attempt, string status, string reason, long delayMs);

        [LoggerMessage(EventId = 1103, Level = LogLevel.Information, Message = "Session on {Endpoint} is gone ({Status}: {Reason}); creating a new one")]
        public static partial void SessionLost(ILogger logger, string endpoint, string status, string reason);

        [LoggerMessage(EventId = 1104, Level = LogLevel.Debug, Message = "CloseSession on {Endpoint} failed with {Status}: {Reason}")]
        public static partial void CloseSessionFailed(ILogger logger, string endpoint, string status, string reason);

        [LoggerMessage(EventId = 1105, Level = LogLevel.Warning, Message = "Keep-alive read on {Endpoint} returned {Status}")]
        public static partial void KeepAliveBadStatus(ILogger logger, string endpoint, string status);

        [LoggerMessage(EventId = 1106, Level = LogLevel.Warning, Message = "Subscription {SubscriptionId} on {Endpoint} lost notifications {Range} covering {DurationMs} ms, {Start:O} to {End:O}: {Reason}")]
        public static partial void Gap(ILogger logger, string endpoint, uint subscriptionId, string range, long durationMs, DateTimeOffset start, DateTimeOffset end, string reason);

        [LoggerMessage(EventId = 1107, Level = LogLevel.Warning, Message = "Publish on {Endpoint} failed with {Status}: {Reason}")]
        public static partial void PublishFailed(ILogger logger, string endpoint, string status, string reason);

        [LoggerMessage(EventId = 1108, Level = LogLevel.Information, Message = "Subscription {SubscriptionId} on {Endpoint} {How} as {NewId}")]
        public static partial void SubscriptionRecovered(ILogger logger, string endpoint, uint subscriptionId, string how, uint newId);

        [LoggerMessage(EventId = 1109, Level = LogLevel.Warning, Message = "OPC UA server {Endpoint} stopped answering: nothing received for {SilentMs} ms (keep-alive every {KeepAliveMs} ms, {Missed} unanswered allowed); reconnecting")]
        public static partial void ServerStoppedAnswering(ILogger logger, string endpoint, long silentMs, long keepAliveMs, int missed);

        [LoggerMessage(EventId = 1110, Level = LogLevel.Information, Message = "Reconnected to {Endpoint} after {Attempts} attempt(s): no data for {DurationMs} ms, {Start:O} to {End:O} ({Status}: {Cause}); session {How}")]
        public static partial void Reconnected(ILogger logger, string endpoint, int attempts, long durationMs, DateTimeOffset start, DateTimeOffset end, string status, string cause, string how);
    }
}
