using System.Diagnostics;
using System.Globalization;
using TwinGateway.Core.Lines;
using TwinGateway.Drift.Alerts;
using TwinGateway.Drift.Features;
using TwinGateway.Drift.Inference;
using TwinGateway.Drift.Live;
using TwinGateway.Drift.Models;

namespace TwinGateway.Bench.Drift;

/// <summary>
/// <c>drift</c>: how well and how cheaply drift is detected on the simulated demo line (only: real data sets are held
/// out), with default settings and nothing tuned.
/// <list type="number">
/// <item>Quality: a PCA and an autoencoder trained on <see cref="DriftOptions.TrainingSpan"/> of healthy running (real
/// seed 11) and the physics rule; per drift kind (<see cref="DriftScenario.All"/>) and real seed (101, 102, ...): a
/// healthy warm-up, the fault, up to 2 simulated hours after onset. Per detector: the delay from onset to the first
/// alert its <see cref="AlertEngine"/> opens, whether that alert's top contributor is the faulted signal (or its
/// station's), point-wise F1 over frames (label: frame after onset; alarm: normalised score &gt;= 1).</item>
/// <item>False alarms: <c>--hours</c> of healthy running (real seed 31): alerts opened, scaled to a day, and the share
/// of frames at or above 1.</item>
/// <item>The better model kind: higher mean F1 over every kind and seed; within 0.01, the shorter mean delay (a miss
/// counts as the whole run after onset).</item>
/// <item>Performance: offline scoring rate (batch 1024, managed and ONNX Runtime CPU), live cost of 10 monitors fed one
/// frame per second each, training time on one day of frames.</item>
/// </list>
/// </summary>
internal static class DriftHarness
{
    private const ulong TrainingSeed = 11;
    private const ulong HealthySeed = 31;
    private const ulong LiveSeed = 41;
    private const ulong FirstFaultSeed = 101;
    private const int Batch = 1024;
    private const int LiveLines = 10;

    private static readonly ModelKind[] Kinds = [ModelKind.Pca, ModelKind.Autoencoder];

    public static Task<int> RunAsync(string[] args) => HarnessRunner.RunAsync(
        "drift",
        DriftOptions.Parse(args, out var error),
        error,
        async (options, cancellationToken) =>
        {
            var report = Run(options, args, cancellationToken);
            var path = await HarnessReport.WriteAsync(options.OutputPath, report).ConfigureAwait(false);
            PrintSummary(report, path);
            return 0;
        },
        ex => ex is InvalidOperationException or InvalidDataException or ArgumentException or IOException);

    private static DriftReport Run(DriftOptions options, string[] args, CancellationToken cancellationToken)
    {
        var machine = MachineFacts.Collect(withNode: false);
        var loadBefore = MachineFacts.LoadAverage1m();
        var total = Stopwatch.StartNew();
        var line = LineDefinitionLoader.LoadFile(RepositoryPaths.DemoLine).GetDefinitionOrThrow();
        var features = LineFeatures.For(line);
        var temp = Directory.CreateTempSubdirectory("twingw-drift-bench-");
        try
        {
            // Training: the same healthy frames for both kinds.
            Console.WriteLine($"drift: recording {options.TrainingSpan.TotalHours:0.##} h of healthy running (seed {TrainingSeed}) and training ...");
            var trainingFrames = DriftSimulation.Record(line, TrainingSeed, options.TrainingSpan, cancellationToken);
            var trainingOptions = new TrainingOptions();
            var models = new List<(DriftModel Model, ModelCard Card)>();
            var trainings = new List<TrainingFacts>();
            foreach (var kind in Kinds)
            {
                var clock = Stopwatch.StartNew();
                var model = DriftTrainers.Create(kind).Train(trainingFrames, trainingOptions, null, cancellationToken);
                clock.Stop();
                var card = Card(line, kind, model, trainingFrames, trainingOptions);
                models.Add((model, card));
                trainings.Add(new TrainingFacts(DriftTrainers.Name(kind), trainingFrames.Rows, model.Metrics.FitRows, model.Metrics.HoldBackRows,
                    model.Metrics.Threshold, Math.Round(clock.Elapsed.TotalSeconds, 2), model.Metrics.Details.ToDictionary()));
                Console.WriteLine($"  {DriftTrainers.Name(kind)}: {clock.Elapsed.TotalSeconds:0.0} s on {trainingFrames.Rows} frames, threshold {model.Metrics.Threshold:G4}");
            }

            var managed = models.Select(m => new ActiveModel("1", m.Card, new ManagedScorer(m.Model))).ToList();

            // 1. Quality per drift kind, detector and seed.
            var scenarios = options.Quick ? DriftScenario.Quick : DriftScenario.All;
            var quality = new List<QualityRow>();
            var perSeed = new Dictionary<(string Kind, string Detector), List<SeedResult>>();
            var qualityClock = Stopwatch.StartNew();
            var controls = new Dictionary<ulong, IReadOnlyList<DetectorTrack>>();
            IReadOnlyList<DetectorTrack> Control(ulong seed)
            {
                // The same seed without the fault: an alert it opens after the onset time is not the fault's doing.
                if (!controls.TryGetValue(seed, out var control))
                {
                    controls[seed] = control = DriftSimulation.Run(line, seed, options.WarmUp, null, options.AfterOnset, managed, temp.FullName, null, cancellationToken);
                }

                return control;
            }

            foreach (var scenario in scenarios)
            {
                for (var s = 0; s < options.Seeds; s++)
                {
                    var seed = FirstFaultSeed + (ulong)s;
                    var tracks = DriftSimulation.Run(line, seed, options.WarmUp, scenario.Fault, options.AfterOnset, managed, temp.FullName, null, cancellationToken);
                    var control = Control(seed);
                    for (var t = 0; t < tracks.Count; t++)
                    {
                        var track = tracks[t];
                        var delay = track.FirstAlertAfterOnsetMs is { } at ? (at - track.OnsetMs) / 1000.0 : (double?)null;
                        var controlDelay = control[t].FirstAlertAfterOnsetMs is { } cat ? (cat - control[t].OnsetMs) / 1000.0 : (double?)null;
                        var result = new SeedResult(seed, delay, controlDelay, delay is { } d && (controlDelay is not { } cd || d < cd), track.FirstAlertTopSignal,
                            track.FirstAlertTopSignal is null ? null : scenario.IsRightContributor(track.FirstAlertTopSignal),
                            Round(track.F1), Round(track.Precision), Round(track.Recall), track.AlertsOpenedBeforeOnset, track.AlertsOpened,
                            track.TruePositives, track.FalsePositives, track.FalseNegatives, track.TrueNegatives,
                            [.. track.AlertOpenedSeconds.Zip(track.AlertTopSignals, (at, top) => new OpenedAlert(at, top))]);
                        var key = (scenario.Kind, track.Detector);
                        if (!perSeed.TryGetValue(key, out var list))
                        {
                            perSeed[key] = list = [];
                        }

                        list.Add(result);
                    }

                    Console.WriteLine($"  {scenario.Kind,-15} seed {seed}: " + string.Join("  ", tracks.Select(t =>
                        $"{t.Detector} {(t.FirstAlertAfterOnsetMs is { } a ? $"{(a - t.OnsetMs) / 1000.0:0} s" : "missed")} F1 {t.F1:0.00}")));
                }
            }

            foreach (var ((kind, detector), seeds) in perSeed)
            {
                var scenario = scenarios.First(s => s.Kind == kind);
                var detected = seeds.Where(r => r.DelaySeconds is not null).ToList();
                quality.Add(new QualityRow(kind, detector, scenario.Target, scenario.Magnitude,
                    detected.Count, seeds.Count(r => r.BeforeControl), seeds.Count,
                    detected.Count == 0 ? null : Math.Round(detected.Average(r => r.DelaySeconds!.Value), 1),
                    Math.Round(seeds.Average(r => r.DelaySeconds ?? options.AfterOnset.TotalSeconds), 1),
                    Math.Round(seeds.Average(r => r.F1 ?? 0), 3),
                    seeds.Count(r => r.TopContributorRight == true), detected.Count,
                    seeds));
            }

            qualityClock.Stop();

            // 2. False alarms on healthy running (and the day's frames for the training-time figure).
            Console.WriteLine($"drift: {options.HealthyHours:0.##} h of healthy running (seed {HealthySeed}) ...");
            var healthyClock = Stopwatch.StartNew();
            var dayCollector = new FrameCollector(features);
            var healthyTracks = DriftSimulation.Run(line, HealthySeed, TimeSpan.FromHours(options.HealthyHours), null, TimeSpan.Zero, managed, temp.FullName,
                dayCollector, cancellationToken);
            healthyClock.Stop();
            var falseAlarms = healthyTracks.Select(t => new FalseAlarmRow(t.Detector, t.AlertsOpened,
                Math.Round(t.AlertsOpened * 24 / options.HealthyHours, 2), t.ScoredFrames, t.FramesAtOrAbove,
                t.ScoredFrames == 0 ? 0 : Math.Round((double)t.FramesAtOrAbove / t.ScoredFrames, 6),
                [.. t.Hourly.Select(h => h.Scored == 0 ? 0 : Math.Round((double)h.AtOrAbove / h.Scored, 4))],
                t.AlertTopSignals.GroupBy(x => x ?? "(none)").OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
                    .ToDictionary(g => g.Key, g => g.Count()))).ToList();
            var dayFrames = dayCollector.ToMatrix();

            // 3. The better model kind.
            var better = Better(quality, falseAlarms, options);

            // 4. Performance.
            Console.WriteLine("drift: performance ...");
            var onnx = models.Select(m => OnnxScorer.Load(m.Model.ExportOnnx(m.Card), ExecutionProviders.Choose(forceCpu: true))).ToList();
            try
            {
                var offline = new List<OfflineRate>();
                for (var k = 0; k < models.Count; k++)
                {
                    offline.Add(Offline(DriftTrainers.Name(models[k].Card.Kind), "managed", new ManagedScorer(models[k].Model), dayFrames, options));
                    offline.Add(Offline(DriftTrainers.Name(models[k].Card.Kind), "onnxruntime-cpu", onnx[k], dayFrames, options));
                }

                var live = Live(line, models, onnx, temp.FullName, options, cancellationToken);
                var trainingTimes = TrainingTimes(dayFrames, options, cancellationToken);
                total.Stop();
                return new DriftReport(
                    "drift",
                    DateTimeOffset.UtcNow,
                    string.Join(' ', args),
                    machine,
                    loadBefore,
                    MachineFacts.LoadAverage1m(),
                    Math.Round(total.Elapsed.TotalSeconds, 1),
                    new Settings(line.Id, features.Count, trainingOptions.Window, new DriftMonitorOptions().FrameSeconds, new DriftMonitorOptions().PhysicsWindowSeconds,
                        AlertRules.Default, trainingOptions, options.TrainingSpan.TotalHours, TrainingSeed, options.WarmUp.TotalMinutes, options.AfterOnset.TotalHours,
                        options.Seeds, [.. Enumerable.Range(0, options.Seeds).Select(s => FirstFaultSeed + (ulong)s)], DriftSimulation.TwinStep.TotalMilliseconds,
                        "1 Hz: every 10th twin step, at whole seconds", options.Quick),
                    trainings,
                    [.. scenarios.Select(s => new ScenarioFacts(s.Kind, s.Fault.GetType().Name, s.Target, s.StationLevel, s.Magnitude))],
                    quality,
                    new FalseAlarms(options.HealthyHours, HealthySeed, Math.Round(healthyClock.Elapsed.TotalSeconds, 1), falseAlarms),
                    better,
                    new Performance(offline, live, trainingTimes),
                    Math.Round(qualityClock.Elapsed.TotalSeconds, 1));
            }
            finally
            {
                foreach (var scorer in onnx)
                {
                    scorer.Dispose();
                }
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                temp.Delete(recursive: true);
            }
            catch (IOException)
            {
                // A leftover temp folder is not worth failing the run for.
            }
        }
    }

    private static ModelCard Card(LineDefinition line, ModelKind kind, DriftModel model, FrameMatrix frames, TrainingOptions options) =>
        new(line.Id, "1", kind, frames.Columns, model.Window, 1000, [.. model.Mean], [.. model.Scale], model.Metrics.Threshold,
            options.ThresholdQuantile, options.ThresholdMargin,
            DateTimeOffset.FromUnixTimeMilliseconds(frames.Times[0]), DateTimeOffset.FromUnixTimeMilliseconds(frames.Times[^1]),
            TrainingData.Hash(frames), DateTimeOffset.UtcNow, "bench", model.Metrics);

    private static BetterKind Better(List<QualityRow> quality, List<FalseAlarmRow> falseAlarms, DriftOptions options)
    {
        var figures = Kinds.Select(kind =>
        {
            var name = DriftTrainers.Name(kind);
            var seeds = quality.Where(q => q.Detector == name).SelectMany(q => q.Seeds).ToList();
            var detected = quality.Where(q => q.Detector == name).Sum(q => q.Detected);
            var rightTop = quality.Where(q => q.Detector == name).Sum(q => q.TopContributorRight);
            var beforeControl = quality.Where(q => q.Detector == name).Sum(q => q.DetectedBeforeControl);
            return new KindFigures(name,
                Math.Round(seeds.Average(r => r.F1 ?? 0), 3),
                Math.Round(seeds.Average(r => r.DelaySeconds ?? options.AfterOnset.TotalSeconds), 1),
                detected, beforeControl, seeds.Count, rightTop,
                falseAlarms.First(f => f.Detector == name).AlertsPerDay);
        }).ToList();
        var (a, b) = (figures[0], figures[1]);
        KindFigures winner;
        string why;
        if (Math.Abs(a.MeanF1 - b.MeanF1) > 0.01)
        {
            winner = a.MeanF1 > b.MeanF1 ? a : b;
            why = string.Create(CultureInfo.InvariantCulture, $"higher mean F1 ({winner.MeanF1:0.000} against {(winner == a ? b : a).MeanF1:0.000})");
        }
        else
        {
            winner = a.MeanDelaySeconds <= b.MeanDelaySeconds ? a : b;
            why = string.Create(CultureInfo.InvariantCulture,
                $"mean F1 within 0.01 ({a.MeanF1:0.000}, {b.MeanF1:0.000}); shorter mean delay ({winner.MeanDelaySeconds:0} s against {(winner == a ? b : a).MeanDelaySeconds:0} s)");
        }

        return new BetterKind(winner.Kind,
            "higher mean point-wise F1 over every drift kind and seed; when within 0.01, the shorter mean detection delay (a miss counts as the whole run after onset)",
            why, figures);
    }

    private static OfflineRate Offline(string kind, string path, IWindowScorer scorer, FrameMatrix frames, DriftOptions options)
    {
        const int window = 10;
        var width = frames.Width;
        var windows = new float[Batch * window * width];
        TrainingData.CopyWindows(frames, window, window - 1, Batch, windows);
        var scores = new float[Batch];
        var contributions = new float[Batch * width];
        scorer.Score(windows, Batch, scores, contributions); // warm-up (JIT, session buffers)
        var batches = 0;
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < options.ScoringSeconds || batches < 3)
        {
            scorer.Score(windows, Batch, scores, contributions);
            batches++;
        }

        clock.Stop();
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
        var rate = batches * (double)Batch / clock.Elapsed.TotalSeconds;
        Console.WriteLine($"  offline {kind,-11} {path,-16} {rate,12:N0} windows/s");
        return new OfflineRate(kind, path, width, window, Batch, batches, Math.Round(clock.Elapsed.TotalSeconds, 3), Math.Round(rate),
            Math.Round(cpu / clock.Elapsed.TotalSeconds, 2));
    }

    private static List<LiveCost> Live(LineDefinition line, List<(DriftModel Model, ModelCard Card)> models, List<OnnxScorer> onnx, string folder,
        DriftOptions options, CancellationToken cancellationToken)
    {
        // One recording of the line at 1 Hz, played to every monitor (each line its own monitor, engine and store).
        var monitorOptions = new DriftMonitorOptions();
        var warm = monitorOptions.PhysicsWindowFrames;
        var seconds = warm + options.LiveSeconds;
        var signals = line.Signals.Length;
        var real = new double[seconds * signals];
        var expected = new double[seconds * signals];
        var times = new long[seconds];
        var run = new Simulation.PairedTwinRun(line, LiveSeed, LiveSeed + DriftSimulation.ShadowSeedOffset, DriftSimulation.TwinStep, DriftSimulation.Start);
        for (var s = 0; s < seconds; s++)
        {
            for (var k = 0; k < DriftSimulation.StepsPerSample - 1; k++)
            {
                run.Real.Step();
                run.Shadow.Step();
            }

            var row = s;
            run.Step((i, r, e) =>
            {
                real[row * signals + i] = r;
                expected[row * signals + i] = e;
            });
            times[s] = DriftSimulation.Ms(run.Time);
        }

        var results = new List<LiveCost>();
        var process = Process.GetCurrentProcess();
        for (var m = 0; m < models.Count; m++)
        {
            foreach (var (path, scorer) in new (string, IWindowScorer)[] { ("managed", new ManagedScorer(models[m].Model)), ("onnxruntime-cpu", onnx[m]) })
            {
                cancellationToken.ThrowIfCancellationRequested();
                var stores = new List<SqliteAlertStore>();
                var monitors = new List<LineDriftMonitor>();
                var frames = 0L;
                try
                {
                    for (var l = 0; l < LiveLines; l++)
                    {
                        var store = SqliteAlertStore.Open(Path.Combine(folder, $"live-{Guid.NewGuid():N}.db"));
                        stores.Add(store);
                        var monitor = new LineDriftMonitor(line, monitorOptions, new AlertEngine(store));
                        monitor.FrameScored = _ => frames++;
                        monitor.SetModel(new ActiveModel("1", models[m].Card, scorer));
                        monitors.Add(monitor);
                    }

                    Feed(0, warm);
                    frames = 0;
                    process.Refresh();
                    var cpuBefore = process.TotalProcessorTime;
                    var clock = Stopwatch.StartNew();
                    Feed(warm, seconds);
                    clock.Stop();
                    process.Refresh();
                    var cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
                    var kind = DriftTrainers.Name(models[m].Card.Kind);
                    var share = cpu / options.LiveSeconds;
                    Console.WriteLine($"  live    {kind,-11} {path,-16} {LiveLines} lines: {share:P3} of a core ({cpu * 1e6 / Math.Max(1, frames):0} us CPU per frame)");
                    results.Add(new LiveCost(kind, path, LiveLines, options.LiveSeconds, frames, Math.Round(cpu, 3), Math.Round(clock.Elapsed.TotalSeconds, 3),
                        Math.Round(share, 5), Math.Round(cpu * 1e6 / Math.Max(1, frames), 1), Math.Round(clock.Elapsed.TotalSeconds * 1e6 / Math.Max(1, frames), 1)));
                }
                finally
                {
                    foreach (var store in stores)
                    {
                        store.Dispose();
                    }
                }

                void Feed(int from, int to)
                {
                    for (var s = from; s < to; s++)
                    {
                        foreach (var monitor in monitors)
                        {
                            for (var i = 0; i < signals; i++)
                            {
                                monitor.Add(i, times[s], real[s * signals + i], expected[s * signals + i], good: true);
                            }
                        }
                    }
                }
            }
        }

        return results;
    }

    private static List<TrainingTime> TrainingTimes(FrameMatrix dayFrames, DriftOptions options, CancellationToken cancellationToken)
    {
        // One recorded day at 1 s; a shorter healthy run is repeated to fill it (said in the result).
        var rows = options.TrainingTimeRows;
        var width = dayFrames.Width;
        var data = new float[rows * width];
        for (var r = 0; r < rows; r++)
        {
            dayFrames.Row(r % dayFrames.Rows).CopyTo(data.AsSpan(r * width, width));
        }

        var times = Enumerable.Range(0, rows).Select(r => DriftSimulation.Ms(DriftSimulation.Start) + r * 1000L).ToArray();
        var frames = new FrameMatrix(dayFrames.Columns, data, [.. times]);
        var result = new List<TrainingTime>();
        foreach (var kind in Kinds)
        {
            var clock = Stopwatch.StartNew();
            var model = DriftTrainers.Create(kind).Train(frames, new TrainingOptions(), null, cancellationToken);
            clock.Stop();
            Console.WriteLine($"  train   {DriftTrainers.Name(kind),-11} {rows} frames: {clock.Elapsed.TotalSeconds:0.0} s");
            result.Add(new TrainingTime(DriftTrainers.Name(kind), rows, dayFrames.Rows, rows > dayFrames.Rows, Math.Round(clock.Elapsed.TotalSeconds, 2),
                model.Metrics.FitRows, model.Metrics.HoldBackRows, model.Metrics.Details.ToDictionary()));
        }

        return result;
    }

    private static double? Round(double? value) => value is { } v ? Math.Round(v, 4) : null;

    private static void PrintSummary(DriftReport report, string path)
    {
        var s = report.Settings;
        Console.WriteLine();
        Console.WriteLine($"drift: demo line, {s.Features} features, window {s.Window}, frames {s.FrameSeconds} s, physics window {s.PhysicsWindowSeconds} s, " +
            $"{s.Seeds} seed(s) per kind, {s.WarmUpMinutes} min warm-up, {s.HoursAfterOnset} h after onset");
        Console.WriteLine();
        Console.WriteLine("detected: alert opened after onset (before the same seed's fault-free control run's first alert after that time: b)");
        Console.WriteLine($"{"kind",-15} {"detector",-26} {"detected",8} {"b",3} {"delay s",9} {"F1",6} {"top right",9}   per seed (delay s / control s / F1 / top)");
        foreach (var q in report.Quality)
        {
            var seeds = string.Join("  ", q.Seeds.Select(r =>
                $"{(r.DelaySeconds is { } d ? d.ToString("0", CultureInfo.InvariantCulture) : "-")}/{(r.ControlDelaySeconds is { } c ? c.ToString("0", CultureInfo.InvariantCulture) : "-")}/{r.F1 ?? 0:0.00}/{(r.TopContributorRight is { } t ? (t ? "y" : "n") : "-")}"));
            Console.WriteLine($"{q.Kind,-15} {q.Detector,-26} {q.Detected,4}/{q.Runs,-3} {q.DetectedBeforeControl,3} {(q.MeanDelaySecondsDetected is { } md ? md.ToString("0", CultureInfo.InvariantCulture) : "-"),9} " +
                $"{q.MeanF1,6:0.00} {q.TopContributorRight,5}/{q.TopContributorJudged,-3}   {seeds}");
        }

        Console.WriteLine();
        Console.WriteLine($"false alarms, {report.FalseAlarms.Hours:0.##} h healthy (seed {report.FalseAlarms.Seed}):");
        foreach (var f in report.FalseAlarms.Detectors)
        {
            Console.WriteLine($"  {f.Detector,-26} {f.AlertsOpened} alerts = {f.AlertsPerDay:0.##} per day; {f.ShareAtOrAbove1:P3} of {f.ScoredFrames} frames >= 1");
            Console.WriteLine($"    share >= 1 per hour: {string.Join(" ", f.HourlyShareAtOrAbove1.Select(h => h.ToString("0.00", CultureInfo.InvariantCulture)))}");
            Console.WriteLine($"    alerts' top contributors: {string.Join(", ", f.AlertTopContributors.Select(p => $"{p.Key} {p.Value}"))}");
        }

        Console.WriteLine();
        Console.WriteLine($"better model kind: {report.Better.Kind}: {report.Better.Why}");
        foreach (var k in report.Better.Figures)
        {
            Console.WriteLine($"  {k.Kind,-12} mean F1 {k.MeanF1:0.000}, mean delay {k.MeanDelaySeconds:0} s, detected {k.Detected}/{k.Runs} ({k.DetectedBeforeControl} before the control's false alarm), top right {k.TopContributorRight}, {k.FalseAlarmsPerDay:0.##} false alarms/day");
        }

        Console.WriteLine();
        Console.WriteLine($"wrote {path} ({report.WallSeconds:0} s wall)");
    }
}

internal sealed record DriftReport(
    string Harness,
    DateTimeOffset At,
    string Arguments,
    MachineFacts Machine,
    double? LoadAverageBefore,
    double? LoadAverageAfter,
    double WallSeconds,
    Settings Settings,
    IReadOnlyList<TrainingFacts> Training,
    IReadOnlyList<ScenarioFacts> Scenarios,
    IReadOnlyList<QualityRow> Quality,
    FalseAlarms FalseAlarms,
    BetterKind Better,
    Performance Performance,
    double QualityWallSeconds);

internal sealed record Settings(string Line, int Features, int Window, double FrameSeconds, double PhysicsWindowSeconds, AlertRules AlertRules,
    TrainingOptions TrainingOptions, double TrainingHours, ulong TrainingSeed, double WarmUpMinutes, double HoursAfterOnset, int Seeds,
    IReadOnlyList<ulong> FaultSeeds, double TwinStepMilliseconds, string Feeding, bool Quick);

internal sealed record TrainingFacts(string Kind, int Frames, int FitRows, int HoldBackRows, double Threshold, double Seconds, IReadOnlyDictionary<string, string> Details);

internal sealed record ScenarioFacts(string Kind, string Fault, string Target, bool StationLevel, string Magnitude);

/// <param name="ControlDelaySeconds">The first alert after the onset time in the same seed's run without the fault (a false alarm).</param>
/// <param name="BeforeControl">Detected, and before the control run's first alert after the onset time (or it had none).</param>
internal sealed record SeedResult(ulong Seed, double? DelaySeconds, double? ControlDelaySeconds, bool BeforeControl, string? TopContributor, bool? TopContributorRight, double? F1, double? Precision, double? Recall,
    int AlertsBeforeOnset, int AlertsOpened, int TruePositives, int FalsePositives, int FalseNegatives, int TrueNegatives,
    IReadOnlyList<OpenedAlert> Alerts);

/// <summary>An alert the detector opened: seconds from the start of the run (the onset is at the warm-up's end) and its top contributor.</summary>
internal sealed record OpenedAlert(double AtSeconds, string? TopContributor);

/// <param name="MeanDelaySecondsDetected">Mean delay over the seeds that were detected.</param>
/// <param name="MeanDelaySecondsMissAsHorizon">Mean delay with a miss counted as the whole run after onset.</param>
internal sealed record QualityRow(string Kind, string Detector, string Target, string Magnitude, int Detected, int DetectedBeforeControl, int Runs, double? MeanDelaySecondsDetected,
    double MeanDelaySecondsMissAsHorizon, double MeanF1, int TopContributorRight, int TopContributorJudged, IReadOnlyList<SeedResult> Seeds);

/// <param name="HourlyShareAtOrAbove1">The share of frames at or above 1 in each hour of the run.</param>
/// <param name="AlertTopContributors">How many of the alerts opened had each signal as top contributor.</param>
internal sealed record FalseAlarmRow(string Detector, int AlertsOpened, double AlertsPerDay, long ScoredFrames, long FramesAtOrAbove1, double ShareAtOrAbove1,
    IReadOnlyList<double> HourlyShareAtOrAbove1, IReadOnlyDictionary<string, int> AlertTopContributors);

internal sealed record FalseAlarms(double Hours, ulong Seed, double WallSeconds, IReadOnlyList<FalseAlarmRow> Detectors);

internal sealed record KindFigures(string Kind, double MeanF1, double MeanDelaySeconds, int Detected, int DetectedBeforeControl, int Runs, int TopContributorRight, double FalseAlarmsPerDay);

internal sealed record BetterKind(string Kind, string Rule, string Why, IReadOnlyList<KindFigures> Figures);

internal sealed record OfflineRate(string Kind, string Path, int Features, int Window, int Batch, int Batches, double Seconds, double WindowsPerSecond, double CpuCoresBusy);

internal sealed record LiveCost(string Kind, string Path, int Lines, int SimulatedSeconds, long Frames, double CpuSeconds, double WallSeconds,
    double CoreShare, double CpuMicrosecondsPerFrame, double WallMicrosecondsPerFrame);

internal sealed record TrainingTime(string Kind, int Rows, int DistinctRows, bool Repeated, double Seconds, int FitRows, int HoldBackRows,
    IReadOnlyDictionary<string, string> Details);

internal sealed record Performance(IReadOnlyList<OfflineRate> Offline, IReadOnlyList<LiveCost> Live, IReadOnlyList<TrainingTime> Training);
