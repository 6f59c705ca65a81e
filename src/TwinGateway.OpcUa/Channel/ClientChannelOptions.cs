using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Security;
using TwinGateway.OpcUa.Transport;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Channel;

/// <summary>Settings of one client secure channel.</summary>
public sealed record ClientChannelOptions
{
    public TransportLimits Limits { get; init; } = TransportLimits.Default;

    public EncodingLimits EncodingLimits { get; init; } = EncodingLimits.Default;

    /// <summary>Lifetime we ask for; the channel renews its token at 75% of what the server revises it to.</summary>
    public TimeSpan RequestedLifetime { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Time allowed for TCP connect plus Hello/Acknowledge plus OpenSecureChannel.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Default timeout for a request that names none.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The channel's security policy; None (the default) sends everything in clear.</summary>
    public SecurityPolicy SecurityPolicy { get; init; } = SecurityPolicy.None;

    /// <summary>Sign or SignAndEncrypt with a secured <see cref="SecurityPolicy"/>; None with None.</summary>
    public MessageSecurityMode SecurityMode { get; init; } = MessageSecurityMode.None;

    /// <summary>Our application instance certificate (a secured channel needs it).</summary>
    public ApplicationCertificate? ClientCertificate { get; init; }

    /// <summary>The server's certificate (DER, possibly a chain) from its endpoint description (a secured channel needs it).</summary>
    public byte[]? ServerCertificate { get; init; }

    /// <summary>Decides whether <see cref="ServerCertificate"/> is trusted before anything is sent to the server.</summary>
    public ICertificateValidator? CertificateValidator { get; init; }

    /// <summary>True when the channel signs (and maybe encrypts).</summary>
    public bool IsSecured => !SecurityPolicy.IsNone;

    /// <summary>Every problem with the security settings, each naming the setting; empty when they can be used.</summary>
    public IReadOnlyList<string> ValidateSecurity()
    {
        var problems = new List<string>();
        if (SecurityPolicy is null)
        {
            problems.Add("SecurityPolicy is null; use SecurityPolicy.None for an unsecured channel");
            return problems;
        }

        if (SecurityPolicy.IsNone)
        {
            if (SecurityMode is not (MessageSecurityMode.None or MessageSecurityMode.Invalid))
            {
                problems.Add($"SecurityMode is {SecurityMode} but SecurityPolicy is None");
            }

            return problems;
        }

        if (SecurityMode is not (MessageSecurityMode.Sign or MessageSecurityMode.SignAndEncrypt))
        {
            problems.Add($"SecurityMode is {SecurityMode}; {SecurityPolicy.Name} needs Sign or SignAndEncrypt");
        }

        if (ClientCertificate is null)
        {
            problems.Add($"ClientCertificate is not set; {SecurityPolicy.Name} needs our application instance certificate");
        }

        if (ServerCertificate is not { Length: > 0 })
        {
            problems.Add($"ServerCertificate is not set; {SecurityPolicy.Name} needs the server's certificate from its endpoint");
        }

        if (CertificateValidator is null)
        {
            problems.Add("CertificateValidator is not set; a secured channel must decide whether it trusts the server");
        }

        return problems;
    }
}
