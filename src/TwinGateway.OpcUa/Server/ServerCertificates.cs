using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TwinGateway.OpcUa.Security;

namespace TwinGateway.OpcUa.Server;

/// <summary>
/// A server's certificate and the client certificates it trusts, kept in a PKI folder, for <c>twingw opcua serve</c> and
/// the simulated PLC until the full trust stores (issuers, CRLs, rejected) take over:
/// <c>own/private/certificate.pfx</c> (ours with its key, readable by the owner only), <c>own/certs/certificate.der</c>
/// (ours, to hand to clients), and <c>trusted/certs/*.der|*.pem</c> (the client certificates trusted, read at start).
/// </summary>
public static class ServerCertificates
{
    /// <summary>
    /// Our certificate from <c>own/</c>; created (self-signed, RSA 2048, two years) when missing, expired, or made for
    /// another ApplicationUri (the old one is kept beside it as <c>certificate.pfx.old</c>).
    /// </summary>
    public static ApplicationCertificate LoadOrCreate(string pkiFolder, string applicationUri, string subjectName, IEnumerable<string> dnsNames)
    {
        ArgumentException.ThrowIfNullOrEmpty(pkiFolder);
        var privateFolder = Path.Combine(pkiFolder, "own", "private");
        var certsFolder = Path.Combine(pkiFolder, "own", "certs");
        var pfx = Path.Combine(privateFolder, "certificate.pfx");
        if (File.Exists(pfx))
        {
            var existing = new ApplicationCertificate(X509CertificateLoader.LoadPkcs12FromFile(pfx, null, X509KeyStorageFlags.Exportable));
            if (string.Equals(existing.ApplicationUri, applicationUri, StringComparison.Ordinal) && existing.Certificate.NotAfter > DateTime.Now.AddDays(1))
            {
                return existing;
            }

            File.Move(pfx, pfx + ".old", overwrite: true);
        }

        var created = ApplicationCertificate.CreateSelfSigned(applicationUri, subjectName, dnsNames, TimeSpan.FromDays(730));
        CreatePrivateFolder(privateFolder);
        Directory.CreateDirectory(certsFolder);
        var bytes = created.Certificate.Export(X509ContentType.Pkcs12);
        try
        {
            var fileOptions = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using var stream = new FileStream(pfx, fileOptions);
            stream.Write(bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }

        File.WriteAllBytes(Path.Combine(certsFolder, "certificate.der"), created.Der);
        return created;
    }

    /// <summary>A validator trusting exactly the certificates in <c>trusted/certs</c> (DER or PEM files); the folder is created when missing.</summary>
    public static ICertificateValidator TrustedFolder(string pkiFolder)
    {
        ArgumentException.ThrowIfNullOrEmpty(pkiFolder);
        var folder = Directory.CreateDirectory(Path.Combine(pkiFolder, "trusted", "certs"));
        var trusted = new List<X509Certificate2>();
        foreach (var file in folder.EnumerateFiles())
        {
            try
            {
                trusted.Add(file.Extension.Equals(".pem", StringComparison.OrdinalIgnoreCase)
                    ? X509Certificate2.CreateFromPem(File.ReadAllText(file.FullName))
                    : X509CertificateLoader.LoadCertificateFromFile(file.FullName));
            }
            catch (CryptographicException)
            {
                // Not a certificate: skipped, as a trust store does with stray files.
            }
        }

        return new PinnedCertificateValidator(trusted);
    }

    private static void CreatePrivateFolder(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}
