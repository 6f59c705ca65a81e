using System.Globalization;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Lines;

namespace TwinGateway.Commissioning.Apply;

public sealed partial class ChangeApplier
{
    /// <summary>One apply (or recovery) of one change: its steps and what it read and wrote.</summary>
    private sealed class Run(ChangeApplier applier, string changeId, ILineControl control, IProgress<ApplyProgress>? progress)
    {
        private readonly List<(int Target, NodeValue Value)> _previous = [];
        private readonly HashSet<int> _attempted = [];
        private readonly List<NodeValue> _written = [];
        private readonly List<CallRecord> _calls = [];
        private readonly List<NodeValue> _readBack = [];
        private readonly List<VerificationFigure> _figures = [];
        private readonly List<NodeValue> _rollback = [];
        private LineDefinition? _previousDefinition;
        private bool _adopted;

        public List<ApplyStep> Steps { get; } = [];

        public async Task<ApplyOutcome> ApplyAsync(ChangeRequest change, LineDefinition? candidate, VerificationSettings verification,
            Func<string?> abortReason, CancellationToken cancellationToken)
        {
            _previousDefinition = control.Definition;
            var plan = ApplyPlan.Create(change, _previousDefinition, candidate, out var problem);
            if (problem is null && plan.Definition is { } definition && SignalsDiffer(_previousDefinition, definition) is { } mismatch)
            {
                problem = $"the change's definition cannot be adopted: {mismatch}";
            }

            if (problem is not null)
            {
                return await NothingWrittenAsync(problem).ConfigureAwait(false);
            }

            // b. The previous value of every node to write, journalled before the first write.
            var writes = plan.Targets.Select((t, i) => (Target: t, Index: i)).Where(x => x.Target.IsWrite).ToList();
            IReadOnlyList<ControllerReadResult> previous;
            try
            {
                previous = writes.Count == 0 ? [] : await control.ReadAsync([.. writes.Select(w => w.Target.Node!)], cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return await NothingWrittenAsync(AbortText(abortReason)).ConfigureAwait(false);
            }

            for (var k = 0; k < writes.Count; k++)
            {
                _previous.Add((writes[k].Index, new NodeValue(writes[k].Target.Label, writes[k].Target.Node!, previous[k].Value, previous[k].Problem)));
            }

            if (_previous.FirstOrDefault(p => p.Value.Problem is not null || p.Value.Value is null) is { Value: { } failed })
            {
                return await NothingWrittenAsync($"reading the previous value of {failed.Target} (node {failed.Node.NodeId}) failed: {failed.Problem ?? "no value"}").ConfigureAwait(false);
            }

            await RecordAsync(ApplyStepKind.PreviousValuesRecorded,
                $"previous values of {_previous.Count} node(s): " + string.Join(", ", _previous.Select(p => $"{p.Value.Target} = {p.Value.Value}")),
                detail: ApplyDetail.Serialize(_previous.Select(p => ApplyDetail.Entry.Of(p.Target, p.Value)).ToList())).ConfigureAwait(false);

            try
            {
                // c. The operations in order, each journalled before and after.
                for (var i = 0; i < plan.Targets.Count; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var target = plan.Targets[i];
                    if (target.Node is { } node)
                    {
                        await RecordAsync(ApplyStepKind.Writing, $"writing {target.Value} to {target.Label} (node {node.NodeId})", i).ConfigureAwait(false);
                        _attempted.Add(i);
                        var result = (await control.WriteAsync([new ControllerWrite(node, target.Value)], cancellationToken).ConfigureAwait(false))[0];
                        var written = new NodeValue(target.Label, node, target.Value, result.Problem);
                        _written.Add(written);
                        await RecordAsync(ApplyStepKind.Written, result.Problem is null ? $"wrote {target.Value} to {target.Label}" : $"writing {target.Label} failed: {result.Problem}", i,
                            ApplyDetail.Serialize(ApplyDetail.Entry.Of(i, written))).ConfigureAwait(false);
                        if (result.Problem is not null)
                        {
                            return await RollBackAsync($"writing {target.Value} to {target.Label} (node {node.NodeId}) failed: {result.Problem}").ConfigureAwait(false);
                        }
                    }
                    else
                    {
                        var call = target.Call!;
                        await RecordAsync(ApplyStepKind.Writing, $"calling {target.Label} (not undone by a rollback)", i).ConfigureAwait(false);
                        _attempted.Add(i);
                        var result = await control.CallAsync(call, cancellationToken).ConfigureAwait(false);
                        _calls.Add(new CallRecord(target.Label, call, result.Problem));
                        await RecordAsync(ApplyStepKind.Written, result.Problem is null ? $"called {target.Label}" : $"calling {target.Label} failed: {result.Problem}", i).ConfigureAwait(false);
                        if (result.Problem is not null)
                        {
                            return await RollBackAsync($"calling {target.Label} failed: {result.Problem}").ConfigureAwait(false);
                        }
                    }
                }

                // Every written node read back.
                if (_written.Count > 0)
                {
                    var read = await control.ReadAsync([.. _written.Select(w => w.Node)], cancellationToken).ConfigureAwait(false);
                    var differences = new List<string>();
                    for (var k = 0; k < _written.Count; k++)
                    {
                        var (w, r) = (_written[k], read[k]);
                        var difference = r.Problem ?? (r.Value is not { } value ? "no value"
                            : SameValue(w.Value!.Value, value, w.Node.DataType) ? null
                            : $"wrote {w.Value}, the controller holds {value}");
                        _readBack.Add(new NodeValue(w.Target, w.Node, r.Value, difference));
                        if (difference is not null)
                        {
                            differences.Add($"{w.Target} (node {w.Node.NodeId}): {difference}");
                        }
                    }

                    if (differences.Count > 0)
                    {
                        return await RollBackAsync("read-back differs: " + string.Join("; ", differences)).ConfigureAwait(false);
                    }

                    await RecordAsync(ApplyStepKind.ReadBackOk, $"{_readBack.Count} node(s) read back as written",
                        detail: ApplyDetail.Serialize(_readBack.Select((v, k) => ApplyDetail.Entry.Of(k, v)).ToList())).ConfigureAwait(false);
                }

                if (plan.Definition is { } adopt)
                {
                    try
                    {
                        control.AdoptDefinition(adopt);
                    }
                    catch (ArgumentException ex)
                    {
                        return await RollBackAsync($"the twin cannot adopt the change's definition: {ex.Message}").ConfigureAwait(false);
                    }

                    _adopted = true;
                    await RecordAsync(ApplyStepKind.DefinitionAdopted, $"the twin runs the change's definition{(adopt.Source is { } source ? $" ({source.File})" : "")}").ConfigureAwait(false);
                }

                // d. The twin against the real line for the window.
                var signals = verification.Signals ?? plan.DefaultSignals;
                await RecordAsync(ApplyStepKind.Verifying, string.Create(CultureInfo.InvariantCulture,
                    $"watching {signals.Count} signal(s) for {verification.Window.TotalSeconds:0.###} s, mean scaled error at most {verification.MaxMeanScaledError:0.####}: {string.Join(", ", signals)}")).ConfigureAwait(false);
                await Task.Delay(verification.Window, applier._time, cancellationToken).ConfigureAwait(false);
                foreach (var credibility in control.GetCredibility(signals, verification.Window))
                {
                    _figures.Add(new VerificationFigure(credibility.SignalId, credibility.Samples, credibility.MeanScaledError, credibility.MaxScaledError, verification.MaxMeanScaledError));
                }

                var failing = _figures.Where(f => !f.Passed).ToList();
                if (failing.Count > 0)
                {
                    return await RollBackAsync("verification failed: " + string.Join("; ", failing.Select(Describe))).ConfigureAwait(false);
                }

                await RecordAsync(ApplyStepKind.Verified, signals.Count == 0
                        ? "no signal to verify (none the change touches is modelled by the twin with a nominal range)"
                        : "within the limit: " + string.Join("; ", _figures.Select(Describe)),
                    detail: ApplyDetail.Serialize(_figures)).ConfigureAwait(false);
                await RecordAsync(ApplyStepKind.Applied, "applied").ConfigureAwait(false);
                return Outcome(ApplyResult.Applied, "applied and verified");
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return await RollBackAsync(AbortText(abortReason)).ConfigureAwait(false);
            }
        }

        public async Task<ApplyOutcome> RecoverAsync(IReadOnlyList<ApplyStep> steps, LineDefinition? previousDefinition, CancellationToken cancellationToken)
        {
            if (steps.LastOrDefault(s => s.IsFinal) is { } final)
            {
                return Outcome(final.Kind switch
                {
                    ApplyStepKind.Applied => ApplyResult.Applied,
                    ApplyStepKind.RolledBack => ApplyResult.RolledBack,
                    _ => ApplyResult.Failed,
                }, $"the apply had finished: {final.Message}");
            }

            if (steps.Any(s => s.Kind == ApplyStepKind.Verified))
            {
                await RecordAsync(ApplyStepKind.Applied, "recovered: verification had passed before the apply was interrupted").ConfigureAwait(false);
                return Outcome(ApplyResult.Applied, "verification had passed before the apply was interrupted");
            }

            var last = steps.Count > 0 ? steps[^1].Kind.ToString() : "no step";
            var lastStep = steps.Count > 0 ? $"\"{steps[^1].Message}\"" : "none";
            if (steps.LastOrDefault(s => s.Kind == ApplyStepKind.PreviousValuesRecorded) is not { } recorded)
            {
                return await NothingWrittenAsync($"recovered: the apply was interrupted ({last}) before anything was written").ConfigureAwait(false);
            }

            foreach (var entry in ApplyDetail.Deserialize<List<ApplyDetail.Entry>>(recorded.Detail) ?? [])
            {
                _previous.Add((entry.Target, entry.ToNodeValue()));
            }

            foreach (var step in steps.Where(s => s.Kind == ApplyStepKind.Writing && s.Index is not null))
            {
                _attempted.Add(step.Index!.Value);
            }

            _previousDefinition = previousDefinition;
            _adopted = previousDefinition is not null && steps.Any(s => s.Kind == ApplyStepKind.DefinitionAdopted);
            cancellationToken.ThrowIfCancellationRequested();
            return await RollBackAsync($"the gateway stopped during the apply (its last recorded step: {lastStep}); rolled back when it started again").ConfigureAwait(false);
        }

        /// <summary>
        /// e. Writes the previous values back in reverse order (a node read first: one that already holds its previous
        /// value, because its write was refused or never sent, is left alone), reads them back, and has the twin
        /// re-adopt the previous definition. Not cancellable: a rollback runs to its end.
        /// </summary>
        private async Task<ApplyOutcome> RollBackAsync(string reason)
        {
            Log.RollingBack(applier._logger, changeId, reason);
            await RecordAsync(ApplyStepKind.RollingBack, reason).ConfigureAwait(false);
            // Only nodes whose previous value is known are journalled as targets; an apply never writes without one.
            var restore = _previous.Where(p => _attempted.Contains(p.Target) && p.Value.Value is not null).Reverse().Select(p => p.Value).ToList();
            var failures = new List<string>();
            foreach (var previous in restore)
            {
                var current = (await control.ReadAsync([previous.Node], CancellationToken.None).ConfigureAwait(false))[0];
                if (current.Value is { } now && SameValue(previous.Value!.Value, now, previous.Node.DataType))
                {
                    continue;
                }

                var result = (await control.WriteAsync([new ControllerWrite(previous.Node, previous.Value!.Value)], CancellationToken.None).ConfigureAwait(false))[0];
                if (result.Problem is not null)
                {
                    failures.Add($"writing back {previous.Value} to {previous.Target} (node {previous.Node.NodeId}) failed: {result.Problem}");
                }
            }

            if (restore.Count > 0)
            {
                var read = await control.ReadAsync([.. restore.Select(r => r.Node)], CancellationToken.None).ConfigureAwait(false);
                for (var k = 0; k < restore.Count; k++)
                {
                    var (previous, r) = (restore[k], read[k]);
                    var problem = r.Problem ?? (r.Value is not { } value ? "no value"
                        : SameValue(previous.Value!.Value, value, previous.Node.DataType) ? null
                        : $"holds {value}, not its previous value {previous.Value}");
                    _rollback.Add(new NodeValue(previous.Target, previous.Node, r.Value, problem));
                    if (problem is not null && !failures.Any(f => f.Contains($"node {previous.Node.NodeId})", StringComparison.Ordinal)))
                    {
                        failures.Add($"{previous.Target} (node {previous.Node.NodeId}) {problem}");
                    }
                }
            }

            if (_adopted && _previousDefinition is { } definition)
            {
                try
                {
                    control.AdoptDefinition(definition);
                    _adopted = false;
                }
                catch (ArgumentException ex)
                {
                    failures.Add($"the twin cannot re-adopt the previous definition: {ex.Message}");
                }
            }

            var detail = ApplyDetail.Serialize(_rollback.Select((v, k) => ApplyDetail.Entry.Of(k, v)).ToList());
            if (failures.Count > 0)
            {
                var left = string.Join("; ", failures);
                Log.RollbackFailed(applier._logger, changeId, left);
                await RecordAsync(ApplyStepKind.Failed, $"the rollback did not complete: {left}", detail: detail).ConfigureAwait(false);
                return Outcome(ApplyResult.Failed, $"{reason}; the rollback did not complete: {left}");
            }

            var calls = _calls.Count(c => c.Problem is null);
            await RecordAsync(ApplyStepKind.RolledBack, $"rolled back {restore.Count} node(s) to their previous values"
                + (calls > 0 ? $"; {calls} method call(s) are not undone" : ""), detail: detail).ConfigureAwait(false);
            return Outcome(ApplyResult.RolledBack, reason);
        }

        private async Task<ApplyOutcome> NothingWrittenAsync(string reason)
        {
            Log.RollingBack(applier._logger, changeId, reason);
            await RecordAsync(ApplyStepKind.RolledBack, $"nothing was written: {reason}").ConfigureAwait(false);
            return Outcome(ApplyResult.RolledBack, $"nothing was written: {reason}");
        }

        private async Task RecordAsync(ApplyStepKind kind, string message, int? index = null, string? detail = null)
        {
            var step = new ApplyStep(kind, applier._time.GetUtcNow(), message, index, detail);

            // Never cancelled: a step that happened is journalled even while the apply is being aborted.
            await applier._journal.RecordAsync(changeId, step, CancellationToken.None).ConfigureAwait(false);
            Steps.Add(step);
            Log.Step(applier._logger, changeId, kind, message);
            progress?.Report(new ApplyProgress(changeId, kind, message, step.At));
        }

        private ApplyOutcome Outcome(ApplyResult result, string reason) =>
            new(changeId, result, reason, [.. _previous.Select(p => p.Value)], [.. _written], [.. _calls], [.. _readBack], [.. _figures], [.. _rollback], [.. Steps]);

        private static string AbortText(Func<string?> abortReason) =>
            abortReason() is { } reason ? $"aborted: {reason}" : "aborted: the apply was cancelled";

        private static string Describe(VerificationFigure f) => f.Samples == 0
            ? $"{f.SignalId}: no samples in the window (not connected, or not modelled by the twin with a nominal range)"
            : string.Create(CultureInfo.InvariantCulture, $"{f.SignalId}: mean scaled error {f.MeanScaledError:0.####} (max {f.MaxScaledError:0.####}, {f.Samples} samples), limit {f.Limit:0.####}");

        /// <summary>Null when <paramref name="next"/> has <paramref name="running"/>'s signals in the same order and mapping; otherwise the first difference.</summary>
        private static string? SignalsDiffer(LineDefinition running, LineDefinition next)
        {
            if (running.Signals.Length != next.Signals.Length)
            {
                return $"it has {next.Signals.Length} signals where the running line has {running.Signals.Length} (the monitored signals must stay as they are)";
            }

            for (var i = 0; i < running.Signals.Length; i++)
            {
                var (a, b) = (running.Signals[i], next.Signals[i]);
                if (a.Id != b.Id || a.NodeId != b.NodeId || a.ControllerId != b.ControllerId || a.DataType != b.DataType || a.Direction != b.Direction)
                {
                    return $"signal {i + 1} ('{b.Id}', node {b.NodeId}) differs from the running line's ('{a.Id}', node {a.NodeId}) (the monitored signals must stay as they are)";
                }
            }

            return null;
        }
    }
}
