using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using TwinGateway.Api.V1;
using TwinGateway.Core.Identity;
using TwinGateway.Interop.Tests.Cli;
using TwinGateway.OpcUa.Security;
using UaStatus = TwinGateway.OpcUa.Types.StatusCode;
using StatusCode = Grpc.Core.StatusCode;
using StatusCodes = TwinGateway.OpcUa.Types.StatusCodes;

namespace TwinGateway.Interop.Tests.Gateway;

/// <summary>
/// The certificate stores of a running gateway through its API and through <c>twingw certs --server</c>: a peer the
/// gateway's own validator refused lands in rejected and an admin trusts it without touching a file; non-admins are
/// refused; bad input gets the precise gRPC status.
/// </summary>
public sealed class CertificateApiTests : IAsyncLifetime
{
    private const string PlcUri = "urn:plant:plc-7";
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);
    private readonly GatewayUnderTest _gateway = new();

    public async Task InitializeAsync() => await _gateway.StartAsync(_gateway.DemoYaml);

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private CertificateService.CertificateServiceClient Admin => new(_gateway.CallInvoker!);

    private ICertificateValidator Validator => _gateway.App!.Services.GetRequiredService<ICertificateValidator>();

    private static X509Certificate2 Peer(string name, string uri)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new Uri(uri));
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation | X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.DataEncipherment, true));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        return X509CertificateLoader.LoadCertificate(created.RawData);
    }

    [Fact]
    public async Task The_gateway_creates_its_own_certificate_on_first_start_and_exports_it()
    {
        var own = Path.Combine(_gateway.DataFolder, "pki", "own");

        var exported = await Admin.ExportOwnCertificateAsync(new ExportOwnCertificateRequest { Pem = false });
        var pem = await Admin.ExportOwnCertificateAsync(new ExportOwnCertificateRequest { Pem = true });

        var onDisk = File.ReadAllBytes(Path.Combine(own, "certificate.der"));
        Assert.Equal(onDisk, exported.Certificate.ToByteArray());
        using var certificate = X509CertificateLoader.LoadCertificate(onDisk);
        Assert.Equal(certificate.Thumbprint, exported.Thumbprint);
        Assert.Equal(2048, certificate.GetRSAPublicKey()!.KeySize);
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", pem.Certificate.ToStringUtf8(), StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE", pem.Certificate.ToStringUtf8(), StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(own, "private-key.pem")));
        }

        Assert.Contains(_gateway.Log.Entries, e => e.Id.Id == 4601);
    }

    [Fact]
    public async Task A_refused_peer_lands_in_rejected_and_an_admin_trusts_it_through_the_api()
    {
        var plc = Peer("plc-7", PlcUri);

        var refused = Validator.Validate([plc], PlcUri);
        var rejected = await Admin.ListCertificatesAsync(new ListCertificatesRequest { Store = CertificateStore.Rejected });
        var trusted = await Admin.TrustCertificateAsync(new TrustCertificateRequest { Thumbprint = plc.Thumbprint[..8].ToLowerInvariant() });
        var after = Validator.Validate([plc], PlcUri);
        var shown = await Admin.GetCertificateAsync(new GetCertificateRequest { Thumbprint = plc.Thumbprint });

        Assert.Equal(new UaStatus(StatusCodes.BadCertificateUntrusted), refused.Status);
        var listed = Assert.Single(rejected.Certificates);
        Assert.Equal(plc.Thumbprint, listed.Thumbprint);
        Assert.Equal(PlcUri, listed.ApplicationUri);
        Assert.Equal("CN=plc-7", listed.Subject);
        Assert.Equal(CertificateStore.Trusted, trusted.Certificate.Store);
        Assert.True(after.IsTrusted, after.Reason);
        Assert.Equal([CertificateStore.Trusted], shown.Certificates.Select(c => c.Store));
        Assert.Equal(plc.RawData, shown.Der.ToByteArray());
        Assert.Contains(_gateway.Log.Entries, e => e.Id.Id == 4602);

        await Admin.RejectCertificateAsync(new RejectCertificateRequest { Thumbprint = plc.Thumbprint });
        Assert.Equal(new UaStatus(StatusCodes.BadCertificateUntrusted), Validator.Validate([plc], PlcUri).Status);
        await Admin.RemoveCertificateAsync(new RemoveCertificateRequest { Thumbprint = plc.Thumbprint });
        Assert.Empty((await Admin.ListCertificatesAsync(new ListCertificatesRequest { Store = CertificateStore.Rejected })).Certificates);
    }

    [Fact]
    public async Task A_certificate_given_in_the_call_is_trusted_and_bad_input_gets_the_precise_status()
    {
        var plc = Peer("plc-8", "urn:plant:plc-8");

        var added = await Admin.TrustCertificateAsync(new TrustCertificateRequest { Certificate = ByteString.CopyFromUtf8(new string(PemEncoding.Write("CERTIFICATE", plc.RawData))) });
        var garbage = await Assert.ThrowsAsync<RpcException>(() => Admin.TrustCertificateAsync(new TrustCertificateRequest { Certificate = ByteString.CopyFrom(1, 2, 3) }).ResponseAsync);
        var empty = await Assert.ThrowsAsync<RpcException>(() => Admin.TrustCertificateAsync(new TrustCertificateRequest()).ResponseAsync);
        var malformed = await Assert.ThrowsAsync<RpcException>(() => Admin.RemoveCertificateAsync(new RemoveCertificateRequest { Thumbprint = "../../own" }).ResponseAsync);
        var unknown = await Assert.ThrowsAsync<RpcException>(() => Admin.GetCertificateAsync(new GetCertificateRequest { Thumbprint = "ABCDEF0123" }).ResponseAsync);
        var own = (await Admin.ListCertificatesAsync(new ListCertificatesRequest { Store = CertificateStore.Own })).Certificates.Single();
        var removeOwn = await Assert.ThrowsAsync<RpcException>(() => Admin.RemoveCertificateAsync(new RemoveCertificateRequest { Thumbprint = own.Thumbprint }).ResponseAsync);

        Assert.Equal(plc.Thumbprint, added.Certificate.Thumbprint);
        Assert.True(Validator.Validate([plc], "urn:plant:plc-8").IsTrusted);
        Assert.Equal(StatusCode.InvalidArgument, garbage.StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, empty.StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, malformed.StatusCode);
        Assert.Contains("not a certificate thumbprint", malformed.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("ABCDEF0123", unknown.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.InvalidArgument, removeOwn.StatusCode);
        Assert.True(File.Exists(Path.Combine(_gateway.DataFolder, "pki", "own", "certificate.der")));
    }

    [Theory]
    [InlineData(Role.Viewer)]
    [InlineData(Role.Operator)]
    [InlineData(Role.Engineer)]
    [InlineData(Role.Approver)]
    [InlineData(Role.Safety)]
    [InlineData(Role.Mes)]
    public async Task Every_role_but_admin_is_refused(Role role)
    {
        var plc = Peer("plc-9", "urn:plant:plc-9");
        Validator.Validate([plc], null);
        var token = await _gateway.AddUserAsync("user-" + role.ToString().ToLowerInvariant(), role);
        var client = new CertificateService.CertificateServiceClient(_gateway.CallInvokerFor(token));

        var calls = new Func<Task>[]
        {
            () => client.ListCertificatesAsync(new ListCertificatesRequest()).ResponseAsync,
            () => client.GetCertificateAsync(new GetCertificateRequest { Thumbprint = plc.Thumbprint }).ResponseAsync,
            () => client.TrustCertificateAsync(new TrustCertificateRequest { Thumbprint = plc.Thumbprint }).ResponseAsync,
            () => client.RejectCertificateAsync(new RejectCertificateRequest { Thumbprint = plc.Thumbprint }).ResponseAsync,
            () => client.RemoveCertificateAsync(new RemoveCertificateRequest { Thumbprint = plc.Thumbprint }).ResponseAsync,
            () => client.ExportOwnCertificateAsync(new ExportOwnCertificateRequest()).ResponseAsync,
        };
        foreach (var call in calls)
        {
            var ex = await Assert.ThrowsAsync<RpcException>(call);
            Assert.Equal(StatusCode.PermissionDenied, ex.StatusCode);
        }

        var stillRejected = await Admin.ListCertificatesAsync(new ListCertificatesRequest { Store = CertificateStore.Rejected });
        Assert.Equal(plc.Thumbprint, Assert.Single(stillRejected.Certificates).Thumbprint);
    }

    [Fact]
    public async Task A_plant_ca_and_its_crl_added_with_the_cli_make_the_gateway_accept_its_leaves_and_refuse_revoked_ones()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Plant CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(2));
        X509Certificate2 Issue(string name, string uri, byte serial)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            san.AddUri(new Uri(uri));
            request.CertificateExtensions.Add(san.Build());
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
            return request.Create(ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddYears(1), [0x10, serial]);
        }

        using var good = Issue("plc-20", "urn:plant:plc-20", 1);
        using var revoked = Issue("plc-21", "urn:plant:plc-21", 2);
        var crl = new CertificateRevocationListBuilder();
        crl.AddEntry(revoked);
        var caFile = Path.Combine(_gateway.Folder, "plant-ca.pem");
        var crlFile = Path.Combine(_gateway.Folder, "plant-ca.crl");
        await File.WriteAllTextAsync(caFile, new string(PemEncoding.Write("CERTIFICATE", ca.RawData)));
        await File.WriteAllBytesAsync(crlFile, crl.Build(ca, 1, DateTimeOffset.UtcNow.AddDays(7), HashAlgorithmName.SHA256));

        var before = Validator.Validate([good], "urn:plant:plc-20");
        var asIssuer = await TwingwProcess.RunAsync(s_timeout, "certs", "add-issuer", caFile, "--crl", crlFile, "--data", _gateway.DataFolder);
        var chainOnly = await WaitForAsync(() => Validator.Validate([good], "urn:plant:plc-20"), v => v.Status != before.Status);
        var trusted = await TwingwProcess.RunAsAsync(_gateway.Token, s_timeout, "certs", "trust", "--file", caFile, "--server", _gateway.Server);
        var crlBesideTrusted = await TwingwProcess.RunAsync(s_timeout, "certs", "add-issuer", "--crl", crlFile, "--data", _gateway.DataFolder);
        var accepted = await WaitForAsync(() => Validator.Validate([good], "urn:plant:plc-20"), v => v.IsTrusted);

        Assert.Equal(new UaStatus(StatusCodes.BadCertificateChainIncomplete), before.Status);
        Assert.True(asIssuer.ExitCode == 0, asIssuer.ToString());
        Assert.Contains("added issuer CN=Plant CA", asIssuer.StdOut, StringComparison.Ordinal);
        // In issuers/ the CA completes the chain but trusts nothing.
        Assert.Equal(new UaStatus(StatusCodes.BadCertificateUntrusted), chainOnly.Status);
        Assert.True(trusted.ExitCode == 0, trusted.ToString());
        Assert.True(crlBesideTrusted.ExitCode == 0, crlBesideTrusted.ToString());
        Assert.True(accepted.IsTrusted, accepted.Reason);
        Assert.Equal(new UaStatus(StatusCodes.BadCertificateRevoked), Validator.Validate([revoked], "urn:plant:plc-21").Status);
    }

    private static async Task<CertificateVerdict> WaitForAsync(Func<CertificateVerdict> validate, Func<CertificateVerdict, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        var verdict = validate();
        while (!done(verdict) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            verdict = validate();
        }

        return verdict;
    }

    [Fact]
    public async Task The_cli_lists_trusts_and_exports_through_the_api_and_on_the_data_folder()
    {
        var plc = Peer("plc-10", "urn:plant:plc-10");
        var other = Peer("plc-11", "urn:plant:plc-11");
        Validator.Validate([plc], null);
        Validator.Validate([other], null);
        var viewer = await _gateway.AddUserAsync("viewer", Role.Viewer);

        var list = await TwingwProcess.RunAsAsync(_gateway.Token, s_timeout, "certs", "list", "--store", "rejected", "--json", "--server", _gateway.Server);
        var trust = await TwingwProcess.RunAsAsync(_gateway.Token, s_timeout, "certs", "trust", plc.Thumbprint, "--server", _gateway.Server);
        var denied = await TwingwProcess.RunAsAsync(viewer, s_timeout, "certs", "trust", other.Thumbprint, "--server", _gateway.Server);
        var noToken = await TwingwProcess.RunAsync(s_timeout, "certs", "list", "--server", _gateway.Server);
        var missing = await TwingwProcess.RunAsAsync(_gateway.Token, s_timeout, "certs", "show", "ABCDEF0123", "--server", _gateway.Server);
        var export = await TwingwProcess.RunAsAsync(_gateway.Token, s_timeout, "certs", "export-own", "--server", _gateway.Server);
        var table = await TwingwProcess.RunAsync(s_timeout, "certs", "list", "--data", _gateway.DataFolder);
        var localTrust = await TwingwProcess.RunAsync(s_timeout, "certs", "trust", other.Thumbprint, "--data", _gateway.DataFolder, "--json");
        var show = await TwingwProcess.RunAsync(s_timeout, "certs", "show", other.Thumbprint[..12], "--data", _gateway.DataFolder, "--json");

        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Equal(new[] { plc.Thumbprint, other.Thumbprint }.Order(), list.JsonLines.Select(l => l.GetProperty("thumbprint").GetString()).Order());
        Assert.Contains(list.JsonLines, l => l.GetProperty("applicationUri").GetString() == "urn:plant:plc-10");
        Assert.True(trust.ExitCode == 0, trust.ToString());
        Assert.Contains($"trusted CN=plc-10 ({plc.Thumbprint})", trust.StdOut, StringComparison.Ordinal);
        Assert.True(Validator.Validate([plc], "urn:plant:plc-10").IsTrusted);
        Assert.True(denied.ExitCode == 1, denied.ToString());
        Assert.Contains("PermissionDenied", denied.StdErr, StringComparison.Ordinal);
        Assert.True(noToken.ExitCode == 2, noToken.ToString());
        Assert.True(missing.ExitCode == 1, missing.ToString());
        Assert.Contains("no certificate with thumbprint ABCDEF0123", missing.StdErr, StringComparison.Ordinal);
        Assert.True(export.ExitCode == 0, export.ToString());
        var ownDer = File.ReadAllBytes(Path.Combine(_gateway.DataFolder, "pki", "own", "certificate.der"));
        Assert.Equal(new string(PemEncoding.Write("CERTIFICATE", ownDer)), export.StdOut.Trim());
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("CN=plc-10", table.StdOut, StringComparison.Ordinal);
        Assert.Contains("own", table.StdOut, StringComparison.Ordinal);
        Assert.True(localTrust.ExitCode == 0, localTrust.ToString());
        Assert.Equal("trusted", Assert.Single(localTrust.JsonLines).GetProperty("store").GetString());
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Equal(other.Thumbprint, Assert.Single(show.JsonLines).GetProperty("thumbprint").GetString());

        // The running gateway sees the file the CLI wrote in its data folder within a second or so.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!Validator.Validate([other], null).IsTrusted && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.True(Validator.Validate([other], null).IsTrusted);
    }
}
