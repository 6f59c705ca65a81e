using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.AspNetCore.Builder;
using TwinGateway.Commissioning.Identity;
using TwinGateway.Core.Identity;
using TwinGateway.Gateway;
using TwinGateway.Host.Gateway;

namespace TwinGateway.Testing;

/// <summary>
/// One gateway service in the test process with its own folder (line files in <c>lines/</c>, the flight recorder in
/// <c>data/</c>) and free loopback ports for its API and the line's simulated PLC. Everything it logs lands in
/// <see cref="Log"/> (instead of the console), which fails the test at dispose when the gateway logged an error the test
/// did not declare with <see cref="TestLog.Expect(int)"/>. Before it starts, the data folder gets a user
/// <see cref="AdminName"/> with every role; <see cref="CallInvoker"/> sends its <see cref="Token"/> on every call.
/// </summary>
public sealed class GatewayUnderTest : IAsyncDisposable
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("twingw-gateway-").FullName;

    public int ApiPort { get; } = FreePort.Next();

    public int PlcPort { get; } = FreePort.Next();

    /// <summary>Where <c>/healthz</c> answers (HTTP/1.1).</summary>
    public int HealthPort { get; } = FreePort.Next();

    public string HealthUrl => $"http://127.0.0.1:{HealthPort}/healthz";

    public string Server => $"http://127.0.0.1:{ApiPort}";

    public string LinesFolder => Path.Combine(Folder, "lines");

    public string DataFolder => Path.Combine(Folder, "data");

    /// <summary>The gateway's log: every category of the host, its lines, sinks and recorder.</summary>
    public TestLog Log { get; } = new();

    public WebApplication? App { get; private set; }

    /// <summary>The bare channel: calls on it carry no token (for tests of refusals). Use <see cref="CallInvoker"/> for calls that should pass.</summary>
    public GrpcChannel? Channel { get; private set; }

    /// <summary>Calls on <see cref="Channel"/> with <see cref="Token"/>: build clients from this (<c>new LineService.LineServiceClient(gateway.CallInvoker)</c>).</summary>
    public CallInvoker? CallInvoker { get; private set; }

    /// <summary>The user created in the data folder before the gateway starts, with every role (admin included).</summary>
    public const string AdminName = "test-admin";

    /// <summary><see cref="AdminName"/>'s API token (for the CLI: TWINGW_TOKEN or --token); set once the gateway started.</summary>
    public string? Token { get; private set; }

    /// <summary>The demo line with its controller on this gateway's PLC port.</summary>
    public string DemoYaml => File.ReadAllText(RepositoryPaths.DemoLine)
        .Replace("opc.tcp://127.0.0.1:4841", $"opc.tcp://127.0.0.1:{PlcPort}", StringComparison.Ordinal);

    /// <summary>
    /// Writes the line file, adds <see cref="AdminName"/> to the data folder (first start only), builds and starts the
    /// gateway, and opens a gRPC channel to it; returns <see cref="CallInvoker"/>, which sends the admin's token.
    /// </summary>
    public async Task<CallInvoker> StartAsync(string yaml, bool simulate = true, IDictionary<string, string?>? settings = null, Action<IServiceCollection>? configure = null)
    {
        Directory.CreateDirectory(LinesFolder);
        await File.WriteAllTextAsync(Path.Combine(LinesFolder, "line.yaml"), yaml);
        var all = new Dictionary<string, string?>
        {
            ["Gateway:LinesDirectory"] = LinesFolder,
            ["Gateway:ApiUrl"] = Server,
            ["Gateway:HealthUrl"] = $"http://127.0.0.1:{HealthPort}",
            ["Gateway:SimulateControllers"] = simulate ? "true" : "false",
            ["Gateway:ReconnectSeconds"] = "0.5",
            ["Telemetry:DataFolder"] = DataFolder,
            ["Telemetry:FlushIntervalMilliseconds"] = "50",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        Token ??= await AddUserAsync(AdminName, [.. Roles.All]);
        App = GatewayHost.Build(all, services =>
        {
            // Registered after the host's Serilog factory, so it wins: the test sees every entry with its event id.
            services.AddSingleton<ILoggerFactory>(Log);
            configure?.Invoke(services);
        });
        try
        {
            await App.StartAsync();
        }
        catch (Exception ex) when (ex is Microsoft.Extensions.Options.OptionsValidationException or GatewayConfigurationException)
        {
            // Refused before any service started: there is nothing to stop, only to dispose.
            await App.DisposeAsync();
            App = null;
            throw;
        }
        Channel = GrpcChannel.ForAddress(Server);
        CallInvoker = CallInvokerFor(Token);
        return CallInvoker;
    }

    /// <summary>
    /// Adds a user to the gateway's data folder (before or while it runs: the gateway reads the store on every call)
    /// and returns its token.
    /// </summary>
    public async Task<string> AddUserAsync(string name, params Role[] roles)
    {
        await using var store = SqliteUserStore.Open(DataFolder);
        return (await store.AddAsync(name, roles)).Token;
    }

    /// <summary>Calls on <see cref="Channel"/> that send <paramref name="token"/> as <c>authorization: Bearer</c> (none when null).</summary>
    public CallInvoker CallInvokerFor(string? token)
    {
        var channel = Channel ?? throw new InvalidOperationException("start the gateway first");
        return token is null
            ? channel.CreateCallInvoker()
            : channel.Intercept(metadata =>
            {
                metadata.Add("authorization", "Bearer " + token);
                return metadata;
            });
    }

    /// <summary>Stops the gateway (its lines, sinks and recorder, as a shutdown does); the folder stays for inspection.</summary>
    public async Task StopAsync()
    {
        Channel?.Dispose();
        Channel = null;
        CallInvoker = null;
        if (App is not null)
        {
            await App.StopAsync();
            await App.DisposeAsync();
            App = null;
        }
    }

    /// <summary>Stops the gateway, deletes its folder, then fails if it logged an error the test did not expect.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync();

        Directory.Delete(Folder, recursive: true);
        Log.Dispose();
    }
}
