using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using TwinGateway.OpcUa.Security;
using TwinGateway.OpcUa.Security.Pki;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Tests.Security.Pki;

/// <summary>The trust-list validator on real certificates and CRLs made here, in a real store folder.</summary>
public sealed class TrustListValidatorTests : IDisposable
{
    private const string PlcUri = "urn:plant:plc-1";
    private readonly TempFolder _folder = new();
    private readonly DirectoryCertificateStore _store;

    public TrustListValidatorTests()
    {
        _store = new DirectoryCertificateStore(_folder.File("pki"), maxRejected: 3);
        _store.EnsureCreated();
    }

    public void Dispose() => _folder.Dispose();

    private TrustListValidator Validator(bool requireCrls = true) => new(_store, requireCrls);

    private static void AssertStatus(uint expected, CertificateVerdict verdict) =>
        Assert.True(verdict.Status == new StatusCode(expected), $"expected {new StatusCode(expected)}, got {verdict.Status}: {verdict.Reason}");

    [Fact]
    public void A_trusted_self_signed_certificate_is_good_for_its_uri()
    {
        var plc = TestPki.Leaf("plc-1", PlcUri);
        TestPki.Put(_store.TrustedFolder, plc);

        AssertStatus(StatusCodes.Good, Validator().Validate([plc], PlcUri));
        AssertStatus(StatusCodes.Good, Validator().Validate([plc], null));
    }

    [Fact]
    public void An_unknown_certificate_is_untrusted_kept_in_rejected_and_trusted_through_the_store()
    {
        var plc = TestPki.Leaf("plc-1", PlcUri);
        var validator = Validator();

        var first = validator.Validate([plc], PlcUri);
        var rejected = _store.List(PkiStoreName.Rejected);
        _store.Trust(plc.Thumbprint[..10]);
        var second = validator.Validate([plc], PlcUri);

        AssertStatus(StatusCodes.BadCertificateUntrusted, first);
        Assert.Contains(plc.Thumbprint, first.Reason, StringComparison.Ordinal);
        Assert.Contains("twingw certs trust", first.Reason, StringComparison.Ordinal);
        Assert.Equal(plc.Thumbprint, Assert.Single(rejected).Thumbprint);
        AssertStatus(StatusCodes.Good, second);
        Assert.Empty(_store.List(PkiStoreName.Rejected));
    }

    [Fact]
    public void A_certificate_dropped_into_trusted_by_another_process_is_seen_without_a_restart()
    {
        var plc = TestPki.Leaf("plc-1", PlcUri);
        var validator = Validator();
        AssertStatus(StatusCodes.BadCertificateUntrusted, validator.Validate([plc], PlcUri));

        // Another process (twingw certs on the data folder) writes the file: the folder's time changes.
        new DirectoryCertificateStore(_store.Root).Trust(plc.Thumbprint);
        var deadline = Stopwatch.StartNew();
        CertificateVerdict verdict;
        do
        {
            verdict = validator.Validate([plc], PlcUri);
        }
        while (!verdict.IsTrusted && deadline.Elapsed < TimeSpan.FromSeconds(5));

        AssertStatus(StatusCodes.Good, verdict);
        Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(3), $"took {deadline.Elapsed}");
    }

    [Fact]
    public void Expired_and_not_yet_valid_certificates_are_time_invalid()
    {
        var expired = TestPki.Leaf("old", PlcUri, from: TestPki.Now.AddYears(-2), to: TestPki.Now.AddDays(-1));
        var future = TestPki.Leaf("new", PlcUri, from: TestPki.Now.AddDays(2), to: TestPki.Now.AddYears(1));
        TestPki.Put(_store.TrustedFolder, expired);
        TestPki.Put(_store.TrustedFolder, future);

        AssertStatus(StatusCodes.BadCertificateTimeInvalid, Validator().Validate([expired], PlcUri));
        AssertStatus(StatusCodes.BadCertificateTimeInvalid, Validator().Validate([future], PlcUri));
    }

    [Fact]
    public void A_uri_that_is_not_in_the_subject_alternative_name_is_uri_invalid()
    {
        var plc = TestPki.Leaf("plc-1", PlcUri);
        TestPki.Put(_store.TrustedFolder, plc);

        var verdict = Validator().Validate([plc], "urn:plant:plc-2");

        AssertStatus(StatusCodes.BadCertificateUriInvalid, verdict);
        Assert.Contains(PlcUri, verdict.Reason, StringComparison.Ordinal);
        Assert.Contains("urn:plant:plc-2", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_certificate_that_may_not_sign_is_use_not_allowed()
    {
        var plc = TestPki.Leaf("plc-1", PlcUri, usage: X509KeyUsageFlags.KeyEncipherment);
        TestPki.Put(_store.TrustedFolder, plc);

        AssertStatus(StatusCodes.BadCertificateUseNotAllowed, Validator().Validate([plc], PlcUri));
    }

    [Fact]
    public void A_leaf_of_a_trusted_ca_with_a_crl_is_good_and_revoked_when_the_crl_lists_it()
    {
        var ca = TestPki.Ca("Plant CA");
        var good = TestPki.Leaf("plc-1", PlcUri, ca);
        var bad = TestPki.Leaf("plc-2", "urn:plant:plc-2", ca);
        TestPki.Put(_store.TrustedFolder, ca);
        TestPki.PutCrl(_store.TrustedFolder, ca, TestPki.Crl(ca, bad));

        AssertStatus(StatusCodes.Good, Validator().Validate([good], PlcUri));
        var revoked = Validator().Validate([bad], "urn:plant:plc-2");
        AssertStatus(StatusCodes.BadCertificateRevoked, revoked);
        Assert.Contains(bad.Thumbprint, revoked.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_revoked_intermediate_is_issuer_revoked()
    {
        var root = TestPki.Ca("Root CA");
        var intermediate = TestPki.Ca("Line CA", root);
        var plc = TestPki.Leaf("plc-1", PlcUri, intermediate);
        TestPki.Put(_store.TrustedFolder, root);
        TestPki.Put(_store.IssuersFolder, intermediate);
        TestPki.PutCrl(_store.IssuersFolder, intermediate, TestPki.Crl(intermediate));
        TestPki.PutCrl(_store.TrustedFolder, root, TestPki.Crl(root));
        AssertStatus(StatusCodes.Good, Validator().Validate([plc], PlcUri));

        TestPki.PutCrl(_store.TrustedFolder, root, TestPki.Crl(root, intermediate));

        AssertStatus(StatusCodes.BadCertificateIssuerRevoked, new TrustListValidator(new DirectoryCertificateStore(_store.Root)).Validate([plc], PlcUri));
    }

    [Fact]
    public void A_ca_without_a_crl_is_revocation_unknown_unless_crls_are_not_required()
    {
        var root = TestPki.Ca("Root CA");
        var intermediate = TestPki.Ca("Line CA", root);
        var plc = TestPki.Leaf("plc-1", PlcUri, intermediate);
        TestPki.Put(_store.TrustedFolder, root);
        TestPki.Put(_store.IssuersFolder, intermediate);

        AssertStatus(StatusCodes.BadCertificateRevocationUnknown, Validator().Validate([plc], PlcUri));
        TestPki.PutCrl(_store.IssuersFolder, intermediate, TestPki.Crl(intermediate));
        AssertStatus(StatusCodes.BadCertificateIssuerRevocationUnknown, new TrustListValidator(new DirectoryCertificateStore(_store.Root)).Validate([plc], PlcUri));
        AssertStatus(StatusCodes.Good, Validator(requireCrls: false).Validate([plc], PlcUri));
    }

    [Fact]
    public void A_crl_signed_by_another_key_does_not_count()
    {
        var ca = TestPki.Ca("Plant CA");
        var impostor = TestPki.Ca("Plant CA");
        var plc = TestPki.Leaf("plc-1", PlcUri, ca);
        TestPki.Put(_store.TrustedFolder, ca);
        TestPki.PutCrl(_store.TrustedFolder, ca, TestPki.Crl(impostor));

        AssertStatus(StatusCodes.BadCertificateRevocationUnknown, Validator().Validate([plc], PlcUri));
    }

    [Fact]
    public void A_missing_intermediate_is_chain_incomplete_and_the_one_the_peer_sends_completes_it()
    {
        var root = TestPki.Ca("Root CA");
        var intermediate = TestPki.Ca("Line CA", root);
        var plc = TestPki.Leaf("plc-1", PlcUri, intermediate);
        TestPki.Put(_store.TrustedFolder, root);
        TestPki.PutCrl(_store.TrustedFolder, root, TestPki.Crl(root));
        TestPki.PutCrl(_store.IssuersFolder, intermediate, TestPki.Crl(intermediate));

        var incomplete = Validator().Validate([plc], PlcUri);
        var sent = Validator().Validate([plc, intermediate], PlcUri);

        AssertStatus(StatusCodes.BadCertificateChainIncomplete, incomplete);
        Assert.Contains("Line CA", incomplete.Reason, StringComparison.Ordinal);
        AssertStatus(StatusCodes.Good, sent);
    }

    [Fact]
    public void A_ca_the_peer_sends_is_never_a_trust_anchor()
    {
        var rogue = TestPki.Ca("Rogue CA");
        var plc = TestPki.Leaf("plc-1", PlcUri, rogue);

        AssertStatus(StatusCodes.BadCertificateUntrusted, Validator().Validate([plc, rogue], PlcUri));
    }

    [Fact]
    public void Unparseable_bytes_and_an_empty_chain_are_certificate_invalid()
    {
        var plc = TestPki.Leaf("plc-1", PlcUri);
        TestPki.Put(_store.TrustedFolder, plc);

        AssertStatus(StatusCodes.BadCertificateInvalid, Validator().ValidateEncoded([0x30, 0x82, 0x01], PlcUri));
        AssertStatus(StatusCodes.BadCertificateInvalid, Validator().ValidateEncoded([0x30, 0x03, 0x02, 0x01, 0x01], PlcUri));
        AssertStatus(StatusCodes.BadCertificateInvalid, Validator().ValidateEncoded([.. plc.RawData, 0xFF], PlcUri));
        AssertStatus(StatusCodes.BadCertificateInvalid, Validator().Validate([], PlcUri));
        AssertStatus(StatusCodes.Good, Validator().ValidateEncoded(plc.RawData, PlcUri));
    }

    [Fact]
    public void A_chain_bomb_is_refused_quickly_without_building_a_chain()
    {
        var plc = TestPki.Leaf("plc-1", PlcUri);
        TestPki.Put(_store.TrustedFolder, plc);
        var bomb = Enumerable.Repeat(plc.RawData, 500).SelectMany(b => b).ToArray();
        var many = Enumerable.Repeat(plc, 500).ToList();
        var validator = Validator();

        var watch = Stopwatch.StartNew();
        var encoded = validator.ValidateEncoded(bomb, PlcUri);
        var listed = validator.Validate(many, PlcUri);
        watch.Stop();

        AssertStatus(StatusCodes.BadCertificateInvalid, encoded);
        AssertStatus(StatusCodes.BadCertificateInvalid, listed);
        Assert.Contains("more than 8", encoded.Reason, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"took {watch.Elapsed}");
    }

    [Fact]
    public void A_chain_deeper_than_the_limit_is_refused()
    {
        var cas = new List<X509Certificate2> { TestPki.Ca("CA 0") };
        for (var i = 1; i < TrustListValidator.MaxChainLength + 2; i++)
        {
            cas.Add(TestPki.Ca($"CA {i}", cas[^1], to: TestPki.Now.AddYears(5).AddDays(-i)));
        }

        var plc = TestPki.Leaf("plc-1", PlcUri, cas[^1]);
        TestPki.Put(_store.TrustedFolder, cas[0]);
        foreach (var ca in cas.Skip(1))
        {
            TestPki.Put(_store.IssuersFolder, ca);
        }

        var verdict = Validator(requireCrls: false).Validate([plc], PlcUri);

        AssertStatus(StatusCodes.BadCertificateInvalid, verdict);
        Assert.Contains("deep", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Rejected_keeps_at_most_its_limit_newest_first()
    {
        var validator = Validator();
        var peers = Enumerable.Range(0, 5).Select(i => TestPki.Leaf($"peer-{i}", $"urn:peer:{i}")).ToList();
        foreach (var peer in peers)
        {
            AssertStatus(StatusCodes.BadCertificateUntrusted, validator.Validate([peer], null));
            Thread.Sleep(20);
        }

        var kept = _store.List(PkiStoreName.Rejected).Select(e => e.Thumbprint).ToHashSet();

        Assert.Equal(peers.Skip(2).Select(p => p.Thumbprint).ToHashSet(), kept);
    }

    [Fact]
    public void Validation_from_many_threads_gives_the_same_answers()
    {
        var trusted = TestPki.Leaf("plc-1", PlcUri);
        var unknown = TestPki.Leaf("plc-x", "urn:plant:x");
        TestPki.Put(_store.TrustedFolder, trusted);
        var validator = Validator();

        var results = Enumerable.Range(0, 64).AsParallel().WithDegreeOfParallelism(8)
            .Select(i => i % 2 == 0 ? validator.Validate([trusted], PlcUri).Status : validator.Validate([unknown], null).Status)
            .ToList();

        Assert.Equal(32, results.Count(s => s.IsGood));
        Assert.Equal(32, results.Count(s => s == new StatusCode(StatusCodes.BadCertificateUntrusted)));
        Assert.Single(_store.List(PkiStoreName.Rejected));
    }
}
