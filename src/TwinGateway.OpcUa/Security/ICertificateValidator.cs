using System.Security.Cryptography.X509Certificates;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Security;

/// <summary>
/// Decides whether a peer's application instance certificate is trusted (OPC 10000-4 §6.1.3): the channel and the
/// session ask it on OpenSecureChannel and CreateSession. An implementation keeps trust stores (own, trusted, issuers
/// with CRLs, rejected); one that refuses a certificate it does not trust keeps it in rejected, so an admin can trust it
/// through the API.
/// </summary>
public interface ICertificateValidator
{
    /// <summary>
    /// Validates <paramref name="chain"/> (the peer's certificate first, then any issuers it sent) for
    /// <paramref name="expectedApplicationUri"/> when known (the ApplicationUri of the session's ApplicationDescription,
    /// which must be in the certificate's subject alternative name).
    /// </summary>
    /// <returns>Good, or the precise refusal: BadCertificateUntrusted, BadCertificateTimeInvalid,
    /// BadCertificateRevoked, BadCertificateUriInvalid, BadCertificateChainIncomplete, BadCertificateInvalid,
    /// BadCertificateUseNotAllowed, BadCertificateIssuerRevocationUnknown..., with a reason a person can act on.</returns>
    CertificateVerdict Validate(IReadOnlyList<X509Certificate2> chain, string? expectedApplicationUri);
}

/// <summary>A validator's answer: Good, or a Bad status and why (the certificate's subject and thumbprint named).</summary>
public readonly record struct CertificateVerdict(StatusCode Status, string Reason)
{
    public static CertificateVerdict Trusted { get; } = new(StatusCodes.Good, "trusted");

    public bool IsTrusted => Status.IsGood;
}

/// <summary>
/// Trusts exactly the certificates given (by SHA-1 thumbprint), refusing everything else with BadCertificateUntrusted:
/// for tests and for a pinned peer. It does not check time, use or URI; a trust-store validator does.
/// </summary>
public sealed class PinnedCertificateValidator(IEnumerable<X509Certificate2> trusted) : ICertificateValidator
{
    private readonly HashSet<string> _thumbprints = trusted.Select(c => c.Thumbprint).ToHashSet(StringComparer.OrdinalIgnoreCase);

    public CertificateVerdict Validate(IReadOnlyList<X509Certificate2> chain, string? expectedApplicationUri)
    {
        ArgumentNullException.ThrowIfNull(chain);
        if (chain.Count == 0)
        {
            return new CertificateVerdict(StatusCodes.BadCertificateInvalid, "the peer sent no certificate");
        }

        return _thumbprints.Contains(chain[0].Thumbprint)
            ? CertificateVerdict.Trusted
            : new CertificateVerdict(StatusCodes.BadCertificateUntrusted, $"certificate {chain[0].Subject} ({chain[0].Thumbprint}) is not pinned");
    }
}
