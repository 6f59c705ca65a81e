namespace TwinGateway.Host.Security;

/// <summary>
/// The certificate of the gateway's https endpoints (section <c>Gateway:Tls</c>): a PEM certificate with its PEM key, or
/// a PFX, given here; none given and an https <c>Gateway:ApiUrl</c>: a self-signed one the gateway creates once in
/// <c>&lt;data folder&gt;/tls/</c>.
/// </summary>
public sealed class TlsOptions
{
    public const string Section = "Gateway:Tls";

    /// <summary>A PEM certificate (with <see cref="KeyFile"/>, or with its key in the same file) or a PFX (.pfx, .p12).</summary>
    public string? CertificateFile { get; set; }

    /// <summary>The PEM private key of <see cref="CertificateFile"/>; empty when the certificate file holds it.</summary>
    public string? KeyFile { get; set; }

    /// <summary>The PFX's or encrypted PEM key's password: the secret <c>tls.password</c>, never a settings file.</summary>
    public string? Password { get; set; }

    /// <summary>More DNS names or addresses for the self-signed certificate (beyond localhost, loopback, the host's name and the API URL's host).</summary>
    public List<string> HostNames { get; set; } = [];
}
