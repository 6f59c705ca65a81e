using TwinGateway.Commissioning.Changes;
using TwinGateway.Commissioning.Policy;
using TwinGateway.Commissioning.Validation;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Lines;
using TwinGateway.Core.Twins;
using TwinGateway.Simulation;

namespace TwinGateway.Commissioning.Tests.Validation;

/// <summary>The validation suite on the real demo line and the real twin, with 4 seeds of 2 h unless a test says otherwise.</summary>
public sealed class ValidationSuiteTests
{
    private static readonly TimeSpan TestHorizon = TimeSpan.FromHours(2);

    /// <summary>A shadow twin of the demo line at 1 s steps, run 30 simulated minutes so the line is busy (not empty) at the fork.</summary>
    internal static LineTwin Snapshot()
    {
        var twin = new LineTwin(GateFiles.DemoLine, new TwinOptions { Seed = 7, Step = TimeSpan.FromSeconds(1), Mode = TwinMode.Shadow });
        for (var i = 0; i < 1800; i++)
        {
            twin.Step();
        }

        return twin;
    }

    internal static ChangeRequest SetChange(string signal, double value) => new()
    {
        LineId = "demo-line",
        Title = $"{signal} to {value}",
        Reason = "test",
        Operations = [new SetOperation(signal, ChangeValue.Of(value))],
    };

    /// <summary>Figures that make the twin credible for every signal the change touches.</summary>
    internal static IReadOnlyList<SignalCredibility> Credible(ChangeRequest change) =>
        [.. ValidationSuite.TouchedSignals(change, GateFiles.DemoLine).Select(id => new SignalCredibility(id, 600, 0.01, 0.04))];

    internal static ValidationRequest Request(ChangeRequest change, LineTwin? snapshot = null, int seeds = 4, TimeSpan? horizon = null) => new()
    {
        Snapshot = snapshot ?? Snapshot(),
        CurrentLine = GateFiles.DemoLine,
        CurrentLineText = GateFiles.DemoLineText,
        Change = change,
        Policy = GateFiles.DemoPolicy,
        Credibility = Credible(change),
        BaseSeed = 42,
        Seeds = seeds,
        Horizon = horizon ?? TestHorizon,
    };

    private static Evidence Run(ValidationRequest request) => new ValidationSuite().Run(request);

    [Fact]
    public void An_unchanged_setpoint_passes_every_criterion_with_identical_paired_runs()
    {
        var evidence = Run(Request(SetChange("robot2.speedOverride", 100)));

        Assert.Equal(ValidationVerdict.Pass, evidence.Verdict);
        Assert.All(evidence.Criteria, c => Assert.True(c.Passed, c.Explanation));
        Assert.All(evidence.Criteria, c => Assert.Equal(c.Baseline.ToArray(), c.Candidate.ToArray()));
        Assert.All(evidence.Criteria, c => Assert.Equal(Core.Authority.Physics, c.Authority));
        var throughput = evidence.Criteria.Single(c => c.Kind == "throughput");
        Assert.All(throughput.Baseline, parts => Assert.InRange(parts, 100, 300));
        Assert.Equal(0, throughput.DifferenceLow);
        Assert.Equal(4, evidence.Seeds.Length);
        Assert.Equal(7200, evidence.StepsPerRun);
        Assert.Equal(Core.Changes.ChangeClass.Process, evidence.ChangeClass);
        Assert.Equal(ChangeHash.Compute(SetChange("robot2.speedOverride", 100)), evidence.ChangeHash);
        Assert.Equal(GateFiles.DemoPolicy.Hash, evidence.PolicyHash);
    }

    [Fact]
    public void A_change_that_violates_an_interlock_fails_the_interlock_criterion()
    {
        // A new interlock (no spindle setpoint above 9000 rpm in automatic mode) and a setpoint change that breaks it:
        // the twin holds cnc1, but cannot undo a setpoint, so every step is a violation.
        using var folder = new ChangeFolder();
        folder.WriteDemoLine("demo-line-v2.yaml", text => text.Replace("interlocks:\n", """
            interlocks:
              - id: cnc1-spindle-speed-limit
                description: In automatic mode the cnc1 spindle stays at 9000 rpm or below.
                when: { signal: line.autoMode, equals: true }
                forbid: { signal: cnc1.spindleSpeedSetpoint, above: 9000 }

            """, StringComparison.Ordinal));
        var path = folder.Write("change.yaml", """
            line: demo-line
            title: Faster cnc1 spindle
            reason: new tool
            operations:
              - definition: demo-line-v2.yaml
              - set: cnc1.spindleSpeedSetpoint
                value: 10000
            """);
        var change = ChangeRequestLoader.LoadFile(path).GetChangeOrThrow();

        var evidence = Run(Request(change));

        Assert.Equal(ValidationVerdict.Fail, evidence.Verdict);
        Assert.Equal(Core.Changes.ChangeClass.Safety, evidence.ChangeClass);
        var interlocks = evidence.Criteria.Single(c => c.Kind == "interlockViolations");
        Assert.False(interlocks.Passed);
        Assert.All(interlocks.Baseline, v => Assert.Equal(0, v));
        Assert.All(interlocks.Candidate, v => Assert.True(v > 0));
        Assert.Contains("interlockViolations: candidate run", interlocks.Explanation, StringComparison.Ordinal);
        Assert.Contains(interlocks.Explanation, evidence.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void A_slower_assembly_station_fails_the_cycle_time_and_throughput_criteria()
    {
        // Assembly at 40 s is slower than parts arrive (34 to 42 s): the line loses output, and the mean cycle exceeds 35 s.
        using var folder = new ChangeFolder();
        folder.WriteDemoLine("demo-line-v2.yaml", text => text.Replace("mean: 30, stddev: 1.5", "mean: 40, stddev: 1.5", StringComparison.Ordinal));
        var path = folder.Write("change.yaml", "line: demo-line\ntitle: Slower press-fit\nreason: new housing\noperations:\n  - definition: demo-line-v2.yaml\n");
        var change = ChangeRequestLoader.LoadFile(path).GetChangeOrThrow();

        var evidence = Run(Request(change));

        Assert.Equal(ValidationVerdict.Fail, evidence.Verdict);
        Assert.Equal(Core.Changes.ChangeClass.Process, evidence.ChangeClass);
        var cycle = evidence.Criteria.Single(c => c.Kind == "cycleTime");
        Assert.False(cycle.Passed);
        Assert.InRange(cycle.CandidateMean, 38, 42);
        Assert.InRange(cycle.BaselineMean, 28, 32);
        var throughput = evidence.Criteria.Single(c => c.Kind == "throughput");
        Assert.False(throughput.Passed, throughput.Explanation);
        Assert.True(throughput.RelativeLowPercent < -2);
        Assert.Contains("it may drop by more than the allowed 2 %", evidence.Summary, StringComparison.Ordinal);
        Assert.Contains("assembly.lastCycleTime", ValidationSuite.TouchedSignals(change, GateFiles.DemoLine));
    }

    [Fact]
    public void A_signal_limit_fails_naming_the_run_and_the_value()
    {
        var policyText = File.ReadAllText(GateFiles.DemoPolicyPath)
            .Replace("signal: cnc1.spindleTemperature, max: 70", "signal: cnc1.spindleTemperature, max: 45", StringComparison.Ordinal);
        var policy = ValidationPolicyLoader.Parse(policyText, "tight.yaml", GateFiles.DemoLine).GetPolicyOrThrow();

        var evidence = Run(Request(SetChange("robot2.speedOverride", 100)) with { Policy = policy });

        Assert.Equal(ValidationVerdict.Fail, evidence.Verdict);
        var limit = evidence.Criteria.Single(c => c is { Kind: "signalLimit", Subject: "cnc1.spindleTemperature" });
        Assert.False(limit.Passed);
        Assert.Matches(@"^signalLimit cnc1\.spindleTemperature: candidate run \d had [\d.]+ \(highest value of cnc1\.spindleTemperature in the run\), limit at most 45", limit.Explanation);
        Assert.NotEqual(GateFiles.DemoPolicy.Hash, evidence.PolicyHash);
    }

    [Fact]
    public void A_moved_robot_position_runs_on_the_candidate_definition_is_safety_related_and_checks_its_axes()
    {
        var change = new ChangeRequest
        {
            LineId = "demo-line",
            Title = "Pick a little further left",
            Reason = "new buffer fixture",
            Operations = [new PoseOperation("robot1", "pickBuffer", [-65, -45, 70, 0, 65, -60])],
        };

        var evidence = Run(Request(change));

        Assert.Equal(Core.Changes.ChangeClass.Safety, evidence.ChangeClass);
        // A pose moves the robot along another path within the same sampled cycle time; with each station drawing from
        // its own random streams (common random numbers), the candidate's part flow is the baseline's, seed for seed,
        // so the throughput criterion passes with a zero-width interval.
        Assert.Equal(evidence.Criteria[0].Baseline.ToArray(), evidence.Criteria[0].Candidate.ToArray());
        Assert.True(evidence.Criteria[0].Passed);
        Assert.Equal(6, evidence.Credibility.Signals.Length);
        Assert.All(evidence.Criteria.Where(c => c.Kind is "interlockViolations" or "axisLimitViolations"), c => Assert.True(c.Passed));
    }

    [Fact]
    public void The_same_request_gives_bit_identical_evidence_whatever_the_parallelism()
    {
        var change = SetChange("robot2.speedOverride", 90);
        var first = Run(Request(change, seeds: 3, horizon: TimeSpan.FromHours(1)));
        var second = Run(Request(change, seeds: 3, horizon: TimeSpan.FromHours(1)) with { MaxDegreeOfParallelism = 1 });

        Assert.Equal(EvidenceJson.WriteBody(first), EvidenceJson.WriteBody(second));
        Assert.Equal(first.Hash, second.Hash);
        Assert.Equal(1, second.Timing.Cores);
    }

    [Fact]
    public void Another_base_seed_gives_other_runs_and_another_hash()
    {
        var change = SetChange("robot2.speedOverride", 100);
        var first = Run(Request(change, seeds: 2, horizon: TimeSpan.FromHours(1)));
        var other = Run(Request(change, seeds: 2, horizon: TimeSpan.FromHours(1)) with { BaseSeed = 43 });

        Assert.NotEqual(first.Seeds, other.Seeds);
        Assert.NotEqual(first.Hash, other.Hash);
    }

    [Fact]
    public void A_twin_that_did_not_match_the_real_line_makes_the_verdict_not_credible()
    {
        var change = SetChange("robot2.speedOverride", 100);
        var figures = Credible(change)
            .Select(f => f.SignalId switch
            {
                "robot2.a2Current" => f with { MeanScaledError = 0.2 },
                "robot2.a3Current" => f with { Samples = 0, MeanScaledError = null },
                _ => f,
            })
            .Where(f => f.SignalId != "robot2.vacuum")
            .ToList();

        var evidence = Run(Request(change, seeds: 2, horizon: TimeSpan.FromHours(1)) with { Credibility = figures });

        Assert.Equal(ValidationVerdict.NotCredible, evidence.Verdict);
        Assert.All(evidence.Criteria, c => Assert.True(c.Passed));
        Assert.False(evidence.Credibility.Credible);
        Assert.StartsWith("twin not credible for this change: ", evidence.Credibility.Explanation, StringComparison.Ordinal);
        Assert.Equal(["robot2.a2Current", "robot2.a3Current", "robot2.vacuum"], evidence.Credibility.Signals.Where(s => !s.Credible).Select(s => s.SignalId));
        Assert.Contains("robot2.a2Current: mean scaled error 0.2 is above the tolerance 0.05", evidence.Credibility.Explanation, StringComparison.Ordinal);
        Assert.Contains("robot2.a3Current: no samples", evidence.Credibility.Explanation, StringComparison.Ordinal);
        Assert.Contains("robot2.vacuum: no credibility figures", evidence.Credibility.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void The_signals_a_change_touches_are_its_set_signals_their_stations_and_posed_robots_axes()
    {
        var line = GateFiles.DemoLine;
        var set = ValidationSuite.TouchedSignals(SetChange("line.shiftTarget", 650), line);
        var station = ValidationSuite.TouchedSignals(SetChange("robot2.speedOverride", 90), line);
        var pose = ValidationSuite.TouchedSignals(new ChangeRequest
        {
            LineId = "demo-line",
            Title = "t",
            Reason = "r",
            Operations = [new PoseOperation("robot1", "pickBuffer", [-61, -45, 70, 0, 65, -60])],
        }, line);

        Assert.Equal(["line.shiftTarget"], set.ToArray());
        // Every robot2 signal the twin can be compared on (not its running part counter).
        Assert.Equal(line.SignalsOf("robot2").Where(SignalComparison.IsComparable).Select(s => s.Id).Order(StringComparer.Ordinal), station.ToArray());
        Assert.DoesNotContain("robot2.partsProduced", station);
        Assert.Equal(Enumerable.Range(1, 6).Select(a => $"robot1.a{a}Position"), pose.ToArray());
    }

    [Fact]
    public void Progress_is_reported_per_run_up_to_done()
    {
        var reports = new List<ValidationProgress>();
        var progress = new SynchronousProgress(reports);

        new ValidationSuite().Run(Request(SetChange("robot2.speedOverride", 100), seeds: 2, horizon: TimeSpan.FromMinutes(30)), progress);

        Assert.Equal(5, reports.Count);
        Assert.Equal((0, 4, 0.0), (reports[0].RunsDone, reports[0].RunsTotal, reports[0].Fraction));
        Assert.Equal([1, 2, 3, 4], reports.Skip(1).Select(r => r.RunsDone).Order());
        Assert.Contains(reports, r => r is { RunsDone: 4, Fraction: 1.0 });
        Assert.All(reports.Skip(1), r => Assert.NotNull(r.EstimatedTimeLeft));
    }

    [Fact]
    public void A_snapshot_with_another_step_than_the_policys_is_refused()
    {
        var twin = new LineTwin(GateFiles.DemoLine, new TwinOptions { Step = TimeSpan.FromMilliseconds(100) });

        var error = Assert.Throws<ArgumentException>(() => Run(Request(SetChange("robot2.speedOverride", 100), twin)));

        Assert.Contains("the twin snapshot steps 0.1 s, the policy's validation runs 1 s (stepSeconds)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_change_that_fails_its_static_checks_is_not_run()
    {
        var error = Assert.Throws<ArgumentException>(() => Run(Request(SetChange("robot2.speedOverride", 120))));

        Assert.Contains("outside signal 'robot2.speedOverride''s nominal range", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cancellation_stops_the_runs()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => new ValidationSuite().Run(Request(SetChange("robot2.speedOverride", 100)), null, cancelled.Token));
    }

    [Fact]
    public void Slowing_robot1_to_40_percent_fails_the_throughput_criterion()
    {
        var evidence = Run(Request(SetChange("robot1.speedOverride", 40)));

        var throughput = evidence.Criteria.Single(c => c.Kind == "throughput");
        Assert.False(throughput.Passed, throughput.Explanation);
        Assert.Equal(ValidationVerdict.Fail, evidence.Verdict);
        Assert.Contains("throughput:", evidence.Summary, StringComparison.Ordinal);
        Assert.True(throughput.RelativeLowPercent < -2);
    }

    [Fact]
    public void Slowing_robot2_to_90_percent_passes()
    {
        var evidence = Run(Request(SetChange("robot2.speedOverride", 90)));

        Assert.Equal(ValidationVerdict.Pass, evidence.Verdict);
        Assert.All(evidence.Criteria, c => Assert.True(c.Passed, c.Explanation));
    }

    [Fact]
    public void The_shipped_policy_validates_an_unchanged_setpoint_in_full()
    {
        var request = Request(SetChange("robot2.speedOverride", 100)) with { Seeds = null, Horizon = null };

        var evidence = Run(request);

        Assert.Equal(ValidationVerdict.Pass, evidence.Verdict);
        Assert.Equal(16, evidence.Seeds.Length);
        Assert.Equal(8 * 3600, evidence.StepsPerRun);
        Assert.All(evidence.Criteria, c => Assert.True(c.Passed, c.Explanation));
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; posts to the thread pool, and the test would race it).</summary>
    private sealed class SynchronousProgress(List<ValidationProgress> reports) : IProgress<ValidationProgress>
    {
        public void Report(ValidationProgress value)
        {
            lock (reports)
            {
                reports.Add(value);
            }
        }
    }
}
