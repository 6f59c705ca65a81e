using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TwinGateway.Gateway;
using TwinGateway.Host.Secrets;

namespace TwinGateway.Host.Security;

/// <summary>The certificate the gateway's https endpoints present, and where it came from (for the start's log).</summary>
internal sealed record TlsCertificate(X509Certificate2 Certificate, string Source, bool Created)
{
    public void Log(ILogger log)
    {
        if (Created)
        {
            TlsLog.Created(log, Source, Certificate.Thumbprint, Certificate.NotAfter);
        }
        else
        {
            TlsLog.Loaded(log, Certificate.Subject, Source, Certificate.Thumbprint, Certificate.NotAfter);
        }
    }
}

/// <summary>Loads the configured certificate, or creates (and later reuses) the self-signed one in the data folder.</summary>
internal static class TlsCertificates
{
    /// <summary>The self-signed certificate is made again when it has less than this left.</summary>
    private static readonly TimeSpan s_renewBefore = TimeSpan.FromDays(30);

    private static readonly TimeSpan s_validity = TimeSpan.FromDays(2 * 365);

    public const string CertificateFileName = "gateway.crt";

    public const string KeyFileName = "gateway.key";

    /// <summary>The certificate of <paramref name="options"/>, else the self-signed one in <paramref name="dataFolder"/>/tls.</summary>
    /// <exception cref="GatewayConfigurationException">The certificate cannot be read or created; the message says why and what to set.</exception>
    public static TlsCertificate Load(TlsOptions options, string dataFolder, string apiUrl, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        try
        {
            return string.IsNullOrWhiteSpace(options.CertificateFile)
                ? SelfSigned(options, Path.Combine(Path.GetFullPath(dataFolder), "tls"), apiUrl, time)
                : Configured(options);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            // CryptographicException's messages name the format problem (a wrong password, no key), never the password.
            var file = string.IsNullOrWhiteSpace(options.CertificateFile) ? Path.Combine(Path.GetFullPath(dataFolder), "tls") : options.CertificateFile;
            throw new GatewayConfigurationException([$"{TlsOptions.Section}: the TLS certificate '{file}' cannot be used: {ex.Message} "
                + "(set Gateway:Tls:CertificateFile to a PEM certificate with Gateway:Tls:KeyFile, or to a PFX with its password in the secret tls.password; "
                + "without them the gateway creates a self-signed certificate in <data folder>/tls/)"]);
        }
    }

    private static TlsCertificate Configured(TlsOptions options)
    {
        var file = Path.GetFullPath(options.CertificateFile!);
        if (!File.Exists(file))
        {
            throw new FileNotFoundException($"the file does not exist");
        }

        X509Certificate2 certificate;
        var password = string.IsNullOrEmpty(options.Password) ? null : options.Password;
        if (Path.GetExtension(file).ToUpperInvariant() is ".PFX" or ".P12")
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(file, password);
        }
        else
        {
            var key = string.IsNullOrWhiteSpace(options.KeyFile) ? null : Path.GetFullPath(options.KeyFile);
            certificate = password is null ? X509Certificate2.CreateFromPemFile(file, key) : X509Certificate2.CreateFromEncryptedPemFile(file, password, key);
        }

        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new CryptographicException("it has no private key (give Gateway:Tls:KeyFile, or a PFX that holds the key)");
        }

        return new TlsCertificate(certificate, file, Created: false);
    }

    private static TlsCertificate SelfSigned(TlsOptions options, string folder, string apiUrl, TimeProvider time)
    {
        var certificateFile = Path.Combine(folder, CertificateFileName);
        var keyFile = Path.Combine(folder, KeyFileName);
        var now = time.GetUtcNow();
        if (File.Exists(certificateFile) && File.Exists(keyFile))
        {
            if (SecretStore.TooOpen(keyFile) is { } problem)
            {
                throw new UnauthorizedAccessException(problem);
            }

            var existing = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
            if (existing.NotAfter.ToUniversalTime() - now.UtcDateTime > s_renewBefore)
            {
                return new TlsCertificate(existing, certificateFile, Created: false);
            }

            existing.Dispose();
        }

        Directory.CreateDirectory(folder);
        using var rsa = RSA.Create(2048);
        var host = Dns.GetHostName();
        var request = new CertificateRequest(new X500DistinguishedName($"CN={host}, O=TwinGateway"), rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication")], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(Names(host, apiUrl, options.HostNames));
        using var created = request.CreateSelfSigned(now.AddMinutes(-5), now.Add(s_validity));

        // The key is written with mode 0600 from its first byte (never created readable and tightened later), then
        // both files are moved into place.
        var keyTemporary = keyFile + ".new";
        File.Delete(keyTemporary);
        var keyMode = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            keyMode.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var key = new StreamWriter(keyTemporary, keyMode))
        {
            key.Write(rsa.ExportPkcs8PrivateKeyPem());
        }

        File.WriteAllText(certificateFile + ".new", created.ExportCertificatePem());
        File.Move(keyTemporary, keyFile, overwrite: true);
        File.Move(certificateFile + ".new", certificateFile, overwrite: true);
        return new TlsCertificate(X509Certificate2.CreateFromPemFile(certificateFile, keyFile), certificateFile, Created: true);
    }

    /// <summary>localhost, loopback, the host's name, the API URL's host and the configured extra names.</summary>
    private static X509Extension Names(string host, string apiUrl, IEnumerable<string> more)
    {
        var names = new SortedSet<string>(StringComparer.OrdinalIgnoreCase) { "localhost", host };
        var addresses = new HashSet<IPAddress> { IPAddress.Loopback, IPAddress.IPv6Loopback };
        var candidates = more.ToList();
        if (Uri.TryCreate(apiUrl, UriKind.Absolute, out var uri))
        {
            candidates.Add(uri.Host.Trim('[', ']'));
        }

        foreach (var name in candidates.Where(n => !string.IsNullOrWhiteSpace(n) && n is not ("*" or "+")))
        {
            if (IPAddress.TryParse(name, out var address))
            {
                if (!address.Equals(IPAddress.Any) && !address.Equals(IPAddress.IPv6Any))
                {
                    addresses.Add(address);
                }
            }
            else
            {
                names.Add(name);
            }
        }

        var builder = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            builder.AddDnsName(name);
        }

        foreach (var address in addresses)
        {
            builder.AddIpAddress(address);
        }

        return builder.Build();
    }
}

internal static partial class TlsLog
{
    [LoggerMessage(EventId = 4680, Level = LogLevel.Information,
        Message = "TLS: created a self-signed certificate {File} (thumbprint {Thumbprint}, valid until {NotAfter:O}); clients trust it with `twingw ... --ca {File}`, or set Gateway:Tls:CertificateFile to one the plant's CA issued")]
    public static partial void Created(ILogger logger, string file, string thumbprint, DateTime notAfter);

    [LoggerMessage(EventId = 4681, Level = LogLevel.Information, Message = "TLS: certificate {Subject} from {File} (thumbprint {Thumbprint}, valid until {NotAfter:O})")]
    public static partial void Loaded(ILogger logger, string subject, string file, string thumbprint, DateTime notAfter);
}
