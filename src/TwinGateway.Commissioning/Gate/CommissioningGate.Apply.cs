using System.Globalization;
using TwinGateway.Commissioning.Apply;
using TwinGateway.Commissioning.Audit;
using TwinGateway.Commissioning.Changes;
using TwinGateway.Commissioning.Store;
using TwinGateway.Core;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Identity;
using TwinGateway.Core.Lines;

namespace TwinGateway.Commissioning.Gate;

/// <summary>Apply, verify, roll back; abort; and finishing an apply a crash interrupted.</summary>
public sealed partial class CommissioningGate
{
    /// <summary>
    /// Applies an approved change: the previous values are read and journalled, the operations written in order and read
    /// back, the twin adopts the change's definition, and the real line is verified against the twin for the policy's
    /// window; any failure or an abort writes the previous values back. The apply runs to its end even when the caller
    /// goes away (only <see cref="AbortAsync"/> or the gateway stopping ends it early, both with a rollback).
    /// </summary>
    /// <exception cref="ChangeRefusedException">Not approved (or its approvals no longer count), or the line is not in the condition the policy requires.</exception>
    public async Task<ChangeView> ApplyAsync(string id, UserIdentity user, IProgress<ApplyProgress>? progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        ChangeRecord record;
        ChangeRequest request;
        ILineControl control;
        LineDefinition? candidate;
        Policy.ValidationPolicy policy;
        using (await LockAsync(id, cancellationToken).ConfigureAwait(false))
        {
            record = await LoadAsync(id, cancellationToken).ConfigureAwait(false);
            if (record.State != ChangeState.Approved)
            {
                throw new ChangeRefusedException(RefusalKind.NotNow, $"change {id} is {record.State.ToText()}: only an approved change can be applied");
            }

            control = Line(record.LineId);
            policy = _policies.Get(control.Definition).Policy;
            var decision = Decide(record, policy, ToRuleApprovals(await _store.GetApprovalsAsync(id, cancellationToken).ConfigureAwait(false)));
            if (!decision.Approved)
            {
                throw new ChangeRefusedException(RefusalKind.NotNow, $"change {id} is no longer approved", decision.Missing);
            }

            var rule = policy.RuleFor(record.Class);
            if (rule.WhileSignal is { } condition)
            {
                var value = control.GetRealValue(condition.Signal);
                if (value is not { } real || !condition.Evaluate(_ => real))
                {
                    throw new ChangeRefusedException(RefusalKind.NotNow,
                        $"{record.Class.ToString().ToLowerInvariant()} changes on line '{record.LineId}' are applied only while {Describe(condition)}; {condition.Signal} is {(value is null ? "unknown (no good value from the controller)" : value.Value.ToString(CultureInfo.InvariantCulture))} now");
                }
            }

            if (!rule.InWindow(_time.GetUtcNow(), policy.TimeZone))
            {
                throw new ChangeRefusedException(RefusalKind.NotNow,
                    $"{record.Class.ToString().ToLowerInvariant()} changes on line '{record.LineId}' are applied only in a maintenance window ({string.Join("; ", rule.Windows)}, {policy.TimeZone.Id}); it is {TimeZoneInfo.ConvertTime(_time.GetUtcNow(), policy.TimeZone):ddd HH:mm} there now");
            }

            request = ChangeJson.Read(record.SpecJson);
            candidate = CandidateLine.Build(request, control.Definition);
            record = await _store.UpdateAsync(record with { State = ChangeState.Applying, UpdatedAt = _time.GetUtcNow() }, record.Version, cancellationToken).ConfigureAwait(false);
        }

        await AuditAsync(record, AuditEventKind.Applying, user.Name, Authority.Human, w =>
        {
            w.WriteString("contentHash", record.ContentHash);
            w.WriteString("evidenceHash", record.EvidenceHash);
        }).ConfigureAwait(false);
        await PublishAsync("applying", record, CancellationToken.None).ConfigureAwait(false);

        var live = new Progress(this, record, progress);
        var verification = new VerificationSettings(policy.Verification.Window, policy.Verification.MaxMeanScaledError);
        ApplyOutcome outcome;
        try
        {
            outcome = await _applier.ApplyAsync(id, request, control, candidate, verification, live, _stopping.Token).ConfigureAwait(false);
        }
        finally
        {
            await live.DrainAsync().ConfigureAwait(false);
        }

        return await FinishAsync(id, outcome, request, user.Name, "applied").ConfigureAwait(false);
    }

    /// <summary>Aborts the change's apply (it rolls back; <see cref="ApplyAsync"/> reports the end).</summary>
    /// <exception cref="ChangeRefusedException">The change is not being applied.</exception>
    public async Task<ChangeView> AbortAsync(string id, UserIdentity user, string? reason, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        var record = await LoadAsync(id, cancellationToken).ConfigureAwait(false);
        var why = $"aborted by {user.Name}{(string.IsNullOrWhiteSpace(reason) ? "" : ": " + reason)}";
        if (record.State is not (ChangeState.Applying or ChangeState.Verifying) || !_applier.Abort(id, why))
        {
            throw new ChangeRefusedException(RefusalKind.NotNow, record.State is ChangeState.Applying or ChangeState.Verifying
                ? $"change {id} is {record.State.ToText()} on another gateway or in recovery: it cannot be aborted from here"
                : $"change {id} is {record.State.ToText()}, not being applied: {(record.State.IsFinal() ? "it is final" : "withdraw or reject it instead")}");
        }

        await AuditAsync(record, AuditEventKind.Aborted, user.Name, Authority.Human, w => w.WriteString("reason", reason ?? "")).ConfigureAwait(false);
        return await PublishAsync("aborted", record, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>
    /// Finishes every apply a stop or a crash interrupted (changes found applying or verifying): one that had been verified
    /// is marked applied; the others are rolled back from the previous values in their journal. Each is reported and
    /// audited with the gateway as its actor. A line whose controllers are not connected yet is retried until
    /// <paramref name="cancellationToken"/> fires.
    /// </summary>
    public async Task RecoverAsync(TimeSpan retryInterval, CancellationToken cancellationToken)
    {
        var interrupted = await _store.ListAsync(null, [ChangeState.Applying, ChangeState.Verifying], cancellationToken).ConfigureAwait(false);
        foreach (var record in interrupted)
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var control = _lines.Find(record.LineId);
                if (control is null)
                {
                    Log.RecoveryFailed(_logger, record.Id, record.State.ToText(), $"this gateway no longer runs line '{record.LineId}'");
                    break;
                }

                var steps = (await _store.GetJournalAsync(record.Id, cancellationToken).ConfigureAwait(false)).Select(StoreApplyJournal.ToStep).ToList();
                var needsController = steps.Count > 0 && !steps.Any(s => s.Kind == ApplyStepKind.Verified);
                if (needsController && !control.IsConnected)
                {
                    await Task.Delay(retryInterval, _time, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                var outcome = await _applier.RecoverAsync(record.Id, steps, control, previousDefinition: null, cancellationToken).ConfigureAwait(false);
                Log.Recovered(_logger, record.Id, record.State.ToText(), outcome.Result.ToString(), outcome.Reason);
                await FinishAsync(record.Id, outcome, ChangeJson.Read(record.SpecJson), GatewayActor, "recovered").ConfigureAwait(false);
                break;
            }
        }
    }

    /// <summary>
    /// At start, the shadow twins take up the definitions their lines had when the gateway stopped: every applied change
    /// with a definition or pose operation, oldest first, over the line file the gateway loaded (the files themselves are
    /// the engineer's; a change never rewrites them).
    /// </summary>
    public async Task ReadoptAppliedDefinitionsAsync(CancellationToken cancellationToken)
    {
        var applied = await _store.ListAsync(null, [ChangeState.Applied], cancellationToken).ConfigureAwait(false);
        foreach (var line in applied.GroupBy(c => c.LineId, StringComparer.Ordinal))
        {
            if (_lines.Find(line.Key) is not { } control)
            {
                continue;
            }

            var definition = control.Definition;
            string? text = null;
            var count = 0;
            foreach (var record in line.OrderBy(c => c.UpdatedAt))
            {
                var request = ChangeJson.Read(record.SpecJson);
                if (CandidateLine.Build(request, definition) is { } candidate)
                {
                    definition = candidate;
                    count++;
                    text = request.Operations.OfType<DefinitionOperation>().LastOrDefault()?.Text ?? text;
                }
            }

            if (count > 0)
            {
                control.AdoptDefinition(definition);
                if (text is not null)
                {
                    _adoptedText[line.Key] = text;
                }

                Log.Readopted(_logger, line.Key, count);
            }
        }
    }

    /// <summary>Records how an apply ended: the final state, the audit entries, the adopted definition's text.</summary>
    private async Task<ChangeView> FinishAsync(string id, ApplyOutcome outcome, ChangeRequest request, string actor, string how)
    {
        using var held = await LockAsync(id, CancellationToken.None).ConfigureAwait(false);
        var record = await LoadAsync(id, CancellationToken.None).ConfigureAwait(false);
        var state = outcome.Result switch
        {
            ApplyResult.Applied => ChangeState.Applied,
            ApplyResult.RolledBack => ChangeState.RolledBack,
            _ => ChangeState.Failed,
        };
        record = await _store.UpdateAsync(record with { State = state, UpdatedAt = _time.GetUtcNow(), Outcome = outcome.Reason }, record.Version, CancellationToken.None).ConfigureAwait(false);
        switch (outcome.Result)
        {
            case ApplyResult.Applied:
                await AuditAsync(record, AuditEventKind.Applied, actor, Authority.Human, w =>
                {
                    w.WriteString("how", how);
                    w.WriteNumber("written", outcome.Written.Count);
                    w.WriteNumber("calls", outcome.Calls.Count);
                    WriteValues(w, "previous", outcome.PreviousValues);
                    WriteValues(w, "readBack", outcome.ReadBack);
                }).ConfigureAwait(false);
                await AuditAsync(record, AuditEventKind.Verified, actor, Authority.Physics, w =>
                {
                    w.WriteStartArray("signals");
                    foreach (var figure in outcome.Verification)
                    {
                        w.WriteStartObject();
                        w.WriteString("signal", figure.SignalId);
                        w.WriteNumber("samples", figure.Samples);
                        if (figure.MeanScaledError is { } mean)
                        {
                            w.WriteNumber("meanScaledError", mean);
                        }

                        w.WriteNumber("limit", figure.Limit);
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                }).ConfigureAwait(false);
                if (request.Operations.OfType<DefinitionOperation>().LastOrDefault() is { } definition)
                {
                    _adoptedText[record.LineId] = definition.Text;
                }

                break;
            case ApplyResult.RolledBack:
                await AuditAsync(record, AuditEventKind.RolledBack, actor, Authority.Physics, w =>
                {
                    w.WriteString("how", how);
                    w.WriteString("reason", outcome.Reason);
                    WriteValues(w, "restored", outcome.RollbackResults);
                }).ConfigureAwait(false);
                break;
            default:
                await AuditAsync(record, AuditEventKind.Failed, actor, Authority.Physics, w =>
                {
                    w.WriteString("how", how);
                    w.WriteString("reason", outcome.Reason);
                    WriteValues(w, "left", outcome.RollbackResults);
                }).ConfigureAwait(false);
                break;
        }

        Log.ApplyEnded(_logger, id, record.LineId, state.ToText(), outcome.Reason);
        return await PublishAsync(state.ToText(), record, CancellationToken.None).ConfigureAwait(false);
    }

    private static void WriteValues(System.Text.Json.Utf8JsonWriter w, string name, IReadOnlyList<NodeValue> values)
    {
        w.WriteStartArray(name);
        foreach (var value in values)
        {
            w.WriteStartObject();
            w.WriteString("target", value.Target);
            w.WriteString("node", value.Node.NodeId);
            if (value.Value is { } v)
            {
                w.WriteString("value", v.ToString());
            }

            if (value.Problem is not null)
            {
                w.WriteString("problem", value.Problem);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private static string Describe(SignalCondition condition) => condition.Operator switch
    {
        ComparisonOperator.EqualTo => $"{condition.Signal} equals {Value(condition.Value)}",
        ComparisonOperator.NotEqualTo => $"{condition.Signal} is not {Value(condition.Value)}",
        ComparisonOperator.Above => $"{condition.Signal} is above {Value(condition.Value)}",
        _ => $"{condition.Signal} is below {Value(condition.Value)}",
    };

    private static string Value(double value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Forwards each step to the caller and moves the change to verifying when verification starts.</summary>
    private sealed class Progress(CommissioningGate gate, ChangeRecord record, IProgress<ApplyProgress>? caller) : IProgress<ApplyProgress>
    {
        private Task _pending = Task.CompletedTask;

        public void Report(ApplyProgress value)
        {
            caller?.Report(value);
            if (value.Kind == ApplyStepKind.Verifying)
            {
                _pending = MarkVerifyingAsync();
            }
        }

        private async Task MarkVerifyingAsync()
        {
            using var held = await gate.LockAsync(record.Id, CancellationToken.None).ConfigureAwait(false);
            var current = await gate.LoadAsync(record.Id, CancellationToken.None).ConfigureAwait(false);
            if (current.State == ChangeState.Applying)
            {
                current = await gate._store.UpdateAsync(current with { State = ChangeState.Verifying, UpdatedAt = gate._time.GetUtcNow() }, current.Version, CancellationToken.None).ConfigureAwait(false);
                await gate.PublishAsync("verifying", current, CancellationToken.None).ConfigureAwait(false);
            }
        }

        public Task DrainAsync() => _pending;
    }
}
