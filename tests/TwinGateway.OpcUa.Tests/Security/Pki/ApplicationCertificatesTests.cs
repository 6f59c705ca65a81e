using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TwinGateway.OpcUa.Security.Pki;

namespace TwinGateway.OpcUa.Tests.Security.Pki;

/// <summary>Our own certificate: created on first start as Part 6 asks, loaded afterwards, renewed, replaced by a CA's.</summary>
public sealed class ApplicationCertificatesTests : IDisposable
{
    private const string Uri = "urn:plant-2:twingw";
    private readonly TempFolder _folder = new();
    private readonly DirectoryCertificateStore _store;

    public ApplicationCertificatesTests() => _store = new DirectoryCertificateStore(_folder.File("pki"));

    public void Dispose() => _folder.Dispose();

    private ApplicationCertificates Own(TimeSpan? validity = null) => new(_store, new OwnCertificateSettings
    {
        ApplicationUri = Uri,
        ApplicationName = "TwinGateway test",
        Hosts = ["gw-1.plant.local", "10.1.2.3"],
        Validity = validity ?? TimeSpan.FromDays(90),
    });

    [Fact]
    public void The_first_start_creates_a_certificate_as_part_6_asks_and_the_next_loads_it()
    {
        var created = Own().LoadOrCreate();
        var loaded = Own().LoadOrCreate();

        Assert.Equal(created.Thumbprint, loaded.Thumbprint);
        Assert.True(loaded.HasPrivateKey);
        using var rsa = loaded.GetRSAPrivateKey();
        Assert.Equal(2048, rsa!.KeySize);
        Assert.Equal("CN=TwinGateway test", loaded.Subject);
        Assert.Equal([Uri], CertificateFacts.Uris(loaded));
        var san = loaded.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Contains("gw-1.plant.local", san.EnumerateDnsNames());
        Assert.Contains(System.Net.IPAddress.Parse("10.1.2.3"), san.EnumerateIPAddresses());
        Assert.Equal(
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation | X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.DataEncipherment | X509KeyUsageFlags.KeyCertSign,
            CertificateFacts.KeyUsage(loaded));
        var eku = loaded.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value).ToList();
        Assert.Equal(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"], eku);
        Assert.InRange((loaded.NotAfter - loaded.NotBefore).TotalDays, 90, 90.01);
        Assert.True(CertificateFacts.IsSelfSigned(loaded));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_store.OwnKeyPath));
        }
    }

    [Fact]
    public void The_created_certificate_passes_a_peer_validator_once_trusted()
    {
        var own = Own().LoadOrCreate();
        var peer = new DirectoryCertificateStore(_folder.File("peer-pki"));
        peer.EnsureCreated();
        TestPki.Put(peer.TrustedFolder, own);

        Assert.True(new TrustListValidator(peer).Validate([own], Uri).IsTrusted);
    }

    [Fact]
    public void Renew_makes_a_new_key_for_the_same_uri()
    {
        var first = Own().LoadOrCreate();

        var renewed = Own().Renew();
        var loaded = Own().LoadOrCreate();

        Assert.NotEqual(first.Thumbprint, renewed.Thumbprint);
        Assert.Equal(renewed.Thumbprint, loaded.Thumbprint);
        Assert.NotEqual(first.PublicKey.EncodedKeyValue.RawData, renewed.PublicKey.EncodedKeyValue.RawData);
        Assert.Equal([Uri], CertificateFacts.Uris(renewed));
    }

    [Fact]
    public void A_certificate_for_another_uri_or_a_lone_key_is_refused_at_load()
    {
        Own().LoadOrCreate();
        var other = new ApplicationCertificates(_store, new OwnCertificateSettings { ApplicationUri = "urn:other", Hosts = ["localhost"] });

        var wrongUri = Assert.Throws<PkiException>(other.LoadOrCreate);
        File.Delete(_store.OwnCertificatePath);
        var lone = Assert.Throws<PkiException>(() => Own().LoadOrCreate());

        Assert.Contains("urn:other", wrongUri.Message, StringComparison.Ordinal);
        Assert.Contains(Uri, wrongUri.Message, StringComparison.Ordinal);
        Assert.Contains("private key without its certificate", lone.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_plant_ca_certificate_is_imported_when_its_key_and_uri_match()
    {
        var ca = TestPki.Ca("Plant CA");
        var issued = TestPki.Leaf("twingw", Uri, ca, rsa: true);
        var key = PemEncoding.WriteString("PRIVATE KEY", issued.GetRSAPrivateKey()!.ExportPkcs8PrivateKey());
        var otherKey = PemEncoding.WriteString("PRIVATE KEY", RSA.Create(2048).ExportPkcs8PrivateKey());
        var wrongUri = TestPki.Leaf("twingw", "urn:someone-else", ca, rsa: true);
        var wrongUriKey = PemEncoding.WriteString("PRIVATE KEY", wrongUri.GetRSAPrivateKey()!.ExportPkcs8PrivateKey());

        var mismatch = Assert.Throws<PkiException>(() => Own().Import(issued.RawData, otherKey));
        var uri = Assert.Throws<PkiException>(() => Own().Import(wrongUri.RawData, wrongUriKey));
        var garbage = Assert.Throws<PkiException>(() => Own().Import("nonsense"u8, key));
        var imported = Own().Import(System.Text.Encoding.ASCII.GetBytes(CertificateFacts.ToPem(issued)), key);
        var loaded = Own().LoadOrCreate();

        Assert.Contains("does not belong", mismatch.Message, StringComparison.Ordinal);
        Assert.Contains("urn:someone-else", uri.Message, StringComparison.Ordinal);
        Assert.Equal(PkiProblem.InvalidInput, garbage.Problem);
        Assert.Equal(issued.Thumbprint, imported.Thumbprint);
        Assert.Equal(issued.Thumbprint, loaded.Thumbprint);
        Assert.True(loaded.HasPrivateKey);
    }

    [Theory]
    [InlineData("not a uri", 2048)]
    [InlineData(Uri, 1024)]
    [InlineData(Uri, 2000)]
    public void Bad_settings_are_refused(string uri, int keySize)
    {
        Assert.Throws<PkiException>(() => new ApplicationCertificates(_store, new OwnCertificateSettings { ApplicationUri = uri, KeySize = keySize }));
    }
}
