using System.Globalization;
using System.Text.Json;

namespace TwinGateway.Bench.E2e;

/// <summary>
/// Phase 2: node-opcua's client (tests/node/client-bench.js) against the same server, same items and settings.
/// The script measures its own process's CPU over its window and prints one JSON line.
/// </summary>
internal static class NodeClientLoad
{
    /// <summary>Time for node to start, make its client certificate, connect and create the items.</summary>
    private static readonly TimeSpan _setupAllowance = TimeSpan.FromSeconds(120);

    public static async Task<(ClientLoadResult Result, JsonElement Raw)> RunAsync(BenchServer server, E2eOptions options, CancellationToken cancellationToken)
    {
        var arguments = new[]
        {
            "--endpoint", server.EndpointUrl,
            "--items", options.Items.ToString(CultureInfo.InvariantCulture),
            "--interval", options.Interval.TotalMilliseconds.ToString(CultureInfo.InvariantCulture),
            "--duration", options.Duration.TotalSeconds.ToString(CultureInfo.InvariantCulture),
            "--warmup", options.Warmup.TotalSeconds.ToString(CultureInfo.InvariantCulture),
            "--ns", server.NamespaceIndex.ToString(CultureInfo.InvariantCulture),
        };

        // node-opcua's client makes its certificate under XDG_CONFIG_HOME: keep it in the run's temporary folder.
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["XDG_CONFIG_HOME"] = Path.Combine(server.TempDirectory, "client-config"),
        };
        Directory.CreateDirectory(environment["XDG_CONFIG_HOME"]);

        using var process = System.Diagnostics.Process.Start(ChildCommands.Node("client-bench.js", arguments, environment)) ?? throw new InvalidOperationException("could not start node client-bench.js");
        var stdout = new List<string>();
        var stderr = new LineTail(60);

        // The server's CPU over (about) the script's window: it opens `warmup` after the script logs that it monitors.
        Task<double>? serverCpu = null;
        var pumps = Task.WhenAll(
            ChildProcess.PumpLinesAsync(process.StandardOutput, line =>
            {
                lock (stdout)
                {
                    stdout.Add(line);
                }
            }),
            ChildProcess.PumpLinesAsync(process.StandardError, line =>
            {
                stderr.Add(line);
                Console.Error.WriteLine("  " + line);
                if (serverCpu is null && line.Contains("monitoring", StringComparison.Ordinal))
                {
                    serverCpu = MeasureServerCpuAsync(server, options, cancellationToken);
                }
            }));
        try
        {
            process.StandardInput.Close();
            var limit = options.Warmup + options.Duration + _setupAllowance;
            try
            {
                await process.WaitForExitAsync(cancellationToken).WaitAsync(limit, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"client-bench.js did not finish within {limit.TotalSeconds:0} s:\n{stderr}");
            }

            await pumps.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"client-bench.js exited with code {process.ExitCode}:\n{stderr}");
            }

            string? line;
            lock (stdout)
            {
                line = stdout.LastOrDefault(l => l.StartsWith('{'));
            }

            if (line is null)
            {
                throw new InvalidOperationException($"client-bench.js printed no JSON result:\n{stderr}");
            }

            if (serverCpu is not null)
            {
                try
                {
                    await serverCpu.WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                }
            }

            using var document = JsonDocument.Parse(line);
            var raw = document.RootElement.Clone();
            var user = raw.GetProperty("cpuUserMs").GetDouble();
            var system = raw.GetProperty("cpuSystemMs").GetDouble();
            var result = new ClientLoadResult
            {
                Client = "node-opcua",
                Items = raw.GetProperty("items").GetInt32(),
                DurationS = raw.GetProperty("durationS").GetDouble(),
                Notifications = raw.GetProperty("notifications").GetInt64(),
                NotificationsPerSec = raw.GetProperty("notificationsPerSec").GetDouble(),
                CpuNsPerNotification = raw.GetProperty("cpuNsPerNotification") is { ValueKind: JsonValueKind.Number } ns ? ns.GetDouble() : null,
                CpuMs = Math.Round(user + system, 1),
                CpuUserMs = user,
                CpuSystemMs = system,
                LoadAverage1m = MachineFacts.LoadAverage1m(),
                ServerCpuMs = serverCpu is { IsCompletedSuccessfully: true } ? serverCpu.Result : null,
            };
            return (result, raw);
        }
        finally
        {
            await ChildProcess.KillAsync(process).ConfigureAwait(false);
        }
    }

    private static async Task<double> MeasureServerCpuAsync(BenchServer server, E2eOptions options, CancellationToken cancellationToken)
    {
        await Task.Delay(options.Warmup, cancellationToken).ConfigureAwait(false);
        var start = server.CpuTime;
        await Task.Delay(options.Duration, cancellationToken).ConfigureAwait(false);
        return Math.Round((server.CpuTime - start).TotalMilliseconds, 1);
    }
}
