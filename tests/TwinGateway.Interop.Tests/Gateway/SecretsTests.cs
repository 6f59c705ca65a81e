using System.Collections.Concurrent;
using System.Net;
using System.Text;
using TwinGateway.Api.V1;
using TwinGateway.Core.Lines;
using TwinGateway.Gateway;
using TwinGateway.Host.Secrets;
using TwinGateway.OpcUa.Server;
using TwinGateway.PlcSim;
using static TwinGateway.Interop.Tests.Gateway.Polling;

namespace TwinGateway.Interop.Tests.Gateway;

/// <summary>
/// Secrets from the secret store reach the controller and InfluxDB, and never come back out: not in a log line, an
/// error message or a gRPC response, even when the peer echoes them.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // file modes are the check under test
public sealed class SecretsTests : IAsyncLifetime
{
    private const string PlcUser = "operator-7";
    private const string PlcPassword = "Plc-S3cret-7f3a91";
    private const string InfluxToken = "influx-T0ken-c0ffee-4d2b";

    private readonly GatewayUnderTest _gateway = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private string SecretFile => Path.Combine(_gateway.Folder, "secrets.json");

    private async Task WriteSecretsAsync(string plcPassword)
    {
        await File.WriteAllTextAsync(SecretFile, $$"""{ "plc-login": { "password": "{{plcPassword}}" }, "influx": { "token": "{{InfluxToken}}" } }""");
        File.SetUnixFileMode(SecretFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    [Fact]
    public async Task A_gateway_with_secrets_connects_with_them_fails_and_never_prints_one()
    {
        _gateway.Log.Expect("(?i)influx").Expect("BadUserAccessDenied");
        var yaml = _gateway.DemoYaml.Replace("endpointUrl:", "credentialsRef: plc-login\n    endpointUrl:", StringComparison.Ordinal);
        var line = LineDefinitionLoader.Parse(yaml, "line.yaml").GetDefinitionOrThrow();
        await using var plc = new SimulatedPlc(line, new SimulatedPlcOptions
        {
            Seed = 7,
            Port = _gateway.PlcPort,
            Users = new StaticUserAuthenticator(new Dictionary<string, string> { [PlcUser] = PlcPassword }),
        });
        await plc.StartAsync();
        using var influx = new EchoingInflux();
        await WriteSecretsAsync(PlcPassword);
        var settings = new Dictionary<string, string?>
        {
            ["Secrets:File"] = SecretFile,
            ["Gateway:Credentials:plc-login:User"] = PlcUser,
            ["Telemetry:Influx:Enabled"] = "true",
            ["Telemetry:Influx:Url"] = influx.Url,
            ["Telemetry:Influx:Organization"] = "plant",
            ["Telemetry:Influx:Bucket"] = "twin",
            ["Telemetry:Influx:InitialBackoff"] = "00:00:00.100",
            ["Telemetry:Influx:MaxBackoff"] = "00:00:00.500",
            ["Telemetry:ForwardIntervalSeconds"] = "0.2",
        };
        var responses = new List<string>();

        // Right secrets: the controller logs in; InfluxDB gets the token, refuses it and echoes it in its answer.
        var client = new LineService.LineServiceClient(await _gateway.StartAsync(yaml, simulate: false, settings: settings));
        var telemetry = new TelemetryService.TelemetryServiceClient(_gateway.CallInvoker);
        var connected = await Eventually(() => client.GetLineAsync(new GetLineRequest { LineId = "demo-line" }).ResponseAsync,
            l => l.Controllers.All(c => c.State == ConnectionState.Connected), "logging in to the PLC with the secret password");
        var failing = await Eventually(() => telemetry.GetTelemetryStatusAsync(new GetTelemetryStatusRequest()).ResponseAsync,
            s => s.Forwarder.LastError.Length > 0, "the forwarder failing on the refused token");
        var unknown = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => client.GetLineAsync(new GetLineRequest { LineId = "nope" }).ResponseAsync);
        responses.AddRange([connected.ToString(), failing.ToString(), unknown.Status.Detail]);
        Assert.Contains("Token " + InfluxToken, influx.Authorizations);
        Assert.Contains(_gateway.Log.Entries, e => e.Id.Id == 4690 && e.Message.Contains("plc-login.password from secret file", StringComparison.Ordinal));

        // A wrong password: the controller refuses the login, and the reason the gateway reports names no password.
        await _gateway.StopAsync();
        await WriteSecretsAsync("Wrong-Pa55word-0b1e");
        client = new LineService.LineServiceClient(await _gateway.StartAsync(yaml, simulate: false, settings: settings));
        var refused = await Eventually(() => client.GetLineAsync(new GetLineRequest { LineId = "demo-line" }).ResponseAsync,
            l => l.Controllers.All(c => c.Reason.Contains("BadUserAccessDenied", StringComparison.Ordinal)), "the PLC refusing the wrong password");
        responses.Add(refused.ToString());

        var everything = string.Join("\n", _gateway.Log.Entries.Select(e => e.Message).Concat(responses));
        foreach (var secret in new[] { PlcPassword, "Wrong-Pa55word-0b1e", InfluxToken })
        {
            Assert.False(everything.Contains(secret, StringComparison.Ordinal),
                $"the secret {secret[..4]}... appears in what the gateway logged or answered:\n{string.Join("\n", everything.Split('\n').Where(l => l.Contains(secret, StringComparison.Ordinal)))}");
        }
    }

    [Fact]
    public async Task A_secret_file_others_can_read_refuses_the_start_naming_the_file_and_the_fix()
    {
        await WriteSecretsAsync(PlcPassword);
        File.SetUnixFileMode(SecretFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);

        var ex = await Assert.ThrowsAsync<GatewayConfigurationException>(() =>
            _gateway.StartAsync(_gateway.DemoYaml, settings: new Dictionary<string, string?> { ["Secrets:File"] = SecretFile }));

        var problem = Assert.Single(ex.Problems);
        Assert.Contains($"chmod 600 {SecretFile}", problem, StringComparison.Ordinal);
        Assert.DoesNotContain(PlcPassword, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Systemd_credentials_win_over_the_environment_which_wins_over_the_file()
    {
        var file = Path.Combine(_gateway.Folder, "secrets.env");
        File.WriteAllText(file, "# plant secrets\nplc-a.password=from-file\nplc-b.password=from-file\nplc-c.password= spaces kept=and equals\n");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var credentials = Directory.CreateDirectory(Path.Combine(_gateway.Folder, "credentials")).FullName;
        File.WriteAllText(Path.Combine(credentials, "plc-a.password"), "from-systemd\n");
        var environment = new Dictionary<string, string> { ["TWINGW_SECRET_PLC_A_PASSWORD"] = "from-env", ["TWINGW_SECRET_PLC_B_PASSWORD"] = "from-env" };

        var store = SecretStore.Open(file, credentials, name => environment.GetValueOrDefault(name));

        Assert.True(store.TryGet("plc-a.password", out var a, out var aSource));
        Assert.True(store.TryGet("plc-b.password", out var b, out var bSource));
        Assert.True(store.TryGet("plc-c.password", out var c, out _));
        Assert.False(store.TryGet("plc-d.password", out _, out _));
        Assert.Equal(("from-systemd", "from-env", " spaces kept=and equals"), (a, b, c));
        Assert.Contains("systemd credential", aSource, StringComparison.Ordinal);
        Assert.Equal("environment variable TWINGW_SECRET_PLC_B_PASSWORD", bSource);
        Assert.Equal("TWINGW_SECRET_INFLUX_TOKEN", SecretStore.EnvironmentName("influx.token"));
    }

    [Fact]
    public void A_malformed_secret_file_names_the_line_but_never_shows_it()
    {
        var file = Path.Combine(_gateway.Folder, "secrets.env");
        File.WriteAllText(file, "plc-a.password=fine\nHunter2-not-a-pair\n");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var ex = Assert.Throws<SecretStoreException>(() => SecretStore.Open(file, null, _ => null));

        Assert.Contains("line 2", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Hunter2", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>An InfluxDB write endpoint that refuses every token and echoes the Authorization header in its error body.</summary>
    private sealed class EchoingInflux : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _serving;

        public EchoingInflux()
        {
            var port = FreePort.Next();
            Url = $"http://127.0.0.1:{port}";
            _listener.Prefixes.Add(Url + "/");
            _listener.Start();
            _serving = ServeAsync();
        }

        public string Url { get; }

        public ConcurrentBag<string> Authorizations { get; } = [];

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }

                var authorization = context.Request.Headers["Authorization"] ?? "";
                Authorizations.Add(authorization);
                var body = Encoding.UTF8.GetBytes($"{{\"code\":\"unauthorized\",\"message\":\"token rejected: {authorization}\"}}");
                context.Response.StatusCode = 401;
                context.Response.ContentType = "application/json";
                await context.Response.OutputStream.WriteAsync(body);
                context.Response.Close();
            }
        }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            _serving.Wait(TimeSpan.FromSeconds(5));
        }
    }
}
