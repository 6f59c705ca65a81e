using System.Security.Cryptography.X509Certificates;
using TwinGateway.Interop.Tests.Cli;
using TwinGateway.OpcUa.Security;
using TwinGateway.OpcUa.Security.Pki;
using TwinGateway.OpcUa.Server;

namespace TwinGateway.Interop.Tests.Security;

/// <summary>
/// <c>twingw opcua ... --security POLICY --mode MODE</c> against our server: the server's certificate is refused and
/// kept in rejected/ until `twingw certs trust` moves it (nobody copies files), then every policy and mode reads.
/// </summary>
public sealed class SecureCliTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly string _folder = Directory.CreateTempSubdirectory("twingw-secure-cli-").FullName;

    private string DataFolder => Path.Combine(_folder, "data");

    private string Pki => Path.Combine(DataFolder, "pki");

    private UaServer? _server;

    public async Task InitializeAsync()
    {
        // The client's own certificate exists before the server starts, so the server can trust it (a controller's
        // trust list, filled from `twingw certs export-own`).
        var own = new ApplicationCertificates(new DirectoryCertificateStore(Pki), new OwnCertificateSettings
        {
            ApplicationUri = "urn:twingateway:client",
            ApplicationName = "twingw opcua",
            Hosts = ApplicationCertificates.HostNames(),
        }).LoadOrCreate();
        var serverCertificate = ApplicationCertificate.CreateSelfSigned("urn:test:secure-cli-server", "CN=secure cli test server", ["localhost"], TimeSpan.FromDays(30));
        _server = new UaServer(new UaServerOptions
        {
            Port = 0,
            ApplicationUri = serverCertificate.ApplicationUri,
            Certificate = serverCertificate,
            ClientCertificateValidator = new PinnedCertificateValidator([X509CertificateLoader.LoadCertificate(own.RawData)]),
        });
        await _server.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task An_untrusted_server_is_refused_trusted_through_the_cli_then_read_in_every_policy_and_mode()
    {
        var url = _server!.EndpointUrl;
        var refused = await TwingwProcess.RunAsync(Timeout, "opcua", "read", url, "i=2258", "--security", "Basic256Sha256", "--pki", Pki);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("BadCertificateUntrusted", refused.StdErr, StringComparison.Ordinal);

        var rejected = await TwingwProcess.RunAsync(Timeout, "certs", "list", "--store", "rejected", "--data", DataFolder, "--json");
        Assert.Equal(0, rejected.ExitCode);
        var thumbprint = Assert.Single(rejected.JsonLines).GetProperty("thumbprint").GetString()!;
        var trusted = await TwingwProcess.RunAsync(Timeout, "certs", "trust", thumbprint, "--data", DataFolder);
        Assert.True(trusted.ExitCode == 0, trusted.ToString());

        foreach (var policy in new[] { "Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss" })
        {
            foreach (var mode in new[] { "Sign", "SignAndEncrypt" })
            {
                var read = await TwingwProcess.RunAsync(Timeout, "opcua", "read", url, "i=2258", "--security", policy, "--mode", mode, "--pki", Pki, "--json");
                Assert.True(read.ExitCode == 0, $"{policy}/{mode}: {read}");
                Assert.Equal("Good", Assert.Single(read.JsonLines).GetProperty("status").GetString());
            }
        }

        var unknown = await TwingwProcess.RunAsync(Timeout, "opcua", "read", url, "i=2258", "--security", "Basic128Rsa15", "--pki", Pki);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("--security: unknown policy 'Basic128Rsa15'", unknown.StdErr, StringComparison.Ordinal);
    }
}
