using System.Diagnostics;
using System.Globalization;
using TwinGateway.Commissioning.Changes;
using TwinGateway.Commissioning.Policy;
using TwinGateway.Commissioning.Validation;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Lines;
using TwinGateway.Simulation;

namespace TwinGateway.Bench.Validation;

/// <summary>
/// <c>validation</c>: the commissioning gate's validation of the demo line (issue 10, "Performance"): the full policy,
/// 2 x 16 seeds x 8 simulated hours at 1 s steps, in under 15 s wall on 2 cores, with the twin's real-time factor per
/// core, in this process and on the same code path as the gate (<see cref="ValidationSuite.Run"/>).
/// <list type="number">
/// <item>The snapshot: a <see cref="TwinMode.Shadow"/> twin of the line at the gateway's 100 ms step (seed 7) runs
/// <c>--warm-minutes</c> simulated minutes (so parts are in progress at the fork), then
/// <see cref="LineTwin.WithStep"/> the policy's step, as <c>CommissioningGate.ValidateAsync</c> does with
/// <c>SnapshotTwin()</c>.</item>
/// <item>The request: the change file, the policy file, credibility figures that make the twin credible for every
/// touched signal (100 samples, mean scaled error 0.001, max 0.002), the base seed the gate derives from the change's
/// content hash.</item>
/// <item><c>--warmups</c> unmeasured validations, then <c>--reps</c> measured ones per
/// <see cref="ValidationRequest.MaxDegreeOfParallelism"/> in <c>--parallelism</c>, interleaved (2, 1, 2, 1, ...) so a
/// change in the machine's load touches both alike. Per repetition: wall time (our stopwatch and the suite's own
/// <see cref="ValidationTiming"/>), the process's CPU time, the load average before and after, the verdict and the
/// evidence hash. Every hash must be the same (the evidence is bit-identical whatever the parallelism).</item>
/// <item>The failing change (<c>--failing-change</c>, robot 1 at 40 %) once: its verdict and the throughput interval;
/// it must fail the throughput criterion.</item>
/// </list>
/// Exit codes: 0 done (a missed wall-time target is reported, not an error); 1 an evidence hash differed, the change
/// did not pass, or the failing change passed its throughput criterion; 2 bad arguments.
/// </summary>
internal static class ValidationBenchmark
{
    /// <summary>Issue 10: the demo line's full validation in under 15 s wall on this 2-core machine.</summary>
    public const double TargetWallSeconds = 15;

    /// <summary>Credibility figures that pass any sane policy: the twin matched the real line closely.</summary>
    private const long CredibleSamples = 100;
    private const double CredibleMeanScaledError = 0.001;
    private const double CredibleMaxScaledError = 0.002;

    /// <summary>The shadow twin's seed (any will do; recorded in the evidence's snapshot identity).</summary>
    private const ulong ShadowSeed = 7;

    public static Task<int> RunAsync(string[] args) => HarnessRunner.RunAsync(
        "validation",
        ValidationOptions.Parse(args, out var error),
        error,
        async (options, cancellationToken) =>
        {
            var report = Run(options, args, cancellationToken);
            var path = await HarnessReport.WriteAsync(options.OutputPath, report).ConfigureAwait(false);
            PrintSummary(report, path);
            return report.Errors.Count > 0 ? 1 : 0;
        },
        ex => ex is InvalidOperationException or InvalidDataException or ArgumentException or IOException);

    private static ValidationReport Run(ValidationOptions options, string[] args, CancellationToken cancellationToken)
    {
        var machine = MachineFacts.Collect(withNode: false);
        var loadBefore = MachineFacts.LoadAverage1m();
        var total = Stopwatch.StartNew();
        var lineText = File.ReadAllText(options.LineFile);
        var line = LineDefinitionLoader.LoadFile(options.LineFile).GetDefinitionOrThrow();
        var policy = ValidationPolicyLoader.LoadFile(options.PolicyFile, line).GetPolicyOrThrow();
        var change = ChangeRequestLoader.LoadFile(options.ChangeFile).GetChangeOrThrow();
        var errors = new List<string>();

        // The shadow twin as the gateway runs it (100 ms steps), warmed up, then at the policy's step.
        var warmClock = Stopwatch.StartNew();
        var shadow = new LineTwin(line, new TwinOptions { Mode = TwinMode.Shadow, Seed = ShadowSeed, Step = TimeSpan.FromSeconds(options.ShadowStepSeconds) });
        shadow.RunUntil(shadow.SimTime + TimeSpan.FromMinutes(options.WarmMinutes));
        var snapshot = shadow.WithStep(policy.Step);
        var snapshotInfo = new SnapshotFacts(
            shadow.Options.Step.TotalSeconds, options.WarmMinutes, shadow.Steps, shadow.PartsProduced,
            snapshot.SimTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture), snapshot.StepLength.TotalSeconds,
            Math.Round(warmClock.Elapsed.TotalSeconds, 3));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"validation: shadow twin warmed up {options.WarmMinutes} simulated minutes ({shadow.Steps:N0} steps, {shadow.PartsProduced} parts) in {warmClock.Elapsed.TotalSeconds:0.00} s; snapshot at {snapshot.StepLength.TotalSeconds} s steps"));

        ValidationRequest Request(ChangeRequest c, int parallelism) => new()
        {
            Snapshot = snapshot,
            CurrentLine = line,
            CurrentLineText = lineText,
            Change = c,
            Policy = policy,
            Credibility = [.. ValidationSuite.TouchedSignals(c, line).Select(id => new SignalCredibility(id, CredibleSamples, CredibleMeanScaledError, CredibleMaxScaledError))],
            BaseSeed = BaseSeed(c),
            Seeds = options.Seeds,
            Horizon = options.Hours is { } h ? TimeSpan.FromHours(h) : null,
            MaxDegreeOfParallelism = parallelism,
        };

        var warmUps = new List<RepetitionFigures>();
        for (var i = 0; i < options.WarmUps; i++)
        {
            var figures = Measure(Request(change, options.Parallelism[0]), $"warm-up {i + 1}", cancellationToken);
            warmUps.Add(figures);
        }

        var measured = options.Parallelism.ToDictionary(p => p, _ => new List<RepetitionFigures>());
        Evidence? evidence = null;
        for (var rep = 1; rep <= options.Repetitions; rep++)
        {
            foreach (var parallelism in options.Parallelism)
            {
                var figures = Measure(Request(change, parallelism), $"repetition {rep}, parallelism {parallelism}", cancellationToken, e => evidence ??= e);
                measured[parallelism].Add(figures);
            }
        }

        var hashes = warmUps.Concat(measured.Values.SelectMany(r => r)).Select(r => r.EvidenceHash).Distinct().ToList();
        var hashStable = hashes.Count == 1;
        if (!hashStable)
        {
            errors.Add($"the evidence hash differed between repetitions: {string.Join(", ", hashes)}");
        }

        if (evidence!.Verdict != ValidationVerdict.Pass)
        {
            errors.Add($"{Path.GetFileName(options.ChangeFile)} did not pass: {EvidenceJson.VerdictText(evidence.Verdict)}: {evidence.Summary}");
        }

        var settings = options.Parallelism.Select(p => Summarize(p, measured[p])).ToList();
        var targets = new List<ValidationTarget>();
        if (options.FullPolicy && settings.FirstOrDefault(s => s.MaxDegreeOfParallelism == 2) is { } twoCores)
        {
            targets.Add(new ValidationTarget("full policy, median wall seconds at MaxDegreeOfParallelism 2", "<", TargetWallSeconds,
                twoCores.WallSecondsMedian, twoCores.WallSecondsMedian < TargetWallSeconds));
        }

        FailingChangeFigures? failing = null;
        if (options.FailingChangeFile is { } failingFile)
        {
            var failingChange = ChangeRequestLoader.LoadFile(failingFile).GetChangeOrThrow();
            Evidence? failingEvidence = null;
            var figures = Measure(Request(failingChange, options.Parallelism[0]), $"{Path.GetFileName(failingFile)}, parallelism {options.Parallelism[0]}", cancellationToken, e => failingEvidence = e);
            var throughput = Throughput(failingEvidence!);
            failing = new FailingChangeFigures(
                Path.GetRelativePath(RepositoryPaths.Root, failingFile),
                failingChange.Title,
                EvidenceJson.VerdictText(failingEvidence!.Verdict),
                throughput,
                [.. failingEvidence.Criteria.Where(c => !c.Passed).Select(c => c.Subject.Length > 0 ? $"{c.Kind} {c.Subject}" : c.Kind)],
                failingEvidence.Summary,
                figures);
            if (throughput is null || throughput.Passed)
            {
                errors.Add($"{Path.GetFileName(failingFile)} did not fail the throughput criterion: {throughput?.Explanation ?? "no throughput criterion in the policy"}");
            }
        }

        var simulatedHours = evidence.Timing.SimulatedSeconds / 3600;
        return new ValidationReport
        {
            TimestampUtc = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            Command = "dotnet run -c Release --project bench/TwinGateway.Bench -- validation" + (args.Length > 0 ? " " + string.Join(' ', args) : ""),
            Machine = machine,
            LoadAverage1mBefore = loadBefore,
            LoadAverage1mAfter = MachineFacts.LoadAverage1m(),
            Settings = new ValidationSettings(
                Path.GetRelativePath(RepositoryPaths.Root, options.LineFile),
                Path.GetRelativePath(RepositoryPaths.Root, options.PolicyFile),
                policy.Hash,
                Path.GetRelativePath(RepositoryPaths.Root, options.ChangeFile),
                change.Title,
                evidence.ChangeHash,
                evidence.BaseSeed.ToString("x16", CultureInfo.InvariantCulture),
                evidence.Seeds.Length,
                evidence.HorizonSeconds / 3600,
                evidence.StepSeconds,
                evidence.Seeds.Length * 2,
                evidence.StepsPerRun,
                options.FullPolicy,
                options.Repetitions,
                options.WarmUps,
                [.. options.Parallelism],
                $"each touched signal ({evidence.Credibility.Signals.Length}): {CredibleSamples} samples, mean scaled error {CredibleMeanScaledError}, max {CredibleMaxScaledError}",
                $"System.GC.Server={AppContext.GetData("System.GC.Server") ?? "False"}, System.GC.Concurrent={AppContext.GetData("System.GC.Concurrent") ?? "True"}",
                "Everything in this one process, on the same cores as whatever else runs on the machine (see the load averages). " +
                "Repetitions of the parallelism settings are interleaved; the warm-up runs first, at the first setting."),
            Snapshot = snapshotInfo,
            Verdict = EvidenceJson.VerdictText(evidence.Verdict),
            Summary = evidence.Summary,
            Throughput = Throughput(evidence),
            EvidenceHash = hashes[0],
            EvidenceHashStable = hashStable,
            EvidenceHashes = hashes.Count,
            SimulatedSeconds = evidence.Timing.SimulatedSeconds,
            SimulatedHours = simulatedHours,
            WarmUp = warmUps,
            Parallelism = settings,
            FailingChange = failing,
            Targets = targets,
            Errors = errors,
            TotalS = Math.Round(total.Elapsed.TotalSeconds, 1),
            How = [
                "wallSeconds: a Stopwatch around ValidationSuite.Run (forks, every run, judging, credibility, the evidence record); suiteWallSeconds is the suite's own Evidence.Timing.WallSeconds over the same call.",
                "realTimeFactorPerCore: simulated seconds of all runs (2 x seeds x horizon) / (wall seconds x cores used), as Evidence.Timing computes it (cores = min(MaxDegreeOfParallelism, processors, runs)); min/median/max over the repetitions.",
                "realTimeFactorPerCpuSecond: simulated seconds / the process's CPU seconds (Process.TotalProcessorTime, all threads) over the call: the twin's speed on the CPU it actually got, less sensitive to other load than the wall figure. cpuPerWall below the cores used means the process waited for a core.",
                "evidenceHash: Evidence.Hash (SHA-256 of the canonical evidence JSON without Timing); the same change, policy, line text, snapshot and base seed must give the same hash on every repetition and at every parallelism.",
                "peakCores: the highest CPU rate of this process over 250 ms windows during the call (sampled on a timer thread): about 2 when both runs at a time got a core, about 1 when the machine's other load left the process one core.",
                "loadAverage1m*: /proc/loadavg before and after each call; above the core count the machine was shared and the wall figures are a floor on what an idle machine does.",
            ],
        };
    }

    /// <summary>One validation, timed.</summary>
    private static RepetitionFigures Measure(ValidationRequest request, string label, CancellationToken cancellationToken, Action<Evidence>? keep = null)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var loadBefore = MachineFacts.LoadAverage1m();
        var allocated = GC.GetTotalAllocatedBytes(precise: false);
        var gen0 = GC.CollectionCount(0);
        var gen2 = GC.CollectionCount(2);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        Evidence evidence;
        double peakCores;
        using (var sampler = new CpuSampler(TimeSpan.FromMilliseconds(250)))
        {
            evidence = new ValidationSuite().Run(request, progress: null, cancellationToken);
            peakCores = sampler.Stop();
        }

        var wall = clock.Elapsed.TotalSeconds;
        var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        var figures = new RepetitionFigures(
            label,
            request.MaxDegreeOfParallelism,
            evidence.Timing.Cores,
            Math.Round(wall, 3),
            Math.Round(evidence.Timing.WallSeconds, 3),
            Math.Round(cpuSeconds, 3),
            Math.Round(cpuSeconds / wall, 2),
            Math.Round(peakCores, 2),
            Math.Round(evidence.Timing.RealTimeFactorPerCore),
            Math.Round(evidence.Timing.SimulatedSeconds / cpuSeconds),
            Math.Round((GC.GetTotalAllocatedBytes(precise: false) - allocated) / 1e6, 1),
            GC.CollectionCount(0) - gen0,
            GC.CollectionCount(2) - gen2,
            loadBefore,
            MachineFacts.LoadAverage1m(),
            EvidenceJson.VerdictText(evidence.Verdict),
            evidence.Hash);
        keep?.Invoke(evidence);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"validation: {label}: {figures.WallSeconds:0.00} s wall, {figures.CpuSeconds:0.00} s CPU (peak {figures.PeakCores:0.00} cores), {figures.RealTimeFactorPerCore:N0}x real time per core, {figures.Verdict}, {figures.EvidenceHash[..16]}, load {figures.LoadAverage1mBefore} -> {figures.LoadAverage1mAfter}"));
        return figures;
    }

    private static ParallelismFigures Summarize(int parallelism, List<RepetitionFigures> runs)
    {
        var walls = runs.Select(r => r.WallSeconds).Order().ToArray();
        var rtf = runs.Select(r => r.RealTimeFactorPerCore).Order().ToArray();
        var rtfCpu = runs.Select(r => r.RealTimeFactorPerCpuSecond).Order().ToArray();
        var loads = runs.SelectMany(r => new[] { r.LoadAverage1mBefore, r.LoadAverage1mAfter }).OfType<double>().ToArray();
        return new ParallelismFigures(
            parallelism,
            runs[0].Cores,
            runs.Count,
            walls[0],
            Median(walls),
            walls[^1],
            rtf[0],
            Median(rtf),
            rtf[^1],
            Median(rtfCpu),
            loads.Length == 0 ? null : loads.Min(),
            loads.Length == 0 ? null : loads.Max(),
            runs.Select(r => r.EvidenceHash).Distinct().Count() == 1,
            runs);
    }

    private static double Median(double[] sorted) =>
        sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;

    /// <summary>The run seeds come from the change's content, as the gate derives them (<c>CommissioningGate.BaseSeed</c>).</summary>
    private static ulong BaseSeed(ChangeRequest change) => Convert.ToUInt64(ChangeHash.Compute(change)[..16], 16);

    private static ThroughputFigures? Throughput(Evidence evidence) =>
        evidence.Criteria.FirstOrDefault(c => c.Kind == "throughput") is { } c
            ? new ThroughputFigures(
                c.Measure,
                c.Confidence,
                c.Limit,
                Math.Round(c.BaselineMean, 2),
                Math.Round(c.CandidateMean, 2),
                Math.Round(c.DifferenceMean, 2),
                Math.Round(c.DifferenceLow, 2),
                Math.Round(c.DifferenceHigh, 2),
                Math.Round(c.RelativeLowPercent, 2),
                Math.Round(c.RelativeHighPercent, 2),
                c.Passed,
                c.Explanation)
            : null;

    private static void PrintSummary(ValidationReport report, string path)
    {
        var inv = CultureInfo.InvariantCulture;
        var m = report.Machine;
        var s = report.Settings;
        Console.WriteLine(string.Create(inv, $"validation: {m.Cores} cores, {m.Cpu}, {m.Dotnet}; load average (1 min) {report.LoadAverage1mBefore} -> {report.LoadAverage1mAfter}; {report.TotalS} s in all"));
        Console.WriteLine(string.Create(inv, $"  {s.Change} ({s.Title}): {s.Runs} runs = 2 x {s.Seeds} seeds x {s.HorizonHours} h at {s.StepSeconds} s steps = {report.SimulatedHours:N0} simulated hours; verdict {report.Verdict}"));
        foreach (var p in report.Parallelism)
        {
            Console.WriteLine(string.Create(inv,
                $"  MaxDegreeOfParallelism {p.MaxDegreeOfParallelism} ({p.Cores} cores): wall min {p.WallSecondsMin:0.00} s, median {p.WallSecondsMedian:0.00} s, max {p.WallSecondsMax:0.00} s ({p.Repetitions} reps); real time per core median {p.RealTimeFactorPerCoreMedian:N0}x ({p.RealTimeFactorPerCoreMin:N0}..{p.RealTimeFactorPerCoreMax:N0}); per CPU second {p.RealTimeFactorPerCpuSecondMedian:N0}x; load {p.LoadAverage1mMin}..{p.LoadAverage1mMax}"));
        }

        Console.WriteLine($"  evidence hash {report.EvidenceHash}: {(report.EvidenceHashStable ? "identical on every repetition and parallelism" : $"NOT STABLE ({report.EvidenceHashes} different)")}");
        if (report.Throughput is { } t)
        {
            Console.WriteLine(string.Create(inv, $"  throughput: {t.BaselineMean} -> {t.CandidateMean} parts, difference {t.DifferenceLow}..{t.DifferenceHigh} ({t.RelativeLowPercent}..{t.RelativeHighPercent} %), {(t.Passed ? "passed" : "failed")}"));
        }

        if (report.FailingChange is { } f)
        {
            Console.WriteLine(string.Create(inv, $"  {f.Change}: verdict {f.Verdict}; failed {string.Join(", ", f.FailedCriteria)}; {f.Run.WallSeconds:0.00} s"));
            if (f.Throughput is { } ft)
            {
                Console.WriteLine(string.Create(inv, $"    throughput: {ft.BaselineMean} -> {ft.CandidateMean} parts, {ft.Confidence:P0} interval of the difference {ft.DifferenceLow}..{ft.DifferenceHigh} ({ft.RelativeLowPercent}..{ft.RelativeHighPercent} %), {(ft.Passed ? "PASSED" : "failed")}"));
            }
        }

        foreach (var target in report.Targets)
        {
            Console.WriteLine(string.Create(inv, $"  target: {target.Name} {target.Op} {target.Target}: {target.Actual:0.00} {(target.Met ? "met" : "NOT met")}"));
        }

        foreach (var error in report.Errors)
        {
            Console.WriteLine($"  ERROR: {error}");
        }

        Console.WriteLine($"  written to {path}");
    }
}

/// <summary>The process's highest CPU rate (cores) over windows of a fixed length, sampled on a timer thread.</summary>
internal sealed class CpuSampler : IDisposable
{
    private readonly Timer _timer;
    private readonly Lock _lock = new();
    private TimeSpan _lastCpu = Process.GetCurrentProcess().TotalProcessorTime;
    private long _lastTime = Stopwatch.GetTimestamp();
    private double _peak;

    public CpuSampler(TimeSpan period) => _timer = new Timer(_ => Sample(), null, period, period);

    /// <summary>Stops sampling (taking a last sample) and returns the peak.</summary>
    public double Stop()
    {
        _timer.Change(Timeout.Infinite, Timeout.Infinite);
        Sample();
        lock (_lock)
        {
            return _peak;
        }
    }

    public void Dispose() => _timer.Dispose();

    private void Sample()
    {
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var now = Stopwatch.GetTimestamp();
        lock (_lock)
        {
            var seconds = Stopwatch.GetElapsedTime(_lastTime, now).TotalSeconds;
            if (seconds >= 0.1)
            {
                _peak = Math.Max(_peak, (cpu - _lastCpu).TotalSeconds / seconds);
                _lastCpu = cpu;
                _lastTime = now;
            }
        }
    }
}

internal sealed record ValidationReport
{
    public string Benchmark => "validation";

    public required string TimestampUtc { get; init; }

    public required string Command { get; init; }

    public required MachineFacts Machine { get; init; }

    public double? LoadAverage1mBefore { get; init; }

    public double? LoadAverage1mAfter { get; init; }

    public required ValidationSettings Settings { get; init; }

    public required SnapshotFacts Snapshot { get; init; }

    public required string Verdict { get; init; }

    public required string Summary { get; init; }

    public ThroughputFigures? Throughput { get; init; }

    public required string EvidenceHash { get; init; }

    public required bool EvidenceHashStable { get; init; }

    /// <summary>Distinct hashes seen over the warm-ups and every repetition (1 when stable).</summary>
    public required int EvidenceHashes { get; init; }

    public required double SimulatedSeconds { get; init; }

    public required double SimulatedHours { get; init; }

    public required IReadOnlyList<RepetitionFigures> WarmUp { get; init; }

    public required IReadOnlyList<ParallelismFigures> Parallelism { get; init; }

    public FailingChangeFigures? FailingChange { get; init; }

    public required IReadOnlyList<ValidationTarget> Targets { get; init; }

    public required IReadOnlyList<string> Errors { get; init; }

    public required double TotalS { get; init; }

    public required IReadOnlyList<string> How { get; init; }
}

internal sealed record ValidationSettings(
    string LineFile,
    string PolicyFile,
    string PolicyHash,
    string Change,
    string Title,
    string ChangeHash,
    string BaseSeed,
    int Seeds,
    double HorizonHours,
    double StepSeconds,
    int Runs,
    long StepsPerRun,
    bool FullPolicy,
    int Repetitions,
    int WarmUps,
    IReadOnlyList<int> MaxDegreeOfParallelism,
    string Credibility,
    string Gc,
    string Note);

internal sealed record SnapshotFacts(
    double ShadowStepSeconds,
    double WarmUpSimulatedMinutes,
    long ShadowSteps,
    long PartsProducedAtSnapshot,
    string SimTime,
    double SnapshotStepSeconds,
    double WarmUpWallSeconds);

internal sealed record RepetitionFigures(
    string Label,
    int MaxDegreeOfParallelism,
    int Cores,
    double WallSeconds,
    double SuiteWallSeconds,
    double CpuSeconds,
    double CpuPerWall,
    double PeakCores,
    double RealTimeFactorPerCore,
    double RealTimeFactorPerCpuSecond,
    double AllocatedMb,
    int Gen0Collections,
    int Gen2Collections,
    double? LoadAverage1mBefore,
    double? LoadAverage1mAfter,
    string Verdict,
    string EvidenceHash);

internal sealed record ParallelismFigures(
    int MaxDegreeOfParallelism,
    int Cores,
    int Repetitions,
    double WallSecondsMin,
    double WallSecondsMedian,
    double WallSecondsMax,
    double RealTimeFactorPerCoreMin,
    double RealTimeFactorPerCoreMedian,
    double RealTimeFactorPerCoreMax,
    double RealTimeFactorPerCpuSecondMedian,
    double? LoadAverage1mMin,
    double? LoadAverage1mMax,
    bool EvidenceHashStable,
    IReadOnlyList<RepetitionFigures> Runs);

internal sealed record ThroughputFigures(
    string Measure,
    double Confidence,
    double MaxDropPercent,
    double BaselineMean,
    double CandidateMean,
    double DifferenceMean,
    double DifferenceLow,
    double DifferenceHigh,
    double RelativeLowPercent,
    double RelativeHighPercent,
    bool Passed,
    string Explanation);

internal sealed record FailingChangeFigures(
    string Change,
    string Title,
    string Verdict,
    ThroughputFigures? Throughput,
    IReadOnlyList<string> FailedCriteria,
    string Summary,
    RepetitionFigures Run);

internal sealed record ValidationTarget(string Name, string Op, double Target, double Actual, bool Met);
