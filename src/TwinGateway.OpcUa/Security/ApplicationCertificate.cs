using System.Formats.Asn1;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TwinGateway.OpcUa.Security;

/// <summary>
/// Our application instance certificate with its private key (OPC 10000-6 §6.2.2): what signs our OPN chunks and
/// session signatures, and what the peer encrypts for us.
/// </summary>
public sealed class ApplicationCertificate
{
    public ApplicationCertificate(X509Certificate2 certificateWithPrivateKey)
    {
        ArgumentNullException.ThrowIfNull(certificateWithPrivateKey);
        Certificate = certificateWithPrivateKey;
        PrivateKey = certificateWithPrivateKey.GetRSAPrivateKey()
            ?? throw new ArgumentException($"certificate {certificateWithPrivateKey.Subject} has no RSA private key", nameof(certificateWithPrivateKey));
        Der = certificateWithPrivateKey.RawData;
        Thumbprint = CertificateChain.Thumbprint(Der);
        ApplicationUri = ReadApplicationUri(certificateWithPrivateKey) ?? "";
    }

    public X509Certificate2 Certificate { get; }

    public RSA PrivateKey { get; }

    public byte[] Der { get; }

    /// <summary>SHA-1 of <see cref="Der"/> (the peer's ReceiverCertificateThumbprint).</summary>
    public byte[] Thumbprint { get; }

    /// <summary>The URI in the subject alternative name; empty when there is none.</summary>
    public string ApplicationUri { get; }

    /// <summary>
    /// A self-signed RSA 2048 certificate for <paramref name="applicationUri"/>: SAN URI, DNS names and IP addresses, the
    /// key usages of OPC 10000-6 §6.2.2 (DigitalSignature, NonRepudiation, KeyEncipherment, DataEncipherment,
    /// KeyCertSign) and the server and client authentication extended key usages.
    /// </summary>
    public static ApplicationCertificate CreateSelfSigned(string applicationUri, string subjectName, IEnumerable<string> dnsNames, TimeSpan lifetime)
    {
        ArgumentException.ThrowIfNullOrEmpty(applicationUri);
        ArgumentException.ThrowIfNullOrEmpty(subjectName);
        ArgumentNullException.ThrowIfNull(dnsNames);
        using var rsa = RSA.Create(2048);
        var subject = subjectName.Contains('=', StringComparison.Ordinal) ? subjectName : "CN=" + subjectName;
        var request = Request(new X500DistinguishedName(subject), rsa, applicationUri, dnsNames);
        var now = DateTimeOffset.UtcNow;
        using var created = request.CreateSelfSigned(now.AddMinutes(-5), now.Add(lifetime));
        // Reload through PKCS#12 so the key is usable on every platform, not bound to the ephemeral RSA above.
        var certificate = X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null, X509KeyStorageFlags.Exportable);
        return new ApplicationCertificate(certificate);
    }

    /// <summary>
    /// The request for an application instance certificate (self-signed here, or by the PKI's store): SHA-256 with
    /// PKCS#1, the ApplicationUri and the hosts (DNS names and IP addresses) in the subject alternative name, the key
    /// usages of OPC 10000-6 §6.2.2 and the server and client authentication extended key usages.
    /// </summary>
    internal static CertificateRequest Request(X500DistinguishedName subject, RSA key, string applicationUri, IEnumerable<string> hosts)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new Uri(applicationUri));
        foreach (var host in hosts)
        {
            if (IPAddress.TryParse(host, out var address))
            {
                san.AddIpAddress(address);
            }
            else
            {
                san.AddDnsName(host);
            }
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation | X509KeyUsageFlags.KeyEncipherment
            | X509KeyUsageFlags.DataEncipherment | X509KeyUsageFlags.KeyCertSign, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request;
    }

    /// <summary>The first URI of the subject alternative name extension.</summary>
    public static string? ReadApplicationUri(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        foreach (var extension in certificate.Extensions)
        {
            if (extension.Oid?.Value != "2.5.29.17")
            {
                continue;
            }

            try
            {
                var reader = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
                var uriTag = new Asn1Tag(TagClass.ContextSpecific, 6);
                while (reader.HasData)
                {
                    var tag = reader.PeekTag();
                    if (tag.HasSameClassAndValue(uriTag))
                    {
                        return reader.ReadCharacterString(UniversalTagNumber.IA5String, uriTag);
                    }

                    reader.ReadEncodedValue();
                }
            }
            catch (AsnContentException)
            {
                return null;
            }
        }

        return null;
    }
}
