using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using TwinGateway.OpcUa.Security;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Server;

/// <summary>
/// Sessions: create, activate (anonymous or user name and password), bind to channels, time out, close. A session
/// outlives its channel until its timeout, so a client that lost its socket can reactivate it on a new one.
/// </summary>
/// <remarks>
/// On a secured channel (OPC 10000-4 §5.6.2, §5.6.3): CreateSession needs the client's certificate (the channel's) and
/// a nonce of at least 32 bytes, checks that the client's ApplicationUri is the one in its certificate, and answers with
/// our certificate and our signature over clientCertificate | clientNonce; ActivateSession needs the client's signature
/// over serverCertificate | serverNonce, and a user name token's password encrypted with the policy's algorithm
/// together with our last nonce.
/// </remarks>
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

        var security = connection.Security;
        var serverSignature = security is null ? new SignatureData() : SignForClient(security, request);
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
            ClientCertificate = security?.ClientCertificate.RawData,
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
            ServerCertificate = security is null ? null : options.Certificate!.Der,
            ServerEndpoints = _server.GetEndpointDescriptions(),
            ServerSignature = serverSignature,
            MaxRequestMessageSize = options.Limits.MaxMessageSize,
        };
    }

    /// <summary>
    /// CreateSession on a secured channel: the client's certificate (the one that opened the channel), its
    /// ApplicationUri and nonce checked; our signature over clientCertificate | clientNonce.
    /// </summary>
    private SignatureData SignForClient(ServerChannelSecurity security, CreateSessionRequest request)
    {
        var certificate = request.ClientCertificate;
        if (certificate is not { Length: > 0 })
        {
            throw new ServiceResultException(StatusCodes.BadCertificateInvalid, "CreateSession on a secured channel without the client's certificate");
        }

        var chain = ParseChain(certificate);
        try
        {
            CheckCertificate(security, request, chain);
        }
        finally
        {
            foreach (var c in chain)
            {
                c.Dispose();
            }
        }

        var nonce = request.ClientNonce ?? [];
        if (nonce.Length < security.Policy.NonceLength)
        {
            throw new ServiceResultException(StatusCodes.BadNonceInvalid,
                $"client nonce of {nonce.Length} bytes; {security.Policy.Uri} needs at least {security.Policy.NonceLength}");
        }

        var ours = _server.Options.Certificate!;
        return new SignatureData
        {
            Algorithm = security.Policy.AsymmetricSignatureAlgorithmUri,
            Signature = security.Policy.Sign(ours.PrivateKey, [.. certificate, .. nonce]),
        };
    }

    /// <summary>The certificate CreateSession names is the channel's, and the client's ApplicationUri is the one in it.</summary>
    private static void CheckCertificate(ServerChannelSecurity security, CreateSessionRequest request, IReadOnlyList<System.Security.Cryptography.X509Certificates.X509Certificate2> chain)
    {
        if (!chain[0].RawDataMemory.Span.SequenceEqual(security.ClientCertificate.RawDataMemory.Span))
        {
            throw new ServiceResultException(StatusCodes.BadCertificateInvalid,
                $"CreateSession names certificate {chain[0].Subject} ({chain[0].Thumbprint}), not the one that opened the channel ({security.ClientCertificate.Thumbprint})");
        }

        var applicationUri = request.ClientDescription.ApplicationUri;
        var certificateUri = ApplicationCertificate.ReadApplicationUri(chain[0]);
        if (!string.Equals(applicationUri, certificateUri, StringComparison.Ordinal))
        {
            throw new ServiceResultException(StatusCodes.BadCertificateUriInvalid,
                $"the client's ApplicationUri '{applicationUri}' is not the URI in its certificate ('{certificateUri}', {chain[0].Subject})");
        }
    }

    private static IReadOnlyList<System.Security.Cryptography.X509Certificates.X509Certificate2> ParseChain(byte[] der)
    {
        try
        {
            var chain = CertificateChain.Parse(der);
            return chain.Count > 0 ? chain : throw new ServiceResultException(StatusCodes.BadCertificateInvalid, "empty certificate");
        }
        catch (CryptographicException ex)
        {
            throw new ServiceResultException(StatusCodes.BadCertificateInvalid, $"the client's certificate does not parse: {ex.Message}");
        }
    }

    /// <summary>ActivateSession on a secured channel: the client's signature over serverCertificate | serverNonce (our last nonce).</summary>
    private void CheckClientSignature(ServerChannelSecurity security, ActivateSessionRequest request, byte[] serverNonce)
    {
        var signature = request.ClientSignature;
        if (!string.Equals(signature.Algorithm, security.Policy.AsymmetricSignatureAlgorithmUri, StringComparison.Ordinal))
        {
            throw new ServiceResultException(StatusCodes.BadApplicationSignatureInvalid,
                $"client signature algorithm '{signature.Algorithm}'; {security.Policy.Uri} needs {security.Policy.AsymmetricSignatureAlgorithmUri}");
        }

        if (!security.Policy.Verify(security.ClientPublicKey, [.. _server.Options.Certificate!.Der, .. serverNonce], signature.Signature ?? []))
        {
            throw new ServiceResultException(StatusCodes.BadApplicationSignatureInvalid,
                "the client's signature over our certificate and nonce does not verify");
        }
    }

    public async ValueTask<ActivateSessionResponse> ActivateAsync(ServerConnection connection, ActivateSessionRequest request, CancellationToken cancellationToken)
    {
        var session = Find(request.RequestHeader.AuthenticationToken)
            ?? throw new ServiceResultException(StatusCodes.BadSessionIdInvalid, "ActivateSession for a session that does not exist (expired or closed)");
        byte[] serverNonce;
        lock (session.Sync)
        {
            serverNonce = session.ServerNonce;
        }

        var security = connection.Security;
        if (session.ClientCertificate is { } created
            && (security is null || !created.AsSpan().SequenceEqual(security.ClientCertificate.RawDataMemory.Span)))
        {
            // A session made on a secured channel moves only to a channel secured with the same client certificate.
            Log.Refused(_logger, session.Describe(), connection.RemoteEndPoint, "activation on a channel without the session's client certificate");
            throw new ServiceResultException(StatusCodes.BadSecurityChecksFailed,
                $"{session.Describe()} was created on a channel secured with another client certificate; it cannot be activated on this {(security is null ? "unsecured " : "")}channel");
        }

        if (security is not null)
        {
            try
            {
                CheckClientSignature(security, request, serverNonce);
            }
            catch (ServiceResultException ex)
            {
                Log.Refused(_logger, session.Describe(), connection.RemoteEndPoint, ex.Reason);
                throw;
            }
        }

        var (userName, problem) = await AuthenticateAsync(security, serverNonce, request, cancellationToken).ConfigureAwait(false);
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

    private async ValueTask<(string? UserName, ServiceResultException? Problem)> AuthenticateAsync(
        ServerChannelSecurity? security, byte[] serverNonce, ActivateSessionRequest request, CancellationToken cancellationToken)
    {
        var token = request.UserIdentityToken;
        var options = _server.Options;
        switch (token?.Body)
        {
            case null:
            case AnonymousIdentityToken:
                return options.AllowAnonymous
                    ? (null, null)
                    : (null, new ServiceResultException(StatusCodes.BadIdentityTokenRejected, "anonymous sessions are not allowed on this server"));
            case UserNameIdentityToken user:
                if (security is null && !string.IsNullOrEmpty(user.EncryptionAlgorithm))
                {
                    return (null, new ServiceResultException(StatusCodes.BadIdentityTokenInvalid,
                        $"user token for '{user.UserName}' is encrypted with {user.EncryptionAlgorithm}, but this endpoint's user token policy is plain (SecurityPolicy None)"));
                }

                if (options.Authenticator is null || string.IsNullOrEmpty(user.UserName))
                {
                    return (null, new ServiceResultException(StatusCodes.BadIdentityTokenRejected, "this server accepts no user names"));
                }

                if (security is not null && string.IsNullOrEmpty(user.EncryptionAlgorithm))
                {
                    return (null, new ServiceResultException(StatusCodes.BadIdentityTokenInvalid,
                        $"user token for '{user.UserName}' carries its password in clear; this endpoint's user token policy encrypts it with {security.Policy.Uri}"));
                }

                string password;
                if (security is null)
                {
                    password = System.Text.Encoding.UTF8.GetString(user.Password ?? []);
                }
                else if (DecryptPassword(security.Policy, user, serverNonce) is { } decrypted)
                {
                    password = decrypted;
                }
                else
                {
                    return (null, new ServiceResultException(StatusCodes.BadIdentityTokenInvalid,
                        $"user token for '{user.UserName}': the encrypted password does not decrypt with {user.EncryptionAlgorithm} to a secret ending in our nonce"));
                }

                return await options.Authenticator.ValidateAsync(user.UserName!, password, cancellationToken).ConfigureAwait(false)
                    ? (user.UserName, null)
                    : (null, new ServiceResultException(StatusCodes.BadUserAccessDenied, $"user '{user.UserName}' gave a wrong password or is unknown"));
            case X509IdentityToken x509 when security is not null && options.UserCertificateValidator is not null:
                return AuthenticateCertificate(security, serverNonce, x509, request.UserTokenSignature);
            default:
                return (null, new ServiceResultException(StatusCodes.BadIdentityTokenInvalid,
                    $"identity token {token.TypeId} is not supported (anonymous, user name{(options.UserCertificateValidator is null ? "" : ", and X.509 on a secured channel")} are)"));
        }
    }

    /// <summary>
    /// An X.509 user token (OPC 10000-4 §7.41.2.3): the user certificate trusted by the user certificate validator, and
    /// the user token signature over serverCertificate | serverNonce made with its key and the channel's policy. The user
    /// is named by the certificate's subject.
    /// </summary>
    private (string? UserName, ServiceResultException? Problem) AuthenticateCertificate(
        ServerChannelSecurity security, byte[] serverNonce, X509IdentityToken token, SignatureData signature)
    {
        IReadOnlyList<System.Security.Cryptography.X509Certificates.X509Certificate2> chain;
        try
        {
            chain = CertificateChain.Parse(token.CertificateData ?? []);
        }
        catch (ServiceResultException ex)
        {
            return (null, new ServiceResultException(StatusCodes.BadIdentityTokenInvalid, $"X.509 user token: {ex.Reason}"));
        }

        try
        {
            var user = chain[0];
            var verdict = _server.Options.UserCertificateValidator!.Validate(chain, null);
            if (!verdict.IsTrusted)
            {
                return (null, new ServiceResultException(StatusCodes.BadIdentityTokenRejected, $"user certificate refused: {verdict.Status.Name}: {verdict.Reason}"));
            }

            using var key = user.GetRSAPublicKey();
            if (key is null
                || !string.Equals(signature.Algorithm, security.Policy.AsymmetricSignatureAlgorithmUri, StringComparison.Ordinal)
                || !security.Policy.Verify(key, [.. _server.Options.Certificate!.Der, .. serverNonce], signature.Signature ?? []))
            {
                return (null, new ServiceResultException(StatusCodes.BadUserSignatureInvalid,
                    $"the user token signature of {user.Subject} ({user.Thumbprint}) over our certificate and nonce does not verify with {security.Policy.Name}"));
            }

            return (user.Subject, null);
        }
        finally
        {
            foreach (var c in chain)
            {
                c.Dispose();
            }
        }
    }

    /// <summary>
    /// The password of an encrypted user name token (OPC 10000-4 §7.41.2.2): the secret, encrypted with our public key
    /// and the policy's algorithm, is length (UInt32, of password and nonce) | password | our last server nonce. Null
    /// when the algorithm is not the policy's, the secret does not decrypt, or its nonce is not ours.
    /// </summary>
    private string? DecryptPassword(SecurityPolicy policy, UserNameIdentityToken user, byte[] serverNonce)
    {
        if (!string.Equals(user.EncryptionAlgorithm, policy.AsymmetricEncryptionAlgorithmUri, StringComparison.Ordinal))
        {
            return null;
        }

        byte[] secret;
        try
        {
            secret = policy.Decrypt(_server.Options.Certificate!.PrivateKey, user.Password ?? []);
        }
        catch (Exception ex) when (ex is CryptographicException or ServiceResultException)
        {
            return null;
        }

        if (secret.Length < 4)
        {
            return null;
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(secret);
        if (length > secret.Length - 4 || length < serverNonce.Length || serverNonce.Length == 0)
        {
            return null;
        }

        var payload = secret.AsSpan(4, (int)length);
        var nonce = payload[^serverNonce.Length..];
        if (!CryptographicOperations.FixedTimeEquals(nonce, serverNonce))
        {
            return null;
        }

        try
        {
            return new System.Text.UTF8Encoding(false, true).GetString(payload[..^serverNonce.Length]);
        }
        catch (ArgumentException)
        {
            return null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
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
