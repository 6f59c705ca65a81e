namespace TwinGateway.Commissioning.Audit;

/// <summary>
/// What happened to a change (or a line) that the audit log records. A closed set: the numbers are part of the signed
/// encoding (<see cref="AuditEncoding"/>) and must never be renumbered; a new kind takes the next free number.
/// </summary>
public enum AuditEventKind
{
    /// <summary>A change request was submitted (static checks passed).</summary>
    Submitted = 1,

    /// <summary>Validation on the twin passed; the payload carries the evidence hash.</summary>
    Validated = 2,

    /// <summary>Validation on the twin failed (rejected by validation); the payload names the failed criteria.</summary>
    ValidationFailed = 3,

    /// <summary>A person approved the change (bound to its content and evidence hashes).</summary>
    Approved = 4,

    /// <summary>A person rejected the change, with a reason.</summary>
    Rejected = 5,

    /// <summary>Apply started: the previous values were read and recorded.</summary>
    Applying = 6,

    /// <summary>The operations were written and read back.</summary>
    Applied = 7,

    /// <summary>Verification on the line against the twin passed.</summary>
    Verified = 8,

    /// <summary>The previous values were written back and read back.</summary>
    RolledBack = 9,

    /// <summary>A person aborted the change.</summary>
    Aborted = 10,

    /// <summary>The change failed in a way that could not be rolled back cleanly; the payload says what is left.</summary>
    Failed = 11,

    /// <summary>The submitter withdrew the change.</summary>
    Withdrawn = 12,

    /// <summary>
    /// A person made a learned drift model the line's active one (authority statistical: the model decides from now
    /// on); the payload names the version, kind, training range and training data hash. No change id.
    /// </summary>
    ModelActivated = 13,

    /// <summary>An engineer asked for a drift model's activation that the line's policy wants approved first (authority human).</summary>
    ModelActivationRequested = 14,

    /// <summary>A person approved a requested drift model activation (authority human; four eyes).</summary>
    ModelActivationApproved = 15,
}

/// <summary>The texts the issue and the command line use for <see cref="AuditEventKind"/> and <see cref="Core.Authority"/>.</summary>
public static class AuditNames
{
    public static string ToText(this AuditEventKind kind) => kind switch
    {
        AuditEventKind.Submitted => "submitted",
        AuditEventKind.Validated => "validated",
        AuditEventKind.ValidationFailed => "rejected-by-validation",
        AuditEventKind.Approved => "approved",
        AuditEventKind.Rejected => "rejected",
        AuditEventKind.Applying => "applying",
        AuditEventKind.Applied => "applied",
        AuditEventKind.Verified => "verified",
        AuditEventKind.RolledBack => "rolled-back",
        AuditEventKind.Aborted => "aborted",
        AuditEventKind.Failed => "failed",
        AuditEventKind.Withdrawn => "withdrawn",
        AuditEventKind.ModelActivated => "model-activated",
        AuditEventKind.ModelActivationRequested => "model-activation-requested",
        AuditEventKind.ModelActivationApproved => "model-activation-approved",
        _ => $"unknown ({(int)kind})",
    };

    public static string ToText(this Core.Authority authority) => authority switch
    {
        Core.Authority.Physics => "physics",
        Core.Authority.Statistical => "statistical",
        Core.Authority.Human => "human",
        _ => $"unknown ({(int)authority})",
    };
}
