using System.Diagnostics;
using System.Globalization;
using TwinGateway.Bench.E2e;
using TwinGateway.Core.Lines;
using TwinGateway.Telemetry.Recording;

namespace TwinGateway.Bench.Telemetry;

/// <summary>
/// <c>telemetry</c>: the flight recorder, replay and forwarder against their performance targets, in this process.
/// <list type="number">
/// <item>Ingest, sustained (<see cref="IngestMeasurement"/>): target at least 1,000,000 committed samples/s with the
/// gateway's own call, <c>Append(in TelemetrySample)</c>; batched appends of one scan are measured beside it.</item>
/// <item>Replay through the twin (<see cref="ReplayMeasurement"/>): target at least 2,000,000 samples/s, with the
/// time to replay one hour of the demo line at 100 ms.</item>
/// <item>Forwarding to VictoriaMetrics (<see cref="ForwardMeasurement"/>): points/s, every point verified.</item>
/// </list>
/// Exit codes: 0 done (a missed target is reported, not an error); 1 a sample or point was lost or a part failed;
/// 2 bad arguments; 3 everything else done but the forward part skipped because victoria-metrics is not installed.
/// </summary>
internal static class TelemetryHarness
{
    public const double TargetIngestPerSecond = 1_000_000;
    public const double TargetReplayPerSecond = 2_000_000;

    /// <summary>Ten minutes of the demo line, precomputed once and handed out again with the time moving on.</summary>
    private const int CycleSteps = 6_000;

    public static Task<int> RunAsync(string[] args) => HarnessRunner.RunAsync(
        "telemetry",
        TelemetryOptions.Parse(args, out var error),
        error,
        async (options, cancellationToken) =>
        {
            var temp = Directory.CreateTempSubdirectory("twingateway-telemetry-bench-").FullName;
            try
            {
                var report = await RunCoreAsync(options, args, temp, cancellationToken).ConfigureAwait(false);
                var path = await HarnessReport.WriteAsync(options.OutputPath, report).ConfigureAwait(false);
                PrintSummary(report, path);
                if (report.Errors.Count > 0)
                {
                    return 1;
                }

                return report.Forward is null && options.Runs("forward") ? 3 : 0;
            }
            finally
            {
                ChildProcess.DeleteQuietly(temp);
            }
        },
        ex => ex is InvalidOperationException or TimeoutException or IOException or TelemetryStoreException or HttpRequestException);

    private static async Task<TelemetryReport> RunCoreAsync(TelemetryOptions options, string[] args, string temp, CancellationToken cancellationToken)
    {
        var machine = MachineFacts.Collect(withNode: false);
        var loadBefore = MachineFacts.LoadAverage1m();
        var clock = Stopwatch.StartNew();
        var line = LineDefinitionLoader.LoadFile(options.LineFile).GetDefinitionOrThrow();
        var errors = new List<string>();
        var targets = new List<GatewayLoadTarget>();

        DemoLineCycle? cycle = null;
        if (options.Runs("ingest") || options.Runs("forward"))
        {
            cycle = new DemoLineCycle(line, CycleSteps);
        }

        IngestPart? ingest = null;
        if (options.Runs("ingest"))
        {
            var single = await IngestMeasurement.RunAsync(options, cycle!, batched: false, temp, cancellationToken).ConfigureAwait(false);
            var batched = await IngestMeasurement.RunAsync(options, cycle!, batched: true, temp, cancellationToken).ConfigureAwait(false);
            var (withValue, withExpected) = cycle!.Shares();
            ingest = new IngestPart(line.Signals.Length, Math.Round(withValue, 3), Math.Round(withExpected, 3), CycleSteps, single, batched);
            targets.Add(Target($"ingest committedPerSecond, {single.Mode}", ">=", TargetIngestPerSecond, single.CommittedPerSecond));
            targets.Add(Target($"ingest committedPerSecond, {batched.Mode}", ">=", TargetIngestPerSecond, batched.CommittedPerSecond));
            foreach (var figures in new[] { single, batched }.Where(f => !f.Lossless))
            {
                errors.Add($"ingest ({figures.Mode}) lost samples: appended {figures.Appended:N0}, LastSeq {figures.LastSeq:N0}");
            }
        }

        ReplayFigures? replay = null;
        if (options.Runs("replay"))
        {
            replay = await ReplayMeasurement.RunAsync(options, line, temp, cancellationToken).ConfigureAwait(false);
            targets.Add(Target("replay samplesPerSecond (median run, whole call)", ">=", TargetReplayPerSecond, replay.MedianSamplesPerSecond));
            targets.Add(Target("replay samplesPerSecond (median run, replayer's own figure)", ">=", TargetReplayPerSecond, replay.MedianReplayerSamplesPerSecond));
            if (!replay.AllSamplesRead)
            {
                errors.Add($"replay did not read every recorded sample: recorded {replay.Recording.Samples:N0}, read {string.Join(", ", replay.Runs.Select(r => r.SamplesRead.ToString("N0", CultureInfo.InvariantCulture)))}");
            }
        }

        ForwardFigures? forward = null;
        string? forwardSkipped = null;
        if (options.Runs("forward"))
        {
            if (VictoriaMetricsFixture.FindExecutable() is { } executable)
            {
                forward = await ForwardMeasurement.RunAsync(options, cycle!, executable, temp, cancellationToken).ConfigureAwait(false);
                foreach (var run in forward.Runs.Prepend(forward.WarmUp).Where(r => !r.AllArrived))
                {
                    errors.Add($"forward (batch size {run.BatchSize:N0}) lost points: VictoriaMetrics stores {run.StoredValues:N0} of {run.ExpectedValues:N0} values in {run.StoredSeries} of {run.ExpectedSeries} series");
                }
            }
            else
            {
                forwardSkipped = VictoriaMetricsFixture.NotInstalled;
                Console.Error.WriteLine(forwardSkipped);
            }
        }

        return new TelemetryReport
        {
            TimestampUtc = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            Command = "dotnet run -c Release --project bench/TwinGateway.Bench -- telemetry" + (args.Length > 0 ? " " + string.Join(' ', args) : ""),
            Machine = machine,
            LoadAverage1mBefore = loadBefore,
            LoadAverage1mAfter = MachineFacts.LoadAverage1m(),
            Settings = new TelemetrySettings(
                Path.GetRelativePath(RepositoryPaths.Root, options.LineFile),
                line.Signals.Length,
                100,
                options.Only,
                Math.Round(options.IngestWarmup.TotalSeconds, 1),
                Math.Round(options.IngestWindow.TotalSeconds, 1),
                options.ReplayHours,
                options.ReplayRuns,
                options.ForwardPoints,
                [.. options.ForwardBatchSizes],
                $"System.GC.Server={AppContext.GetData("System.GC.Server") ?? "False"}, System.GC.Concurrent={AppContext.GetData("System.GC.Concurrent") ?? "True"}",
                "Everything in this one process, on the same cores as whatever else runs on the machine (see the load averages). " +
                "Recorders use the gateway's defaults and a DuckDB file in a fresh temporary folder on the same disk as /tmp."),
            Ingest = ingest,
            Replay = replay,
            Forward = forward,
            ForwardSkipped = forwardSkipped,
            Targets = targets,
            Errors = errors,
            TotalS = Math.Round(clock.Elapsed.TotalSeconds, 1),
        };
    }

    private static GatewayLoadTarget Target(string name, string op, double target, double actual) =>
        new(name, op, target, actual, op == ">=" ? actual >= target : actual < target);

    private static void PrintSummary(TelemetryReport report, string path)
    {
        var inv = CultureInfo.InvariantCulture;
        var m = report.Machine;
        Console.WriteLine(string.Create(inv, $"telemetry: {m.Cores} cores, {m.Cpu}, {m.Dotnet}; load average (1 min) {report.LoadAverage1mBefore} -> {report.LoadAverage1mAfter}; {report.TotalS} s in all"));
        var rows = new List<(string Part, string Figure, string Target)>();
        if (report.Ingest is { } ingest)
        {
            foreach (var f in new[] { ingest.Single, ingest.Batched })
            {
                rows.Add((f.SamplesPerAppendCall == 1 ? "ingest, Append(in sample)" : $"ingest, Append(span of {f.SamplesPerAppendCall})",
                    string.Create(inv, $"{f.CommittedPerSecond:N0} samples/s committed ({f.CommittedPerSecondMinOneSecond:N0}..{f.CommittedPerSecondMaxOneSecond:N0} per 1 s), CPU {f.Cpu.PercentOfOneCore:0}% of one core, peak RSS {f.RssPeakMb ?? f.RssMaxSampledMb} MB (from {f.RssAtStartMb}; DuckDB holds {f.DuckDbAtWindowEnd?.UsedMb} MB), {f.DatabaseMbPerMillionSamples} MB per M samples, {(f.Lossless ? "nothing lost" : "SAMPLES LOST")}"),
                    Met(f.CommittedPerSecond, TargetIngestPerSecond)));
            }
        }

        if (report.Replay is { } replay)
        {
            var r = replay.Recording;
            rows.Add((string.Create(inv, $"replay, {r.Hours} h ({r.Samples / 1e6:0.00} M samples)"),
                string.Create(inv, $"median {replay.MedianSamplesPerSecond:N0} samples/s, best {replay.BestSamplesPerSecond:N0}; {replay.MedianWallS:0.00} s per run ({string.Join(", ", replay.Runs.Select(x => x.WallS.ToString("0.00", inv)))} s); replayer's own {replay.MedianReplayerSamplesPerSecond:N0}/s"),
                Met(replay.MedianSamplesPerSecond, TargetReplayPerSecond)));
            rows.Add(("replay, 1 h of the demo line", string.Create(inv, $"{replay.MedianWallSForOneHour:0.00} s (median run)"), ""));
            var s = replay.Split;
            rows.Add(("replay, parts alone", string.Create(inv, $"count query {s.CountQueryS:0.00} s, read-only {s.ReadOnlyS:0.00} s ({s.ReadOnlySamplesPerSecond:N0}/s, first row after {s.FirstRowS:0.00} s), twin steps {s.TwinStepsOnlyS:0.00} s"), ""));
        }

        if (report.Forward is { } forward)
        {
            foreach (var f in forward.Runs)
            {
                rows.Add((string.Create(inv, $"forward, batch {f.BatchSize:N0}"),
                    string.Create(inv, $"{f.PointsPerSecond:N0} points/s ({f.Points:N0} in {f.CatchUpS:0.00} s), CPU {f.Cpu.PercentOfOneCore:0}% of one core (VictoriaMetrics {f.VictoriaMetricsCpuPercentOfOneCore:0}%), stored {f.StoredValues:N0} of {f.ExpectedValues:N0} values {(f.AllArrived ? "(all arrived)" : "(POINTS MISSING)")}"),
                    ""));
                var x = f.Split;
                rows.Add(("  alone", string.Create(inv, $"read {x.ReadS:0.00} s, format {x.FormatS:0.00} s, gzip {x.GzipS:0.00} s ({x.GzipBytesPerPoint} B/point; Fastest {x.GzipFastestS:0.00} s, {x.GzipFastestBytesPerPoint} B), high-water {x.HighWaterS:0.00} s; rest (HTTP, client, server) {x.RestS:0.00} s"), ""));
            }
        }
        else if (report.ForwardSkipped is { } skipped)
        {
            rows.Add(("forward", "skipped: " + skipped, ""));
        }

        var width = rows.Count == 0 ? 0 : rows.Max(r => r.Part.Length);
        foreach (var (part, figure, target) in rows)
        {
            Console.WriteLine($"  {part.PadRight(width)}  {figure}{(target.Length > 0 ? "  " + target : "")}");
        }

        foreach (var error in report.Errors)
        {
            Console.WriteLine($"  ERROR: {error}");
        }

        Console.WriteLine($"  written to {path}");
    }

    private static string Met(double actual, double target) =>
        string.Create(CultureInfo.InvariantCulture, $"[target >= {target:N0}: {(actual >= target ? "met" : "NOT met")}]");
}

internal sealed record TelemetryReport
{
    public string Benchmark => "telemetry";

    public required string TimestampUtc { get; init; }

    public required string Command { get; init; }

    public required MachineFacts Machine { get; init; }

    public double? LoadAverage1mBefore { get; init; }

    public double? LoadAverage1mAfter { get; init; }

    public required TelemetrySettings Settings { get; init; }

    public IngestPart? Ingest { get; init; }

    public ReplayFigures? Replay { get; init; }

    public ForwardFigures? Forward { get; init; }

    public string? ForwardSkipped { get; init; }

    public required List<GatewayLoadTarget> Targets { get; init; }

    public required List<string> Errors { get; init; }

    public double TotalS { get; init; }
}

internal sealed record TelemetrySettings(
    string LineFile, int SignalsPerLine, int SamplingMs, string? Only, double IngestWarmupS, double IngestWindowS, double ReplayHours, int ReplayRuns,
    int ForwardPoints, List<int> ForwardBatchSizes, string Runtime, string Note);

/// <summary>Both ingest modes; samplesWithValue/WithExpected: shares of the demo-line samples the producer appends.</summary>
internal sealed record IngestPart(int SeriesCount, double SamplesWithValue, double SamplesWithExpected, int CycleSteps, IngestFigures Single, IngestFigures Batched);
