using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using TwinGateway.Api.V1;
using TwinGateway.Gateway;
using TwinGateway.Interop.Tests.Cli;

namespace TwinGateway.Interop.Tests.Gateway;

/// <summary>
/// A gRPC channel to an https gateway that trusts exactly one certificate (the one the test expects) and still
/// requires the host name to match it; <see cref="Presented"/> is the certificate the gateway showed.
/// </summary>
internal sealed class TlsChannel : IDisposable
{
    private readonly SocketsHttpHandler _handler = new();

    public TlsChannel(string address, X509Certificate2 trusted)
    {
        var trustedBytes = trusted.RawData;
        _handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
        {
            if (certificate is null)
            {
                return false;
            }

            Presented = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            Errors = errors;
            return (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None
                && Presented.RawDataMemory.Span.SequenceEqual(trustedBytes);
        };
        Channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = _handler, DisposeHttpClient = false });
    }

    public GrpcChannel Channel { get; }

    public X509Certificate2? Presented { get; private set; }

    public SslPolicyErrors Errors { get; private set; }

    public CallInvoker For(string? token) => token is null
        ? Channel.CreateCallInvoker()
        : Channel.Intercept(metadata =>
        {
            metadata.Add("authorization", "Bearer " + token);
            return metadata;
        });

    public void Dispose()
    {
        Channel.Dispose();
        _handler.Dispose();
        Presented?.Dispose();
    }
}

/// <summary>The gateway's own endpoints over TLS: the certificate it makes or is given, ALPN, the refusals, the CLI's trust.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // the key file's mode is part of the test
public sealed class TlsTests : IAsyncLifetime
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);
    private readonly GatewayUnderTest _gateway = new();

    private string HttpsServer => $"https://127.0.0.1:{_gateway.ApiPort}";

    private string TlsFolder => Path.Combine(_gateway.DataFolder, "tls");

    private Dictionary<string, string?> Https(params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string?> { ["Gateway:ApiUrl"] = HttpsServer };
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return settings;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task An_https_gateway_creates_its_self_signed_certificate_once_with_an_owner_only_key_and_serves_grpc_and_pages_over_it()
    {
        await _gateway.StartAsync(_gateway.DemoYaml, settings: Https());

        var certificateFile = Path.Combine(TlsFolder, "gateway.crt");
        var keyFile = Path.Combine(TlsFolder, "gateway.key");
        Assert.True(File.Exists(certificateFile) && File.Exists(keyFile), $"no certificate in {TlsFolder}");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
        using var created = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(certificateFile));
        var names = created.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Contains("localhost", names.EnumerateDnsNames());
        Assert.Contains(IPAddress.Loopback, names.EnumerateIPAddresses());
        Assert.Contains(_gateway.Log.Entries, e => e.Id.Id == 4680 && e.Message.Contains(certificateFile, StringComparison.Ordinal));

        // gRPC (HTTP/2 by ALPN) with the host name checked against the certificate.
        using (var tls = new TlsChannel(HttpsServer, created))
        {
            var lines = await new LineService.LineServiceClient(tls.For(_gateway.Token)).ListLinesAsync(new ListLinesRequest());
            Assert.NotEmpty(lines.Lines);
            Assert.Equal(SslPolicyErrors.RemoteCertificateChainErrors, tls.Errors); // self-signed: untrusted by the system, the name matches
        }

        // The web console over the same port: HTTP/1.1 and HTTP/2, each negotiated by ALPN.
        foreach (var version in new[] { HttpVersion.Version11, HttpVersion.Version20 })
        {
            using var handler = new SocketsHttpHandler();
            handler.SslOptions.RemoteCertificateValidationCallback = (_, c, _, _) => c is not null && c.GetRawCertData().AsSpan().SequenceEqual(created.RawData);
            using var http = new HttpClient(handler);
            using var request = new HttpRequestMessage(HttpMethod.Get, HttpsServer + "/signin") { Version = version, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(version, response.Version);
        }

        // A restart presents the same certificate (made once, not at every start).
        await _gateway.StopAsync();
        await _gateway.StartAsync(_gateway.DemoYaml, settings: Https());
        using var again = new TlsChannel(HttpsServer, created);
        await new LineService.LineServiceClient(again.For(_gateway.Token)).ListLinesAsync(new ListLinesRequest());
        Assert.Equal(created.Thumbprint, again.Presented!.Thumbprint);
        Assert.Contains(_gateway.Log.Entries, e => e.Id.Id == 4681);
    }

    [Fact]
    public async Task A_configured_pem_certificate_is_the_one_presented()
    {
        Directory.CreateDirectory(_gateway.Folder);
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=plant-ca-issued-gateway", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(30));
        var certificateFile = Path.Combine(_gateway.Folder, "given.crt");
        var keyFile = Path.Combine(_gateway.Folder, "given.key");
        await File.WriteAllTextAsync(certificateFile, certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(keyFile, rsa.ExportPkcs8PrivateKeyPem());

        await _gateway.StartAsync(_gateway.DemoYaml, settings: Https(("Gateway:Tls:CertificateFile", certificateFile), ("Gateway:Tls:KeyFile", keyFile)));

        using var tls = new TlsChannel(HttpsServer, certificate);
        await new LineService.LineServiceClient(tls.For(_gateway.Token)).ListLinesAsync(new ListLinesRequest());
        Assert.Equal(certificate.Thumbprint, tls.Presented!.Thumbprint);
        Assert.False(Directory.Exists(TlsFolder), "a self-signed certificate was made although one was given");
    }

    [Fact]
    public async Task A_missing_configured_certificate_refuses_the_start_naming_the_file_and_the_settings()
    {
        var missing = Path.Combine(_gateway.Folder, "nowhere.crt");
        var ex = await Assert.ThrowsAsync<GatewayConfigurationException>(() =>
            _gateway.StartAsync(_gateway.DemoYaml, settings: Https(("Gateway:Tls:CertificateFile", missing))));

        var problem = Assert.Single(ex.Problems);
        Assert.Contains(missing, problem, StringComparison.Ordinal);
        Assert.Contains("Gateway:Tls:KeyFile", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://0.0.0.0:{0}", "true", "on an address other than loopback")]
    [InlineData("http://*:{0}", "true", "on an address other than loopback")]
    [InlineData("http://127.0.0.1:{0}", "false", "Gateway:AllowLoopbackHttp is false")]
    public async Task Plain_http_is_refused_at_start_off_loopback_or_when_the_settings_forbid_it(string url, string allowLoopback, string why)
    {
        var api = string.Format(System.Globalization.CultureInfo.InvariantCulture, url, _gateway.ApiPort);
        var ex = await Assert.ThrowsAsync<GatewayConfigurationException>(() => _gateway.StartAsync(_gateway.DemoYaml,
            settings: new Dictionary<string, string?> { ["Gateway:ApiUrl"] = api, ["Gateway:AllowLoopbackHttp"] = allowLoopback }));

        var problem = Assert.Single(ex.Problems, p => p.StartsWith("Gateway:ApiUrl", StringComparison.Ordinal));
        Assert.Contains(why, problem, StringComparison.Ordinal);
        Assert.Contains("use https", problem, StringComparison.Ordinal);
        Assert.Contains("Gateway:Tls:CertificateFile", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_owner_only_key_that_became_readable_by_others_refuses_the_start_with_the_chmod_fix()
    {
        await _gateway.StartAsync(_gateway.DemoYaml, settings: Https());
        await _gateway.StopAsync();
        var keyFile = Path.Combine(TlsFolder, "gateway.key");
        File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var ex = await Assert.ThrowsAsync<GatewayConfigurationException>(() => _gateway.StartAsync(_gateway.DemoYaml, settings: Https()));

        Assert.Contains($"chmod 600 {keyFile}", Assert.Single(ex.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_cli_trusts_the_gateway_with_ca_and_refuses_it_without_with_a_clear_message()
    {
        await _gateway.StartAsync(_gateway.DemoYaml, settings: Https());
        var ca = Path.Combine(TlsFolder, "gateway.crt");

        var trusted = await TwingwProcess.RunAsAsync(_gateway.Token, s_timeout, "lines", "list", "--server", HttpsServer, "--ca", ca, "--json");
        var untrusted = await TwingwProcess.RunAsAsync(_gateway.Token, s_timeout, "lines", "list", "--server", HttpsServer);

        var other = Path.Combine(_gateway.Folder, "other.crt");
        using (var rsa = RSA.Create(2048))
        {
            using var stranger = new CertificateRequest("CN=someone-else", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
                .CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllTextAsync(other, stranger.ExportCertificatePem());
        }

        var wrongCa = await TwingwProcess.RunAsAsync(_gateway.Token, s_timeout, "lines", "list", "--server", HttpsServer, "--ca", other);

        Assert.True(trusted.ExitCode == 0, trusted.ToString());
        Assert.Contains("demo-line", trusted.StdOut, StringComparison.Ordinal);
        Assert.True(untrusted.ExitCode == 2, untrusted.ToString());
        Assert.Contains("does not trust", untrusted.StdErr, StringComparison.Ordinal);
        Assert.Contains("--ca FILE", untrusted.StdErr, StringComparison.Ordinal);
        Assert.True(wrongCa.ExitCode == 2, wrongCa.ToString());
        Assert.Contains("is not the --ca certificate nor issued by it", wrongCa.StdErr, StringComparison.Ordinal);
    }
}
