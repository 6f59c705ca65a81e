using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using TwinGateway.Commissioning.Changes;
using TwinGateway.Commissioning.Policy;
using TwinGateway.Core;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Lines;
using TwinGateway.Core.Twins;

namespace TwinGateway.Commissioning.Validation;

/// <summary>
/// Validates a change on forks of the line's twin: for each seed, a baseline fork (the line as it is) and a candidate
/// fork (the change's definition, its set operations applied at the start) run the policy's horizon with the same seed
/// (common random numbers, so the paired difference shows the change rather than luck). Each criterion is judged on
/// the paired runs with a Student t interval, the twin's credibility for the touched signals is checked, and the
/// outcome is an <see cref="Evidence"/> record. The same request gives bit-identical evidence.
/// </summary>
/// <remarks>
/// Runs go in parallel (one per core); their results are placed by index, so the order of completion never shows. The
/// per-step collection reads precomputed signal and station slots and allocates nothing.
/// </remarks>
public sealed partial class ValidationSuite(TimeProvider? timeProvider = null)
{
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    /// <summary>Runs the validation.</summary>
    /// <param name="request">What to validate, on what, by which policy.</param>
    /// <param name="progress">Told at the start and after each run, from the worker threads (a <see cref="Progress{T}"/> marshals to its context).</param>
    /// <param name="cancellationToken">Stops the runs within about a millisecond of twin time.</param>
    /// <exception cref="ArgumentException">The change does not pass its static checks, the policy is for another line, or the snapshot's step is not the policy's.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Evidence Run(ValidationRequest request, IProgress<ValidationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var policy = request.Policy;
        var line = request.CurrentLine;
        var change = request.Change;
        if (!string.Equals(policy.LineId, line.Id, StringComparison.Ordinal))
        {
            throw new ArgumentException($"the policy is for line '{policy.LineId}', the change for line '{line.Id}'", nameof(request));
        }

        var checks = ChangeChecks.Check(change, line, policy.SafetySignals);
        if (!checks.Passed)
        {
            throw new ArgumentException($"the change does not pass its checks; fix these first:\n{string.Join('\n', checks.Problems)}", nameof(request));
        }

        var seedCount = request.Seeds ?? policy.Seeds;
        if (seedCount < 2)
        {
            throw new ArgumentException($"a validation needs at least 2 seeds for a confidence interval, found {seedCount}", nameof(request));
        }

        var snapshot = request.Snapshot;
        var step = snapshot.StepLength;
        if (step != policy.Step)
        {
            throw new ArgumentException(
                $"the twin snapshot steps {step.TotalSeconds.ToString("R", CultureInfo.InvariantCulture)} s, the policy's validation runs {policy.Step.TotalSeconds.ToString("R", CultureInfo.InvariantCulture)} s (stepSeconds): fork the snapshot from a twin with the policy's step", nameof(request));
        }

        var horizon = request.Horizon ?? policy.Horizon;
        var stepsPerRun = horizon.Ticks / step.Ticks;
        if (stepsPerRun < 1)
        {
            throw new ArgumentException($"the horizon {horizon} is shorter than one step ({step})", nameof(request));
        }

        var candidateLine = CandidateLine.Build(change, line);
        var seeds = DeriveSeeds(request.BaseSeed, seedCount);
        var plan = new Plan(policy.Criteria);
        var baselineSlots = plan.SlotsFor(snapshot.Line);
        var candidateSlots = candidateLine is null ? baselineSlots : plan.SlotsFor(candidateLine);
        var inputs = change.Operations.OfType<SetOperation>()
            .Where(s => s.Value.Kind is ChangeValueKind.Number or ChangeValueKind.Boolean)
            .Select(s => (s.SignalId, s.Value.AsDouble))
            .ToArray();

        var runs = seedCount * 2;
        var results = new RunResult[runs];
        var done = 0;
        var started = _time.GetTimestamp();
        progress?.Report(new ValidationProgress(0, 0, runs, null));
        var cores = Math.Max(1, Math.Min(Math.Min(request.MaxDegreeOfParallelism, Environment.ProcessorCount), runs));
        var options = new ParallelOptions { MaxDegreeOfParallelism = cores, CancellationToken = cancellationToken };
        Parallel.For(0, runs, options, r =>
        {
            var isCandidate = (r & 1) == 1;
            ILineTwin twin;

            // The snapshot is one twin; forking reads it, and a twin is used by one thread at a time.
            lock (snapshot)
            {
                twin = snapshot.ForkWhatIf(isCandidate ? candidateLine : null, seeds[r >> 1]);
            }

            if (isCandidate)
            {
                foreach (var (signal, value) in inputs)
                {
                    twin.SetInput(signal, value);
                }
            }

            results[r] = Collect(twin, isCandidate ? candidateSlots : baselineSlots, plan, stepsPerRun, cancellationToken);
            var finished = Interlocked.Increment(ref done);
            if (progress is not null)
            {
                var elapsed = _time.GetElapsedTime(started);
                progress.Report(new ValidationProgress((double)finished / runs, finished, runs, elapsed * ((double)(runs - finished) / finished)));
            }
        });

        var wall = _time.GetElapsedTime(started);
        var criteria = Judge(policy, plan, results, seedCount);
        var credibility = AssessCredibility(TouchedSignals(change, line), request.Credibility, policy.Credibility);
        var verdict = !credibility.Credible ? ValidationVerdict.NotCredible
            : criteria.All(c => c.Passed) ? ValidationVerdict.Pass
            : ValidationVerdict.Fail;
        var failures = criteria.Where(c => !c.Passed).Select(c => c.Explanation).ToList();
        if (!credibility.Credible)
        {
            failures.Insert(0, credibility.Explanation);
        }

        var simulated = runs * stepsPerRun * step.TotalSeconds;
        var wallSeconds = Math.Max(wall.TotalSeconds, 1e-9);
        return new Evidence
        {
            LineId = line.Id,
            ChangeHash = ChangeHash.Compute(change),
            PolicyHash = policy.Hash,
            LineDefinitionHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(request.CurrentLineText))),
            ChangeClass = checks.Classification.Class,
            Snapshot = new TwinSnapshotIdentity(snapshot.SimTime, snapshot.Steps, snapshot.Seed),
            BaseSeed = request.BaseSeed,
            Seeds = seeds,
            HorizonSeconds = stepsPerRun * step.TotalSeconds,
            StepSeconds = step.TotalSeconds,
            StepsPerRun = stepsPerRun,
            Criteria = criteria,
            Credibility = credibility,
            Verdict = verdict,
            Summary = failures.Count == 0 ? "all criteria passed and the twin is credible for the signals the change touches" : string.Join(" ", failures),
            Timing = new ValidationTiming(wall.TotalSeconds, cores, simulated, simulated / (wallSeconds * cores)),
        };
    }

    /// <summary>
    /// The seeds of the paired runs: SplitMix64 over <paramref name="baseSeed"/> (the generator xoshiro's authors
    /// recommend for seeding), so nearby base seeds still give unrelated run seeds.
    /// </summary>
    public static ImmutableArray<ulong> DeriveSeeds(ulong baseSeed, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var seeds = ImmutableArray.CreateBuilder<ulong>(count);
        var state = baseSeed;
        for (var i = 0; i < count; i++)
        {
            unchecked
            {
                state += 0x9E3779B97F4A7C15UL;
                var z = state;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                seeds.Add(z ^ (z >> 31));
            }
        }

        return seeds.MoveToImmutable();
    }

    /// <summary>
    /// The signals a change touches, whose credibility decides whether the twin is an authority on it: each set signal
    /// and its station's signals (a setpoint acts on its station); a posed robot's axis position signals; for a
    /// definition, the signals of stations that change (cycle times ...), of changed robots (axis positions), those the
    /// changed interlocks read, and those whose model changes. Only signals the running line has, in ordinal order.
    /// </summary>
    public static ImmutableArray<string> TouchedSignals(ChangeRequest change, LineDefinition line)
    {
        ArgumentNullException.ThrowIfNull(change);
        ArgumentNullException.ThrowIfNull(line);
        var touched = new SortedSet<string>(StringComparer.Ordinal);
        void AddStation(string? stationId)
        {
            if (stationId is not null)
            {
                touched.UnionWith(line.SignalsOf(stationId).Select(s => s.Id));
            }
        }

        void AddRobot(RobotDefinition? robot)
        {
            if (robot is not null)
            {
                touched.UnionWith(robot.Axes.Select(a => a.PositionSignal).OfType<string>());
            }
        }

        foreach (var operation in change.Operations)
        {
            switch (operation)
            {
                case SetOperation set:
                    touched.Add(set.SignalId);
                    AddStation(line.FindSignal(set.SignalId)?.StationId);
                    break;
                case PoseOperation pose:
                    AddRobot(line.FindRobot(pose.RobotId));
                    break;
                case DefinitionOperation { Definition: { } candidate }:
                    foreach (var station in LineDefinitionDiff.ChangedStations(line, candidate))
                    {
                        AddStation(station);
                    }

                    foreach (var robot in LineDefinitionDiff.ChangedRobots(line, candidate))
                    {
                        AddRobot(line.FindRobot(robot));
                        AddRobot(candidate.FindRobot(robot));
                    }

                    var interlocks = LineDefinitionDiff.ChangedInterlocks(line, candidate);
                    foreach (var interlock in line.Interlocks.Concat(candidate.Interlocks).Where(i => interlocks.Contains(i.Id)))
                    {
                        touched.UnionWith(interlock.When.Signals.Concat(interlock.Forbid.Signals));
                    }

                    touched.UnionWith(LineDefinitionDiff.ChangedModels(line, candidate));
                    break;
                default:
                    break;
            }
        }

        // Only signals the real line and the twin can be compared on (SignalComparison) can show how credible the twin is.
        touched.RemoveWhere(id => line.FindSignal(id) is not { } signal || !SignalComparison.IsComparable(signal));
        return [.. touched];
    }

    private static CredibilityAssessment AssessCredibility(ImmutableArray<string> touched, IReadOnlyList<SignalCredibility> figures, CredibilityRule rule)
    {
        var byId = new Dictionary<string, SignalCredibility>(StringComparer.Ordinal);
        foreach (var figure in figures ?? [])
        {
            byId.TryAdd(figure.SignalId, figure);
        }

        var limit = rule.MaxMeanScaledError;
        var results = ImmutableArray.CreateBuilder<SignalCredibilityResult>(touched.Length);
        foreach (var id in touched)
        {
            if (!byId.TryGetValue(id, out var figure))
            {
                results.Add(new SignalCredibilityResult(id, 0, null, null, false, "no credibility figures were given for it"));
            }
            else if (figure.Samples <= 0 || figure.MeanScaledError is not { } mean)
            {
                results.Add(new SignalCredibilityResult(id, figure.Samples, figure.MeanScaledError, figure.MaxScaledError, false, "no samples in the window: the twin was never compared with the real line on it"));
            }
            else if (!(mean <= limit))
            {
                results.Add(new SignalCredibilityResult(id, figure.Samples, mean, figure.MaxScaledError, false,
                    $"mean scaled error {Format(mean)} is above the tolerance {Format(limit)}"));
            }
            else
            {
                results.Add(new SignalCredibilityResult(id, figure.Samples, mean, figure.MaxScaledError, true,
                    $"mean scaled error {Format(mean)} within the tolerance {Format(limit)}"));
            }
        }

        var signals = results.MoveToImmutable();
        var bad = signals.Where(s => !s.Credible).ToList();
        var explanation = bad.Count == 0
            ? signals.IsEmpty
                ? "the change touches no signal the twin is compared on"
                : $"the twin is credible for the {signals.Length} signal(s) the change touches (mean scaled error at most {Format(limit)} over {Format(rule.Window.TotalMinutes)} min)"
            : $"twin not credible for this change: {string.Join("; ", bad.Select(s => $"{s.SignalId}: {s.Reason}{(s.MeanScaledError is { } m ? $" ({s.Samples} samples, mean {Format(m)})" : "")}"))}.";
        return new CredibilityAssessment(limit, rule.Window.TotalSeconds, bad.Count == 0, explanation, signals);
    }

    internal static string Format(double value) => double.IsNaN(value) ? "n/a" : value.ToString("G6", CultureInfo.InvariantCulture);
}
