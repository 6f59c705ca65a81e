using System.Collections.Immutable;
using TwinGateway.Core;
using TwinGateway.Core.Changes;

namespace TwinGateway.Commissioning.Validation;

/// <summary>What a validation concluded.</summary>
public enum ValidationVerdict
{
    /// <summary>Every criterion passed and the twin is credible for the signals the change touches.</summary>
    Pass = 1,

    /// <summary>At least one criterion failed (the twin being credible).</summary>
    Fail = 2,

    /// <summary>
    /// The twin did not match the real line well enough, for the signals the change touches, to be an authority on it;
    /// whatever the criteria say, the runs prove nothing either way.
    /// </summary>
    NotCredible = 3,
}

/// <summary>
/// The record of one validation: what was validated (the change's content hash), by which rules (the policy's hash),
/// on what (the line definition's hash, the twin snapshot), how (seeds, horizon, step) and with what result. Everything
/// but <see cref="Timing"/> is hashed (<see cref="Hash"/>, see <see cref="EvidenceJson"/>): rerunning the same inputs
/// reproduces the hash, so anyone can check the evidence an approval names.
/// </summary>
public sealed record Evidence
{
    /// <summary>The format of the canonical JSON; a new field means a new version.</summary>
    public const string FormatVersion = "twingateway-evidence/1";

    public required string LineId { get; init; }

    /// <summary><see cref="Changes.ChangeHash"/> of the validated change.</summary>
    public required string ChangeHash { get; init; }

    /// <summary>SHA-256 of the policy file's text.</summary>
    public required string PolicyHash { get; init; }

    /// <summary>SHA-256 of the running line definition's text.</summary>
    public required string LineDefinitionHash { get; init; }

    public required ChangeClass ChangeClass { get; init; }

    public required TwinSnapshotIdentity Snapshot { get; init; }

    /// <summary>The seed the run seeds were derived from.</summary>
    public required ulong BaseSeed { get; init; }

    /// <summary>One seed per paired run (baseline and candidate share it: common random numbers).</summary>
    public required ImmutableArray<ulong> Seeds { get; init; }

    public required double HorizonSeconds { get; init; }

    public required double StepSeconds { get; init; }

    public required long StepsPerRun { get; init; }

    public required ImmutableArray<CriterionResult> Criteria { get; init; }

    public required CredibilityAssessment Credibility { get; init; }

    public required ValidationVerdict Verdict { get; init; }

    /// <summary>One sentence per failed criterion or credibility problem; "all criteria passed" otherwise.</summary>
    public required string Summary { get; init; }

    /// <summary>Wall-clock figures: not hashed, since a rerun on another machine takes another time.</summary>
    public required ValidationTiming Timing { get; init; }

    /// <summary>SHA-256 (lower-case hex) of the canonical JSON of everything but <see cref="Timing"/>.</summary>
    public string Hash => EvidenceJson.ComputeHash(this);
}

/// <summary>Which twin state the runs forked from.</summary>
public sealed record TwinSnapshotIdentity(DateTime SimTime, long Steps, ulong Seed);

/// <summary>
/// One criterion's outcome over the paired runs. <see cref="Baseline"/> and <see cref="Candidate"/> hold the value per
/// seed; the difference interval is the paired t interval of candidate minus baseline; the candidate interval is the
/// one-sample t interval of the candidate's mean; both at <see cref="Confidence"/>.
/// </summary>
public sealed record CriterionResult
{
    /// <summary>Its position in the policy's criteria.</summary>
    public required int Index { get; init; }

    public required string Kind { get; init; }

    /// <summary>The signal or station it is about; empty for the line.</summary>
    public required string Subject { get; init; }

    /// <summary>What was measured per run, in words (for example "parts produced in the horizon").</summary>
    public required string Measure { get; init; }

    /// <summary>The twin's criteria rest on physics.</summary>
    public required Authority Authority { get; init; }

    public required double Limit { get; init; }

    /// <summary>The pass rule, in words.</summary>
    public required string Rule { get; init; }

    public required double Confidence { get; init; }

    public required double BaselineMean { get; init; }

    public required double CandidateMean { get; init; }

    public required double DifferenceMean { get; init; }

    public required double DifferenceLow { get; init; }

    public required double DifferenceHigh { get; init; }

    /// <summary>The difference interval relative to the baseline mean, in percent (throughput only; NaN otherwise).</summary>
    public required double RelativeLowPercent { get; init; }

    public required double RelativeHighPercent { get; init; }

    public required double CandidateLow { get; init; }

    public required double CandidateHigh { get; init; }

    public required bool Passed { get; init; }

    /// <summary>Why it passed or failed, with the figures.</summary>
    public required string Explanation { get; init; }

    public required ImmutableArray<double> Baseline { get; init; }

    public required ImmutableArray<double> Candidate { get; init; }
}

/// <summary>The twin's credibility for the signals a change touches.</summary>
public sealed record CredibilityAssessment(double MaxMeanScaledError, double WindowSeconds, bool Credible, string Explanation, ImmutableArray<SignalCredibilityResult> Signals);

/// <summary>One touched signal's figures and whether they meet the policy's tolerance.</summary>
public sealed record SignalCredibilityResult(string SignalId, long Samples, double? MeanScaledError, double? MaxScaledError, bool Credible, string Reason);

/// <summary>How long the validation took; kept out of the evidence hash.</summary>
/// <param name="WallSeconds">Wall-clock seconds of the runs.</param>
/// <param name="Cores">Runs that ran at once (at most the processor count).</param>
/// <param name="SimulatedSeconds">Simulated seconds over all runs.</param>
/// <param name="RealTimeFactorPerCore">Simulated seconds per wall second per core.</param>
public sealed record ValidationTiming(double WallSeconds, int Cores, double SimulatedSeconds, double RealTimeFactorPerCore);

/// <summary>How far a validation is.</summary>
/// <param name="Fraction">0 to 1.</param>
/// <param name="RunsDone">Runs finished (baseline and candidate runs count one each).</param>
/// <param name="RunsTotal">Twice the seeds.</param>
/// <param name="EstimatedTimeLeft">From the pace so far; null before the first run ends.</param>
public sealed record ValidationProgress(double Fraction, int RunsDone, int RunsTotal, TimeSpan? EstimatedTimeLeft);
