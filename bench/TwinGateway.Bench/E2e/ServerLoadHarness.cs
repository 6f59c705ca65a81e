using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TwinGateway.Bench.E2e;

/// <summary>
/// <c>server-load</c> (issue 3 §5): our client subscribes to N monitored items at 100 ms on our server
/// (<c>twingw opcua serve --scale N</c>, phase A), then on node-opcua's (<c>tests/node/server.js --bench-items N</c>,
/// phase B), each server in its own process, one after the other. Reports notifications/s delivered, queue overflows and
/// gaps, and each server's CPU and resident memory. <c>--soak S</c> runs phase A alone for S seconds and reports memory
/// growth. Targets: >= 1,000,000 notifications/s, >= 10x node-opcua's server, < 400 MB resident, no growth.
/// </summary>
internal static class ServerLoadHarness
{
    public const double TargetNotificationsPerSec = 1_000_000;
    public const double TargetOverNode = 10;
    public const double TargetRssMb = 400;

    public static Task<int> RunAsync(string[] args) => HarnessRunner.RunAsync(
        "server-load",
        ServerLoadOptions.Parse(args, RepositoryPaths.BenchResults, out var error),
        error,
        async (options, cancellationToken) =>
        {
            var report = await RunPhasesAsync(options, args, cancellationToken).ConfigureAwait(false);
            var path = await HarnessReport.WriteAsync(options.OutputPath, report).ConfigureAwait(false);
            var csv = Path.ChangeExtension(path, null) + "-rss.csv";
            await File.WriteAllTextAsync(csv, SeriesCsv(report), CancellationToken.None).ConfigureAwait(false);
            if (report.Twingateway.Profile is { } profile)
            {
                var profilePath = Path.ChangeExtension(path, null) + "-profile.txt";
                await File.WriteAllTextAsync(profilePath, $"{report.Command}\n{report.Twingateway.Setup.Command}\n\n{profile}", CancellationToken.None).ConfigureAwait(false);
                Console.WriteLine($"  profile written to {profilePath}");
            }

            PrintSummary(report, path, csv);
            return 0;
        },
        ex => ex is InvalidOperationException or TimeoutException or IOException or OpcUa.Types.ServiceResultException);

    private static async Task<ServerLoadReport> RunPhasesAsync(ServerLoadOptions options, string[] args, CancellationToken cancellationToken)
    {
        var nodeItems = options.EffectiveNodeItems;
        var machine = nodeItems > 0 ? MachineFacts.Collect(withNode: true) : MachineFacts.CollectNodeIfThere();
        var twingw = await ChildCommands.TwingwAsync("server-load", options.TwingwPath, options.NoBuild, cancellationToken).ConfigureAwait(false);

        var startTimeout = TimeSpan.FromSeconds(300);
        ServerPhaseResult ours;
        Console.Error.WriteLine($"server-load: phase A: twingw opcua serve --scale {options.Items}");
        await using (var server = await ServerLoadProcess.StartTwingwAsync(twingw, options.Items, options.ServerEnvironment, startTimeout, cancellationToken).ConfigureAwait(false))
        {
            Console.Error.WriteLine($"server-load: twingw pid {server.Pid} at {server.EndpointUrl} after {server.Startup.TotalSeconds:0.0} s, RSS {ServerLoadClient.Mb(server.Stats().RssBytes)} MB");
            ours = await ServerLoadClient.RunAsync(server, options.Items, options, "twingateway", cancellationToken).ConfigureAwait(false);
        }

        PrintPhase(ours);
        ServerPhaseResult? node = null;
        string? nodeProblem = null;
        if (nodeItems > 0)
        {
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
            Console.Error.WriteLine($"server-load: phase B: node tests/node/server.js --bench-items {nodeItems}");
            var startClock = Stopwatch.StartNew();
            ServerLoadProcess? nodeServer = null;
            try
            {
                nodeServer = await ServerLoadProcess.StartNodeAsync(nodeItems, startTimeout, cancellationToken).ConfigureAwait(false);
                Console.Error.WriteLine($"server-load: server.js pid {nodeServer.Pid} at {nodeServer.EndpointUrl} ns={nodeServer.NamespaceIndex} after {nodeServer.Startup.TotalSeconds:0.0} s, RSS {ServerLoadClient.Mb(nodeServer.Stats().RssBytes)} MB");
                node = await ServerLoadClient.RunAsync(nodeServer, nodeItems, options, "node-opcua", cancellationToken).ConfigureAwait(false);
                PrintPhase(node);
            }
            catch (Exception ex) when (ex is TimeoutException or InvalidOperationException or OpcUa.Types.ServiceResultException && !cancellationToken.IsCancellationRequested)
            {
                // node-opcua not coping is a result, not a harness failure.
                nodeProblem = $"{ex.GetType().Name} after {startClock.Elapsed.TotalSeconds:0} s: {ex.Message}";
                Console.Error.WriteLine($"server-load: node-opcua phase failed: {nodeProblem}");
            }
            finally
            {
                if (nodeServer is not null)
                {
                    await nodeServer.DisposeAsync().ConfigureAwait(false);
                }
            }
        }

        return BuildReport(options, args, machine, ours, node, nodeProblem);
    }

    private static ServerLoadReport BuildReport(ServerLoadOptions options, string[] args, MachineFacts machine, ServerPhaseResult ours, ServerPhaseResult? node, string? nodeProblem)
    {
        var o = ours.Window;
        var n = node?.Window;
        double? overNode = o is not null && n is { Client.NotificationsPerSec: > 0 } ? Math.Round(o.Client.NotificationsPerSec / n.Client.NotificationsPerSec, 2) : null;
        double? cpuRatio = o?.Server.CpuNsPerNotification is > 0 && n?.Server.CpuNsPerNotification is { } nodeNs
            ? Math.Round(nodeNs / o.Server.CpuNsPerNotification.Value, 2)
            : null;
        var rss = o?.Server.RssPeakMb ?? o?.Server.RssMaxSampledMb;
        var growth = options.IsSoak && o is not null ? Growth(o.Series) : null;

        var targets = new List<TargetCheck>
        {
            new("notificationsPerSec", ">=", TargetNotificationsPerSec, o?.Client.NotificationsPerSec, o is not null && o.Client.NotificationsPerSec >= TargetNotificationsPerSec),
            new("noQueueOverflow (overflows + gaps)", "==", 0, o is null ? null : o.Client.Overflows + o.Client.Gaps, o is not null && o.Client.Overflows + o.Client.Gaps == 0),
            new("rssPeakMb (VmHWM)", "<", TargetRssMb, rss, rss is not null && rss < TargetRssMb),
        };
        if (options.EffectiveNodeItems > 0)
        {
            targets.Insert(1, new("oursOverNodeNotificationsPerSec", ">=", TargetOverNode, overNode, overNode >= TargetOverNode));
        }

        if (options.IsSoak)
        {
            targets.Add(new("rssGrowthMb (last minute - first minute)", "<=", 10, growth?.GrowthMb, growth is not null && growth.GrowthMb <= 10));
        }

        return new ServerLoadReport
        {
            Benchmark = options.IsSoak ? "e2e-server-soak" : "e2e-server",
            TimestampUtc = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            Command = "dotnet run -c Release --project bench/TwinGateway.Bench -- server-load " + string.Join(' ', args),
            Machine = machine,
            Settings = new ServerLoadSettings(options.Items, options.IsSoak ? null : options.EffectiveNodeItems, options.Interval.TotalMilliseconds,
                options.Window.TotalSeconds, options.Warmup.TotalSeconds, options.EffectiveSampleEvery.TotalSeconds,
                Math.Round(options.Items * 1000 / options.Interval.TotalMilliseconds), 1, 0, 10, "Both",
                "one process each: twingw (its runtime settings as built: twingateway.setup.runtime), node server.js, and this harness with our client; they share the machine's cores with whatever else runs (otherProcessesCores)"),
            Twingateway = ours,
            NodeOpcua = node,
            NodeOpcuaProblem = nodeProblem,
            Ratio = new ServerLoadRatio(overNode, o?.Server.CpuNsPerNotification, n?.Server.CpuNsPerNotification, cpuRatio),
            Growth = growth,
            Saturation = Saturation(o, "twingateway") + (n is null ? "" : "; " + Saturation(n, "node-opcua")),
            Targets = targets,
        };
    }

    /// <summary>Soak growth: average RSS of the window's last minute minus its first minute, and the least-squares slope.</summary>
    private static GrowthFigures? Growth(IReadOnlyList<WindowSample> series)
    {
        var points = series.Where(s => s.ServerRssMb is not null).Select(s => (s.T, Rss: s.ServerRssMb!.Value)).ToList();
        if (points.Count < 4)
        {
            return null;
        }

        var end = points[^1].T;
        var first = points.Where(p => p.T <= 60).Select(p => p.Rss).DefaultIfEmpty(points[0].Rss).Average();
        var last = points.Where(p => p.T >= end - 60).Select(p => p.Rss).Average();
        var meanT = points.Average(p => p.T);
        var meanR = points.Average(p => p.Rss);
        var slope = points.Sum(p => (p.T - meanT) * (p.Rss - meanR)) / Math.Max(1e-9, points.Sum(p => (p.T - meanT) * (p.T - meanT)));
        return new GrowthFigures(Math.Round(first, 1), Math.Round(last, 1), Math.Round(last - first, 1), Math.Round(slope * 60, 3),
            points.Min(p => p.Rss), points.Max(p => p.Rss), points.Count);
    }

    /// <summary>Which process used the CPU: a share near 1.0 core on a single-threaded server, or the machine near 100 %, is the limit.</summary>
    private static string Saturation(PhaseWindow? w, string name)
    {
        if (w is null)
        {
            return $"{name}: not measured";
        }

        var cores = Environment.ProcessorCount;
        var busiest = w.Server.ThreadCpu.Busiest.FirstOrDefault();
        return string.Create(CultureInfo.InvariantCulture,
            $"{name}: machine {w.MachineBusy * 100:0}% busy of {cores} cores (steal {w.MachineSteal * 100:0}%, other processes {w.OtherProcessesCores:0.00} cores, load {w.LoadAverage1mAtStart}..{w.LoadAverage1m}), server {w.Server.CoresUsed:0.00} cores " +
            $"(busiest thread {busiest?.Name} {busiest?.Cores:0.00}), client {w.Client.CoresUsed:0.00} cores; " +
            $"delivered {w.Client.DeliveredShare * 100:0.0}% of {w.Client.ExpectedPerSec:N0}/s");
    }

    private static void PrintPhase(ServerPhaseResult phase)
    {
        if (phase.Window is not { } w)
        {
            Console.Error.WriteLine($"server-load: {phase.Setup.Server}: no window ({phase.Setup.CreateProblem})");
            return;
        }

        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"server-load: {phase.Setup.Server}: {w.Client.NotificationsPerSec:N0} notifications/s ({w.Client.DeliveredShare * 100:0.0}% of expected), " +
            $"server {w.Server.CoresUsed:0.00} cores, {w.Server.CpuNsPerNotification} ns/notification, RSS {w.Server.RssStartMb}->{w.Server.RssEndMb} MB (peak {w.Server.RssPeakMb}), " +
            $"client {w.Client.CoresUsed:0.00} cores; overflows {w.Client.Overflows}, gaps {w.Client.Gaps}, skipped {w.Client.SkippedUpdates} ({w.Client.SkippedAcrossSamples} across a lost sample); other processes {w.OtherProcessesCores:0.00} cores; " +
            $"{w.Client.DataMessages} data messages, {w.Client.DataMessagesAfterLongGap} published > 1.5 intervals after the previous (longest {w.Client.LongestPublishGapMs} ms); " +
            $"staleness ms {string.Join(' ', w.Client.StalenessPercent.Select(b => $"{b.RangeMs}:{b.Percent}%"))}"));
    }

    private static string SeriesCsv(ServerLoadReport report)
    {
        var csv = new StringBuilder("server,t_s,notifications_per_s,server_cores,client_cores,server_rss_mb,server_threads,client_working_set_mb\n");
        foreach (var phase in new[] { report.Twingateway, report.NodeOpcua })
        {
            foreach (var s in phase?.Window?.Series ?? [])
            {
                csv.Append(CultureInfo.InvariantCulture,
                    $"{phase!.Setup.Server},{s.T},{s.NotificationsPerSec},{s.ServerCores},{s.ClientCores},{s.ServerRssMb},{s.ServerThreads},{s.ClientWorkingSetMb}\n");
            }
        }

        return csv.ToString();
    }

    private static void PrintSummary(ServerLoadReport report, string path, string csv)
    {
        var s = report.Settings;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"server-load: {s.Items} items every {s.IntervalMs} ms (expect {s.ExpectedNotificationsPerSec:N0}/s), {s.WarmupS} s warm-up, {s.WindowS} s window; " +
            $"{report.Machine.Cores} cores, {report.Machine.Cpu}"));
        Console.WriteLine($"  {"server",-12} {"items",8} {"create s",9} {"notif/s",11} {"deliv.",7} {"ovfl",5} {"gaps",5} {"skipped",9} {"srv cores",9} {"srv ns/notif",12} {"RSS start/end/peak MB",22} {"cli cores",9} {"busy",5} {"others",6}");
        foreach (var phase in new[] { report.Twingateway, report.NodeOpcua })
        {
            if (phase is null)
            {
                continue;
            }

            var w = phase.Window;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {phase.Setup.Server,-12} {phase.Setup.ItemsCreated,8} {phase.Setup.CreateS,9:0.0} {w?.Client.NotificationsPerSec,11:N0} {w?.Client.DeliveredShare * 100,6:0.0}% {w?.Client.Overflows,5} {w?.Client.Gaps,5} {w?.Client.SkippedUpdates,9} " +
                $"{w?.Server.CoresUsed,9:0.00} {w?.Server.CpuNsPerNotification,12:N0} {$"{w?.Server.RssStartMb}/{w?.Server.RssEndMb}/{w?.Server.RssPeakMb}",22} {w?.Client.CoresUsed,9:0.00} {w?.MachineBusy * 100,4:0}% {w?.OtherProcessesCores,6:0.00}"));
        }

        if (report.NodeOpcuaProblem is not null)
        {
            Console.WriteLine($"  node-opcua: {report.NodeOpcuaProblem}");
        }

        if (report.Growth is { } g)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  RSS growth: first minute {g.FirstMinuteMb} MB, last minute {g.LastMinuteMb} MB: {g.GrowthMb:+0.0;-0.0;0} MB; slope {g.SlopeMbPerMinute} MB/min; range {g.MinMb}..{g.MaxMb} MB over {g.Samples} samples"));
        }

        Console.WriteLine($"  ratio ours/node-opcua notifications/s: {report.Ratio.OursOverNodeNotificationsPerSec}x; server CPU ns/notification ours {report.Ratio.OurServerCpuNsPerNotification}, node-opcua {report.Ratio.NodeServerCpuNsPerNotification} ({report.Ratio.NodeOverOursCpuPerNotification}x)");
        Console.WriteLine($"  saturation: {report.Saturation}");
        foreach (var t in report.Targets)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  target {t.Name} {t.Comparison} {t.Target}: {t.Value?.ToString(CultureInfo.InvariantCulture) ?? "n/a"} {(t.Met ? "met" : "NOT met")}"));
        }

        Console.WriteLine($"  written to {path} and {csv}");
    }
}

internal sealed record ServerLoadReport
{
    public required string Benchmark { get; init; }

    public required string TimestampUtc { get; init; }

    public required string Command { get; init; }

    public required MachineFacts Machine { get; init; }

    public required ServerLoadSettings Settings { get; init; }

    public required ServerPhaseResult Twingateway { get; init; }

    public ServerPhaseResult? NodeOpcua { get; init; }

    /// <summary>Why phase B has no result (node-opcua could not start or create the items in time).</summary>
    public string? NodeOpcuaProblem { get; init; }

    public required ServerLoadRatio Ratio { get; init; }

    public GrowthFigures? Growth { get; init; }

    public required string Saturation { get; init; }

    public required IReadOnlyList<TargetCheck> Targets { get; init; }
}

internal sealed record ServerLoadSettings(
    int Items,
    int? NodeItems,
    double IntervalMs,
    double WindowS,
    double WarmupS,
    double SampleEveryS,
    double ExpectedNotificationsPerSec,
    uint QueueSize,
    uint MaxNotificationsPerPublish,
    uint KeepAliveCount,
    string TimestampsToReturn,
    string Processes);

internal sealed record ServerLoadRatio(
    double? OursOverNodeNotificationsPerSec,
    double? OurServerCpuNsPerNotification,
    double? NodeServerCpuNsPerNotification,
    double? NodeOverOursCpuPerNotification);

internal sealed record GrowthFigures(double FirstMinuteMb, double LastMinuteMb, double GrowthMb, double SlopeMbPerMinute, double MinMb, double MaxMb, int Samples);

internal sealed record TargetCheck(string Name, string Comparison, double Target, double? Value, bool Met);
