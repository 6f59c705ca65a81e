using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace TwinGateway.Bench.Web;

/// <summary>
/// <c>web</c> (issue 12 §4): the web console's cost. The gateway (<c>twingw run</c>, its own process, the demo line with
/// its simulated PLC) is measured idle, then with N line pages open in Debian's Chromium through Playwright (the page's
/// default 5 live plots, every signal of the line live): the gateway's added CPU per page, each page's first paint and
/// first contentful paint on loopback, and the share of the page's main thread that is busy, from a Chromium trace
/// (top-level tasks on the renderer's main thread over the window).
/// </summary>
internal static partial class WebConsoleHarness
{
    public static Task<int> RunAsync(string[] args) => HarnessRunner.RunAsync(
        "web",
        WebOptions.Parse(args, out var error),
        error,
        async (options, cancellationToken) =>
        {
            var report = await RunAsync(options, args, cancellationToken).ConfigureAwait(false);
            var path = await HarnessReport.WriteAsync(options.OutputPath, report).ConfigureAwait(false);
            Console.WriteLine(JsonSerializer.Serialize(report, s_print));
            Console.WriteLine($"web: wrote {path}");
            return 0;
        },
        ex => ex is InvalidOperationException or TimeoutException or IOException or PlaywrightException);

    private static readonly JsonSerializerOptions s_print = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private static async Task<WebReport> RunAsync(WebOptions options, string[] args, CancellationToken cancellationToken)
    {
        var twingw = await ChildCommands.TwingwAsync("web", options.Twingw, options.NoBuild, cancellationToken).ConfigureAwait(false);
        var chromium = new[] { Environment.GetEnvironmentVariable("TWINGW_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser" }
            .FirstOrDefault(p => !string.IsNullOrEmpty(p) && File.Exists(p))
            ?? throw new InvalidOperationException("no Chromium: apt-get install chromium (or set TWINGW_CHROMIUM)");
        var folder = Directory.CreateTempSubdirectory("twingw-web-bench-").FullName;
        ChildProcess? gateway = null;
        try
        {
            var lines = Path.Combine(folder, "lines");
            var data = Path.Combine(folder, "data");
            Directory.CreateDirectory(lines);
            var plcPort = FreePort.Next();
            await File.WriteAllTextAsync(Path.Combine(lines, "demo-line.yaml"),
                (await File.ReadAllTextAsync(RepositoryPaths.DemoLine, cancellationToken).ConfigureAwait(false))
                    .Replace("opc.tcp://127.0.0.1:4841", $"opc.tcp://127.0.0.1:{plcPort}", StringComparison.Ordinal), cancellationToken).ConfigureAwait(false);
            var (exit, stdout, stderr) = await ChildCommands.RunTwingwAsync(twingw, ["users", "add", "bench", "--role", "viewer", "--data", data, "--json"], TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
            if (exit != 0)
            {
                throw new InvalidOperationException($"twingw users add failed (exit {exit}): {stderr}");
            }

            string token;
            using (var json = JsonDocument.Parse(stdout))
            {
                token = json.RootElement.GetProperty("token").GetString()!;
            }

            var apiUrl = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{FreePort.Next()}");
            var environment = new List<KeyValuePair<string, string>> { new("TWINGW_Gateway__HealthUrl", string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{FreePort.Next()}")) };
            gateway = ChildProcess.Start("gateway", ChildCommands.TwingwCommandLine(twingw, ["run", "--lines", lines, "--data", data, "--api", apiUrl], environment),
                ChildCommands.Twingw(twingw, ["run", "--lines", lines, "--data", data, "--api", apiUrl], environment), ReadyLine().IsMatch);
            await gateway.WaitReadyAsync(TimeSpan.FromSeconds(120), cancellationToken).ConfigureAwait(false);
            await Task.Delay(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false); // the line connects, the JIT settles

            var idle = await GatewayCpuAsync(gateway.Process, options.Seconds, cancellationToken).ConfigureAwait(false);
            Console.Error.WriteLine($"web: gateway idle {idle:0.0} % of a core");

            using var playwright = await Playwright.CreateAsync().ConfigureAwait(false);
            await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = chromium,
                Headless = true,
                Args = ["--no-sandbox", "--disable-dev-shm-usage"],
            }).ConfigureAwait(false);

            var windows = new List<PageWindow>();
            foreach (var count in options.Pages)
            {
                windows.Add(await MeasurePagesAsync(browser, apiUrl, token, count, gateway.Process, idle, options.Seconds, cancellationToken).ConfigureAwait(false));
            }

            return new WebReport(
                "web",
                DateTimeOffset.UtcNow,
                string.Join(' ', args),
                MachineFacts.Collect(withNode: false),
                MachineFacts.LoadAverage1m(),
                chromium,
                await ChromiumVersionAsync(browser).ConfigureAwait(false),
                options.Seconds,
                Math.Round(idle, 2),
                windows,
                new WebTargets(30, 5, 1000));
        }
        finally
        {
            if (gateway is not null)
            {
                await gateway.DisposeAsync().ConfigureAwait(false);
            }

            ChildProcess.DeleteQuietly(folder);
        }
    }

    private static Task<string> ChromiumVersionAsync(IBrowser browser) => Task.FromResult(browser.Version);

    /// <summary>Opens <paramref name="count"/> signed-in line pages, then measures the gateway's CPU and one page's trace over the window.</summary>
    private static async Task<PageWindow> MeasurePagesAsync(IBrowser browser, string apiUrl, string token, int count, Process gateway, double idle, int seconds, CancellationToken cancellationToken)
    {
        var contexts = new List<IBrowserContext>();
        var paints = new List<PagePaint>();
        try
        {
            IPage? traced = null;
            for (var i = 0; i < count; i++)
            {
                var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = apiUrl, ViewportSize = new ViewportSize { Width = 1280, Height = 800 } }).ConfigureAwait(false);
                contexts.Add(context);
                var page = await context.NewPageAsync().ConfigureAwait(false);
                await page.GotoAsync("/signin").ConfigureAwait(false);
                await page.GetByLabel("User", new() { Exact = true }).FillAsync("bench").ConfigureAwait(false);
                await page.GetByLabel("Token", new() { Exact = true }).FillAsync(token).ConfigureAwait(false);
                await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync().ConfigureAwait(false);
                await page.WaitForURLAsync(new Regex("/lines$")).ConfigureAwait(false);

                // A fresh load of the line page, timed by the browser itself.
                await page.GotoAsync("/lines/demo-line").ConfigureAwait(false);
                await page.WaitForFunctionAsync("() => [...document.querySelectorAll('[data-testid=signal-plot]')].filter(p => +(p.dataset.points || 0) > 0).length >= 1",
                    null, new() { Timeout = 30_000 }).ConfigureAwait(false);
                var timing = await page.EvaluateAsync<JsonElement>("""
                    () => {
                      const nav = performance.getEntriesByType('navigation')[0];
                      const paint = Object.fromEntries(performance.getEntriesByType('paint').map(p => [p.name, p.startTime]));
                      return { ttfb: nav.responseStart, domContentLoaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
                               firstPaint: paint['first-paint'] ?? -1, firstContentfulPaint: paint['first-contentful-paint'] ?? -1,
                               plots: document.querySelectorAll('[data-testid=signal-plot]').length };
                    }
                    """).ConfigureAwait(false);
                paints.Add(new PagePaint(
                    Math.Round(timing.GetProperty("ttfb").GetDouble(), 1),
                    Math.Round(timing.GetProperty("firstPaint").GetDouble(), 1),
                    Math.Round(timing.GetProperty("firstContentfulPaint").GetDouble(), 1),
                    Math.Round(timing.GetProperty("domContentLoaded").GetDouble(), 1),
                    Math.Round(timing.GetProperty("load").GetDouble(), 1),
                    timing.GetProperty("plots").GetInt32()));
                traced ??= page;
            }

            await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken).ConfigureAwait(false);
            var pointsBefore = await PointsAsync(traced!).ConfigureAwait(false);
            // Chromium's tracing through the DevTools protocol (Playwright for .NET has no tracing call of its own).
            var cdp = await traced!.Context.NewCDPSessionAsync(traced).ConfigureAwait(false);
            var traceEvents = new List<JsonElement>();
            var complete = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            cdp.Event("Tracing.dataCollected").OnEvent += (_, e) =>
            {
                if (e is { } data && data.TryGetProperty("value", out var value))
                {
                    lock (traceEvents)
                    {
                        traceEvents.AddRange(value.EnumerateArray().Select(v => v.Clone()));
                    }
                }
            };
            cdp.Event("Tracing.tracingComplete").OnEvent += (_, _) => complete.TrySetResult();
            await cdp.SendAsync("Tracing.start", new Dictionary<string, object>
            {
                ["transferMode"] = "ReportEvents",
                ["traceConfig"] = new Dictionary<string, object> { ["includedCategories"] = new[] { "devtools.timeline", "toplevel" } },
            }).ConfigureAwait(false);
            var clock = Stopwatch.StartNew();
            var cpu = await GatewayCpuAsync(gateway, seconds, cancellationToken).ConfigureAwait(false);
            var window = clock.Elapsed;
            await cdp.SendAsync("Tracing.end").ConfigureAwait(false);
            await complete.Task.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
            await cdp.DetachAsync().ConfigureAwait(false);
            byte[] trace;
            lock (traceEvents)
            {
                trace = JsonSerializer.SerializeToUtf8Bytes(traceEvents);
            }

            var pointsAfter = await PointsAsync(traced!).ConfigureAwait(false);
            var busy = MainThreadBusy(trace, window);
            Console.Error.WriteLine($"web: {count} page(s): gateway {cpu:0.0} % (idle {idle:0.0} %), main thread busy {busy.Percent:0.0} %");
            return new PageWindow(
                count,
                Math.Round(cpu, 2),
                Math.Round((cpu - idle) / count, 2),
                paints,
                Math.Round(busy.Percent, 2),
                Math.Round(busy.LongestTaskMs, 1),
                busy.Tasks,
                Math.Round((pointsAfter - pointsBefore) / window.TotalSeconds, 1));
        }
        finally
        {
            foreach (var context in contexts)
            {
                await context.CloseAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Points drawn by all plots of the page so far (each plot's data-points).</summary>
    private static Task<long> PointsAsync(IPage page) =>
        page.EvaluateAsync<long>("() => [...document.querySelectorAll('[data-testid=signal-plot]')].reduce((s, p) => s + +(p.dataset.points || 0), 0)");

    /// <summary>The gateway process's CPU over <paramref name="seconds"/>, as a percentage of one core.</summary>
    private static async Task<double> GatewayCpuAsync(Process gateway, int seconds, CancellationToken cancellationToken)
    {
        gateway.Refresh();
        var cpu0 = gateway.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(seconds), cancellationToken).ConfigureAwait(false);
        gateway.Refresh();
        return (gateway.TotalProcessorTime - cpu0).TotalMilliseconds / clock.Elapsed.TotalMilliseconds * 100;
    }

    /// <summary>
    /// The busiest renderer main thread (CrRendererMain) of the trace: the sum of its top-level task durations (complete
    /// events "RunTask"/"ThreadControllerImpl::RunTask", not nested in one another) over the window.
    /// </summary>
    private static (double Percent, double LongestTaskMs, int Tasks) MainThreadBusy(byte[] trace, TimeSpan window)
    {
        using var json = JsonDocument.Parse(trace);
        var events = json.RootElement.ValueKind == JsonValueKind.Array ? json.RootElement : json.RootElement.GetProperty("traceEvents");
        var mainThreads = new HashSet<(long, long)>();
        foreach (var e in events.EnumerateArray())
        {
            if (e.TryGetProperty("ph", out var ph) && ph.GetString() == "M" && e.GetProperty("name").GetString() == "thread_name"
                && e.GetProperty("args").GetProperty("name").GetString() == "CrRendererMain")
            {
                mainThreads.Add((e.GetProperty("pid").GetInt64(), e.GetProperty("tid").GetInt64()));
            }
        }

        if (mainThreads.Count == 0)
        {
            throw new InvalidOperationException($"the trace ({events.GetArrayLength()} events) names no renderer main thread (CrRendererMain): Chromium's trace format changed?");
        }

        var tasks = new Dictionary<(long, long), List<(double Start, double Duration)>>();
        foreach (var e in events.EnumerateArray())
        {
            if (!e.TryGetProperty("ph", out var ph) || ph.GetString() != "X" || !e.TryGetProperty("dur", out var dur))
            {
                continue;
            }

            var name = e.GetProperty("name").GetString();
            if (name is not ("RunTask" or "ThreadControllerImpl::RunTask"))
            {
                continue;
            }

            var key = (e.GetProperty("pid").GetInt64(), e.GetProperty("tid").GetInt64());
            if (!mainThreads.Contains(key))
            {
                continue;
            }

            if (!tasks.TryGetValue(key, out var list))
            {
                tasks[key] = list = [];
            }

            list.Add((e.GetProperty("ts").GetDouble(), dur.GetDouble()));
        }

        var best = (Percent: 0.0, LongestTaskMs: 0.0, Tasks: 0);
        foreach (var list in tasks.Values)
        {
            // Top level only: a task that starts inside the previous one is nested in it.
            double busy = 0, end = double.MinValue, longest = 0;
            var count = 0;
            foreach (var (start, duration) in list.OrderBy(t => t.Start))
            {
                if (start < end)
                {
                    continue;
                }

                busy += duration;
                longest = Math.Max(longest, duration);
                end = start + duration;
                count++;
            }

            var percent = busy / 1000.0 / window.TotalMilliseconds * 100;
            if (percent > best.Percent)
            {
                best = (percent, longest / 1000.0, count);
            }
        }

        return best;
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ReadyLine();
}

internal sealed record WebReport(string Harness, DateTimeOffset Measured, string Arguments, MachineFacts Machine, double? LoadAverage1m, string Chromium,
    string ChromiumVersion, int WindowSeconds, double GatewayIdleCpuPercent, IReadOnlyList<PageWindow> Windows, WebTargets Targets);

/// <summary>One window with <see cref="Pages"/> line pages open.</summary>
internal sealed record PageWindow(int Pages, double GatewayCpuPercent, double AddedCpuPercentPerPage, IReadOnlyList<PagePaint> Paints,
    double MainThreadBusyPercent, double LongestTaskMs, int MainThreadTasks, double PointsDrawnPerSecond);

/// <summary>Browser timings of one page load, in milliseconds from navigation start.</summary>
internal sealed record PagePaint(double TimeToFirstByte, double FirstPaint, double FirstContentfulPaint, double DomContentLoaded, double Load, int Plots);

internal sealed record WebTargets(double MainThreadBusyPercentBelow, double AddedGatewayCpuPercentPerPageBelow, double FirstPaintMsBelow);
