using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Security.Pki;

/// <summary>
/// The trust-list validator (OPC 10000-4 §6.1.3, Table 106): builds the peer's chain with <see cref="X509Chain"/> against
/// the certificates of trusted/ and issuers/ only (no system roots, no downloads), and answers the first problem in the
/// specification's order: structure and chain, signature, trust, validity period, URI, use, revocation.
/// </summary>
/// <remarks>
/// <para>Trust: a chain is trusted when one of its certificates (the peer's own, or a CA above it) is in trusted/.
/// issuers/ only completes chains.</para>
/// <para>Revocation: every CA that issued a certificate of the chain must have a CRL in a crl/ folder (checked offline;
/// a CRL past its NextUpdate still counts, as a plant network cannot fetch a newer one). A CA without one is
/// BadCertificateRevocationUnknown (for the peer's issuer) or BadCertificateIssuerRevocationUnknown (higher up), as the
/// specification asks; <c>requireRevocationLists: false</c> accepts such chains for plants whose CA publishes none.
/// A self-signed certificate trusted directly needs no CRL.</para>
/// <para>Bounded work: a peer may send at most <see cref="MaxChainLength"/> certificates and a chain may be at most that
/// deep; the DER blob of a message is split with the same limit before anything is parsed further, so a chain bomb of
/// hundreds of certificates costs the parsing of at most one more.</para>
/// <para>Thread-safe: the stores are an immutable snapshot re-read when their folders change.</para>
/// </remarks>
public sealed partial class TrustListValidator(DirectoryCertificateStore store, bool requireRevocationLists = true, TimeProvider? time = null, ILogger? log = null)
    : ICertificateValidator
{
    /// <summary>The most certificates a peer may send and the deepest chain accepted (a leaf, up to 7 CAs).</summary>
    public const int MaxChainLength = 8;

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ILogger _log = log ?? NullLogger.Instance;

    public DirectoryCertificateStore Store { get; } = store ?? throw new ArgumentNullException(nameof(store));

    /// <summary>
    /// Validates the certificates as a message carries them (OPC 10000-6 §6.7.2: the sender's DER certificate followed by
    /// its issuers' in one ByteString): more than <see cref="MaxChainLength"/> or anything that is not DER is refused
    /// before a chain is built.
    /// </summary>
    public CertificateVerdict ValidateEncoded(ReadOnlySpan<byte> certificates, string? expectedApplicationUri)
    {
        var chain = new List<X509Certificate2>();
        var rest = certificates;
        try
        {
            while (!rest.IsEmpty)
            {
                if (chain.Count == MaxChainLength)
                {
                    return Refuse(StatusCodes.BadCertificateInvalid, $"the peer sent more than {MaxChainLength} certificates; refused without building a chain");
                }

                AsnDecoder.ReadEncodedValue(rest, AsnEncodingRules.DER, out _, out _, out var consumed);
                chain.Add(X509CertificateLoader.LoadCertificate(rest[..consumed]));
                rest = rest[consumed..];
            }
        }
        catch (Exception ex) when (ex is AsnContentException or CryptographicException)
        {
            return Refuse(StatusCodes.BadCertificateInvalid, $"certificate {chain.Count + 1} the peer sent cannot be parsed: {ex.Message}");
        }

        return Validate(chain, expectedApplicationUri);
    }

    public CertificateVerdict Validate(IReadOnlyList<X509Certificate2> chain, string? expectedApplicationUri)
    {
        ArgumentNullException.ThrowIfNull(chain);
        if (chain.Count == 0)
        {
            return Refuse(StatusCodes.BadCertificateInvalid, "the peer sent no certificate");
        }

        if (chain.Count > MaxChainLength)
        {
            return Refuse(StatusCodes.BadCertificateInvalid, $"the peer sent {chain.Count} certificates, more than {MaxChainLength}; refused without building a chain");
        }

        var leaf = chain[0];
        var name = $"{leaf.Subject} ({leaf.Thumbprint})";
        TrustSnapshot stores;
        try
        {
            stores = Store.Snapshot();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Refuse(StatusCodes.BadCertificateUntrusted, $"certificate {name}: the trust stores in {Store.Root} cannot be read ({ex.Message})");
        }

        using var x509 = new X509Chain();
        var policy = x509.ChainPolicy;
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.DisableCertificateDownloads = true;

        // Time, usage and basic constraints are checked below, each with its own status, in the specification's order.
        policy.VerificationFlags = X509VerificationFlags.IgnoreNotTimeValid | X509VerificationFlags.IgnoreWrongUsage
            | X509VerificationFlags.IgnoreInvalidBasicConstraints | X509VerificationFlags.IgnoreCtlNotTimeValid;
        policy.VerificationTime = _time.GetUtcNow().UtcDateTime;
        foreach (var certificate in stores.Trusted.Concat(stores.Issuers))
        {
            (certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData) ? policy.CustomTrustStore : policy.ExtraStore).Add(certificate);
        }

        for (var i = 1; i < chain.Count; i++)
        {
            // Issuers the peer sent complete the chain but are never trust anchors.
            policy.ExtraStore.Add(chain[i]);
        }

        x509.Build(leaf);
        var elements = x509.ChainElements.Select(e => e.Certificate).ToList();
        var statuses = x509.ChainStatus.Select(s => s.Status).Aggregate(X509ChainStatusFlags.NoError, (a, b) => a | b);
        if (elements.Count > MaxChainLength)
        {
            return Refuse(StatusCodes.BadCertificateInvalid, $"certificate {name}: its chain is {elements.Count} certificates deep, more than {MaxChainLength}");
        }

        if ((statuses & (X509ChainStatusFlags.NotSignatureValid | X509ChainStatusFlags.HasNotSupportedCriticalExtension | X509ChainStatusFlags.Cyclic)) != 0)
        {
            return Refuse(StatusCodes.BadCertificateInvalid, $"certificate {name}: its chain does not verify ({statuses})");
        }

        var trusted = elements.Any(e => stores.TrustedThumbprints.Contains(e.Thumbprint));
        if ((statuses & X509ChainStatusFlags.PartialChain) != 0)
        {
            var last = elements[^1];
            if (!trusted)
            {
                Store.RecordRejected(leaf);
            }

            return Refuse(StatusCodes.BadCertificateChainIncomplete,
                $"certificate {name}: the issuer {last.Issuer} of {last.Subject} is in neither trusted/ nor issuers/ (add the CA with `twingw certs` or its API)");
        }

        if (!trusted)
        {
            var kept = Store.RecordRejected(leaf);
            return Refuse(StatusCodes.BadCertificateUntrusted,
                $"certificate {name} is not trusted; {(kept is null ? "it could not be kept in rejected/" : "it is kept in rejected/")}: trust it with `twingw certs trust {leaf.Thumbprint}` or the CertificateService");
        }

        var now = _time.GetUtcNow().UtcDateTime;
        for (var i = 0; i < elements.Count; i++)
        {
            var e = elements[i];
            if (now < e.NotBefore.ToUniversalTime() || now > e.NotAfter.ToUniversalTime())
            {
                return Refuse(i == 0 ? StatusCodes.BadCertificateTimeInvalid : StatusCodes.BadCertificateIssuerTimeInvalid,
                    $"certificate {e.Subject} ({e.Thumbprint}) is valid from {e.NotBefore.ToUniversalTime():u} to {e.NotAfter.ToUniversalTime():u}, not now ({now:u})");
            }
        }

        if (expectedApplicationUri is not null && !CertificateFacts.Uris(leaf).Contains(expectedApplicationUri, StringComparer.Ordinal))
        {
            var uris = CertificateFacts.Uris(leaf);
            return Refuse(StatusCodes.BadCertificateUriInvalid,
                $"certificate {name} names {(uris.Count == 0 ? "no URI" : string.Join(", ", uris))} in its subject alternative name, not the application's URI {expectedApplicationUri}");
        }

        if (UseProblem(leaf) is { } useProblem)
        {
            return Refuse(StatusCodes.BadCertificateUseNotAllowed, $"certificate {name}: {useProblem}");
        }

        for (var i = 1; i < elements.Count; i++)
        {
            var usage = CertificateFacts.KeyUsage(elements[i]);
            if (!CertificateFacts.IsAuthority(elements[i]) || (usage is { } u && (u & X509KeyUsageFlags.KeyCertSign) == 0))
            {
                return Refuse(StatusCodes.BadCertificateIssuerUseNotAllowed, $"certificate {elements[i].Subject} ({elements[i].Thumbprint}) issued {elements[i - 1].Subject} but is not a CA allowed to sign certificates");
            }
        }

        return Revocation(elements, stores, name);
    }

    private CertificateVerdict Revocation(List<X509Certificate2> elements, TrustSnapshot stores, string name)
    {
        for (var i = 0; i < elements.Count - 1; i++)
        {
            var subject = elements[i];
            var issuer = elements[i + 1];
            var lists = stores.RevocationLists.Where(l => l.IsIssuedBy(issuer)).ToList();
            if (lists.Count == 0)
            {
                if (requireRevocationLists)
                {
                    return Refuse(i == 0 ? StatusCodes.BadCertificateRevocationUnknown : StatusCodes.BadCertificateIssuerRevocationUnknown,
                        $"certificate {subject.Subject} ({subject.Thumbprint}): its issuer {issuer.Subject} has no revocation list in trusted/crl or issuers/crl; add the CA's CRL");
                }

                continue;
            }

            if (lists.Any(l => l.Revokes(subject)))
            {
                return Refuse(i == 0 ? StatusCodes.BadCertificateRevoked : StatusCodes.BadCertificateIssuerRevoked,
                    i == 0 ? $"certificate {name} is revoked by {issuer.Subject}" : $"certificate {name}: its issuer {subject.Subject} ({subject.Thumbprint}) is revoked by {issuer.Subject}");
            }
        }

        return CertificateVerdict.Trusted;
    }

    /// <summary>OPC 10000-6 §6.2.2: an application instance certificate signs (DigitalSignature) and is no CA unless self-signed.</summary>
    private static string? UseProblem(X509Certificate2 leaf)
    {
        if (CertificateFacts.KeyUsage(leaf) is not { } usage)
        {
            return "it has no key usage extension (an application instance certificate needs DigitalSignature)";
        }

        if ((usage & X509KeyUsageFlags.DigitalSignature) == 0)
        {
            return $"its key usage is {usage}, without DigitalSignature";
        }

        var enhanced = leaf.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault();
        if (enhanced is not null && !enhanced.EnhancedKeyUsages.Cast<Oid>().Any(o => o.Value is "1.3.6.1.5.5.7.3.1" or "1.3.6.1.5.5.7.3.2"))
        {
            return "its extended key usage allows neither server nor client authentication";
        }

        return null;
    }

    private CertificateVerdict Refuse(StatusCode status, string reason)
    {
        CertificateRefused(_log, status.Name, reason);
        return new CertificateVerdict(status, reason);
    }

    [LoggerMessage(EventId = 2501, Level = LogLevel.Warning, Message = "Peer certificate refused with {Status}: {Reason}")]
    private static partial void CertificateRefused(ILogger logger, string status, string reason);
}
