using TwinGateway.OpcUa.Security.Pki;

namespace TwinGateway.OpcUa.Tests.Security.Pki;

/// <summary>Store operations on a real folder: list, show, trust, reject, remove, add issuer and CRL, and their refusals.</summary>
public sealed class CertificateStoreTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly DirectoryCertificateStore _store;

    public CertificateStoreTests()
    {
        _store = new DirectoryCertificateStore(_folder.File("pki"));
        _store.EnsureCreated();
    }

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void The_folders_are_created_and_own_is_readable_by_the_owner_only()
    {
        Assert.True(Directory.Exists(Path.Combine(_store.TrustedFolder, "crl")));
        Assert.True(Directory.Exists(Path.Combine(_store.IssuersFolder, "crl")));
        Assert.True(Directory.Exists(_store.RejectedFolder));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_store.OwnFolder));
        }
    }

    [Fact]
    public void List_shows_each_store_with_subject_thumbprint_uri_validity_and_issuer()
    {
        var ca = TestPki.Ca("Plant CA");
        var plc = TestPki.Leaf("plc-1", "urn:plant:plc-1", ca);
        var stranger = TestPki.Leaf("stranger", "urn:x:stranger");
        TestPki.Put(_store.TrustedFolder, plc);
        TestPki.Put(_store.IssuersFolder, ca);
        _store.RecordRejected(stranger);
        // A PEM file dropped in by hand is read too.
        File.WriteAllText(Path.Combine(_store.TrustedFolder, "by-hand.pem"), CertificateFacts.ToPem(TestPki.Leaf("hand", "urn:x:hand")));
        File.WriteAllText(Path.Combine(_store.TrustedFolder, "garbage.der"), "not a certificate");

        var all = _store.List();

        var listedPlc = Assert.Single(all, e => e.Thumbprint == plc.Thumbprint);
        Assert.Equal(PkiStoreName.Trusted, listedPlc.Store);
        Assert.Equal("CN=plc-1", listedPlc.Subject);
        Assert.Equal("CN=Plant CA", listedPlc.Issuer);
        Assert.Equal("urn:plant:plc-1", listedPlc.ApplicationUri);
        Assert.False(listedPlc.SelfSigned);
        Assert.Equal(plc.NotAfter.ToUniversalTime(), listedPlc.NotAfter.UtcDateTime);
        var listedCa = Assert.Single(all, e => e.Thumbprint == ca.Thumbprint);
        Assert.Equal(PkiStoreName.Issuers, listedCa.Store);
        Assert.True(listedCa.Authority);
        Assert.True(listedCa.SelfSigned);
        Assert.Equal(PkiStoreName.Rejected, Assert.Single(all, e => e.Thumbprint == stranger.Thumbprint).Store);
        Assert.Contains(all, e => e.Subject == "CN=hand");
        Assert.Equal(4, all.Count);
    }

    [Fact]
    public void Trust_reject_and_remove_move_a_certificate_between_stores()
    {
        var plc = TestPki.Leaf("plc-1", "urn:plant:plc-1");
        _store.RecordRejected(plc);

        var trusted = _store.Trust(plc.Thumbprint.ToLowerInvariant());
        var afterTrust = _store.Find(plc.Thumbprint).Select(e => e.Store).ToList();
        var rejected = _store.Reject(plc.Thumbprint);
        var afterReject = _store.Find(plc.Thumbprint).Select(e => e.Store).ToList();
        var removed = _store.Remove(plc.Thumbprint);

        Assert.Equal(PkiStoreName.Trusted, trusted.Store);
        Assert.Equal([PkiStoreName.Trusted], afterTrust);
        Assert.Equal(PkiStoreName.Rejected, rejected.Store);
        Assert.Equal([PkiStoreName.Rejected], afterReject);
        Assert.Single(removed);
        var gone = Assert.Throws<PkiException>(() => _store.Find(plc.Thumbprint));
        Assert.Equal(PkiProblem.NotFound, gone.Problem);
        Assert.Contains(plc.Thumbprint, gone.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_is_trusted_and_a_file_that_is_no_certificate_is_named_in_the_refusal()
    {
        var plc = TestPki.Leaf("plc-1", "urn:plant:plc-1");
        var good = _folder.File("plc.pem");
        File.WriteAllText(good, CertificateFacts.ToPem(plc));
        var bad = _folder.File("key.pem");
        File.WriteAllText(bad, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");

        var trusted = _store.TrustFile(good);
        var refused = Assert.Throws<PkiException>(() => _store.TrustFile(bad));
        var missing = Assert.Throws<PkiException>(() => _store.TrustFile(_folder.File("nope.der")));

        Assert.Equal(plc.Thumbprint, trusted.Thumbprint);
        Assert.True(File.Exists(Path.Combine(_store.TrustedFolder, plc.Thumbprint + ".der")));
        Assert.Equal(PkiProblem.InvalidInput, refused.Problem);
        Assert.Contains(bad, refused.Message, StringComparison.Ordinal);
        Assert.Contains("no such file", missing.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("xyz123")]
    [InlineData("12345")]
    [InlineData("../../etc/passwd")]
    public void A_thumbprint_that_is_no_thumbprint_is_invalid_input(string thumbprint)
    {
        var ex = Assert.Throws<PkiException>(() => _store.Trust(thumbprint));

        Assert.Equal(PkiProblem.InvalidInput, ex.Problem);
    }

    [Fact]
    public void Issuers_must_be_cas_and_a_crl_goes_beside_the_ca_that_signed_it()
    {
        var ca = TestPki.Ca("Plant CA");
        var leaf = TestPki.Leaf("plc-1", "urn:plant:plc-1", ca);
        var caFile = _folder.File("ca.der");
        File.WriteAllBytes(caFile, ca.RawData);
        var leafFile = _folder.File("leaf.der");
        File.WriteAllBytes(leafFile, leaf.RawData);
        var crlFile = _folder.File("ca.crl");
        File.WriteAllBytes(crlFile, TestPki.Crl(ca, leaf));
        var orphanCrl = _folder.File("other.crl");
        File.WriteAllBytes(orphanCrl, TestPki.Crl(TestPki.Ca("Other CA")));

        var notCa = Assert.Throws<PkiException>(() => _store.AddIssuer(leafFile));
        var early = Assert.Throws<PkiException>(() => _store.AddRevocationList(crlFile));
        _store.AddIssuer(caFile);
        var path = _store.AddRevocationList(crlFile);
        var orphan = Assert.Throws<PkiException>(() => _store.AddRevocationList(orphanCrl));
        var notCrl = Assert.Throws<PkiException>(() => _store.AddRevocationList(caFile));

        Assert.Contains("not a certificate authority", notCa.Message, StringComparison.Ordinal);
        Assert.Contains("CN=Plant CA", early.Message, StringComparison.Ordinal);
        Assert.Equal(Path.Combine(_store.IssuersFolder, "crl", ca.Thumbprint + ".crl"), path);
        Assert.Contains("CN=Other CA", orphan.Message, StringComparison.Ordinal);
        Assert.Contains("not a certificate revocation list", notCrl.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Our_own_certificate_is_exported_but_never_removed_or_rejected()
    {
        var missing = Assert.Throws<PkiException>(() => _store.ExportOwn(pem: true));
        var own = new ApplicationCertificates(_store, new OwnCertificateSettings { ApplicationUri = "urn:test:gateway", Hosts = ["localhost"] }).LoadOrCreate();

        var der = _store.ExportOwn(pem: false);
        var pem = System.Text.Encoding.ASCII.GetString(_store.ExportOwn(pem: true));
        var remove = Assert.Throws<PkiException>(() => _store.Remove(own.Thumbprint));
        var reject = Assert.Throws<PkiException>(() => _store.Reject(own.Thumbprint));

        Assert.Equal(PkiProblem.NotFound, missing.Problem);
        Assert.Equal(own.RawData, der);
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", pem, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE", pem, StringComparison.Ordinal);
        Assert.Contains("own certificate", remove.Message, StringComparison.Ordinal);
        Assert.Contains("own certificate", reject.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(_store.OwnCertificatePath));
    }
}
