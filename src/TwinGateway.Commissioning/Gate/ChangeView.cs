using System.Collections.Immutable;
using TwinGateway.Commissioning.Apply;
using TwinGateway.Commissioning.Store;
using TwinGateway.Commissioning.Validation;
using TwinGateway.Core.Changes;

namespace TwinGateway.Commissioning.Gate;

/// <summary>A change as the API and the console show it: the record, the request, its evidence, approvals and apply steps.</summary>
/// <param name="Record">The stored change.</param>
/// <param name="Request">The request it was submitted as.</param>
/// <param name="Evidence">The last validation's evidence; null before the first.</param>
/// <param name="Approvals">Every approval given, each with whether it still counts (bound to the current content and evidence hashes).</param>
/// <param name="Missing">What the policy still needs before the change may be applied; empty when approved.</param>
/// <param name="Steps">The apply journal's steps, in order.</param>
public sealed record ChangeView(
    ChangeRecord Record,
    ChangeRequest Request,
    Evidence? Evidence,
    ImmutableArray<(ApprovalRecord Approval, bool Counts)> Approvals,
    ImmutableArray<string> Missing,
    ImmutableArray<ApplyStep> Steps);

/// <summary>Something happened to a change (what <c>WatchChanges</c> streams).</summary>
/// <param name="Event">submitted, validating, validated, rejected-by-validation, approval, approved, rejected, applying,
/// verifying, applied, rolled-back, failed, withdrawn, aborted.</param>
/// <param name="Time">When.</param>
/// <param name="Change">The change as it is after the event.</param>
public sealed record ChangeEvent(string Event, DateTimeOffset Time, ChangeView Change);
