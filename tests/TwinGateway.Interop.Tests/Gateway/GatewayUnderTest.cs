using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using TwinGateway.Host.Gateway;
using TwinGateway.Interop.Tests.Fixtures;

namespace TwinGateway.Interop.Tests.Gateway;

/// <summary>
/// One gateway service in the test process with its own folder (line files in <c>lines/</c>, the flight recorder in
/// <c>data/</c>) and free loopback ports for its API and the line's simulated PLC.
/// </summary>
internal sealed class GatewayUnderTest : IAsyncDisposable
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("twingw-gateway-").FullName;

    public int ApiPort { get; } = FreePort.Next();

    public int PlcPort { get; } = FreePort.Next();

    public string Server => $"http://127.0.0.1:{ApiPort}";

    public string LinesFolder => Path.Combine(Folder, "lines");

    public string DataFolder => Path.Combine(Folder, "data");

    public WebApplication? App { get; private set; }

    public GrpcChannel? Channel { get; private set; }

    /// <summary>The demo line with its controller on this gateway's PLC port.</summary>
    public string DemoYaml => File.ReadAllText(Path.Combine(NodeEnvironment.RepoRoot, "config", "lines", "demo-line.yaml"))
        .Replace("opc.tcp://127.0.0.1:4841", $"opc.tcp://127.0.0.1:{PlcPort}", StringComparison.Ordinal);

    /// <summary>Writes the line file, builds and starts the gateway, and opens a gRPC channel to it.</summary>
    public async Task<GrpcChannel> StartAsync(string yaml, bool simulate = true, IDictionary<string, string?>? settings = null)
    {
        Directory.CreateDirectory(LinesFolder);
        await File.WriteAllTextAsync(Path.Combine(LinesFolder, "line.yaml"), yaml);
        var all = new Dictionary<string, string?>
        {
            ["Gateway:LinesDirectory"] = LinesFolder,
            ["Gateway:ApiUrl"] = Server,
            ["Gateway:SimulateControllers"] = simulate ? "true" : "false",
            ["Gateway:ReconnectSeconds"] = "0.5",
            ["Telemetry:DataFolder"] = DataFolder,
            ["Telemetry:FlushIntervalMilliseconds"] = "50",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        App = GatewayHost.Build(all);
        try
        {
            await App.StartAsync();
        }
        catch (Microsoft.Extensions.Options.OptionsValidationException)
        {
            // Refused before any service started: there is nothing to stop, only to dispose.
            await App.DisposeAsync();
            App = null;
            throw;
        }
        Channel = GrpcChannel.ForAddress(Server);
        return Channel;
    }

    public async ValueTask DisposeAsync()
    {
        Channel?.Dispose();
        if (App is not null)
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }

        Directory.Delete(Folder, recursive: true);
    }
}
