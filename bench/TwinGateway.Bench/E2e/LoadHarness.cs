using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TwinGateway.Bench.E2e;

/// <summary>
/// The end-to-end load harness: one node-opcua server (tests/node/server.js --bench-items N), first our client in this
/// process, then node-opcua's client (tests/node/client-bench.js), each for the same warm-up and window, one after the
/// other so they never compete for the CPU. The figure compared is each client process's CPU time per delivered
/// value; the server's CPU is part of neither. Issue 2's target: node-opcua's CPU per notification at least 3x ours.
/// </summary>
internal static class LoadHarness
{
    public const double TargetRatio = 3.0;

    public static Task<int> RunAsync(string[] args) => HarnessRunner.RunAsync(
        "e2e",
        E2eOptions.Parse(args, Path.Combine(RepositoryPaths.BenchResults, "e2e-client.json"), out var error),
        error,
        async (options, cancellationToken) =>
        {
            var report = await RunPhasesAsync(options, cancellationToken).ConfigureAwait(false);
            var path = await HarnessReport.WriteAsync(options.OutputPath, report).ConfigureAwait(false);
            PrintSummary(report, path);
            return 0;
        },
        ex => ex is InvalidOperationException or TimeoutException or IOException or OpcUa.Types.ServiceResultException);

    private static async Task<E2eReport> RunPhasesAsync(E2eOptions options, CancellationToken cancellationToken)
    {
        var machine = MachineFacts.Collect(withNode: true);
        Console.Error.WriteLine($"e2e: starting server.js with {options.Items} bench items");
        await using var server = await BenchServer.StartAsync(options.Items, TimeSpan.FromSeconds(90), "twingateway-bench-", cancellationToken).ConfigureAwait(false);
        Console.Error.WriteLine($"e2e: server at {server.EndpointUrl}, ns={server.NamespaceIndex}");

        Console.Error.WriteLine("e2e: phase 1: twingateway client");
        var ours = await OurClientLoad.RunAsync(server, options, cancellationToken).ConfigureAwait(false);
        Console.Error.WriteLine($"e2e: twingateway: {ours.NotificationsPerSec} notifications/s, {ours.CpuNsPerNotification} CPU ns/notification");

        // Let the server drop the first session before the second client starts.
        await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
        EnsureRunning(server);

        Console.Error.WriteLine("e2e: phase 2: node-opcua client (tests/node/client-bench.js)");
        var (node, raw) = await NodeClientLoad.RunAsync(server, options, cancellationToken).ConfigureAwait(false);
        Console.Error.WriteLine($"e2e: node-opcua: {node.NotificationsPerSec} notifications/s, {node.CpuNsPerNotification} CPU ns/notification");
        EnsureRunning(server);

        double? ratio = ours.CpuNsPerNotification is > 0 && node.CpuNsPerNotification is { } n
            ? Math.Round(n / ours.CpuNsPerNotification.Value, 2)
            : null;
        return new E2eReport
        {
            TimestampUtc = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            Command = "dotnet run -c Release --project bench/TwinGateway.Bench -- e2e " +
                string.Join(' ', "--items", options.Items, "--interval", options.Interval.TotalMilliseconds, "--duration", options.Duration.TotalSeconds, "--warmup", options.Warmup.TotalSeconds),
            Machine = machine,
            Settings = new E2eSettings(options.Items, options.Interval.TotalMilliseconds, options.Duration.TotalSeconds, options.Warmup.TotalSeconds,
                options.Interval > TimeSpan.Zero ? Math.Round(options.Items * 1000 / options.Interval.TotalMilliseconds) : null),
            Server = new E2eServer("tests/node/server.js", server.EndpointUrl, server.NamespaceIndex),
            Twingateway = ours,
            NodeOpcua = node,
            NodeOpcuaRaw = raw,
            Ratio = new E2eRatio(ratio, TargetRatio, ratio >= TargetRatio),
        };
    }

    private static void EnsureRunning(BenchServer server)
    {
        if (server.HasExited)
        {
            throw new InvalidOperationException($"server.js exited during the run:\n{server.LogTail}");
        }
    }

    private static void PrintSummary(E2eReport report, string path)
    {
        var s = report.Settings;
        Console.WriteLine($"e2e: {s.Items} items every {s.IntervalMs} ms (expect {s.ExpectedNotificationsPerSec} notifications/s), " +
            $"{s.WarmupS} s warm-up, {s.DurationS} s window; {report.Machine.Cores} cores, {report.Machine.Os}");
        Console.WriteLine($"  {"client",-12} {"notif/s",12} {"CPU ms",10} {"CPU ns/notif",14} {"cores",7} {"server CPU ms",14} {"load",7}");
        foreach (var r in new[] { report.Twingateway, report.NodeOpcua })
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {r.Client,-12} {r.NotificationsPerSec,12:N0} {r.CpuMs,10:N0} {r.CpuNsPerNotification,14:N0} {r.CoresUsed,7:N2} {r.ServerCpuMs,14:N0} {r.LoadAverage1m,7:N1}"));
        }

        var ours = report.Twingateway;
        Console.WriteLine($"  twingateway: {ours.Gc?.AllocatedBytesPerNotification} B allocated/notification, GC {ours.Gc?.Gen0}/{ours.Gc?.Gen1}/{ours.Gc?.Gen2} (gen0/1/2), " +
            $"gaps {ours.Gaps}, overflows {ours.Overflows}, reconnects {ours.Reconnects}");
        Console.WriteLine($"  ratio node-opcua/twingateway CPU per notification: {report.Ratio.NodeOverOurs}x (target >= {report.Ratio.Target}x: {(report.Ratio.Met ? "met" : "NOT met")})");
        Console.WriteLine($"  written to {path}");
    }
}

internal sealed record E2eReport
{
    public string Benchmark => "e2e-client";

    public required string TimestampUtc { get; init; }

    public required string Command { get; init; }

    public required MachineFacts Machine { get; init; }

    public required E2eSettings Settings { get; init; }

    public required E2eServer Server { get; init; }

    public required ClientLoadResult Twingateway { get; init; }

    public required ClientLoadResult NodeOpcua { get; init; }

    /// <summary>The line client-bench.js printed, as it printed it.</summary>
    public required JsonElement NodeOpcuaRaw { get; init; }

    public required E2eRatio Ratio { get; init; }
}

internal sealed record E2eSettings(int Items, double IntervalMs, double DurationS, double WarmupS, double? ExpectedNotificationsPerSec);

internal sealed record E2eServer(string Script, string EndpointUrl, int NamespaceIndex)
{
    public string CpuNote => "the server's CPU is part of neither client's figure; serverCpuMs in each client's result is the server over that client's window";
}

/// <summary>node-opcua's CPU per notification divided by ours.</summary>
internal sealed record E2eRatio(double? NodeOverOurs, double Target, bool Met);
