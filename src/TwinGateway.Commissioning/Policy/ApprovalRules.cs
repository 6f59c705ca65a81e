using System.Collections.Immutable;
using TwinGateway.Commissioning.Validation;
using TwinGateway.Core;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Identity;

namespace TwinGateway.Commissioning.Policy;

/// <summary>
/// An approval of a change, bound to the exact content (<see cref="ChangeHash"/>) and the evidence it was approved on
/// (<see cref="EvidenceHash"/>): an edit of the change or a new validation makes it stale, and it no longer counts.
/// A person approves with <see cref="Authority.Human"/>; a learned model's assessment is recorded as
/// <see cref="Authority.Statistical"/> (its user names the model and version).
/// </summary>
public sealed record Approval(string User, ImmutableArray<Role> Roles, string ChangeHash, string EvidenceHash, DateTimeOffset Time, string? Comment)
{
    public Authority Authority { get; init; } = Authority.Human;

    public bool IsBoundTo(string changeHash, string evidenceHash) =>
        string.Equals(ChangeHash, changeHash, StringComparison.Ordinal) && string.Equals(EvidenceHash, evidenceHash, StringComparison.Ordinal);
}

/// <summary>Whether an approval or rejection is accepted; <see cref="Refusal"/> says why not.</summary>
public sealed record ApprovalCheck(bool Accepted, string? Refusal)
{
    public static ApprovalCheck Accept { get; } = new(true, null);

    public static ApprovalCheck Refuse(string reason) => new(false, reason);
}

/// <summary>Whether a change is approved, what still lacks, and the approvals that counted.</summary>
public sealed record ApprovalDecision(bool Approved, ImmutableArray<string> Missing, ImmutableArray<Approval> Counted)
{
    public override string ToString() => Approved ? "approved" : $"not approved: {string.Join("; ", Missing)}";
}

/// <summary>
/// Who may approve or reject a change and when it is approved, per the policy's authority rule for its class
/// (DESIGN.md, "Authority"). Pure rules: the caller records the approvals and the audit entries.
/// </summary>
public static class ApprovalRules
{
    /// <summary>Whether <paramref name="approver"/> may approve now.</summary>
    /// <param name="changeClass">The change's class (<see cref="Changes.ChangeChecks"/>).</param>
    /// <param name="policy">The line's policy.</param>
    /// <param name="submitter">Who submitted the change.</param>
    /// <param name="existing">Approvals recorded so far (any hashes).</param>
    /// <param name="approver">The authenticated person approving.</param>
    /// <param name="changeHash">The change's current content hash.</param>
    /// <param name="evidenceHash">The hash of the evidence the approver has seen (the latest validation's).</param>
    public static ApprovalCheck CheckApproval(ChangeClass changeClass, ValidationPolicy policy, string submitter, IReadOnlyList<Approval> existing,
        UserIdentity approver, string changeHash, string evidenceHash)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(existing);
        ArgumentNullException.ThrowIfNull(approver);
        if (SamePerson(approver.Name, submitter))
        {
            return ApprovalCheck.Refuse($"'{approver.Name}' submitted this change and may not approve it: another approver must");
        }

        if (!approver.IsIn(Role.Approver))
        {
            return ApprovalCheck.Refuse($"'{approver.Name}' does not have the approver role (roles: {RoleList(approver.Roles)}); an admin grants it");
        }

        if (string.IsNullOrEmpty(evidenceHash))
        {
            return ApprovalCheck.Refuse("the change has no validation evidence yet: validate it before approving");
        }

        if (existing.FirstOrDefault(a => SamePerson(a.User, approver.Name) && a.IsBoundTo(changeHash, evidenceHash)) is { } earlier)
        {
            return ApprovalCheck.Refuse($"'{approver.Name}' already approved this version of the change (at {earlier.Time:O}); a second approval needs another person");
        }

        var rule = policy.RuleFor(changeClass);
        if (!rule.Needs(Authority.Human))
        {
            return ApprovalCheck.Refuse($"the policy for {ClassText(changeClass)} changes on line '{policy.LineId}' requires no human approval ({AuthorityList(rule.Requires)})");
        }

        return ApprovalCheck.Accept;
    }

    /// <summary>Whether <paramref name="rejecter"/> may reject the change with <paramref name="reason"/>.</summary>
    public static ApprovalCheck CheckRejection(UserIdentity rejecter, string? reason)
    {
        ArgumentNullException.ThrowIfNull(rejecter);
        if (!rejecter.IsIn(Role.Approver))
        {
            return ApprovalCheck.Refuse($"'{rejecter.Name}' does not have the approver role (roles: {RoleList(rejecter.Roles)}); only approvers reject changes");
        }

        return string.IsNullOrWhiteSpace(reason)
            ? ApprovalCheck.Refuse("a rejection needs a reason: the submitter has to know what to change")
            : ApprovalCheck.Accept;
    }

    /// <summary>
    /// Whether the change is approved: every authority its class's rule requires is satisfied, counting only approvals
    /// bound to <paramref name="changeHash"/> and <paramref name="evidenceHash"/>, one per person, never the submitter's.
    /// Physics: the evidence's verdict is <see cref="ValidationVerdict.Pass"/>. Human: enough approvals, one from a person
    /// with the Safety role where the rule says so. Statistical: a model's assessment. A learned model is never the sole
    /// authority for a safety-related change, whatever the policy object says.
    /// </summary>
    public static ApprovalDecision Decide(ChangeClass changeClass, ValidationPolicy policy, string submitter, IReadOnlyList<Approval> approvals,
        string changeHash, string? evidenceHash, ValidationVerdict? verdict)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(approvals);
        var rule = policy.RuleFor(changeClass);
        var missing = new List<string>();
        var bound = evidenceHash is null
            ? []
            : approvals.Where(a => a.IsBoundTo(changeHash, evidenceHash) && !SamePerson(a.User, submitter))
                .DistinctBy(a => (a.Authority, a.User.ToUpperInvariant()))
                .ToList();
        var counted = new List<Approval>();

        if (rule.Needs(Authority.Physics) && verdict != ValidationVerdict.Pass)
        {
            missing.Add(verdict is null || evidenceHash is null
                ? "physics: the change has not been validated"
                : $"physics: the validation's verdict is {EvidenceJson.VerdictText(verdict.Value)}, not pass");
        }

        if (rule.Needs(Authority.Human))
        {
            var people = bound.Where(a => a.Authority == Authority.Human).ToList();
            counted.AddRange(people);
            if (people.Count < rule.Approvals)
            {
                missing.Add($"human: {people.Count} of {rule.Approvals} approval(s) for this version of the change and its evidence");
            }

            if (rule.SafetyApprover && !people.Any(a => a.Roles.Contains(Role.Safety)))
            {
                missing.Add("human: one approval must come from a person with the safety role");
            }
        }

        if (rule.Needs(Authority.Statistical))
        {
            var models = bound.Where(a => a.Authority == Authority.Statistical).ToList();
            counted.AddRange(models);
            if (models.Count == 0)
            {
                missing.Add("statistical: no learned model's assessment for this version of the change and its evidence");
            }
        }

        if (changeClass == ChangeClass.Safety && !rule.Needs(Authority.Physics) && !rule.Needs(Authority.Human))
        {
            missing.Add("a learned model may never be the sole authority for a safety-related change: the policy must require physics or human");
        }

        return new ApprovalDecision(missing.Count == 0, [.. missing], [.. counted]);
    }

    private static bool SamePerson(string a, string b) => string.Equals(a.Trim(), b.Trim(), StringComparison.OrdinalIgnoreCase);

    private static string RoleList(ImmutableArray<Role> roles) => roles.IsDefaultOrEmpty ? "none" : string.Join(", ", roles.Select(r => r.ToText()));

    private static string AuthorityList(ImmutableArray<Authority> authorities) => string.Join(", ", authorities.Select(a => a.ToString().ToLowerInvariant()));

    private static string ClassText(ChangeClass changeClass) => changeClass.ToString().ToLowerInvariant();
}
