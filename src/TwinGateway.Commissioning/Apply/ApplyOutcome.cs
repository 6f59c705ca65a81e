using TwinGateway.Core.Changes;

namespace TwinGateway.Commissioning.Apply;

/// <summary>How an apply ended.</summary>
public enum ApplyResult
{
    /// <summary>Written, read back and verified: the change is in.</summary>
    Applied,

    /// <summary>
    /// Not in: every node written holds its previous value again (read back), and the twin runs the previous
    /// definition. Also the result when something failed before the first write (nothing was written).
    /// </summary>
    RolledBack,

    /// <summary>The rollback did not complete: <see cref="ApplyOutcome.RollbackResults"/> says what each node holds.</summary>
    Failed,
}

/// <summary>How long and how closely the twin must match the real line after a change before it counts as applied.</summary>
/// <param name="Window">How long to watch after the write and read-back.</param>
/// <param name="MaxMeanScaledError">The largest mean |real - expected| / nominal range width a verified signal may have over the window.</param>
/// <param name="Signals">
/// The signals to verify; null: the signals the change writes and the signals of their stations (a pose's robot's
/// station, a definition's changed stations) that the twin models as numbers with a nominal range. An explicitly named
/// signal with no samples in the window fails.
/// </param>
public sealed record VerificationSettings(TimeSpan Window, double MaxMeanScaledError, IReadOnlyList<string>? Signals = null)
{
    /// <summary>One minute within 5 % of the nominal range.</summary>
    public static VerificationSettings Default { get; } = new(TimeSpan.FromMinutes(1), 0.05);
}

/// <summary>A node of the plan with a value, or why there is none.</summary>
/// <param name="Target">The operation it belongs to, in words (for example <c>set robot2.speedOverride</c>).</param>
/// <param name="Node">The controller node.</param>
/// <param name="Value">The value (previous, written, read back); null when <paramref name="Problem"/> says why not.</param>
/// <param name="Problem">Null when all went well.</param>
public sealed record NodeValue(string Target, ControllerNode Node, ChangeValue? Value, string? Problem);

/// <summary>A method called by the change (calls are never rolled back), and its result.</summary>
public sealed record CallRecord(string Target, ControllerCall Call, string? Problem);

/// <summary>One verified signal's figures over the window.</summary>
public sealed record VerificationFigure(string SignalId, long Samples, double? MeanScaledError, double? MaxScaledError, double Limit)
{
    /// <summary>Samples in the window and a mean error within the limit.</summary>
    public bool Passed => Samples > 0 && MeanScaledError <= Limit;
}

/// <summary>What an apply did and how it ended.</summary>
/// <param name="ChangeId">The change.</param>
/// <param name="Result">Applied, rolled back or failed.</param>
/// <param name="Reason">Why it ended so, in words (for rolled back and failed: the first problem).</param>
/// <param name="PreviousValues">What each target held before the change.</param>
/// <param name="Written">What was written to each target, with the controller's answer.</param>
/// <param name="Calls">The methods called, with their results (not undone by a rollback).</param>
/// <param name="ReadBack">What each written target held when read back.</param>
/// <param name="Verification">The figures per verified signal (empty when verification did not run).</param>
/// <param name="RollbackResults">For a rollback: what each node holds afterwards, read back (a problem where it does not hold its previous value).</param>
/// <param name="Steps">Every step recorded, in order.</param>
public sealed record ApplyOutcome(
    string ChangeId,
    ApplyResult Result,
    string Reason,
    IReadOnlyList<NodeValue> PreviousValues,
    IReadOnlyList<NodeValue> Written,
    IReadOnlyList<CallRecord> Calls,
    IReadOnlyList<NodeValue> ReadBack,
    IReadOnlyList<VerificationFigure> Verification,
    IReadOnlyList<NodeValue> RollbackResults,
    IReadOnlyList<ApplyStep> Steps);
