using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TwinGateway.OpcUa.Tests.Security.Pki;

/// <summary>Real certificates made in the test: CAs, intermediates, leaves (ECDSA P-256 for speed unless RSA is asked), CRLs.</summary>
internal static class TestPki
{
    public static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    public static X509Certificate2 Ca(string name, X509Certificate2? issuer = null, DateTimeOffset? from = null, DateTimeOffset? to = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return Issue(request, key, issuer, from ?? Now.AddDays(-30), to ?? Now.AddYears(5));
    }

    public static X509Certificate2 Leaf(
        string name,
        string uri,
        X509Certificate2? issuer = null,
        DateTimeOffset? from = null,
        DateTimeOffset? to = null,
        X509KeyUsageFlags usage = X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation | X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.DataEncipherment,
        bool rsa = false)
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var rsaKey = rsa ? RSA.Create(2048) : null;
        var request = rsaKey is null
            ? new CertificateRequest($"CN={name}", ec, HashAlgorithmName.SHA256)
            : new CertificateRequest($"CN={name}", rsaKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new Uri(uri));
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509KeyUsageExtension(usage, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return rsaKey is null
            ? Issue(request, ec, issuer, from ?? Now.AddDays(-1), to ?? Now.AddYears(1))
            : IssueRsa(request, rsaKey, issuer, from ?? Now.AddDays(-1), to ?? Now.AddYears(1));
    }

    /// <summary>A CRL of <paramref name="ca"/> that revokes <paramref name="revoked"/>.</summary>
    public static byte[] Crl(X509Certificate2 ca, params X509Certificate2[] revoked)
    {
        var builder = new CertificateRevocationListBuilder();
        foreach (var certificate in revoked)
        {
            builder.AddEntry(certificate, Now.AddHours(-1));
        }

        return builder.Build(ca, BigInteger.One, Now.AddDays(7), HashAlgorithmName.SHA256);
    }

    private static X509Certificate2 Issue(CertificateRequest request, ECDsa key, X509Certificate2? issuer, DateTimeOffset from, DateTimeOffset to)
    {
        if (issuer is null)
        {
            using var self = request.CreateSelfSigned(from, to);
            return X509CertificateLoader.LoadCertificate(self.RawData).CopyWithPrivateKey(key);
        }

        AddAuthorityKeyId(request, issuer);
        using var issued = request.Create(issuer, from, to, Serial());
        return issued.CopyWithPrivateKey(key);
    }

    private static X509Certificate2 IssueRsa(CertificateRequest request, RSA key, X509Certificate2? issuer, DateTimeOffset from, DateTimeOffset to)
    {
        if (issuer is null)
        {
            using var self = request.CreateSelfSigned(from, to);
            return X509CertificateLoader.LoadCertificate(self.RawData).CopyWithPrivateKey(key);
        }

        AddAuthorityKeyId(request, issuer);
        using var ecdsa = issuer.GetECDsaPrivateKey()!;
        using var issued = request.Create(issuer.SubjectName, X509SignatureGenerator.CreateForECDsa(ecdsa), from, to, Serial());
        return issued.CopyWithPrivateKey(key);
    }

    private static void AddAuthorityKeyId(CertificateRequest request, X509Certificate2 issuer) =>
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, includeKeyIdentifier: true, includeIssuerAndSerial: false));

    private static byte[] Serial()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x01);
        return serial;
    }

    /// <summary>Writes <paramref name="certificate"/> (public part) into a store folder as THUMBPRINT.der.</summary>
    public static void Put(string folder, X509Certificate2 certificate)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, certificate.Thumbprint + ".der"), certificate.RawData);
    }

    /// <summary>Writes a CRL into a store's crl/ folder.</summary>
    public static void PutCrl(string storeFolder, X509Certificate2 ca, byte[] crl)
    {
        Directory.CreateDirectory(Path.Combine(storeFolder, "crl"));
        File.WriteAllBytes(Path.Combine(storeFolder, "crl", ca.Thumbprint + ".crl"), crl);
    }
}
