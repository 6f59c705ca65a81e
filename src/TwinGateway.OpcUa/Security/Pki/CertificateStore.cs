using System.Collections.Immutable;
using System.Security.Cryptography.X509Certificates;

namespace TwinGateway.OpcUa.Security.Pki;

/// <summary>The stores of a PKI folder.</summary>
public enum PkiStoreName
{
    /// <summary><c>own/</c>: our application instance certificate and its private key.</summary>
    Own,

    /// <summary><c>trusted/</c>: peers (or CAs) we trust, with their CRLs in <c>trusted/crl/</c>.</summary>
    Trusted,

    /// <summary><c>issuers/</c>: CAs needed to build chains but not trusted by themselves, CRLs in <c>issuers/crl/</c>.</summary>
    Issuers,

    /// <summary><c>rejected/</c>: peers refused as untrusted, kept so that an admin can trust them.</summary>
    Rejected,
}

/// <summary>One certificate of a store, as <c>twingw certs list</c> shows it.</summary>
public sealed record CertificateEntry(
    PkiStoreName Store,
    string Subject,
    string Thumbprint,
    string? ApplicationUri,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter,
    string Issuer,
    bool SelfSigned,
    bool Authority,
    string Path,
    X509Certificate2 Certificate)
{
    internal static CertificateEntry Of(PkiStoreName store, X509Certificate2 certificate, string path) => new(
        store,
        certificate.Subject,
        certificate.Thumbprint,
        CertificateFacts.ApplicationUri(certificate),
        new DateTimeOffset(certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero),
        new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero),
        certificate.Issuer,
        CertificateFacts.IsSelfSigned(certificate),
        CertificateFacts.IsAuthority(certificate),
        path,
        certificate);
}

/// <summary>What the validator needs of the trust stores at one moment: immutable, shared between threads.</summary>
internal sealed record TrustSnapshot(
    ImmutableArray<X509Certificate2> Trusted,
    ImmutableArray<X509Certificate2> Issuers,
    ImmutableArray<RevocationList> RevocationLists,
    ImmutableHashSet<string> TrustedThumbprints,
    long LoadedAt,
    (DateTime, DateTime, DateTime, DateTime) Stamps);

/// <summary>
/// The directory certificate store of the gateway (<c>&lt;data folder&gt;/pki</c>): <c>own/</c> (certificate.der and
/// private-key.pem, mode 0600), <c>trusted/</c> and <c>issuers/</c> (certificates, CRLs in <c>crl/</c>) and
/// <c>rejected/</c>. Certificates are kept as <c>THUMBPRINT.der</c>; files dropped in by hand in DER or PEM
/// (.der, .cer, .crt, .pem) are read too. Every operation validates its input and names the file or thumbprint it
/// refuses; the trust snapshot the validator uses is re-read when a folder changes, at most every few seconds otherwise.
/// </summary>
public sealed class DirectoryCertificateStore
{
    /// <summary>How long a trust snapshot is used without looking at the folders' times again.</summary>
    private static readonly TimeSpan s_recheck = TimeSpan.FromSeconds(1);

    /// <summary>Files larger than this are not certificates (a certificate is a few kB; a CRL of a plant CA at most a few MB).</summary>
    private const long MaxFileBytes = 16 * 1024 * 1024;

    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private TrustSnapshot? _snapshot;

    public DirectoryCertificateStore(string root, int maxRejected = 100, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRejected, 1);
        Root = Path.GetFullPath(root);
        MaxRejected = maxRejected;
        _time = time ?? TimeProvider.System;
    }

    public string Root { get; }

    /// <summary>How many certificates <c>rejected/</c> keeps; the oldest go first.</summary>
    public int MaxRejected { get; }

    public string OwnFolder => Path.Combine(Root, "own");

    public string TrustedFolder => Path.Combine(Root, "trusted");

    public string IssuersFolder => Path.Combine(Root, "issuers");

    public string RejectedFolder => Path.Combine(Root, "rejected");

    public string OwnCertificatePath => Path.Combine(OwnFolder, "certificate.der");

    public string OwnKeyPath => Path.Combine(OwnFolder, "private-key.pem");

    public string FolderOf(PkiStoreName store) => store switch
    {
        PkiStoreName.Own => OwnFolder,
        PkiStoreName.Trusted => TrustedFolder,
        PkiStoreName.Issuers => IssuersFolder,
        _ => RejectedFolder,
    };

    /// <summary>Creates the folders when missing (own/ readable by the owner only).</summary>
    public void EnsureCreated()
    {
        try
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(OwnFolder);
            }
            else
            {
                Directory.CreateDirectory(OwnFolder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            Directory.CreateDirectory(Path.Combine(TrustedFolder, "crl"));
            Directory.CreateDirectory(Path.Combine(IssuersFolder, "crl"));
            Directory.CreateDirectory(RejectedFolder);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new PkiException(PkiProblem.StoreFailed, $"cannot create the certificate store in {Root}: {ex.Message}", ex);
        }
    }

    /// <summary>The certificates of <paramref name="store"/> (every store when null), own first, each sorted by subject.</summary>
    public IReadOnlyList<CertificateEntry> List(PkiStoreName? store = null)
    {
        var stores = store is { } one ? [one] : new[] { PkiStoreName.Own, PkiStoreName.Trusted, PkiStoreName.Issuers, PkiStoreName.Rejected };
        var entries = new List<CertificateEntry>();
        foreach (var s in stores)
        {
            if (s == PkiStoreName.Own)
            {
                if (ReadFile(OwnCertificatePath) is { } own)
                {
                    entries.Add(CertificateEntry.Of(PkiStoreName.Own, own, OwnCertificatePath));
                }

                continue;
            }

            entries.AddRange(ReadFolder(FolderOf(s)).Select(c => CertificateEntry.Of(s, c.Certificate, c.Path)).OrderBy(e => e.Subject, StringComparer.Ordinal));
        }

        return entries;
    }

    /// <summary>
    /// The certificate with <paramref name="thumbprint"/> (its SHA-1 thumbprint in hex, or a unique prefix of at least
    /// 6 characters) in any store; one entry per store that holds it.
    /// </summary>
    /// <exception cref="PkiException">Not a thumbprint, no such certificate, or a prefix that matches several.</exception>
    public IReadOnlyList<CertificateEntry> Find(string thumbprint)
    {
        var wanted = NormalizeThumbprint(thumbprint);
        var matches = List().Where(e => e.Thumbprint.StartsWith(wanted, StringComparison.OrdinalIgnoreCase)).ToList();
        if (matches.Count == 0)
        {
            throw new PkiException(PkiProblem.NotFound, $"no certificate with thumbprint {wanted} in {Root} (`twingw certs list` shows the certificates)");
        }

        var distinct = matches.Select(m => m.Thumbprint).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (distinct.Count > 1)
        {
            throw new PkiException(PkiProblem.InvalidInput, $"thumbprint prefix {wanted} matches {distinct.Count} certificates ({string.Join(", ", distinct)}): give more characters");
        }

        return matches;
    }

    /// <summary>Moves a certificate from rejected/ to trusted/; a certificate already trusted stays so.</summary>
    public CertificateEntry Trust(string thumbprint)
    {
        var found = Find(thumbprint);
        if (found.FirstOrDefault(e => e.Store == PkiStoreName.Trusted) is { } already)
        {
            DeleteFrom(found, PkiStoreName.Rejected);
            return already;
        }

        var source = found.FirstOrDefault(e => e.Store is PkiStoreName.Rejected or PkiStoreName.Issuers)
            ?? throw new PkiException(PkiProblem.InvalidInput, $"certificate {found[0].Thumbprint} is our own certificate; trust a peer's certificate");
        var trusted = Write(PkiStoreName.Trusted, source.Certificate);
        DeleteFrom(found, PkiStoreName.Rejected);
        return trusted;
    }

    /// <summary>Adds the certificate in <paramref name="file"/> (DER or PEM) to trusted/.</summary>
    public CertificateEntry TrustFile(string file) => TrustCertificate(ReadInput(file));

    /// <summary>Adds the certificate in <paramref name="content"/> (DER or PEM, as an API call carries it) to trusted/.</summary>
    public CertificateEntry TrustCertificate(ReadOnlySpan<byte> content)
    {
        if (content.Length > MaxFileBytes)
        {
            throw new PkiException(PkiProblem.InvalidInput, $"the certificate given is {content.Length} bytes, larger than {MaxFileBytes / 1024 / 1024} MiB");
        }

        return TrustCertificate(CertificateFacts.TryRead(content)
            ?? throw new PkiException(PkiProblem.InvalidInput, $"the {content.Length} bytes given are not an X.509 certificate (DER, or PEM with a CERTIFICATE block)"));
    }

    private CertificateEntry TrustCertificate(X509Certificate2 certificate)
    {
        var trusted = Write(PkiStoreName.Trusted, certificate);
        DeleteFrom(List(PkiStoreName.Rejected).Where(e => e.Thumbprint == certificate.Thumbprint).ToList(), PkiStoreName.Rejected);
        return trusted;
    }

    /// <summary>Adds a CA certificate in <paramref name="file"/> to issuers/ (needed to build chains, not trusted by itself).</summary>
    public CertificateEntry AddIssuer(string file)
    {
        var certificate = ReadInput(file);
        if (!CertificateFacts.IsAuthority(certificate))
        {
            throw new PkiException(PkiProblem.InvalidInput, $"{file}: {certificate.Subject} ({certificate.Thumbprint}) is not a certificate authority (no CA basic constraint); an application's certificate belongs in trusted/");
        }

        return Write(PkiStoreName.Issuers, certificate);
    }

    /// <summary>
    /// Adds the revocation list in <paramref name="file"/> to the crl/ folder of the store that holds its issuer
    /// (which must be there and must verify its signature); it replaces the issuer's previous list.
    /// </summary>
    public string AddRevocationList(string file)
    {
        var content = ReadInputBytes(file);
        var crl = RevocationList.TryRead(content) ?? throw new PkiException(PkiProblem.InvalidInput, $"{file} is not a certificate revocation list (DER or PEM 'X509 CRL')");
        var issuer = List(PkiStoreName.Trusted).Concat(List(PkiStoreName.Issuers)).FirstOrDefault(e => crl.IsIssuedBy(e.Certificate))
            ?? throw new PkiException(PkiProblem.InvalidInput, $"{file}: no certificate in trusted/ or issuers/ issued this list (its issuer is {crl.Issuer.Name}, or the signature does not verify); add the CA first");
        var path = Path.Combine(FolderOf(issuer.Store), "crl", issuer.Thumbprint + ".crl");
        Guard(() =>
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            AtomicWrite(path, content, ownerOnly: false);
        });
        Invalidate();
        return path;
    }

    /// <summary>Moves a certificate from trusted/ or issuers/ to rejected/.</summary>
    public CertificateEntry Reject(string thumbprint)
    {
        var found = Find(thumbprint);
        var source = found.FirstOrDefault(e => e.Store is PkiStoreName.Trusted or PkiStoreName.Issuers or PkiStoreName.Rejected)
            ?? throw new PkiException(PkiProblem.InvalidInput, $"certificate {found[0].Thumbprint} is our own certificate; it cannot be rejected (renew or replace it)");
        var rejected = Write(PkiStoreName.Rejected, source.Certificate);
        DeleteFrom(found, PkiStoreName.Trusted);
        DeleteFrom(found, PkiStoreName.Issuers);
        lock (_gate)
        {
            Guard(Trim);
        }

        return rejected;
    }

    /// <summary>Deletes a certificate from trusted/, issuers/ and rejected/ (never our own).</summary>
    public IReadOnlyList<CertificateEntry> Remove(string thumbprint)
    {
        var found = Find(thumbprint).Where(e => e.Store != PkiStoreName.Own).ToList();
        if (found.Count == 0)
        {
            throw new PkiException(PkiProblem.InvalidInput, $"certificate {NormalizeThumbprint(thumbprint)} is our own certificate; it cannot be removed (renew or replace it)");
        }

        foreach (var store in found.Select(e => e.Store).Distinct())
        {
            DeleteFrom(found, store);
        }

        return found;
    }

    /// <summary>Our own certificate (public part only) as DER or PEM.</summary>
    public byte[] ExportOwn(bool pem)
    {
        var own = ReadFile(OwnCertificatePath) ?? throw new PkiException(PkiProblem.NotFound, $"no own certificate in {OwnFolder}: the gateway creates one on its first start");
        return pem ? System.Text.Encoding.ASCII.GetBytes(CertificateFacts.ToPem(own)) : own.RawData;
    }

    /// <summary>
    /// Keeps a refused peer certificate in rejected/ (by thumbprint; a second refusal refreshes its time), and drops the
    /// oldest beyond <see cref="MaxRejected"/>. Failures to write are swallowed: refusing the peer matters more.
    /// </summary>
    /// <returns>The path written, or null when it could not be.</returns>
    public string? RecordRejected(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var path = Path.Combine(RejectedFolder, certificate.Thumbprint + ".der");
        try
        {
            lock (_gate)
            {
                Directory.CreateDirectory(RejectedFolder);
                if (File.Exists(path))
                {
                    File.SetLastWriteTimeUtc(path, _time.GetUtcNow().UtcDateTime);
                }
                else
                {
                    AtomicWrite(path, certificate.RawData, ownerOnly: false);
                }

                Trim();
            }

            return path;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The trust stores now: re-read when a folder changed since the last look.</summary>
    internal TrustSnapshot Snapshot()
    {
        var current = Volatile.Read(ref _snapshot);
        var now = _time.GetTimestamp();
        if (current is not null && _time.GetElapsedTime(current.LoadedAt, now) < s_recheck)
        {
            return current;
        }

        var stamps = Stamps();
        if (current is not null && current.Stamps == stamps)
        {
            var refreshed = current with { LoadedAt = now };
            Volatile.Write(ref _snapshot, refreshed);
            return refreshed;
        }

        var trusted = ReadFolder(TrustedFolder).Select(c => c.Certificate).ToImmutableArray();
        var issuers = ReadFolder(IssuersFolder).Select(c => c.Certificate).ToImmutableArray();
        var crls = ReadCrls(Path.Combine(TrustedFolder, "crl")).Concat(ReadCrls(Path.Combine(IssuersFolder, "crl"))).ToImmutableArray();
        var snapshot = new TrustSnapshot(trusted, issuers, crls, trusted.Select(c => c.Thumbprint).ToImmutableHashSet(StringComparer.OrdinalIgnoreCase), now, stamps);
        Volatile.Write(ref _snapshot, snapshot);
        return snapshot;
    }

    private void Invalidate() => Volatile.Write(ref _snapshot, null);

    private (DateTime, DateTime, DateTime, DateTime) Stamps() => (
        Directory.GetLastWriteTimeUtc(TrustedFolder),
        Directory.GetLastWriteTimeUtc(Path.Combine(TrustedFolder, "crl")),
        Directory.GetLastWriteTimeUtc(IssuersFolder),
        Directory.GetLastWriteTimeUtc(Path.Combine(IssuersFolder, "crl")));

    private static List<(X509Certificate2 Certificate, string Path)> ReadFolder(string folder)
    {
        var found = new List<(X509Certificate2, string)>();
        if (!Directory.Exists(folder))
        {
            return found;
        }

        foreach (var file in Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal))
        {
            var extension = Path.GetExtension(file).ToUpperInvariant();
            if (extension is ".DER" or ".CER" or ".CRT" or ".PEM" && ReadFile(file) is { } certificate)
            {
                found.Add((certificate, file));
            }
        }

        return found;
    }

    private static IEnumerable<RevocationList> ReadCrls(string folder)
    {
        if (!Directory.Exists(folder))
        {
            yield break;
        }

        foreach (var file in Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal))
        {
            byte[] content;
            try
            {
                if (new FileInfo(file).Length > MaxFileBytes)
                {
                    continue;
                }

                content = File.ReadAllBytes(file);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            if (RevocationList.TryRead(content) is { } crl)
            {
                yield return crl;
            }
        }
    }

    /// <summary>A certificate file of a store; null when it is missing, too large or not a certificate.</summary>
    private static X509Certificate2? ReadFile(string file)
    {
        try
        {
            return File.Exists(file) && new FileInfo(file).Length <= MaxFileBytes ? CertificateFacts.TryRead(File.ReadAllBytes(file)) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static byte[] ReadInputBytes(string file)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(file);
        try
        {
            if (!File.Exists(file))
            {
                throw new PkiException(PkiProblem.InvalidInput, $"{file}: no such file");
            }

            if (new FileInfo(file).Length > MaxFileBytes)
            {
                throw new PkiException(PkiProblem.InvalidInput, $"{file}: larger than {MaxFileBytes / 1024 / 1024} MiB, not a certificate");
            }

            return File.ReadAllBytes(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new PkiException(PkiProblem.InvalidInput, $"{file}: cannot be read ({ex.Message})", ex);
        }
    }

    private static X509Certificate2 ReadInput(string file) =>
        CertificateFacts.TryRead(ReadInputBytes(file)) ?? throw new PkiException(PkiProblem.InvalidInput, $"{file} is not an X.509 certificate (DER, or PEM with a CERTIFICATE block)");

    private CertificateEntry Write(PkiStoreName store, X509Certificate2 certificate)
    {
        var path = Path.Combine(FolderOf(store), certificate.Thumbprint + ".der");
        Guard(() =>
        {
            Directory.CreateDirectory(FolderOf(store));
            AtomicWrite(path, certificate.RawData, ownerOnly: false);
        });
        Invalidate();
        return CertificateEntry.Of(store, certificate, path);
    }

    private void DeleteFrom(IReadOnlyList<CertificateEntry> entries, PkiStoreName store)
    {
        foreach (var entry in entries.Where(e => e.Store == store))
        {
            Guard(() => File.Delete(entry.Path));
        }

        Invalidate();
    }

    /// <summary>Drops the oldest certificates of rejected/ beyond <see cref="MaxRejected"/>.</summary>
    private void Trim()
    {
        var files = new DirectoryInfo(RejectedFolder).GetFiles().OrderByDescending(f => f.LastWriteTimeUtc).ThenBy(f => f.Name, StringComparer.Ordinal).ToList();
        foreach (var old in files.Skip(MaxRejected))
        {
            old.Delete();
        }
    }

    private void Guard(Action action)
    {
        try
        {
            action();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new PkiException(PkiProblem.StoreFailed, $"the certificate store {Root} cannot be written: {ex.Message}", ex);
        }
    }

    /// <summary>Writes a temporary file beside <paramref name="path"/> and renames it, so readers never see half a file.</summary>
    internal static void AtomicWrite(string path, ReadOnlySpan<byte> content, bool ownerOnly)
    {
        var temp = path + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (ownerOnly && !OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            using (var stream = new FileStream(temp, options))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>Checks a thumbprint given by a person: hex, 6 to 40 characters, colons and spaces allowed; upper case.</summary>
    public static string NormalizeThumbprint(string thumbprint)
    {
        if (string.IsNullOrWhiteSpace(thumbprint))
        {
            throw new PkiException(PkiProblem.InvalidInput, "name the certificate by its thumbprint (`twingw certs list` shows them)");
        }

        var cleaned = thumbprint.Replace(":", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant();
        if (cleaned.Length is < 6 or > 40 || !cleaned.All(char.IsAsciiHexDigit))
        {
            throw new PkiException(PkiProblem.InvalidInput, $"'{thumbprint}' is not a certificate thumbprint: 6 to 40 hexadecimal characters (SHA-1, as `twingw certs list` shows)");
        }

        return cleaned;
    }
}
