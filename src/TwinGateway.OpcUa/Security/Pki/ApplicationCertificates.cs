using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TwinGateway.OpcUa.Security.Pki;

/// <summary>What our own application instance certificate says: its URI, name, key size, hosts and lifetime.</summary>
public sealed record OwnCertificateSettings
{
    /// <summary>The ApplicationUri of our ApplicationDescription; it goes into the subject alternative name.</summary>
    public required string ApplicationUri { get; init; }

    /// <summary>The subject's common name.</summary>
    public string ApplicationName { get; init; } = "TwinGateway";

    /// <summary>RSA key size: 2048 or larger (Basic256Sha256 and the Aes policies allow 2048 to 4096).</summary>
    public int KeySize { get; init; } = 2048;

    /// <summary>How long a certificate created or renewed here is valid.</summary>
    public TimeSpan Validity { get; init; } = TimeSpan.FromDays(5 * 365);

    /// <summary>DNS names and IP addresses in the subject alternative name; empty: the host's name and addresses.</summary>
    public IReadOnlyList<string> Hosts { get; init; } = [];
}

/// <summary>
/// Our own application instance certificate (OPC 10000-6 §6.2.2) in own/: loaded, created on first start when missing
/// (self-signed RSA, the ApplicationUri and the host's names and addresses in the subject alternative name, the key
/// usages Part 6 requires, server and client authentication), renewed with a new key, or replaced by one a plant CA
/// issued. The private key is written as PKCS#8 PEM readable by the owner only (0600). Every method returns the
/// certificate with its private key.
/// </summary>
public sealed class ApplicationCertificates(DirectoryCertificateStore store, OwnCertificateSettings settings, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Lock _gate = new();

    public DirectoryCertificateStore Store { get; } = store ?? throw new ArgumentNullException(nameof(store));

    public OwnCertificateSettings Settings { get; } = Check(settings);

    /// <summary>
    /// Loads own/certificate.der and own/private-key.pem, or creates them when neither exists.
    /// </summary>
    /// <exception cref="PkiException">One of the two is missing, they do not match, or the certificate is for another URI.</exception>
    public X509Certificate2 LoadOrCreate()
    {
        lock (_gate)
        {
            Store.EnsureCreated();
            var hasCertificate = File.Exists(Store.OwnCertificatePath);
            var hasKey = File.Exists(Store.OwnKeyPath);
            if (!hasCertificate && !hasKey)
            {
                return Write(Create(Settings.ApplicationUri));
            }

            if (hasCertificate != hasKey)
            {
                throw new PkiException(PkiProblem.StoreFailed,
                    $"{Store.OwnFolder} holds {(hasCertificate ? "a certificate without its private key" : "a private key without its certificate")}; restore the missing file or remove both to create a new certificate");
            }

            var own = Load();
            var uri = CertificateFacts.ApplicationUri(own);
            if (!string.Equals(uri, Settings.ApplicationUri, StringComparison.Ordinal))
            {
                throw new PkiException(PkiProblem.InvalidInput,
                    $"the certificate in {Store.OwnCertificatePath} is for {uri ?? "no URI"}, but the application's URI is {Settings.ApplicationUri}: renew it (a new certificate for the new URI)");
            }

            return own;
        }
    }

    /// <summary>Replaces our certificate with a new self-signed one: a new key, the configured URI.</summary>
    public X509Certificate2 Renew()
    {
        lock (_gate)
        {
            Store.EnsureCreated();
            return Write(Create(Settings.ApplicationUri));
        }
    }

    /// <summary>
    /// Replaces our certificate with one a plant CA issued: <paramref name="certificate"/> (DER or PEM) and its
    /// <paramref name="privateKeyPem"/> (PKCS#8 or PKCS#1 PEM, unencrypted). The key must match, the subject alternative
    /// name must hold our ApplicationUri, the key must be RSA of 2048 bits or more, and the key usage must allow signing.
    /// </summary>
    public X509Certificate2 Import(ReadOnlySpan<byte> certificate, string privateKeyPem)
    {
        ArgumentNullException.ThrowIfNull(privateKeyPem);
        var cert = CertificateFacts.TryRead(certificate) ?? throw new PkiException(PkiProblem.InvalidInput, "the certificate to import is not an X.509 certificate (DER, or PEM with a CERTIFICATE block)");
        using var key = RSA.Create();
        try
        {
            key.ImportFromPem(privateKeyPem);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            throw new PkiException(PkiProblem.InvalidInput, $"the private key to import is not an unencrypted RSA key in PEM ({ex.Message})", ex);
        }

        using var publicKey = cert.GetRSAPublicKey() ?? throw new PkiException(PkiProblem.InvalidInput, $"certificate {cert.Subject} ({cert.Thumbprint}) has no RSA key; OPC UA's RSA policies need one");
        if (!publicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()))
        {
            throw new PkiException(PkiProblem.InvalidInput, $"the private key does not belong to certificate {cert.Subject} ({cert.Thumbprint})");
        }

        if (publicKey.KeySize < 2048)
        {
            throw new PkiException(PkiProblem.InvalidInput, $"certificate {cert.Subject} ({cert.Thumbprint}) has a {publicKey.KeySize}-bit key; at least 2048 bits are required");
        }

        var uris = CertificateFacts.Uris(cert);
        if (!uris.Contains(Settings.ApplicationUri, StringComparer.Ordinal))
        {
            throw new PkiException(PkiProblem.InvalidInput,
                $"certificate {cert.Subject} ({cert.Thumbprint}) names {(uris.Count == 0 ? "no URI" : string.Join(", ", uris))} in its subject alternative name, not the application's URI {Settings.ApplicationUri}");
        }

        if (CertificateFacts.KeyUsage(cert) is not { } usage || (usage & X509KeyUsageFlags.DigitalSignature) == 0)
        {
            throw new PkiException(PkiProblem.InvalidInput, $"certificate {cert.Subject} ({cert.Thumbprint}) does not allow DigitalSignature, which an application instance certificate needs");
        }

        var now = _time.GetUtcNow().UtcDateTime;
        if (now > cert.NotAfter.ToUniversalTime())
        {
            throw new PkiException(PkiProblem.InvalidInput, $"certificate {cert.Subject} ({cert.Thumbprint}) expired on {cert.NotAfter.ToUniversalTime():u}");
        }

        lock (_gate)
        {
            Store.EnsureCreated();
            return Write(cert.CopyWithPrivateKey(key));
        }
    }

    /// <summary>Our certificate with its key as stored now.</summary>
    public X509Certificate2 Load()
    {
        try
        {
            var certificate = CertificateFacts.TryRead(File.ReadAllBytes(Store.OwnCertificatePath))
                ?? throw new PkiException(PkiProblem.StoreFailed, $"{Store.OwnCertificatePath} is not a certificate; remove own/ to create a new one, or import one");
            using var key = RSA.Create();
            key.ImportFromPem(File.ReadAllText(Store.OwnKeyPath));
            return certificate.CopyWithPrivateKey(key);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or CryptographicException)
        {
            throw new PkiException(PkiProblem.StoreFailed, $"our certificate in {Store.OwnFolder} cannot be loaded: {ex.Message}", ex);
        }
    }

    private X509Certificate2 Create(string applicationUri)
    {
        using var key = RSA.Create(Settings.KeySize);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(Settings.ApplicationName);
        var name = subject.Build();
        var request = ApplicationCertificate.Request(name, key, applicationUri, Settings.Hosts.Count > 0 ? Settings.Hosts : HostNames());
        var now = _time.GetUtcNow();
        using var created = request.CreateSelfSigned(now.AddMinutes(-5), now + Settings.Validity);
        using var bare = X509CertificateLoader.LoadCertificate(created.RawData);
        return bare.CopyWithPrivateKey(key);
    }

    private X509Certificate2 Write(X509Certificate2 certificate)
    {
        using var key = certificate.GetRSAPrivateKey() ?? throw new PkiException(PkiProblem.InvalidInput, "the certificate has no RSA private key");
        var pem = PemEncoding.WriteString("PRIVATE KEY", key.ExportPkcs8PrivateKey());
        try
        {
            // The key first: a crash between the two leaves a key without certificate, which LoadOrCreate names.
            DirectoryCertificateStore.AtomicWrite(Store.OwnKeyPath, System.Text.Encoding.ASCII.GetBytes(pem), ownerOnly: true);
            DirectoryCertificateStore.AtomicWrite(Store.OwnCertificatePath, certificate.RawData, ownerOnly: false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new PkiException(PkiProblem.StoreFailed, $"our certificate cannot be written to {Store.OwnFolder}: {ex.Message}", ex);
        }

        return certificate;
    }

    /// <summary>The host's name, its fully qualified name, and its unicast addresses (loopback included).</summary>
    public static IReadOnlyList<string> HostNames()
    {
        var names = new List<string> { Dns.GetHostName() };
        var domain = IPGlobalProperties.GetIPGlobalProperties().DomainName;
        if (!string.IsNullOrEmpty(domain))
        {
            names.Add($"{names[0]}.{domain}");
        }

        names.Add("localhost");
        try
        {
            names.AddRange(NetworkInterface.GetAllNetworkInterfaces()
                .Where(n => n.OperationalStatus == OperationalStatus.Up)
                .SelectMany(n => n.GetIPProperties().UnicastAddresses)
                .Select(a => a.Address)
                .Where(a => a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6 && !a.IsIPv6LinkLocal)
                .Select(a => a.ToString()));
        }
        catch (NetworkInformationException)
        {
            names.Add("127.0.0.1");
        }

        return [.. names.Distinct(StringComparer.OrdinalIgnoreCase)];
    }

    private static OwnCertificateSettings Check(OwnCertificateSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!Uri.TryCreate(settings.ApplicationUri, UriKind.Absolute, out _))
        {
            throw new PkiException(PkiProblem.InvalidInput, $"the application URI '{settings.ApplicationUri}' is not an absolute URI");
        }

        if (settings.KeySize is < 2048 or > 4096 || settings.KeySize % 1024 != 0)
        {
            throw new PkiException(PkiProblem.InvalidInput, $"key size {settings.KeySize}: use 2048, 3072 or 4096 bits");
        }

        if (settings.Validity < TimeSpan.FromDays(1) || settings.Validity > TimeSpan.FromDays(20 * 365))
        {
            throw new PkiException(PkiProblem.InvalidInput, $"certificate validity {settings.Validity.TotalDays} days: between 1 day and 20 years");
        }

        return settings;
    }
}
