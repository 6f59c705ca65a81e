using System.Collections.Immutable;
using TwinGateway.Commissioning.Changes;
using TwinGateway.Core;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Lines;

namespace TwinGateway.Commissioning.Policy;

/// <summary>
/// How a line's changes are validated and who must agree (<c>config/validation/&lt;line&gt;.yaml</c>, every field in
/// <c>config/validation/README.md</c>): the twin runs, the criteria they must meet, how credible the twin must be, the
/// authorities each class of change needs, and the verification after applying. Criteria are data: a policy file
/// changes what is checked without a new build.
/// </summary>
public sealed record ValidationPolicy
{
    public required string LineId { get; init; }

    /// <summary>Simulated time each validation run covers.</summary>
    public required TimeSpan Horizon { get; init; }

    /// <summary>Paired runs (baseline and candidate share each seed); at least 2, for a confidence interval.</summary>
    public required int Seeds { get; init; }

    /// <summary>The twin step validation runs are meant to use (the snapshot's step must match).</summary>
    public required TimeSpan Step { get; init; }

    /// <summary>The default two-sided confidence level of each criterion's interval (a criterion may set its own).</summary>
    public required double Confidence { get; init; }

    public required ImmutableArray<Criterion> Criteria { get; init; }

    public required CredibilityRule Credibility { get; init; }

    public required AuthorityRule Safety { get; init; }

    public required AuthorityRule Process { get; init; }

    public required AuthorityRule Other { get; init; }

    public required VerificationRule Verification { get; init; }

    /// <summary>The signals that count as emergency stops (a change touching them is safety-related).</summary>
    public required SignalPatterns SafetySignals { get; init; }

    /// <summary>The time zone of the authority rules' maintenance windows (<c>timeZone</c>, an IANA id; UTC by default).</summary>
    public TimeZoneInfo TimeZone { get; init; } = TimeZoneInfo.Utc;

    /// <summary>
    /// Approvals a learned drift model's activation needs from people other than who asked for it (approver, safety or
    /// admin role); 0: the engineer's activation takes effect at once. A model decides with the statistical authority
    /// from then on, so a plant may want four eyes on it like on a change.
    /// </summary>
    public int ModelApprovals { get; init; }

    /// <summary>SHA-256 (lower-case hex) of the policy file's exact text: evidence names the policy it was judged by.</summary>
    public required string Hash { get; init; }

    /// <summary>The policy file (the top-level mapping's position).</summary>
    public SourceLocation? Source { get; init; }

    /// <summary>What a change of <paramref name="changeClass"/> needs.</summary>
    public AuthorityRule RuleFor(ChangeClass changeClass) => changeClass switch
    {
        ChangeClass.Safety => Safety,
        ChangeClass.Process => Process,
        _ => Other,
    };
}

/// <summary>One thing a validation run must show. <see cref="Confidence"/> is the two-sided level of its interval.</summary>
public abstract record Criterion
{
    private protected Criterion()
    {
    }

    /// <summary>The criterion's name in the policy file (<c>throughput</c>, <c>signalLimit</c>, ...).</summary>
    public abstract string Kind { get; }

    /// <summary>What it is about (a signal or station id), or empty for the whole line.</summary>
    public virtual string Subject => "";

    public required double Confidence { get; init; }

    public SourceLocation? Source { get; init; }
}

/// <summary>
/// <c>throughput: { maxDropPercent }</c>: parts leaving the line per run. Passes when the lower bound of the paired
/// difference's interval, relative to the baseline mean, is above -<see cref="MaxDropPercent"/> %.
/// </summary>
public sealed record ThroughputCriterion(double MaxDropPercent) : Criterion
{
    public override string Kind => "throughput";
}

/// <summary><c>interlockViolations: { max }</c>: steps with an interlock violated; passes when every candidate run has at most <see cref="Max"/>.</summary>
public sealed record InterlockViolationsCriterion(long Max) : Criterion
{
    public override string Kind => "interlockViolations";
}

/// <summary><c>axisLimitViolations: { max }</c>: steps with a robot joint outside its limits; passes when every candidate run has at most <see cref="Max"/>.</summary>
public sealed record AxisLimitViolationsCriterion(long Max) : Criterion
{
    public override string Kind => "axisLimitViolations";
}

/// <summary><c>signalLimit: { signal, min, max }</c>: the signal stays within the limits over every candidate run (at every step).</summary>
public sealed record SignalLimitCriterion(string Signal, double? Min, double? Max) : Criterion
{
    public override string Kind => "signalLimit";

    public override string Subject => Signal;
}

/// <summary>
/// <c>bufferFull: { station, maxFraction }</c>: the fraction of steps the station holds its capacity. Passes when the
/// candidate's mean over the seeds is at most <see cref="MaxFraction"/> (an operating target; its interval is recorded).
/// </summary>
public sealed record BufferFullCriterion(string Station, double MaxFraction) : Criterion
{
    public override string Kind => "bufferFull";

    public override string Subject => Station;
}

/// <summary>
/// <c>cycleTime: { station, max }</c>: the mean duration in seconds of the station's completed cycles per run. Passes
/// when the candidate's mean over the seeds is at most <see cref="Max"/> (an operating target; its interval is recorded).
/// </summary>
public sealed record CycleTimeCriterion(string Station, double Max) : Criterion
{
    public override string Kind => "cycleTime";

    public override string Subject => Station;
}

/// <summary>
/// How well the twin must have matched the real line, per signal the change touches, over <see cref="Window"/>: a mean
/// scaled error above <see cref="MaxMeanScaledError"/> (or no samples) makes the twin not credible for the change.
/// </summary>
public sealed record CredibilityRule(TimeSpan Window, double MaxMeanScaledError);

/// <summary>After applying: the real line must match the twin's prediction within <see cref="MaxMeanScaledError"/> over <see cref="Window"/>.</summary>
public sealed record VerificationRule(TimeSpan Window, double MaxMeanScaledError);

/// <summary>
/// What a class of change needs: the authorities (physics: a passing validation; human: <see cref="Approvals"/>
/// approvals, one from a person with the Safety role when <see cref="SafetyApprover"/>; statistical: a learned model's
/// assessment), and the condition under which it may be applied (<see cref="WhileSignal"/>; null: any time, the line
/// running or not).
/// </summary>
public sealed record AuthorityRule(ImmutableArray<Authority> Requires, int Approvals, bool SafetyApprover, SignalCondition? WhileSignal)
{
    public bool Needs(Authority authority) => Requires.Contains(authority);

    /// <summary>
    /// The maintenance windows the change may be applied in (in the policy's <see cref="ValidationPolicy.TimeZone"/>);
    /// empty: any time. Both this and <see cref="WhileSignal"/> must hold.
    /// </summary>
    public ImmutableArray<ApplyWindow> Windows { get; init; } = [];

    /// <summary>Whether <paramref name="utcNow"/> is in one of <see cref="Windows"/> (always, when there are none).</summary>
    public bool InWindow(DateTimeOffset utcNow, TimeZoneInfo timeZone)
    {
        ArgumentNullException.ThrowIfNull(timeZone);
        if (Windows.IsDefaultOrEmpty)
        {
            return true;
        }

        var local = TimeZoneInfo.ConvertTime(utcNow, timeZone).DateTime;
        return Windows.Any(w => w.Contains(local));
    }
}

/// <summary>
/// A weekly maintenance window: from <see cref="From"/> to <see cref="To"/> local time on each of <see cref="Days"/>; a
/// window whose end is not after its start runs past midnight into the next day (22:00 to 06:00). The days are the days
/// the window starts on.
/// </summary>
public sealed record ApplyWindow(ImmutableArray<DayOfWeek> Days, TimeOnly From, TimeOnly To)
{
    public bool Contains(DateTime local)
    {
        var time = TimeOnly.FromDateTime(local);
        if (From < To)
        {
            return Days.Contains(local.DayOfWeek) && time >= From && time < To;
        }

        // Past midnight: the evening part on a listed day, or the morning part on the day after one.
        return (Days.Contains(local.DayOfWeek) && time >= From) || (Days.Contains(local.AddDays(-1).DayOfWeek) && time < To);
    }

    public override string ToString() =>
        $"{string.Join(",", Days.Select(d => d.ToString()[..3].ToLowerInvariant()))} {From.ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture)}-{To.ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture)}";
}
