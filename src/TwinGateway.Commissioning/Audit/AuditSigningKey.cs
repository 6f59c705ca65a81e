using System.Security.Cryptography;

namespace TwinGateway.Commissioning.Audit;

/// <summary>
/// The gateway's audit signing key: ECDSA P-256, created on first use in the data folder and loaded afterwards.
/// <list type="bullet">
/// <item><c>audit-signing-key.pem</c>: the private key, PKCS#8 PEM (<c>-----BEGIN PRIVATE KEY-----</c>), mode 0600 on Unix.</item>
/// <item><c>audit-public-key.pem</c>: the public key, SubjectPublicKeyInfo PEM (<c>-----BEGIN PUBLIC KEY-----</c>), what an
/// auditor needs to verify the chain offline. At load the private key must match it, so a damaged or swapped private
/// key is a clear error, never a silently new identity.</item>
/// </list>
/// </summary>
public sealed class AuditSigningKey : IDisposable
{
    public const string PrivateKeyFileName = "audit-signing-key.pem";
    public const string PublicKeyFileName = "audit-public-key.pem";

    private readonly ECDsa _key;

    private AuditSigningKey(ECDsa key, string privateKeyPath, bool created)
    {
        _key = key;
        PrivateKeyPath = privateKeyPath;
        Created = created;
        PublicKey = AuditPublicKey.FromSubjectPublicKeyInfo(key.ExportSubjectPublicKeyInfo());
    }

    public string PrivateKeyPath { get; }

    /// <summary>True when this call created the key (the first use of the data folder).</summary>
    public bool Created { get; }

    public AuditPublicKey PublicKey { get; }

    /// <summary>The public key as SubjectPublicKeyInfo PEM.</summary>
    public string ExportPublicKeyPem() => PublicKey.ExportPem();

    /// <summary>Signs a 32-byte entry hash (IEEE P1363, r || s).</summary>
    public byte[] SignHash(ReadOnlySpan<byte> hash) => _key.SignHash(hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    /// <summary>
    /// Loads the key from <paramref name="dataFolder"/>, or creates it there when the folder has none.
    /// </summary>
    /// <exception cref="AuditKeyException">The key file exists but cannot be read, is not a P-256 key, or does not match
    /// the public key file beside it.</exception>
    public static AuditSigningKey LoadOrCreate(string dataFolder)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataFolder);
        Directory.CreateDirectory(dataFolder);
        var privatePath = Path.Combine(dataFolder, PrivateKeyFileName);
        var publicPath = Path.Combine(dataFolder, PublicKeyFileName);
        if (!File.Exists(privatePath))
        {
            var created = TryCreate(privatePath, publicPath);
            if (created is not null)
            {
                return created;
            }

            // Another process created it between our check and our move: load theirs.
        }

        return Load(privatePath, publicPath);
    }

    private static AuditSigningKey? TryCreate(string privatePath, string publicPath)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        try
        {
            var temp = privatePath + "." + Guid.NewGuid().ToString("N") + ".tmp";
            WriteOwnerOnly(temp, key.ExportPkcs8PrivateKeyPem());
            try
            {
                // A rename is atomic: no reader ever sees half a key, and of two creators exactly one wins.
                File.Move(temp, privatePath, overwrite: false);
            }
            catch (IOException) when (File.Exists(privatePath))
            {
                File.Delete(temp);
                key.Dispose();
                return null;
            }

            WritePublicKey(publicPath, key.ExportSubjectPublicKeyInfoPem());
            return new AuditSigningKey(key, privatePath, created: true);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    private static AuditSigningKey Load(string privatePath, string publicPath)
    {
        string pem;
        try
        {
            pem = File.ReadAllText(privatePath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new AuditKeyException($"the audit signing key '{privatePath}' cannot be read: {ex.Message}", ex);
        }

        var key = ECDsa.Create();
        try
        {
            try
            {
                key.ImportFromPem(pem);
            }
            catch (Exception ex) when (ex is ArgumentException or CryptographicException)
            {
                throw new AuditKeyException(
                    $"the audit signing key '{privatePath}' is damaged ({ex.Message}); restore it from a backup: a new key cannot sign on for the existing chain", ex);
            }

            var parameters = key.ExportParameters(includePrivateParameters: false);
            if (parameters.Curve.Oid?.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
            {
                throw new AuditKeyException($"the audit signing key '{privatePath}' is not a P-256 key (curve {parameters.Curve.Oid?.FriendlyName ?? "unnamed"})");
            }

            var publicInfo = key.ExportSubjectPublicKeyInfoPem();
            if (File.Exists(publicPath))
            {
                var recorded = AuditPublicKey.FromPem(File.ReadAllText(publicPath), publicPath);
                if (!recorded.ExportPem().Equals(publicInfo, StringComparison.Ordinal))
                {
                    throw new AuditKeyException(
                        $"the audit signing key '{privatePath}' does not match the public key '{publicPath}' it was created with: the key file was changed or replaced; restore it from a backup");
                }
            }
            else
            {
                WritePublicKey(publicPath, publicInfo);
            }

            return new AuditSigningKey(key, privatePath, created: false);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>Written beside and renamed over, so a process loading the key at the same moment never reads half of it.</summary>
    private static void WritePublicKey(string path, string pem)
    {
        var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.WriteAllText(temp, pem);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>
    /// True when the private key file can be read by others than its owner (Unix): the gateway still starts, and says so.
    /// </summary>
    public bool IsReadableByOthers => !OperatingSystem.IsWindows()
        && (File.GetUnixFileMode(PrivateKeyPath) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0;

    private static void WriteOwnerOnly(string path, string text)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(text);
    }

    public void Dispose() => _key.Dispose();
}

/// <summary>
/// The public half of an audit signing key: all an auditor needs to verify a chain. Thread-safe: each verifying thread
/// gets its own <see cref="ECDsa"/> from <see cref="CreateVerifier"/>.
/// </summary>
public sealed class AuditPublicKey
{
    private readonly byte[] _subjectPublicKeyInfo;

    private AuditPublicKey(byte[] subjectPublicKeyInfo) => _subjectPublicKeyInfo = subjectPublicKeyInfo;

    public static AuditPublicKey FromSubjectPublicKeyInfo(ReadOnlySpan<byte> der)
    {
        using var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(der, out _);
        return new AuditPublicKey(key.ExportSubjectPublicKeyInfo());
    }

    /// <summary>Reads a SubjectPublicKeyInfo PEM (the <c>audit-public-key.pem</c> of a data folder).</summary>
    /// <exception cref="AuditKeyException">The text is not an EC public key.</exception>
    public static AuditPublicKey FromPem(string pem, string source = "public key")
    {
        ArgumentNullException.ThrowIfNull(pem);
        using var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            throw new AuditKeyException($"'{source}' is not an ECDSA public key: {ex.Message}", ex);
        }

        return new AuditPublicKey(key.ExportSubjectPublicKeyInfo());
    }

    public string ExportPem() => PemEncoding.WriteString("PUBLIC KEY", _subjectPublicKeyInfo);

    /// <summary>SHA-256 of the SubjectPublicKeyInfo, hex: a short name for the key in reports.</summary>
    public string Fingerprint => Convert.ToHexStringLower(SHA256.HashData(_subjectPublicKeyInfo));

    /// <summary>A new verifier the caller owns and disposes (ECDsa instances are not shared across threads).</summary>
    public ECDsa CreateVerifier()
    {
        var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(_subjectPublicKeyInfo, out _);
        return key;
    }
}

/// <summary>The audit signing key cannot be used; the message names the file and what to do.</summary>
public sealed class AuditKeyException : Exception
{
    public AuditKeyException()
    {
    }

    public AuditKeyException(string message)
        : base(message)
    {
    }

    public AuditKeyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
