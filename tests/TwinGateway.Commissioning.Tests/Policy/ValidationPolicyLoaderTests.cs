using TwinGateway.Commissioning.Policy;
using TwinGateway.Core;

namespace TwinGateway.Commissioning.Tests.Policy;

public sealed class ValidationPolicyLoaderTests
{
    private const string Minimal = """
        line: demo-line
        horizonHours: 2
        seeds: 4
        stepSeconds: 1
        criteria:
          - throughput: { maxDropPercent: 2 }
        credibility: { windowMinutes: 10, maxMeanScaledError: 0.05 }
        authority:
          safety:  { requires: [physics, human], approvals: 2, safetyApprover: true, whileSignal: { signal: line.autoMode, equals: false } }
          process: { requires: [physics, human], approvals: 1 }
          other:   { requires: [human], approvals: 1 }
        verification: { windowSeconds: 20, maxMeanScaledError: 0.1 }
        """;

    [Fact]
    public void The_shipped_demo_policy_loads_against_the_demo_line()
    {
        var result = ValidationPolicyLoader.LoadFile(GateFiles.DemoPolicyPath, GateFiles.DemoLine);

        Assert.True(result.Succeeded, string.Join('\n', result.Problems));
        var policy = result.Policy!;
        Assert.Equal(("demo-line", 16, TimeSpan.FromHours(8), TimeSpan.FromSeconds(1)), (policy.LineId, policy.Seeds, policy.Horizon, policy.Step));
        var throughput = Assert.IsType<ThroughputCriterion>(policy.Criteria[0]);
        Assert.Equal((2, 0.95), (throughput.MaxDropPercent, throughput.Confidence));
        Assert.Null(policy.Process.WhileSignal);
        Assert.Equal("line.autoMode", policy.Safety.WhileSignal!.Signal);
        Assert.Equal(0, policy.Safety.WhileSignal.Value);
        Assert.Equal([Authority.Physics, Authority.Human], policy.Safety.Requires.ToArray());
        Assert.True(policy.Safety.SafetyApprover);
        Assert.Equal(2, policy.Safety.Approvals);
        Assert.Equal("*.emergencyStop", policy.SafetySignals.Match("line.emergencyStop"));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(GateFiles.DemoPolicyPath))), policy.Hash);
    }

    [Fact]
    public void A_minimal_policy_takes_the_defaults()
    {
        var policy = ValidationPolicyLoader.Parse(Minimal, "p.yaml").GetPolicyOrThrow();

        Assert.Equal(0.95, policy.Confidence);
        Assert.Equal(0.95, policy.Criteria[0].Confidence);
        Assert.NotNull(policy.SafetySignals.Match("line.emergencyStop"));
        Assert.Equal(TimeSpan.FromMinutes(10), policy.Credibility.Window);
        Assert.Equal(TimeSpan.FromSeconds(20), policy.Verification.Window);
        Assert.Equal(policy.Process, policy.RuleFor(Core.Changes.ChangeClass.Process));
    }

    [Fact]
    public void Model_approvals_default_to_none_and_a_bad_count_is_refused_with_its_place()
    {
        Assert.Equal(0, ValidationPolicyLoader.Parse(Minimal, "p.yaml").GetPolicyOrThrow().ModelApprovals);
        Assert.Equal(2, ValidationPolicyLoader.Parse(Minimal + "\nmodelApprovals: 2\n", "p.yaml").GetPolicyOrThrow().ModelApprovals);

        var problem = Assert.Single(ValidationPolicyLoader.Parse(Minimal + "\nmodelApprovals: -1\n", "p.yaml").Problems);
        Assert.Equal("modelApprovals", problem.Field);
        Assert.Contains("modelApprovals must be from 0", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_problem_is_listed_with_file_line_and_field()
    {
        var text = Minimal
            .Replace("seeds: 4", "seeds: 1", StringComparison.Ordinal)
            .Replace("stepSeconds: 1", "stepSeconds: -1\nhorizon: 3", StringComparison.Ordinal)
            .Replace("  - throughput: { maxDropPercent: 2 }", """
                  - throughput: { maxDropPercent: 2, confidence: 95 }
                  - signalLimit: { signal: cnc1.nothing, max: 1 }
                  - signalLimit: { signal: cnc1.spindleTemperature }
                  - bufferFull: { station: buffer, maxFraction: 1.5 }
                  - cycleTime: { station: buffer, max: 30 }
                  - lunchBreak: { max: 1 }
                """, StringComparison.Ordinal)
            .Replace("other:   { requires: [human], approvals: 1 }", "other:   { requires: [humans], approvals: 1 }", StringComparison.Ordinal);

        var result = ValidationPolicyLoader.Parse(text, "p.yaml", GateFiles.DemoLine);

        Assert.False(result.Succeeded);
        var problems = result.Problems.Select(p => p.ToString()).ToList();
        Assert.Contains("p.yaml:3:8: seeds: seeds must be from 2 (a confidence interval needs two runs) to 10000, found 1", problems);
        Assert.Contains("p.yaml:4:14: stepSeconds: stepSeconds must be above 0, found -1", problems);
        Assert.Contains(problems, p => p.StartsWith("p.yaml:5:1: horizon: unknown field 'horizon'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("p.yaml:7:50: criteria[0].throughput.confidence: confidence is a two-sided confidence level", StringComparison.Ordinal));
        Assert.Contains("p.yaml:8:28: criteria[1].signalLimit.signal: line 'demo-line' has no signal 'cnc1.nothing'", problems);
        Assert.Contains("p.yaml:9:18: criteria[2].signalLimit: a signalLimit needs min, max or both", problems);
        Assert.Contains("p.yaml:10:49: criteria[3].bufferFull.maxFraction: maxFraction is a fraction of the run from 0 to 1, found 1.5", problems);
        Assert.Contains("p.yaml:11:27: criteria[4].cycleTime.station: station 'buffer' is a buffer with no cycle time", problems);
        Assert.Contains(problems, p => p.StartsWith("p.yaml:12:5: criteria[5].lunchBreak: unknown criterion 'lunchBreak'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("p.yaml:17:25: authority.other.requires[0]: unknown authority 'humans'", StringComparison.Ordinal));
        Assert.Equal(10, problems.Count);
    }

    [Fact]
    public void A_learned_model_as_sole_authority_for_safety_changes_does_not_load()
    {
        var text = Minimal.Replace(
            "safety:  { requires: [physics, human], approvals: 2, safetyApprover: true, whileSignal: { signal: line.autoMode, equals: false } }",
            "safety:  { requires: [statistical] }", StringComparison.Ordinal);

        var problem = Assert.Single(ValidationPolicyLoader.Parse(text, "p.yaml").Problems);

        Assert.Equal("authority.safety.requires", problem.Field);
        Assert.Contains("a learned model (statistical) may never be the sole authority for a safety-related change", problem.Message, StringComparison.Ordinal);
        Assert.True(ValidationPolicyLoader.Parse(Minimal.Replace("other:   { requires: [human], approvals: 1 }", "other:   { requires: [statistical] }", StringComparison.Ordinal), "p.yaml").Succeeded);
    }

    [Fact]
    public void Human_authority_and_approvals_must_agree()
    {
        var none = Minimal.Replace("process: { requires: [physics, human], approvals: 1 }", "process: { requires: [physics, human] }", StringComparison.Ordinal);
        var extra = Minimal.Replace("process: { requires: [physics, human], approvals: 1 }", "process: { requires: [physics], approvals: 1 }", StringComparison.Ordinal);

        Assert.Contains("approvals must be at least 1", Assert.Single(ValidationPolicyLoader.Parse(none, "p.yaml").Problems).Message, StringComparison.Ordinal);
        Assert.Contains("does not require human authority", Assert.Single(ValidationPolicyLoader.Parse(extra, "p.yaml").Problems).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_policy_for_another_line_or_a_missing_file_is_reported()
    {
        var other = ValidationPolicyLoader.Parse(Minimal.Replace("line: demo-line", "line: line-b", StringComparison.Ordinal), "p.yaml", GateFiles.DemoLine);
        var missing = ValidationPolicyLoader.LoadFile(Path.Combine(Path.GetTempPath(), "no-such-policy.yaml"));

        Assert.Contains("the policy is for line 'line-b', not 'demo-line'", Assert.Single(other.Problems).Message, StringComparison.Ordinal);
        Assert.Contains("cannot read the validation policy", Assert.Single(missing.Problems).Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => missing.GetPolicyOrThrow());
    }
}
