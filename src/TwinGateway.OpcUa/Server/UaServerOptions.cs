using System.Net;
using TwinGateway.OpcUa.Channel;
using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Security;
using TwinGateway.OpcUa.Transport;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Server;

/// <summary>Settings and limits of a <see cref="UaServer"/>. Every listener binds to loopback unless told otherwise.</summary>
public sealed record UaServerOptions
{
    /// <summary>Address to listen on; loopback by default.</summary>
    public IPAddress ListenAddress { get; init; } = IPAddress.Loopback;

    /// <summary>TCP port; 0 picks a free one (see <see cref="UaServer.Port"/>).</summary>
    public int Port { get; init; } = 4840;

    /// <summary>Host name put into endpoint URLs; the listen address when null.</summary>
    public string? PublicHostName { get; init; }

    public string ApplicationUri { get; init; } = "urn:twingateway:server";
    public string ProductUri { get; init; } = "urn:twingateway";
    public string ApplicationName { get; init; } = "TwinGateway OPC UA server";
    public string ManufacturerName { get; init; } = "TwinGateway";
    public string SoftwareVersion { get; init; } = typeof(UaServerOptions).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    /// <summary>Limits we announce in Acknowledge (what we accept).</summary>
    public TransportLimits Limits { get; init; } = new() { ReceiveBufferSize = 65535, SendBufferSize = 65535, MaxMessageSize = 16 << 20, MaxChunkCount = 512 };

    public EncodingLimits EncodingLimits { get; init; } = EncodingLimits.Default;

    /// <summary>Connections served at once; more are refused with BadTcpServerTooBusy.</summary>
    public int MaxConnections { get; init; } = 200;

    /// <summary>Time a new connection has to send Hello and open its channel (frees half-open connections).</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A channel with no open session that stays silent this long is closed (idle connections).</summary>
    public TimeSpan IdleChannelTimeout { get; init; } = TimeSpan.FromMinutes(2);

    public TimeSpan MinChannelLifetime { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan MaxChannelLifetime { get; init; } = TimeSpan.FromHours(1);

    public int MaxSessions { get; init; } = 100;
    public TimeSpan MinSessionTimeout { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxSessionTimeout { get; init; } = TimeSpan.FromHours(1);

    public int MaxSubscriptionsPerSession { get; init; } = 100;

    /// <summary>Monitored items across all sessions.</summary>
    public int MaxMonitoredItems { get; init; } = 1_000_000;

    public int MaxMonitoredItemsPerSubscription { get; init; } = 200_000;

    public int MaxMonitoredItemsPerCall { get; init; } = 10_000;
    public int MaxNodesPerRead { get; init; } = 10_000;
    public int MaxNodesPerWrite { get; init; } = 10_000;
    public int MaxNodesPerBrowse { get; init; } = 1_000;
    public int MaxNodesPerMethodCall { get; init; } = 1_000;
    public int MaxNodesPerRegisterNodes { get; init; } = 10_000;
    public int MaxNodesPerTranslateBrowsePaths { get; init; } = 1_000;

    /// <summary>References returned per node when the client asks for no limit.</summary>
    public int MaxReferencesPerNode { get; init; } = 1_000;

    public int MaxBrowseContinuationPoints { get; init; } = 10;

    public TimeSpan MinPublishingInterval { get; init; } = TimeSpan.FromMilliseconds(10);
    public TimeSpan MinSamplingInterval { get; init; } = TimeSpan.FromMilliseconds(5);
    public uint MaxQueueSize { get; init; } = 10_000;
    public int MaxPublishRequestsPerSession { get; init; } = 20;

    /// <summary>NotificationMessages kept per subscription for Republish.</summary>
    public int MaxRetransmissionQueueSize { get; init; } = 100;

    /// <summary>
    /// Encoded notification bytes kept per subscription for Republish; past it the oldest messages go (the newest always
    /// stays). A full message of <see cref="MaxNotificationsPerPublish"/> Doubles is 1.6 MB (32 B a value), so 100 of
    /// them, what <see cref="MaxRetransmissionQueueSize"/> alone allowed, were 160 MB for one client that does not
    /// acknowledge. 32 MiB keeps 20 such messages: ten publishing cycles of 100,000 items, while a client that
    /// acknowledges holds 2 to 6.
    /// </summary>
    public long MaxRetransmissionQueueBytes { get; init; } = 32L << 20;

    /// <summary>Most notifications in one NotificationMessage, whatever the client asks (keeps messages under MaxMessageSize).</summary>
    public uint MaxNotificationsPerPublish { get; init; } = 50_000;

    /// <summary>Who may open a session. Anonymous users are accepted unless <see cref="AllowAnonymous"/> is false.</summary>
    public IUserAuthenticator? Authenticator { get; init; }

    public bool AllowAnonymous { get; init; } = true;

    /// <summary>
    /// The security policies and modes offered, one endpoint each: by default None, then Aes256_Sha256_RsaPss,
    /// Basic256Sha256 and Aes128_Sha256_RsaOaep in SignAndEncrypt and in Sign. The secured ones are offered only with a
    /// <see cref="Certificate"/>; None only while <see cref="AllowSecurityPolicyNone"/> is true.
    /// </summary>
    public IReadOnlyList<EndpointSecurity> Security { get; init; } = EndpointSecurity.Defaults;

    /// <summary>False turns SecurityPolicy None off: no None endpoint, and an OpenSecureChannel with None is refused.</summary>
    public bool AllowSecurityPolicyNone { get; init; } = true;

    /// <summary>Our application instance certificate with its private key; without one only None is offered.</summary>
    public ApplicationCertificate? Certificate { get; init; }

    /// <summary>
    /// Decides which client application certificates are trusted on OpenSecureChannel and CreateSession; when null,
    /// every client certificate is refused with BadCertificateUntrusted.
    /// </summary>
    public ICertificateValidator? ClientCertificateValidator { get; init; }

    /// <summary>Decides which X.509 user certificates may log in; when null, X.509 user tokens are not offered.</summary>
    public ICertificateValidator? UserCertificateValidator { get; init; }

    /// <summary>The endpoints actually offered: <see cref="Security"/> less what the certificate and the None switch rule out.</summary>
    public IEnumerable<EndpointSecurity> OfferedSecurity => Security.Where(s => s.IsNone ? AllowSecurityPolicyNone : Certificate is not null);

    /// <summary>Checks the values and lists every problem at once.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        if (Port is < 0 or > 65535)
        {
            problems.Add($"Port {Port} is not 0..65535");
        }

        if (MaxConnections < 1)
        {
            problems.Add("MaxConnections must be at least 1");
        }

        if (MaxSessions < 1)
        {
            problems.Add("MaxSessions must be at least 1");
        }

        if (MinSessionTimeout > MaxSessionTimeout)
        {
            problems.Add("MinSessionTimeout is above MaxSessionTimeout");
        }

        if (!AllowAnonymous && Authenticator is null)
        {
            problems.Add("AllowAnonymous is false but no Authenticator is set: nobody could log in");
        }

        if (Limits.ReceiveBufferSize < TransportLimits.MinBufferSize || Limits.SendBufferSize < TransportLimits.MinBufferSize)
        {
            problems.Add($"buffer sizes must be at least {TransportLimits.MinBufferSize}");
        }

        foreach (var security in Security)
        {
            if (!SecurityPolicy.TryGet(security.PolicyUri, out var policy))
            {
                problems.Add($"security policy '{security.PolicyUri}' is not supported");
            }
            else if (policy.IsNone != (security.Mode == MessageSecurityMode.None) || security.Mode is < MessageSecurityMode.None or > MessageSecurityMode.SignAndEncrypt)
            {
                problems.Add($"security policy {security.PolicyUri} cannot be offered in mode {security.Mode}");
            }
        }

        if (!OfferedSecurity.Any())
        {
            problems.Add(Certificate is null
                ? "no endpoint is offered: SecurityPolicy None is off (or not listed) and no Certificate is set for the secured ones"
                : "no endpoint is offered: Security lists none that is allowed");
        }

        if (Certificate is not null && !string.Equals(Certificate.ApplicationUri, ApplicationUri, StringComparison.Ordinal))
        {
            problems.Add($"the certificate's ApplicationUri '{Certificate.ApplicationUri}' is not the server's ApplicationUri '{ApplicationUri}'");
        }

        if (MaxRetransmissionQueueSize < 1 || MaxRetransmissionQueueBytes < 1)
        {
            problems.Add("MaxRetransmissionQueueSize and MaxRetransmissionQueueBytes must be at least 1");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException("invalid OPC UA server options: " + string.Join("; ", problems));
        }
    }
}

/// <summary>Checks user name and password for ActivateSession.</summary>
public interface IUserAuthenticator
{
    /// <summary>True when the user may log in. Called on the request path: keep it fast.</summary>
    ValueTask<bool> ValidateAsync(string userName, string password, CancellationToken cancellationToken);
}

/// <summary>
/// A fixed table of users, for tests, demos and small plants. Passwords are compared as SHA-256 digests in constant
/// time, so neither the password's content nor its length shows in the time an answer takes; an unknown user costs
/// the same comparison.
/// </summary>
public sealed class StaticUserAuthenticator(IReadOnlyDictionary<string, string> users) : IUserAuthenticator
{
    private static readonly byte[] s_nobody = System.Security.Cryptography.SHA256.HashData("\0nobody\0"u8);

    public ValueTask<bool> ValidateAsync(string userName, string password, CancellationToken cancellationToken)
    {
        var known = users.TryGetValue(userName, out var expected);
        var expectedDigest = known ? System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(expected!)) : s_nobody;
        var givenDigest = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(password));
        return ValueTask.FromResult(System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(expectedDigest, givenDigest) && known);
    }
}

/// <summary>One security policy in one message security mode: what an endpoint offers.</summary>
public readonly record struct EndpointSecurity(string PolicyUri, MessageSecurityMode Mode)
{
    /// <summary>None, then the three secured policies (strongest first) in SignAndEncrypt, then in Sign.</summary>
    public static IReadOnlyList<EndpointSecurity> Defaults { get; } =
    [
        new(SecurityPolicies.None, MessageSecurityMode.None),
        new(SecurityPolicies.Aes256Sha256RsaPss, MessageSecurityMode.SignAndEncrypt),
        new(SecurityPolicies.Basic256Sha256, MessageSecurityMode.SignAndEncrypt),
        new(SecurityPolicies.Aes128Sha256RsaOaep, MessageSecurityMode.SignAndEncrypt),
        new(SecurityPolicies.Aes256Sha256RsaPss, MessageSecurityMode.Sign),
        new(SecurityPolicies.Basic256Sha256, MessageSecurityMode.Sign),
        new(SecurityPolicies.Aes128Sha256RsaOaep, MessageSecurityMode.Sign),
    ];

    public bool IsNone => Mode == MessageSecurityMode.None;
}
