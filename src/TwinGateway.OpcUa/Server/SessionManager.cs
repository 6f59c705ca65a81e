using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Server;

/// <summary>
/// Sessions: create, activate (anonymous or user name and password), bind to channels, time out, close. A session
/// outlives its channel until its timeout, so a client that lost its socket can reactivate it on a new one.
/// </summary>
internal sealed partial class SessionManager
{
    private readonly UaServer _server;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<NodeId, Session> _byToken = new();

    public SessionManager(UaServer server, ILogger logger)
    {
        _server = server;
        _logger = logger;
    }

    public IEnumerable<Session> All => _byToken.Values;

    public int Count => _byToken.Count;

    public bool HasActiveSessionOn(ServerConnection connection) => _byToken.Values.Any(s => s.Connection == connection && !s.IsClosed);

    public CreateSessionResponse Create(ServerConnection connection, CreateSessionRequest request)
    {
        var options = _server.Options;
        if (_byToken.Count >= options.MaxSessions)
        {
            throw new ServiceResultException(StatusCodes.BadTooManySessions, $"the server already has {options.MaxSessions} sessions (MaxSessions)");
        }

        var timeout = TimeSpan.FromMilliseconds(Math.Clamp(double.IsNaN(request.RequestedSessionTimeout) ? 0 : request.RequestedSessionTimeout,
            options.MinSessionTimeout.TotalMilliseconds, options.MaxSessionTimeout.TotalMilliseconds));
        var session = new Session(
            new NodeId(Guid.NewGuid(), 1),
            new NodeId(RandomNumberGenerator.GetBytes(32), 0),
            string.IsNullOrWhiteSpace(request.SessionName) ? "session" : request.SessionName!,
            timeout,
            connection,
            _server.Time.GetTimestamp())
        {
            ServerNonce = RandomNumberGenerator.GetBytes(32),
        };
        _byToken[session.AuthenticationToken] = session;
        _server.Diagnostics.CountSession();
        Log.Created(_logger, session.Describe(), connection.RemoteEndPoint, (long)timeout.TotalMilliseconds);
        return new CreateSessionResponse
        {
            SessionId = session.SessionId,
            AuthenticationToken = session.AuthenticationToken,
            RevisedSessionTimeout = timeout.TotalMilliseconds,
            ServerNonce = session.ServerNonce,
            ServerEndpoints = _server.GetEndpointDescriptions(),
            ServerSignature = new SignatureData(),
            MaxRequestMessageSize = options.Limits.MaxMessageSize,
        };
    }

    public async ValueTask<ActivateSessionResponse> ActivateAsync(ServerConnection connection, ActivateSessionRequest request, CancellationToken cancellationToken)
    {
        var session = Find(request.RequestHeader.AuthenticationToken)
            ?? throw new ServiceResultException(StatusCodes.BadSessionIdInvalid, "ActivateSession for a session that does not exist (expired or closed)");
        var (userName, problem) = await AuthenticateAsync(request.UserIdentityToken, cancellationToken).ConfigureAwait(false);
        if (problem is { } refused)
        {
            Log.Refused(_logger, session.Describe(), connection.RemoteEndPoint, refused.Reason);
            throw refused;
        }

        lock (session.Sync)
        {
            if (session.IsActivated && session.Connection != connection && !string.Equals(session.UserName, userName, StringComparison.Ordinal))
            {
                throw new ServiceResultException(StatusCodes.BadUserAccessDenied,
                    $"{session.Describe()} can only be reactivated on a new channel by the same user");
            }

            session.Connection = connection;
            session.UserName = userName;
            session.IsActivated = true;
            session.ServerNonce = RandomNumberGenerator.GetBytes(32);
            session.LastActivityTicks = _server.Time.GetTimestamp();
        }

        Log.Activated(_logger, session.Describe(), connection.RemoteEndPoint, connection.ChannelId);
        return new ActivateSessionResponse { ServerNonce = session.ServerNonce };
    }

    private async ValueTask<(string? UserName, ServiceResultException? Problem)> AuthenticateAsync(ExtensionObject? token, CancellationToken cancellationToken)
    {
        var options = _server.Options;
        switch (token?.Body)
        {
            case null:
            case AnonymousIdentityToken:
                return options.AllowAnonymous
                    ? (null, null)
                    : (null, new ServiceResultException(StatusCodes.BadIdentityTokenRejected, "anonymous sessions are not allowed on this server"));
            case UserNameIdentityToken user:
                if (!string.IsNullOrEmpty(user.EncryptionAlgorithm))
                {
                    return (null, new ServiceResultException(StatusCodes.BadIdentityTokenInvalid,
                        $"user token for '{user.UserName}' is encrypted with {user.EncryptionAlgorithm}, but this endpoint's user token policy is plain (SecurityPolicy None)"));
                }

                if (options.Authenticator is null || string.IsNullOrEmpty(user.UserName))
                {
                    return (null, new ServiceResultException(StatusCodes.BadIdentityTokenRejected, "this server accepts no user names"));
                }

                var password = System.Text.Encoding.UTF8.GetString(user.Password ?? []);
                return await options.Authenticator.ValidateAsync(user.UserName!, password, cancellationToken).ConfigureAwait(false)
                    ? (user.UserName, null)
                    : (null, new ServiceResultException(StatusCodes.BadUserAccessDenied, $"user '{user.UserName}' gave a wrong password or is unknown"));
            default:
                return (null, new ServiceResultException(StatusCodes.BadIdentityTokenInvalid,
                    $"identity token {token.TypeId} is not supported (anonymous and user name are)"));
        }
    }

    public Session? Find(NodeId authenticationToken) => _byToken.GetValueOrDefault(authenticationToken);

    /// <summary>The activated session a request belongs to, bound to the request's channel; throws the status the specification names.</summary>
    public Session Require(ServerConnection connection, RequestHeader header)
    {
        var session = Find(header.AuthenticationToken)
            ?? throw new ServiceResultException(StatusCodes.BadSessionIdInvalid, "no session has this authentication token (it expired, was closed, or never existed)");
        if (!session.IsActivated)
        {
            throw new ServiceResultException(StatusCodes.BadSessionNotActivated, $"{session.Describe()} is not activated");
        }

        if (session.Connection != connection)
        {
            throw new ServiceResultException(StatusCodes.BadSecureChannelIdInvalid, $"{session.Describe()} is bound to another channel; reactivate it first");
        }

        session.LastActivityTicks = _server.Time.GetTimestamp();
        return session;
    }

    public void Close(Session session, bool deleteSubscriptions, string why)
    {
        if (!_byToken.TryRemove(session.AuthenticationToken, out _))
        {
            return;
        }

        session.IsClosed = true;
        _server.Subscriptions.OnSessionClosed(session, deleteSubscriptions);
        foreach (var publish in session.PublishQueue.DrainAll())
        {
            publish.Completion.TrySetResult(UaServer.Fault(publish.Request.RequestHeader.RequestHandle, StatusCodes.BadSessionClosed));
        }

        Log.Closed(_logger, session.Describe(), why);
    }

    /// <summary>Closes sessions silent for longer than their timeout; their subscriptions stay for transfer until their lifetime ends.</summary>
    public void ExpireIdle()
    {
        var now = _server.Time.GetTimestamp();
        foreach (var session in _byToken.Values)
        {
            // A parked Publish request is activity: the client is waiting for us.
            if (session.PublishQueue.Count > 0 && session.Connection.IsOpen)
            {
                session.LastActivityTicks = now;
                continue;
            }

            if (_server.Time.GetElapsedTime(session.LastActivityTicks, now) > session.Timeout)
            {
                _server.Diagnostics.CountSessionTimeout();
                Close(session, deleteSubscriptions: false, $"timed out after {session.Timeout.TotalSeconds:0.#} s without a request");
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2101, Level = LogLevel.Debug, Message = "Created {Session} for {Remote}, timeout {TimeoutMs} ms")]
        public static partial void Created(ILogger logger, string session, string remote, long timeoutMs);

        [LoggerMessage(EventId = 2102, Level = LogLevel.Debug, Message = "Activated {Session} from {Remote} on channel {ChannelId}")]
        public static partial void Activated(ILogger logger, string session, string remote, uint channelId);

        [LoggerMessage(EventId = 2103, Level = LogLevel.Warning, Message = "Refused to activate {Session} from {Remote}: {Reason}")]
        public static partial void Refused(ILogger logger, string session, string remote, string reason);

        [LoggerMessage(EventId = 2104, Level = LogLevel.Information, Message = "Closed {Session}: {Why}")]
        public static partial void Closed(ILogger logger, string session, string why);
    }
}
