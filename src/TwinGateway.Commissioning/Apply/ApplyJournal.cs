namespace TwinGateway.Commissioning.Apply;

/// <summary>
/// Where an apply writes down each step before and after it happens, so that an apply interrupted by a crash can be
/// finished by <see cref="ChangeApplier.RecoverAsync"/>: the previous values it would write back are in the journal
/// before the first write is sent. The gateway keeps it in SQLite next to the change store.
/// </summary>
public interface IApplyJournal
{
    /// <summary>Appends <paramref name="step"/> to the change's journal; durable when the task completes.</summary>
    Task RecordAsync(string changeId, ApplyStep step, CancellationToken cancellationToken);

    /// <summary>The change's steps in the order they were recorded (empty when none).</summary>
    Task<IReadOnlyList<ApplyStep>> ReadAsync(string changeId, CancellationToken cancellationToken);
}

/// <summary>The kinds of step an apply records, in the order they happen.</summary>
public enum ApplyStepKind
{
    /// <summary>The previous value of every target was read; <see cref="ApplyStep.Detail"/> holds them (what a rollback writes back).</summary>
    PreviousValuesRecorded = 1,

    /// <summary>About to write (or call) target <see cref="ApplyStep.Index"/>.</summary>
    Writing = 2,

    /// <summary>Target <see cref="ApplyStep.Index"/> was written (or called); <see cref="ApplyStep.Detail"/> says with what result.</summary>
    Written = 3,

    /// <summary>Every written node read back with the value written.</summary>
    ReadBackOk = 4,

    /// <summary>The shadow twin runs the change's definition.</summary>
    DefinitionAdopted = 5,

    /// <summary>Verification started: the window and the signals.</summary>
    Verifying = 6,

    /// <summary>The twin matched the real line within the limit over the window; the change is in.</summary>
    Verified = 7,

    /// <summary>The change is applied (after <see cref="Verified"/>, or found verified by a recovery).</summary>
    Applied = 8,

    /// <summary>Rolling back, with the reason.</summary>
    RollingBack = 9,

    /// <summary>Every node holds its previous value again.</summary>
    RolledBack = 10,

    /// <summary>The rollback did not complete: <see cref="ApplyStep.Detail"/> says what is left on the controllers.</summary>
    Failed = 11,
}

/// <summary>One recorded step of an apply.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="At">When (the applier's <see cref="TimeProvider"/>).</param>
/// <param name="Message">The step in words, for people and logs.</param>
/// <param name="Index">For <see cref="ApplyStepKind.Writing"/> and <see cref="ApplyStepKind.Written"/>: the target's position in the plan (0-based).</param>
/// <param name="Detail">JSON: the values, results or figures of the step (the format is the applier's; a journal stores it as it is).</param>
public sealed record ApplyStep(ApplyStepKind Kind, DateTimeOffset At, string Message, int? Index = null, string? Detail = null)
{
    /// <summary>The kinds after which an apply does nothing more.</summary>
    public bool IsFinal => Kind is ApplyStepKind.Applied or ApplyStepKind.RolledBack or ApplyStepKind.Failed;
}

/// <summary>A step as it happens, for a live view (gRPC streams these).</summary>
public sealed record ApplyProgress(string ChangeId, ApplyStepKind Kind, string Message, DateTimeOffset At);
