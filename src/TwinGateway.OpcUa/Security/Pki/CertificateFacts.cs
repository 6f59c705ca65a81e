using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TwinGateway.OpcUa.Security.Pki;

/// <summary>What the stores and the validator read from a certificate: its URIs, whether it is self-signed, its encodings.</summary>
public static class CertificateFacts
{
    private const string SubjectAltNameOid = "2.5.29.17";

    /// <summary>
    /// The uniformResourceIdentifier entries of the subject alternative name (OPC 10000-6 §6.2.2: the ApplicationUri);
    /// empty when there is none or the extension cannot be read.
    /// </summary>
    public static IReadOnlyList<string> Uris(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var uris = new List<string>();
        foreach (var extension in certificate.Extensions)
        {
            if (extension.Oid?.Value != SubjectAltNameOid)
            {
                continue;
            }

            try
            {
                var names = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
                while (names.HasData)
                {
                    var tag = names.PeekTag();
                    if (tag.TagClass == TagClass.ContextSpecific && tag.TagValue == 6)
                    {
                        uris.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, new Asn1Tag(TagClass.ContextSpecific, 6)));
                    }
                    else
                    {
                        names.ReadEncodedValue();
                    }
                }
            }
            catch (AsnContentException)
            {
                return [];
            }
        }

        return uris;
    }

    /// <summary>The first URI of the subject alternative name: the application's URI; null when there is none.</summary>
    public static string? ApplicationUri(X509Certificate2 certificate) => Uris(certificate) is [var first, ..] ? first : null;

    /// <summary>Issued by itself: subject equals issuer and its own key verifies its signature.</summary>
    public static bool IsSelfSigned(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (!certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData))
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(certificate);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.IgnoreNotTimeValid | X509VerificationFlags.IgnoreWrongUsage
            | X509VerificationFlags.IgnoreInvalidBasicConstraints;
        chain.Build(certificate);
        return chain.ChainElements.Count == 1
            && chain.ChainElements[0].ChainElementStatus.All(s => s.Status is not X509ChainStatusFlags.NotSignatureValid and not X509ChainStatusFlags.UntrustedRoot);
    }

    /// <summary>A certificate authority: basic constraints say so.</summary>
    public static bool IsAuthority(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return certificate.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority);
    }

    /// <summary>The key usage flags, or null when the certificate has no key usage extension.</summary>
    public static X509KeyUsageFlags? KeyUsage(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return certificate.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault()?.KeyUsages;
    }

    /// <summary>The certificate as PEM text.</summary>
    public static string ToPem(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return new string(PemEncoding.Write("CERTIFICATE", certificate.RawData));
    }

    /// <summary>
    /// Reads one certificate from <paramref name="content"/>: DER, or PEM text holding a CERTIFICATE block (the first
    /// one). Null when it is neither.
    /// </summary>
    public static X509Certificate2? TryRead(ReadOnlySpan<byte> content)
    {
        try
        {
            if (LooksLikePem(content))
            {
                var text = System.Text.Encoding.ASCII.GetString(content);
                return X509Certificate2.CreateFromPem(text);
            }

            return X509CertificateLoader.LoadCertificate(content);
        }
        catch (CryptographicException)
        {
            return null;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    internal static bool LooksLikePem(ReadOnlySpan<byte> content) => content.IndexOf("-----BEGIN "u8) >= 0;
}
