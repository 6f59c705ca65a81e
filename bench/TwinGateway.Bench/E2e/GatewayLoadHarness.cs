using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace TwinGateway.Bench.E2e;

/// <summary>
/// <c>gateway-load</c> (issue 4 §6): the gateway (<c>twingw run --no-simulation</c>, its own process) shadowing N copies
/// of the demo line, each against its own simulated PLC process (<c>twingw plc-sim</c>), every signal sampled at 100 ms.
/// After a warm-up it measures, over a window, the gateway process's CPU time (as a share of one core and of the whole
/// machine), its resident memory (now, sampled range, peak), its threads' CPU by name, and for context the PLC
/// processes' CPU and the machine's; before and after, it checks through <c>twingw lines show --json</c> that every line
/// is connected and its values flow. Target: the gateway under 20% CPU with 10 lines on the 2-core machine.
/// </summary>
internal static partial class GatewayLoadHarness
{
    public const double TargetCpuPercent = 20;

    /// <summary>Simulated PLC seeds start at the gateway's own default (Gateway:SimulatorSeed = 7), one per line.</summary>
    private const ulong FirstPlcSeed = 7;

    public static Task<int> RunAsync(string[] args) => HarnessRunner.RunAsync(
        "gateway-load",
        GatewayLoadOptions.Parse(args, Path.Combine(RepositoryPaths.BenchResults, "e2e-gateway.json"), out var error),
        error,
        async (options, cancellationToken) =>
        {
            var (report, profile) = await RunCoreAsync(options, args, cancellationToken).ConfigureAwait(false);
            var path = await HarnessReport.WriteAsync(options.OutputPath, report).ConfigureAwait(false);
            if (profile is not null)
            {
                var profilePath = Path.ChangeExtension(path, null) + "-profile.txt";
                await File.WriteAllTextAsync(profilePath, $"{report.Command}\n{report.Settings.GatewayCommand}\n\n{profile}", CancellationToken.None).ConfigureAwait(false);
                Console.WriteLine($"  profile written to {profilePath}");
            }

            PrintSummary(report, path);
            return report.Flow.Ok ? 0 : 1;
        },
        ex => ex is InvalidOperationException or TimeoutException or IOException or JsonException or ChildExitedException);

    private static async Task<(GatewayLoadReport Report, string? Profile)> RunCoreAsync(GatewayLoadOptions options, string[] args, CancellationToken cancellationToken)
    {
        var machine = MachineFacts.Collect(withNode: false);
        var twingw = await ChildCommands.TwingwAsync("gateway-load", options.TwingwPath, options.NoBuild, cancellationToken).ConfigureAwait(false);
        var template = await File.ReadAllTextAsync(options.LineFile, cancellationToken).ConfigureAwait(false);
        var baseId = LineIdLine().Match(template) is { Success: true } id ? id.Groups[2].Value : throw new InvalidOperationException($"{options.LineFile} has no top-level 'id:'");
        if (EndpointLine().Matches(template).Count != 1)
        {
            throw new InvalidOperationException($"{options.LineFile} must have exactly one controller endpointUrl (each copy gets its own simulated PLC)");
        }

        var temp = Directory.CreateTempSubdirectory("twingateway-gateway-load-").FullName;
        var linesDirectory = Directory.CreateDirectory(Path.Combine(temp, "lines")).FullName;
        var plcs = new List<ChildProcess>();
        ChildProcess? gateway = null;
        try
        {
            // 1. One simulated PLC process per line, each on its own free loopback port, started one after the other.
            var clock = Stopwatch.StartNew();
            var lineIds = new List<string>();
            for (var i = 1; i <= options.Lines; i++)
            {
                var lineId = string.Create(CultureInfo.InvariantCulture, $"{baseId}-{i:D2}");
                lineIds.Add(lineId);
                plcs.Add(await StartPlcAsync(twingw, template, lineId, Path.Combine(linesDirectory, lineId + ".yaml"), FirstPlcSeed + (ulong)(i - 1), cancellationToken).ConfigureAwait(false));
                Console.Error.WriteLine($"gateway-load: PLC {i}/{options.Lines} ({lineId}) pid {plcs[^1].Pid}");
            }

            var plcsStarted = clock.Elapsed;

            // 2. The gateway, on the folder of line files, with no simulation of its own.
            var windowLog = new WindowLog();
            string apiUrl;
            // Its own data folder with a viewer whose token the `twingw lines` calls below send (every API call needs one).
            var dataFolder = Path.Combine(temp, "data");
            var token = await AddViewerAsync(twingw, dataFolder, cancellationToken).ConfigureAwait(false);
            (gateway, apiUrl) = await StartGatewayAsync(twingw, linesDirectory, dataFolder, options.GatewayEnvironment, windowLog, cancellationToken).ConfigureAwait(false);
            var gatewayStart = clock.Elapsed;
            Console.Error.WriteLine($"gateway-load: gateway pid {gateway.Pid}, gRPC at {apiUrl}; waiting for {options.Lines} lines to connect");

            // 3. Every line connected (polled through the CLI), then a first look at every line's values.
            var signalsPerLine = await WaitConnectedAsync(twingw, apiUrl, token, gateway, lineIds, options.ConnectTimeout, cancellationToken).ConfigureAwait(false);
            var connected = clock.Elapsed;
            Console.Error.WriteLine($"gateway-load: all lines connected {(connected - gatewayStart).TotalSeconds:0.0} s after the gateway started");
            var before = await ShowAllAsync(twingw, apiUrl, token, lineIds, cancellationToken).ConfigureAwait(false);

            // 4. Warm-up, then the window. Nothing runs the CLI inside the window: the gateway only shadows.
            Console.Error.WriteLine($"gateway-load: warm-up {options.Warmup.TotalSeconds:0} s, then a {options.Duration.TotalSeconds:0} s window");
            await Task.Delay(options.Warmup, cancellationToken).ConfigureAwait(false);
            EnsureRunning(gateway, plcs);
            var window = await MeasureAsync(gateway, plcs, options, windowLog, cancellationToken).ConfigureAwait(false);

            // 5. Values still flowing, every line: connected, every signal Good with a real value, values changing.
            var after = await ShowAllAsync(twingw, apiUrl, token, lineIds, cancellationToken).ConfigureAwait(false);
            var flow = Flow(lineIds, before, after, signalsPerLine);

            string? profile = null;
            if (options.Profile is { } profileDuration)
            {
                Console.Error.WriteLine($"gateway-load: profiling the gateway for {profileDuration.TotalSeconds:0} s (CPU samples, then a heap snapshot)");
                profile = $"gateway pid {gateway.Pid}, {options.Lines} lines, taken after the window with the load still running\n\n" +
                    await ServerLoadProfiler.ProfileAsync(gateway.Pid, profileDuration, temp, cancellationToken).ConfigureAwait(false);
            }

            var startup = new GatewayLoadStartup(Math.Round(plcsStarted.TotalSeconds, 1), Math.Round((connected - gatewayStart).TotalSeconds, 1));
            var report = BuildReport(options, args, machine, twingw, gateway, plcs, signalsPerLine, startup, window, flow);
            if (!flow.Ok)
            {
                // What the gateway and the PLCs of the lines that failed said, for the diagnosis.
                var failed = flow.Lines.Where(l => !l.Ok).Select(l => lineIds.IndexOf(l.Id)).Where(i => i >= 0).ToList();
                report = report with
                {
                    Diagnostics = new GatewayLoadDiagnostics(
                        [.. before.Where(kv => failed.Contains(lineIds.IndexOf(kv.Key))).Select(kv => $"{kv.Key} before the warm-up: {kv.Value.Signals.Values.Count(v => v.Real is not null)} of {kv.Value.Signals.Count} signals with a real value, statuses {string.Join(", ", kv.Value.Signals.Values.GroupBy(v => v.Status).Select(g => $"{g.Key} {g.Count()}"))}")],
                        gateway.LogTail.Split('\n'),
                        failed.ToDictionary(i => lineIds[i], i => plcs[i].LogTail.Split('\n'), StringComparer.Ordinal)),
                };
            }

            return (report, profile);
        }
        finally
        {
            if (gateway is not null)
            {
                await gateway.DisposeAsync().ConfigureAwait(false);
            }

            await Task.WhenAll(plcs.Select(p => p.DisposeAsync().AsTask())).ConfigureAwait(false);
            try
            {
                Directory.Delete(temp, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
            }
        }
    }

    /// <summary>
    /// <c>dotnet TWINGW ARGS</c> in the repository root, measured as twingw ships (inherited DOTNET_GC* removed), ready
    /// at the first line that matches <paramref name="readyLine"/>.
    /// </summary>
    private static ChildProcess StartChild(string name, string twingwDll, IReadOnlyList<string> arguments, IReadOnlyList<KeyValuePair<string, string>> environment,
        Regex readyLine, Action<string>? onLine = null) =>
        ChildProcess.Start(name, ChildCommands.TwingwCommandLine(twingwDll, arguments, environment), ChildCommands.Twingw(twingwDll, arguments, environment),
            readyLine.IsMatch, onLine);

    /// <summary>Writes the line's copy with a fresh port and starts its PLC; a port taken in between is retried with another.</summary>
    private static async Task<ChildProcess> StartPlcAsync(string twingw, string template, string lineId, string file, ulong seed, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort.Next();
            var text = LineIdLine().Replace(template, m => m.Groups[1].Value + lineId, 1);
            text = EndpointLine().Replace(text, m => m.Groups[1].Value + string.Create(CultureInfo.InvariantCulture, $"opc.tcp://127.0.0.1:{port}"), 1);
            await File.WriteAllTextAsync(file, text, cancellationToken).ConfigureAwait(false);
            var plc = StartChild($"plc-sim {lineId}", twingw,
                ["plc-sim", "--line", file, "--port", port.ToString(CultureInfo.InvariantCulture), "--seed", seed.ToString(CultureInfo.InvariantCulture)], [], PlcReadyLine());
            try
            {
                await plc.WaitReadyAsync(TimeSpan.FromSeconds(120), cancellationToken).ConfigureAwait(false);
                return plc;
            }
            catch (ChildExitedException) when (attempt < 3)
            {
                await plc.DisposeAsync().ConfigureAwait(false);
            }
            catch
            {
                await plc.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary><c>twingw users add</c> on the gateway's data folder; returns the token.</summary>
    private static async Task<string> AddViewerAsync(string twingw, string dataFolder, CancellationToken cancellationToken)
    {
        var (exit, stdout, stderr) = await ChildCommands.RunTwingwAsync(twingw, ["users", "add", "gateway-load", "--role", "viewer", "--data", dataFolder, "--json"], TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
        if (exit != 0)
        {
            throw new InvalidOperationException($"twingw users add failed (exit {exit}): {stderr}");
        }

        using var json = JsonDocument.Parse(stdout);
        return json.RootElement.GetProperty("token").GetString() ?? throw new InvalidOperationException($"twingw users add printed no token: {stdout}");
    }

    private static async Task<(ChildProcess Gateway, string ApiUrl)> StartGatewayAsync(string twingw, string linesDirectory, string dataFolder,
        IReadOnlyList<KeyValuePair<string, string>> environment, WindowLog windowLog, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var apiUrl = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{FreePort.Next()}");
            var gateway = StartChild("gateway", twingw, ["run", "--lines", linesDirectory, "--data", dataFolder, "--api", apiUrl, "--no-simulation"], environment,
                GatewayReadyLine(), windowLog.Add);
            try
            {
                await gateway.WaitReadyAsync(TimeSpan.FromSeconds(120), cancellationToken).ConfigureAwait(false);
                return (gateway, apiUrl);
            }
            catch (ChildExitedException) when (attempt < 3)
            {
                // The API port was taken between our probe and the gateway's bind.
                await gateway.DisposeAsync().ConfigureAwait(false);
            }
            catch
            {
                await gateway.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary>Polls <c>twingw lines list --json</c> until every line is connected; returns each line's signal count.</summary>
    private static async Task<Dictionary<string, int>> WaitConnectedAsync(string twingw, string apiUrl, string token, ChildProcess gateway, List<string> lineIds, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var last = "";
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (gateway.HasExited)
            {
                throw new InvalidOperationException($"the gateway exited while lines were connecting:\n{gateway.LogTail}");
            }

            var (exit, stdout, stderr) = await ChildCommands.RunTwingwAsync(twingw, ["lines", "list", "--server", apiUrl, "--token", token, "--json"], TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
            if (exit == 0)
            {
                var states = new Dictionary<string, (string State, int Signals)>(StringComparer.Ordinal);
                foreach (var line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    using var json = JsonDocument.Parse(line);
                    var root = json.RootElement;
                    states[root.GetProperty("id").GetString()!] = (root.GetProperty("state").GetString()!, root.GetProperty("signals").GetInt32());
                }

                if (lineIds.All(id => states.TryGetValue(id, out var s) && s.State == "connected"))
                {
                    return lineIds.ToDictionary(id => id, id => states[id].Signals, StringComparer.Ordinal);
                }

                last = string.Join(", ", states.GroupBy(s => s.Value.State).Select(g => $"{g.Count()} {g.Key}"));
            }
            else
            {
                last = $"twingw lines list exited {exit}: {stderr.Trim()}";
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"not every line connected within {timeout.TotalSeconds:0} s ({last}):\n{gateway.LogTail}");
            }

            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<Dictionary<string, LineShow>> ShowAllAsync(string twingw, string apiUrl, string token, List<string> lineIds, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, LineShow>(StringComparer.Ordinal);
        foreach (var id in lineIds)
        {
            var (exit, stdout, stderr) = await ChildCommands.RunTwingwAsync(twingw, ["lines", "show", id, "--server", apiUrl, "--token", token, "--json"], TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
            var queried = DateTime.UtcNow;
            if (exit != 0)
            {
                throw new InvalidOperationException($"twingw lines show {id} exited {exit}: {stderr.Trim()}");
            }

            result[id] = LineShow.Parse(stdout, queried);
        }

        return result;
    }

    private static async Task<GatewayLoadWindow> MeasureAsync(ChildProcess gateway, List<ChildProcess> plcs, GatewayLoadOptions options, WindowLog windowLog, CancellationToken cancellationToken)
    {
        var cores = Environment.ProcessorCount;
        var loadStart = MachineFacts.LoadAverage1m();
        var series = new List<GatewayLoadPoint>();
        var harness = Process.GetCurrentProcess();
        windowLog.Open();
        var machineStart = MachineCpu.Read();
        var everyoneStart = GatewayProcSample.AllProcesses();
        var harnessStart = harness.TotalProcessorTime;
        var plcStart = plcs.Select(p => GatewayProcSample.Read(p.Pid)).ToArray();
        var threadsStart = GatewayProcSample.Threads(gateway.Pid);
        var start = GatewayProcSample.Read(gateway.Pid);
        var clock = Stopwatch.StartNew();
        var previous = (Sample: start, At: TimeSpan.Zero);
        while (clock.Elapsed < options.Duration)
        {
            var wait = options.Duration - clock.Elapsed;
            await Task.Delay(wait < options.SampleEvery ? wait : options.SampleEvery, cancellationToken).ConfigureAwait(false);
            var now = GatewayProcSample.Read(gateway.Pid);
            var at = clock.Elapsed;
            series.Add(new GatewayLoadPoint(Math.Round(at.TotalSeconds, 1), Mb(now.RssBytes), Percent(now.Cpu - previous.Sample.Cpu, at - previous.At)));
            previous = (now, at);
            EnsureRunning(gateway, plcs);
        }

        var end = GatewayProcSample.Read(gateway.Pid);
        var elapsed = clock.Elapsed;
        var threadsEnd = GatewayProcSample.Threads(gateway.Pid);
        var plcEnd = plcs.Select(p => GatewayProcSample.Read(p.Pid)).ToArray();
        harness.Refresh();
        var harnessCpu = harness.TotalProcessorTime - harnessStart;
        var everyoneEnd = GatewayProcSample.AllProcesses();
        var machineEnd = MachineCpu.Read();
        windowLog.Close();
        var loadEnd = MachineFacts.LoadAverage1m();

        var seconds = elapsed.TotalSeconds;
        var gatewayCpu = end.Cpu - start.Cpu;
        var rssSamples = series.Select(p => p.RssMb).OfType<double>().Append(Mb(start.RssBytes) ?? 0).Where(v => v > 0).ToList();
        var gatewayFigures = new GatewayLoadProcessFigures(
            gateway.Pid,
            Math.Round(gatewayCpu.TotalMilliseconds),
            Math.Round((end.User - start.User).TotalMilliseconds),
            Math.Round((end.System - start.System).TotalMilliseconds),
            Percent(gatewayCpu, elapsed),
            Math.Round(Percent(gatewayCpu, elapsed) / cores, 2),
            Mb(end.RssBytes),
            rssSamples.Count > 0 ? rssSamples.Min() : null,
            rssSamples.Count > 0 ? rssSamples.Max() : null,
            // VmHWM is only brought up to date on some kernel paths: a sample above it counts as the peak.
            Math.Max(Mb(end.PeakRssBytes) ?? 0, rssSamples.Count > 0 ? rssSamples.Max() : 0),
            end.ThreadCount,
            ThreadBreakdown(threadsStart, threadsEnd, elapsed),
            windowLog.Warnings,
            windowLog.Errors,
            windowLog.Reconnects,
            windowLog.Sample);

        var plcCpu = TimeSpan.FromTicks(plcEnd.Zip(plcStart, (e, s) => (e.Cpu - s.Cpu).Ticks).Sum());
        var plcPerProcess = plcEnd.Zip(plcStart, (e, s) => Percent(e.Cpu - s.Cpu, elapsed)).ToArray();
        var plcFigures = new GatewayLoadPlcFigures(
            plcs.Count,
            Math.Round(plcCpu.TotalMilliseconds),
            Percent(plcCpu, elapsed),
            Math.Round(Percent(plcCpu, elapsed) / cores, 2),
            plcPerProcess.Length > 0 ? Math.Round(plcPerProcess.Min(), 2) : 0,
            plcPerProcess.Length > 0 ? Math.Round(plcPerProcess.Max(), 2) : 0,
            Math.Round(plcEnd.Sum(p => (p.RssBytes ?? 0) / 1048576.0), 1),
            plcEnd.Length > 0 ? Math.Round(plcEnd.Average(p => (p.RssBytes ?? 0) / 1048576.0), 1) : 0);

        // Every process that ran through the window (or started in it), from /proc/*/stat; ours taken out for "others".
        var ours = new HashSet<int>(plcs.Select(p => p.Pid).Append(gateway.Pid).Append(Environment.ProcessId));
        var everyone = TimeSpan.Zero;
        var others = TimeSpan.Zero;
        foreach (var (pid, cpu) in everyoneEnd)
        {
            var used = cpu - everyoneStart.GetValueOrDefault(pid);
            everyone += used;
            if (!ours.Contains(pid))
            {
                others += used;
            }
        }

        var (busyShare, stealShare) = MachineCpu.Between(machineStart, machineEnd);
        var (tickBusy, steal) = (Math.Round(100 * busyShare, 1), Math.Round(100 * stealShare, 1));
        var machineFigures = new GatewayLoadMachineWindow(
            Math.Round(Percent(everyone, elapsed) / cores, 1),
            tickBusy,
            steal,
            Math.Round(others.TotalSeconds / seconds, 3),
            Math.Round(harnessCpu.TotalMilliseconds),
            loadStart,
            loadEnd);
        return new GatewayLoadWindow(Math.Round(seconds, 2), gatewayFigures, plcFigures, machineFigures, series);
    }

    /// <summary>CPU per thread name over the window (threads of one name added up), busiest first.</summary>
    private static List<GatewayLoadThreadGroup> ThreadBreakdown(Dictionary<int, (string Name, TimeSpan Cpu)> start, Dictionary<int, (string Name, TimeSpan Cpu)> end, TimeSpan elapsed) =>
        [.. end.Select(kv => (kv.Value.Name, Cpu: kv.Value.Cpu - (start.TryGetValue(kv.Key, out var s) && s.Name == kv.Value.Name ? s.Cpu : TimeSpan.Zero)))
            .GroupBy(t => t.Name, StringComparer.Ordinal)
            .Select(g => new GatewayLoadThreadGroup(g.Key, g.Count(), Math.Round(g.Sum(t => t.Cpu.TotalMilliseconds)), Percent(TimeSpan.FromTicks(g.Sum(t => t.Cpu.Ticks)), elapsed)))
            .Where(g => g.CpuMs > 0)
            .OrderByDescending(g => g.CpuMs)];

    private static GatewayLoadFlow Flow(List<string> lineIds, Dictionary<string, LineShow> before, Dictionary<string, LineShow> after, Dictionary<string, int> signalsPerLine)
    {
        var lines = new List<GatewayLoadLineFlow>();
        foreach (var id in lineIds)
        {
            var a = after[id];
            var b = before[id];
            var signals = signalsPerLine[id];
            var withReal = a.Signals.Values.Count(s => s.Real is not null);
            var good = a.Signals.Values.Count(s => s.Status == "Good");
            var withExpected = a.Signals.Values.Count(s => s.Expected is not null);
            var changed = a.Signals.Count(kv => b.Signals.TryGetValue(kv.Key, out var old) && (old.Real != kv.Value.Real || old.SourceTime != kv.Value.SourceTime));
            var newest = a.Signals.Values.Select(s => s.SourceTime).Max();
            double? age = newest is { } n ? Math.Round((a.QueriedUtc - n).TotalSeconds, 2) : null;
            var state = a.Controllers.Count == 0 ? "none" : string.Join(",", a.Controllers.Select(c => c.State).Distinct(StringComparer.Ordinal));
            var monitored = a.Controllers.Sum(c => c.MonitoredSignals);
            var problems = a.Controllers.Sum(c => c.Problems);
            var ok = state == "connected" && monitored == signals && problems == 0 && withReal == signals && good == signals && changed > 0 && age is < 5;
            lines.Add(new GatewayLoadLineFlow(id, state, signals, monitored, problems, withReal, good, withExpected, changed, age, ok));
        }

        return new GatewayLoadFlow(lines.All(l => l.Ok), lines.Sum(l => l.Signals), lines.Sum(l => l.Changed),
            "after the window, per line through `twingw lines show <id> --json`: controller state, monitored signals, signals with a real value, " +
            "status Good, an expected value (the twin), values changed since the look before the warm-up, and the age of the newest source timestamp when queried; " +
            "ok when connected, all signals monitored, real and Good, some changed, newest under 5 s old",
            lines);
    }

    private static GatewayLoadReport BuildReport(GatewayLoadOptions options, string[] args, MachineFacts machine, string twingw, ChildProcess gateway,
        List<ChildProcess> plcs, Dictionary<string, int> signalsPerLine, GatewayLoadStartup startup, GatewayLoadWindow window, GatewayLoadFlow flow)
    {
        var g = window.Gateway;
        var targets = new List<GatewayLoadTarget>
        {
            new("gateway cpuPercentOfOneCore (what top shows)", "<", TargetCpuPercent, g.CpuPercentOfOneCore, g.CpuPercentOfOneCore < TargetCpuPercent),
            new($"gateway cpuPercentOfMachine ({machine.Cores} cores)", "<", TargetCpuPercent, g.CpuPercentOfMachine, g.CpuPercentOfMachine < TargetCpuPercent),
            new("values flow on every line", "==", 1, flow.Ok ? 1 : 0, flow.Ok),
        };
        var total = signalsPerLine.Values.Sum();
        return new GatewayLoadReport
        {
            TimestampUtc = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            Command = "dotnet run -c Release --project bench/TwinGateway.Bench -- gateway-load " + string.Join(' ', args),
            Machine = machine,
            Settings = new GatewayLoadSettings(
                options.Lines,
                Path.GetRelativePath(RepositoryPaths.Root, options.LineFile),
                signalsPerLine.Values.Distinct().Count() == 1 ? signalsPerLine.Values.First() : null,
                total,
                100,
                Math.Round(total * 1000 / 100.0),
                options.Warmup.TotalSeconds,
                options.Duration.TotalSeconds,
                gateway.CommandLine,
                plcs.Count > 0 ? plcs[0].CommandLine : "",
                ServerLoadProcess.RuntimeSettings(twingw, options.GatewayEnvironment),
                "every process on its own: the gateway, one twingw plc-sim per line, this harness; all on the same cores. " +
                "Sampling and publishing at Gateway:StepMilliseconds (100 ms, the default); the twin steps every 100 ms per line. " +
                "The simulated PLCs report only values that change, so notifications/s is below samplesPerSecondNominal."),
            Startup = startup,
            Window = window,
            Flow = flow,
            Targets = targets,
        };
    }

    private static void EnsureRunning(ChildProcess gateway, List<ChildProcess> plcs)
    {
        if (gateway.HasExited)
        {
            throw new InvalidOperationException($"the gateway exited during the run:\n{gateway.LogTail}");
        }

        if (plcs.FirstOrDefault(p => p.HasExited) is { } plc)
        {
            throw new InvalidOperationException($"{plc.Name} exited during the run:\n{plc.LogTail}");
        }
    }

    private static void PrintSummary(GatewayLoadReport report, string path)
    {
        var s = report.Settings;
        var w = report.Window;
        var g = w.Gateway;
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"gateway-load: {s.Lines} lines x {s.SignalsPerLine} signals = {s.TotalSignals} signals at {s.SamplingMs} ms, " +
            $"{s.WarmupS} s warm-up, {w.Seconds} s window; {report.Machine.Cores} cores, {report.Machine.Cpu}"));
        Console.WriteLine(string.Create(inv, $"  startup: PLCs {report.Startup.PlcsStartedS} s, lines connected {report.Startup.LinesConnectedS} s after the gateway started"));
        Console.WriteLine(string.Create(inv, $"  gateway pid {g.Pid}: CPU {g.CpuMs:N0} ms (user {g.UserMs:N0}, sys {g.SystemMs:N0}) = {g.CpuPercentOfOneCore:0.00}% of one core, " +
            $"{g.CpuPercentOfMachine:0.00}% of the machine"));
        Console.WriteLine(string.Create(inv, $"  gateway memory: RSS {g.RssMb} MB at the end, {g.RssMinMb}..{g.RssMaxMb} MB sampled, peak {g.RssPeakMb} MB (VmHWM or a higher sample); {g.ThreadCount} threads; {s.Runtime}"));
        Console.WriteLine("  gateway threads: " + string.Join(", ", g.ThreadCpu.Take(8).Select(t => string.Create(inv, $"{t.Name} x{t.Count} {t.CpuPercentOfOneCore:0.00}%"))));
        Console.WriteLine(string.Create(inv, $"  gateway log in the window: {g.LogWarnings} warnings, {g.LogErrors} errors, {g.LogReconnects} reconnects"));
        var p = w.Plcs;
        Console.WriteLine(string.Create(inv, $"  {p.Count} PLC processes: CPU {p.CpuMs:N0} ms = {p.CpuPercentOfOneCore:0.0}% of one core ({p.MinPercentOfOneCore:0.0}..{p.MaxPercentOfOneCore:0.0}% each), " +
            $"{p.CpuPercentOfMachine:0.0}% of the machine; RSS {p.RssTotalMb} MB together"));
        var m = w.Machine;
        Console.WriteLine(string.Create(inv, $"  machine: {m.BusyPercent}% busy (all processes), steal {m.StealPercent}%, " +
            $"other processes {m.OtherProcessesCores} cores, harness {m.HarnessCpuMs} ms, load {m.LoadAverage1mStart} -> {m.LoadAverage1mEnd}"));
        Console.WriteLine(string.Create(inv, $"  values: {(report.Flow.Ok ? "flowing on every line" : "NOT flowing on every line")} " +
            $"({report.Flow.ChangedSinceBeforeWarmup} of {report.Flow.Signals} signals changed; newest source timestamps " +
            $"{report.Flow.Lines.Min(l => l.NewestSourceAgeS)}..{report.Flow.Lines.Max(l => l.NewestSourceAgeS)} s old)"));
        foreach (var line in report.Flow.Lines.Where(l => !l.Ok))
        {
            Console.WriteLine(string.Create(inv, $"    {line.Id}: {line.State}, {line.Monitored}/{line.Signals} monitored, {line.Problems} problems, {line.WithReal} real, {line.Good} Good, {line.Changed} changed, newest {line.NewestSourceAgeS} s"));
        }

        foreach (var t in report.Targets)
        {
            Console.WriteLine(string.Create(inv, $"  target {t.Name} {t.Op} {t.Target}: {t.Actual} ({(t.Met ? "met" : "NOT met")})"));
        }

        Console.WriteLine($"  written to {path}");
    }

    internal static double Percent(TimeSpan cpu, TimeSpan elapsed) => elapsed > TimeSpan.Zero ? Math.Round(100 * cpu.TotalSeconds / elapsed.TotalSeconds, 2) : 0;

    internal static double? Mb(long? bytes) => bytes is { } b ? Math.Round(b / 1048576.0, 1) : null;

    [GeneratedRegex(@"^(id:[ \t]*)(\S+)[ \t]*$", RegexOptions.Multiline)]
    private static partial Regex LineIdLine();

    [GeneratedRegex(@"^([ \t]*endpointUrl:[ \t]*)opc\.tcp://[^\s#]+", RegexOptions.Multiline)]
    private static partial Regex EndpointLine();

    [GeneratedRegex(@"^simulated PLC .* listening on (opc\.tcp://[^\s;]+)")]
    private static partial Regex PlcReadyLine();

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex GatewayReadyLine();

    /// <summary>The gateway's log lines while the window is open: warnings, errors, reconnects, and the first few of them.</summary>
    private sealed class WindowLog
    {
        private readonly List<string> _sample = [];
        private volatile bool _open;
        private int _warnings;
        private int _errors;
        private int _reconnects;

        public int Warnings => _warnings;

        public int Errors => _errors;

        public int Reconnects => _reconnects;

        public List<string> Sample
        {
            get
            {
                lock (_sample)
                {
                    return [.. _sample];
                }
            }
        }

        public void Open() => _open = true;

        public void Close() => _open = false;

        public void Add(string line)
        {
            if (!_open)
            {
                return;
            }

            var interesting = false;
            if (line.Contains(" WRN ", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _warnings);
                interesting = true;
            }
            else if (line.Contains(" ERR ", StringComparison.Ordinal) || line.Contains(" FTL ", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _errors);
                interesting = true;
            }

            if (line.Contains("Reconnecting", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _reconnects);
                interesting = true;
            }

            if (interesting)
            {
                lock (_sample)
                {
                    if (_sample.Count < 20)
                    {
                        _sample.Add(line);
                    }
                }
            }
        }
    }

    /// <summary>What <c>twingw lines show ID --json</c> printed: controller lines, then one line per signal.</summary>
    private sealed record LineShow(List<(string State, int MonitoredSignals, int Problems)> Controllers, Dictionary<string, (double? Real, double? Expected, string Status, DateTime? SourceTime)> Signals, DateTime QueriedUtc)
    {
        public static LineShow Parse(string stdout, DateTime queriedUtc)
        {
            var controllers = new List<(string, int, int)>();
            var signals = new Dictionary<string, (double?, double?, string, DateTime?)>(StringComparer.Ordinal);
            foreach (var line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                using var json = JsonDocument.Parse(line);
                var root = json.RootElement;
                if (root.TryGetProperty("controller", out _))
                {
                    controllers.Add((root.GetProperty("state").GetString()!, root.GetProperty("monitoredSignals").GetInt32(), root.GetProperty("problems").GetInt32()));
                }
                else if (root.TryGetProperty("signal", out var id))
                {
                    DateTime? source = root.TryGetProperty("sourceTimestamp", out var ts) && ts.ValueKind == JsonValueKind.String
                        ? DateTime.Parse(ts.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal)
                        : null;
                    signals[id.GetString()!] = (Number(root, "real"), Number(root, "expected"), root.GetProperty("status").GetString() ?? "", source);
                }
            }

            return new LineShow(controllers, signals, queriedUtc);
        }

        private static double? Number(JsonElement root, string name) =>
            root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
    }
}

internal sealed record GatewayLoadReport
{
    public string Benchmark => "e2e-gateway";

    public required string TimestampUtc { get; init; }

    public required string Command { get; init; }

    public required MachineFacts Machine { get; init; }

    public required GatewayLoadSettings Settings { get; init; }

    public required GatewayLoadStartup Startup { get; init; }

    public required GatewayLoadWindow Window { get; init; }

    public required GatewayLoadFlow Flow { get; init; }

    public required List<GatewayLoadTarget> Targets { get; init; }

    /// <summary>Only when values did not flow on every line: the first look at those lines and the processes' last log lines.</summary>
    public GatewayLoadDiagnostics? Diagnostics { get; init; }
}

internal sealed record GatewayLoadDiagnostics(string[] BeforeWarmup, string[] GatewayLogTail, Dictionary<string, string[]> PlcLogTails);

internal sealed record GatewayLoadSettings(
    int Lines, string LineFile, int? SignalsPerLine, int TotalSignals, int SamplingMs, double SamplesPerSecondNominal, double WarmupS, double DurationS,
    string GatewayCommand, string PlcCommandExample, string Runtime, string Note);

internal sealed record GatewayLoadStartup(double PlcsStartedS, double LinesConnectedS);

internal sealed record GatewayLoadWindow(double Seconds, GatewayLoadProcessFigures Gateway, GatewayLoadPlcFigures Plcs, GatewayLoadMachineWindow Machine, List<GatewayLoadPoint> Series);

internal sealed record GatewayLoadProcessFigures(
    int Pid, double CpuMs, double UserMs, double SystemMs, double CpuPercentOfOneCore, double CpuPercentOfMachine,
    double? RssMb, double? RssMinMb, double? RssMaxMb, double RssPeakMb, int? ThreadCount,
    List<GatewayLoadThreadGroup> ThreadCpu, int LogWarnings, int LogErrors, int LogReconnects, List<string> LogSample);

internal sealed record GatewayLoadThreadGroup(string Name, int Count, double CpuMs, double CpuPercentOfOneCore);

internal sealed record GatewayLoadPlcFigures(int Count, double CpuMs, double CpuPercentOfOneCore, double CpuPercentOfMachine, double MinPercentOfOneCore, double MaxPercentOfOneCore,
    double RssTotalMb, double RssAverageMb);

/// <summary>
/// The machine over the window. busyPercent: every process's CPU (/proc/*/stat) over all cores; tickSampledBusyPercent:
/// /proc/stat's figure, tick-sampled (tick CPU accounting, NO_HZ_IDLE on the 2-core VM): with work that wakes on
/// 100 ms timers it was off by -25 to +30 points against the process figures, so it is kept only for the record; otherProcessesCores: the CPU of everything but the gateway, the PLCs and the
/// harness, in cores (processes that exited inside the window are not counted).
/// </summary>
internal sealed record GatewayLoadMachineWindow(double BusyPercent, double TickSampledBusyPercent, double StealPercent, double OtherProcessesCores, double HarnessCpuMs,
    double? LoadAverage1mStart, double? LoadAverage1mEnd);

internal sealed record GatewayLoadPoint(double AtS, double? RssMb, double CpuPercentOfOneCore);

internal sealed record GatewayLoadFlow(bool Ok, int Signals, int ChangedSinceBeforeWarmup, string How, List<GatewayLoadLineFlow> Lines);

internal sealed record GatewayLoadLineFlow(string Id, string State, int Signals, int Monitored, int Problems, int WithReal, int Good, int WithExpected, int Changed, double? NewestSourceAgeS, bool Ok);

internal sealed record GatewayLoadTarget(string Name, string Op, double Target, double? Actual, bool Met);
