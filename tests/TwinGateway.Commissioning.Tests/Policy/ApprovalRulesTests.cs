using TwinGateway.Commissioning.Policy;
using TwinGateway.Commissioning.Validation;
using TwinGateway.Core;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Identity;

namespace TwinGateway.Commissioning.Tests.Policy;

public sealed class ApprovalRulesTests
{
    private const string ChangeHash = "c1";
    private const string EvidenceHash = "e1";
    private static readonly ValidationPolicy Policy = GateFiles.DemoPolicy;
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 9, 0, 0, TimeSpan.Zero);

    private static UserIdentity User(string name, params Role[] roles) => new(name, [.. roles]);

    private static Approval Approved(string name, string changeHash = ChangeHash, string evidenceHash = EvidenceHash, params Role[] roles) =>
        new(name, roles.Length == 0 ? [Role.Approver] : [.. roles], changeHash, evidenceHash, Now, "ok");

    private static ApprovalCheck Check(UserIdentity approver, params Approval[] existing) =>
        ApprovalRules.CheckApproval(ChangeClass.Process, Policy, "alice", existing, approver, ChangeHash, EvidenceHash);

    [Fact]
    public void An_approver_may_approve_someone_elses_change()
    {
        Assert.Equal(ApprovalCheck.Accept, Check(User("bob", Role.Approver)));
    }

    [Fact]
    public void Self_approval_is_refused_whatever_the_case_of_the_name()
    {
        var check = Check(User("Alice", Role.Approver, Role.Engineer));

        Assert.False(check.Accepted);
        Assert.Equal("'Alice' submitted this change and may not approve it: another approver must", check.Refusal);
    }

    [Fact]
    public void A_person_without_the_approver_role_is_refused()
    {
        var check = Check(User("carol", Role.Engineer, Role.Safety));

        Assert.Equal("'carol' does not have the approver role (roles: engineer, safety); an admin grants it", check.Refusal);
    }

    [Fact]
    public void A_second_approval_by_the_same_person_is_refused_unless_the_first_is_stale()
    {
        var duplicate = Check(User("bob", Role.Approver), Approved("bob"));
        var afterEdit = Check(User("bob", Role.Approver), Approved("bob", changeHash: "c0"));
        var afterRevalidation = Check(User("bob", Role.Approver), Approved("bob", evidenceHash: "e0"));

        Assert.Contains("'bob' already approved this version of the change", duplicate.Refusal, StringComparison.Ordinal);
        Assert.True(afterEdit.Accepted);
        Assert.True(afterRevalidation.Accepted);
    }

    [Fact]
    public void Approving_without_evidence_is_refused()
    {
        var check = ApprovalRules.CheckApproval(ChangeClass.Process, Policy, "alice", [], User("bob", Role.Approver), ChangeHash, "");

        Assert.Contains("validate it before approving", check.Refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void A_process_change_is_approved_by_a_pass_and_one_current_approval()
    {
        var none = ApprovalRules.Decide(ChangeClass.Process, Policy, "alice", [], ChangeHash, EvidenceHash, ValidationVerdict.Pass);
        var stale = ApprovalRules.Decide(ChangeClass.Process, Policy, "alice", [Approved("bob", changeHash: "c0")], ChangeHash, EvidenceHash, ValidationVerdict.Pass);
        var approved = ApprovalRules.Decide(ChangeClass.Process, Policy, "alice", [Approved("bob")], ChangeHash, EvidenceHash, ValidationVerdict.Pass);
        var failed = ApprovalRules.Decide(ChangeClass.Process, Policy, "alice", [Approved("bob")], ChangeHash, EvidenceHash, ValidationVerdict.NotCredible);

        Assert.False(none.Approved);
        Assert.Equal(["human: 0 of 1 approval(s) for this version of the change and its evidence"], none.Missing.ToArray());
        Assert.False(stale.Approved);
        Assert.True(approved.Approved, approved.ToString());
        Assert.Equal("bob", Assert.Single(approved.Counted).User);
        Assert.False(failed.Approved);
        Assert.Equal(["physics: the validation's verdict is not-credible, not pass"], failed.Missing.ToArray());
    }

    [Fact]
    public void A_safety_change_needs_two_people_one_with_the_safety_role()
    {
        Approval[] twoApprovers = [Approved("bob"), Approved("carol")];
        Approval[] withSafety = [Approved("bob"), Approved("dave", roles: [Role.Approver, Role.Safety])];
        Approval[] samePersonTwice = [Approved("dave", roles: [Role.Approver, Role.Safety]), Approved("DAVE", roles: [Role.Approver, Role.Safety])];
        Approval[] submitterToo = [Approved("alice", roles: [Role.Approver, Role.Safety]), Approved("bob")];

        ApprovalDecision Decide(Approval[] approvals) =>
            ApprovalRules.Decide(ChangeClass.Safety, Policy, "alice", approvals, ChangeHash, EvidenceHash, ValidationVerdict.Pass);

        Assert.Equal(["human: one approval must come from a person with the safety role"], Decide(twoApprovers).Missing.ToArray());
        Assert.True(Decide(withSafety).Approved);
        Assert.Contains("human: 1 of 2 approval(s)", Decide(samePersonTwice).Missing[0], StringComparison.Ordinal);
        Assert.False(Decide(submitterToo).Approved);
    }

    [Fact]
    public void A_learned_model_is_never_the_sole_authority_for_a_safety_change_even_if_a_policy_object_says_so()
    {
        var statisticalOnly = Policy with { Safety = new AuthorityRule([Authority.Statistical], 0, false, null) };
        Approval model = new("drift-model@3", [], ChangeHash, EvidenceHash, Now, null) { Authority = Authority.Statistical };

        var decision = ApprovalRules.Decide(ChangeClass.Safety, statisticalOnly, "alice", [model], ChangeHash, EvidenceHash, ValidationVerdict.Pass);
        var other = ApprovalRules.Decide(ChangeClass.Other, statisticalOnly with { Other = statisticalOnly.Safety }, "alice", [model], ChangeHash, EvidenceHash, null);

        Assert.False(decision.Approved);
        Assert.Contains("a learned model may never be the sole authority for a safety-related change", Assert.Single(decision.Missing), StringComparison.Ordinal);
        Assert.True(other.Approved, other.ToString());
    }

    [Fact]
    public void A_rejection_needs_an_approver_and_a_reason()
    {
        Assert.True(ApprovalRules.CheckRejection(User("bob", Role.Approver), "torque too high for the new screws").Accepted);
        Assert.Equal("a rejection needs a reason: the submitter has to know what to change", ApprovalRules.CheckRejection(User("bob", Role.Approver), "  ").Refusal);
        Assert.Contains("only approvers reject changes", ApprovalRules.CheckRejection(User("eve", Role.Viewer), "no").Refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void Approving_a_class_that_needs_no_person_is_refused()
    {
        var noHumans = Policy with { Other = new AuthorityRule([Authority.Physics], 0, false, null) };

        var check = ApprovalRules.CheckApproval(ChangeClass.Other, noHumans, "alice", [], User("bob", Role.Approver), ChangeHash, EvidenceHash);

        Assert.Contains("requires no human approval (physics)", check.Refusal, StringComparison.Ordinal);
    }
}
