using TwinGateway.OpcUa.Channel;
using TwinGateway.OpcUa.Security;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Client;

/// <summary>Who the session acts as (OPC 10000-4 §7.40).</summary>
public abstract record UserIdentity
{
    public static UserIdentity Anonymous { get; } = new AnonymousIdentity();

    public static UserIdentity ForUser(string userName, string password) => new UserNameIdentity(userName, password);
}

public sealed record AnonymousIdentity : UserIdentity;

public sealed record UserNameIdentity(string UserName, string Password) : UserIdentity
{
    /// <summary>Never print the password.</summary>
    public override string ToString() => $"UserNameIdentity {{ UserName = {UserName} }}";
}

/// <summary>Settings of an <see cref="OpcUaClient"/>.</summary>
public sealed record OpcUaClientOptions
{
    public string ApplicationName { get; init; } = "TwinGateway";

    public string ApplicationUri { get; init; } = "urn:twingateway:client";

    public string ProductUri { get; init; } = "urn:twingateway";

    public string SessionName { get; init; } = "TwinGateway session";

    public UserIdentity Identity { get; init; } = UserIdentity.Anonymous;

    /// <summary>Session timeout we ask for; the server revises it.</summary>
    public TimeSpan SessionTimeout { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long the client lets the server stay silent before it asks whether the server is still there. Anything the
    /// server sends (a response, a Publish response with data or a subscription keep-alive) counts as hearing from it;
    /// after one interval without a word the client sends a keep-alive request (a Read of ServerStatus/State) that the
    /// server answers at once. Default 5 s, as in the OPC Foundation's .NET stack: at most one small request per
    /// interval to an idle server, none while data flows.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Keep-alive intervals the server may leave a keep-alive request unanswered before the connection counts as lost:
    /// after <c>KeepAliveInterval x (1 + MaxMissedKeepAlives)</c> without a word from the server the client drops the
    /// socket and reconnects, with a reason that says the server stopped answering. This holds even while the TCP
    /// connection stays open (a hung or SIGSTOPped server). Default 1: a hung server is noticed within two keep-alive
    /// intervals; raise it where a server is known to stall for longer and still be healthy.
    /// </summary>
    public int MaxMissedKeepAlives { get; init; } = 1;

    /// <summary>How long the client waits between reconnect attempts (see <see cref="ReconnectPolicy"/>).</summary>
    public ReconnectPolicy Reconnect { get; init; } = new();

    /// <summary>Publish requests kept outstanding per session (OPC 10000-4 §5.13.5 asks for several).</summary>
    public int PublishRequestCount { get; init; } = 3;

    /// <summary>Time a service call waits, including a wait for a reconnect in progress.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public ClientChannelOptions Channel { get; init; } = new();

    /// <summary>
    /// The security policy of the endpoint to use; None (the default) keeps everything in clear. With a secured policy
    /// the client asks the server for its endpoints, picks the one with this policy and <see cref="SecurityMode"/>,
    /// checks its certificate with <see cref="CertificateValidator"/> and signs (and encrypts) every chunk.
    /// </summary>
    public SecurityPolicy SecurityPolicy { get; init; } = SecurityPolicy.None;

    /// <summary>Sign or SignAndEncrypt with a secured <see cref="SecurityPolicy"/>.</summary>
    public MessageSecurityMode SecurityMode { get; init; } = MessageSecurityMode.None;

    /// <summary>Our application instance certificate; its subject alternative name URI becomes the session's ApplicationUri.</summary>
    public ApplicationCertificate? Certificate { get; init; }

    /// <summary>Decides whether the server's certificate is trusted.</summary>
    public ICertificateValidator? CertificateValidator { get; init; }

    /// <summary>Items per CreateMonitoredItems call when the server does not say its limit.</summary>
    public int DefaultMonitoredItemsPerCall { get; init; } = 1000;

    /// <summary>Every problem with these settings, each naming the setting; empty when they can be used.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (KeepAliveInterval <= TimeSpan.Zero)
        {
            problems.Add($"KeepAliveInterval is {KeepAliveInterval}; it must be above zero");
        }

        if (MaxMissedKeepAlives < 1)
        {
            problems.Add($"MaxMissedKeepAlives is {MaxMissedKeepAlives}; it must be at least 1");
        }

        if (Reconnect is null)
        {
            problems.Add("Reconnect is null; leave it out for the default policy");
        }
        else
        {
            problems.AddRange(Reconnect.Validate());
        }

        if (RequestTimeout <= TimeSpan.Zero)
        {
            problems.Add($"RequestTimeout is {RequestTimeout}; it must be above zero");
        }

        if (SecurityPolicy is null)
        {
            problems.Add("SecurityPolicy is null; use SecurityPolicy.None for an unsecured connection");
        }
        else if (!SecurityPolicy.IsNone)
        {
            if (SecurityMode is not (MessageSecurityMode.Sign or MessageSecurityMode.SignAndEncrypt))
            {
                problems.Add($"SecurityMode is {SecurityMode}; {SecurityPolicy.Name} needs Sign or SignAndEncrypt");
            }

            if (Certificate is null)
            {
                problems.Add($"Certificate is not set; {SecurityPolicy.Name} needs our application instance certificate");
            }

            if (CertificateValidator is null)
            {
                problems.Add($"CertificateValidator is not set; {SecurityPolicy.Name} must decide whether it trusts the server's certificate");
            }
        }
        else if (SecurityMode is not (MessageSecurityMode.None or MessageSecurityMode.Invalid))
        {
            problems.Add($"SecurityMode is {SecurityMode} but SecurityPolicy is None");
        }

        return problems;
    }
}

/// <summary>
/// How an <see cref="OpcUaClient"/> retries after it lost its connection: it waits <see cref="InitialDelay"/> before
/// the first attempt and doubles the wait after each failed attempt, never beyond <see cref="MaxDelay"/>. The delays
/// are honoured exactly (no jitter, no hidden floor or cap), so a server that listens again is reconnected within
/// <see cref="MaxDelay"/> plus the time a connect takes.
/// </summary>
public sealed record ReconnectPolicy
{
    /// <summary>
    /// Wait before the first attempt after a loss. Default 250 ms: a dropped socket to a server that is still up is
    /// back almost at once, and a server going down is not hammered.
    /// </summary>
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The longest wait between two attempts. Default 5 s: a refused connect costs nothing, and a PLC that comes back
    /// loses at most 5 s more of data (the old fixed 15 s cap turned a 15 s outage into 31 s without data). A gateway
    /// that promises "reconnected within N s of the controller listening again" sets it to N.
    /// </summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The wait before attempt <paramref name="attempt"/> (1 for the first after a loss).</summary>
    public TimeSpan DelayBefore(int attempt)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(attempt);
        var delay = InitialDelay;
        for (var i = 1; i < attempt && delay < MaxDelay; i++)
        {
            delay = NextDelay(delay);
        }

        return delay < MaxDelay ? delay : MaxDelay;
    }

    /// <summary>The wait after a failed attempt that followed a wait of <paramref name="previous"/>: twice as long, at most <see cref="MaxDelay"/>.</summary>
    public TimeSpan NextDelay(TimeSpan previous)
    {
        if (previous <= TimeSpan.Zero)
        {
            // An immediate first attempt still backs off: the second waits a tenth of the cap.
            return TimeSpan.FromTicks(Math.Max(1, MaxDelay.Ticks / 10));
        }

        return previous.Ticks >= MaxDelay.Ticks / 2 ? MaxDelay : TimeSpan.FromTicks(previous.Ticks * 2);
    }

    /// <summary>Every problem with this policy, each naming the setting.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (InitialDelay < TimeSpan.Zero)
        {
            problems.Add($"Reconnect.InitialDelay is {InitialDelay}; it must not be negative");
        }

        if (MaxDelay <= TimeSpan.Zero)
        {
            problems.Add($"Reconnect.MaxDelay is {MaxDelay}; it must be above zero");
        }
        else if (InitialDelay > MaxDelay)
        {
            problems.Add($"Reconnect.InitialDelay ({InitialDelay}) is longer than Reconnect.MaxDelay ({MaxDelay})");
        }

        return problems;
    }
}
