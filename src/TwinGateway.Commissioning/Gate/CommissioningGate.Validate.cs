using TwinGateway.Commissioning.Audit;
using TwinGateway.Commissioning.Changes;
using TwinGateway.Commissioning.Store;
using TwinGateway.Commissioning.Validation;
using TwinGateway.Core;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Identity;

namespace TwinGateway.Commissioning.Gate;

/// <summary>Validation on what-if forks of the line's shadow twin.</summary>
public sealed partial class CommissioningGate
{
    /// <summary>The files a validation keeps beside its evidence, in <c>&lt;artifacts&gt;/&lt;change id&gt;/</c>.</summary>
    public const string SnapshotFile = "twin-snapshot.bin";
    public const string LineFile = "line.yaml";
    public const string PolicyFile = "policy.yaml";

    /// <summary>
    /// Validates the change on forks of the shadow twin as it is now: baseline against candidate with the same seeds,
    /// every criterion of the line's policy, the twin's credibility for what the change touches. The change ends
    /// validated or rejected-by-validation, with its evidence; earlier approvals no longer count (they name the old evidence).
    /// </summary>
    /// <exception cref="ChangeRefusedException">The change is not in a state that can be validated, or no longer passes its static checks.</exception>
    public async Task<ChangeView> ValidateAsync(string id, UserIdentity user, IProgress<ValidationProgress>? progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        using var held = await LockAsync(id, cancellationToken).ConfigureAwait(false);
        var record = await LoadAsync(id, cancellationToken).ConfigureAwait(false);
        if (record.State is not (ChangeState.Draft or ChangeState.Validated or ChangeState.RejectedByValidation or ChangeState.Approved))
        {
            throw new ChangeRefusedException(RefusalKind.NotNow, $"change {id} is {record.State.ToText()}: only a draft, validated, approved or rejected-by-validation change can be validated");
        }

        var request = ChangeJson.Read(record.SpecJson);
        var control = Line(record.LineId);
        var policy = _policies.Get(control.Definition);
        var check = ChangeChecks.Check(request, control.Definition, policy.Policy.SafetySignals);
        if (check.Problems.Length > 0)
        {
            throw new ChangeRefusedException(RefusalKind.Invalid, $"change {id} no longer passes its checks against line '{record.LineId}' as it runs now",
                [.. check.Problems.Select(p => p.ToString())]);
        }

        var before = record;
        record = await _store.UpdateAsync(record with { State = ChangeState.Validating, UpdatedAt = _time.GetUtcNow() }, record.Version, cancellationToken).ConfigureAwait(false);
        await PublishAsync("validating", record, cancellationToken).ConfigureAwait(false);
        Evidence evidence;
        try
        {
            var snapshot = control.SnapshotTwin().WithStep(policy.Policy.Step);
            var lineText = CurrentLineText(control);
            var credibility = control.GetCredibility(ValidationSuite.TouchedSignals(request, control.Definition), policy.Policy.Credibility.Window);
            var folder = Directory.CreateDirectory(Path.Combine(_artifacts, id)).FullName;
            await File.WriteAllBytesAsync(Path.Combine(folder, SnapshotFile), snapshot.SaveState(), cancellationToken).ConfigureAwait(false);
            await File.WriteAllTextAsync(Path.Combine(folder, LineFile), lineText, cancellationToken).ConfigureAwait(false);
            await File.WriteAllTextAsync(Path.Combine(folder, PolicyFile), policy.Text, cancellationToken).ConfigureAwait(false);
            var validation = new ValidationRequest
            {
                Snapshot = snapshot,
                CurrentLine = control.Definition,
                CurrentLineText = lineText,
                Change = request,
                Policy = policy.Policy,
                Credibility = credibility,
                BaseSeed = BaseSeed(record.ContentHash),
            };
            evidence = await Task.Run(() => new ValidationSuite(_time).Run(validation, progress, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not ChangeRefusedException)
        {
            // A validation that did not finish decides nothing: the change goes back to where it was.
            await _store.UpdateAsync(before with { UpdatedAt = _time.GetUtcNow() }, record.Version, CancellationToken.None).ConfigureAwait(false);
            await PublishAsync(before.State.ToText(), before, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        var passed = evidence.Verdict == ValidationVerdict.Pass;
        record = await _store.UpdateAsync(record with
        {
            State = passed ? ChangeState.Validated : ChangeState.RejectedByValidation,
            UpdatedAt = _time.GetUtcNow(),
            EvidenceJson = EvidenceJson.WriteString(evidence),
            EvidenceHash = evidence.Hash,
            Outcome = passed ? null : evidence.Summary,
        }, record.Version, CancellationToken.None).ConfigureAwait(false);
        await AuditAsync(record, passed ? AuditEventKind.Validated : AuditEventKind.ValidationFailed, user.Name, Authority.Physics, w =>
        {
            w.WriteString("contentHash", record.ContentHash);
            w.WriteString("evidenceHash", evidence.Hash);
            w.WriteString("verdict", EvidenceJson.VerdictText(evidence.Verdict));
            w.WriteString("policyHash", evidence.PolicyHash);
            w.WriteString("lineDefinitionHash", evidence.LineDefinitionHash);
            w.WriteString("summary", evidence.Summary);
            w.WriteStartArray("failedCriteria");
            foreach (var criterion in evidence.Criteria.Where(c => !c.Passed))
            {
                w.WriteStringValue(criterion.Subject.Length > 0 ? $"{criterion.Kind} {criterion.Subject}" : criterion.Kind);
            }

            w.WriteEndArray();
        }).ConfigureAwait(false);
        Log.Validated(_logger, id, EvidenceJson.VerdictText(evidence.Verdict), evidence.Summary, evidence.Hash, evidence.Timing.WallSeconds);
        return await PublishAsync(record.State.ToText(), record, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>The run seeds are derived from the change's content: the same change gets the same seeds, on any gateway.</summary>
    private static ulong BaseSeed(string contentHash) => Convert.ToUInt64(contentHash[..16], 16);

    /// <summary>The exact text of the definition the line runs: the adopted change's, or the line file's.</summary>
    private string CurrentLineText(ILineControl control)
    {
        if (_adoptedText.TryGetValue(control.LineId, out var adopted))
        {
            return adopted;
        }

        var file = control.Definition.Source?.File;
        return file is not null && File.Exists(file)
            ? File.ReadAllText(file)
            : throw new ChangeRefusedException(RefusalKind.NotNow, $"line '{control.LineId}' was loaded from '{file}', which can no longer be read: the evidence must name the definition it ran on");
    }
}
