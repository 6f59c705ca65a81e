using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.AspNetCore.Builder;
using TwinGateway.Gateway;
using TwinGateway.Host.Gateway;

namespace TwinGateway.Testing;

/// <summary>
/// One gateway service in the test process with its own folder (line files in <c>lines/</c>, the flight recorder in
/// <c>data/</c>) and free loopback ports for its API and the line's simulated PLC. Everything it logs lands in
/// <see cref="Log"/> (instead of the console), which fails the test at dispose when the gateway logged an error the test
/// did not declare with <see cref="TestLog.Expect(int)"/>.
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

    public GrpcChannel? Channel { get; private set; }

    /// <summary>The demo line with its controller on this gateway's PLC port.</summary>
    public string DemoYaml => File.ReadAllText(RepositoryPaths.DemoLine)
        .Replace("opc.tcp://127.0.0.1:4841", $"opc.tcp://127.0.0.1:{PlcPort}", StringComparison.Ordinal);

    /// <summary>Writes the line file, builds and starts the gateway, and opens a gRPC channel to it.</summary>
    public async Task<GrpcChannel> StartAsync(string yaml, bool simulate = true, IDictionary<string, string?>? settings = null, Action<IServiceCollection>? configure = null)
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
        return Channel;
    }

    /// <summary>Stops the gateway (its lines, sinks and recorder, as a shutdown does); the folder stays for inspection.</summary>
    public async Task StopAsync()
    {
        Channel?.Dispose();
        Channel = null;
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
