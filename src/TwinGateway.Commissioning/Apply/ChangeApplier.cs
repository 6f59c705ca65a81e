using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Lines;

namespace TwinGateway.Commissioning.Apply;

/// <summary>
/// Applies an approved change to a running line through <see cref="ILineControl"/>: reads and journals the previous
/// value of every target, writes the operations in order, reads each written node back, has the twin adopt the
/// change's definition, then watches the twin against the real line for a window. Any failure on the way (a write
/// refused, a read-back that differs, verification outside the limit, an abort) writes the previous values back in
/// reverse order, reads them back and has the twin re-adopt the previous definition.
/// </summary>
/// <remarks>
/// <para>Method calls (<c>call</c> operations) cannot be undone: a rollback does not reverse them; the outcome lists
/// them under <see cref="ApplyOutcome.Calls"/> and the policy layer warns before such a change is approved.</para>
/// <para>Crash safety: every step is journalled before and after it happens (<see cref="IApplyJournal"/>), the previous
/// values before the first write, so <see cref="RecoverAsync"/> can finish an interrupted apply.</para>
/// </remarks>
public sealed partial class ChangeApplier
{
    /// <summary>Relative tolerance of a Float read-back (a Float holds about 7 significant digits).</summary>
    private const double FloatTolerance = 1e-6;

    private readonly IApplyJournal _journal;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Abortable> _running = new(StringComparer.Ordinal);

    public ChangeApplier(IApplyJournal journal, TimeProvider time, ILogger<ChangeApplier> logger)
    {
        _journal = journal;
        _time = time;
        _logger = logger;
    }

    private sealed class Abortable : IDisposable
    {
        public CancellationTokenSource Source { get; } = new();

        public string? Reason { get; set; }

        public void Dispose() => Source.Dispose();
    }

    /// <summary>Aborts the apply of <paramref name="changeId"/> (it rolls back); false when none runs.</summary>
    public bool Abort(string changeId, string reason)
    {
        if (!_running.TryGetValue(changeId, out var running))
        {
            return false;
        }

        running.Reason = reason;
        try
        {
            running.Source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            return false;
        }

        return true;
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the line behind <paramref name="control"/>.
    /// </summary>
    /// <param name="changeId">The change's id (the journal's key).</param>
    /// <param name="change">The approved change.</param>
    /// <param name="control">The running line.</param>
    /// <param name="candidate">The definition the twin adopts (the change's, with its poses); null when the change has no definition or pose operation.</param>
    /// <param name="verification">The verification window, limit and signals.</param>
    /// <param name="progress">Each step as it happens; may be null.</param>
    /// <param name="cancellationToken">Cancelling it aborts the apply, which then rolls back (the rollback itself is not cancelled).</param>
    /// <returns>The outcome; it does not throw for controller problems.</returns>
    public async Task<ApplyOutcome> ApplyAsync(
        string changeId,
        ChangeRequest change,
        ILineControl control,
        LineDefinition? candidate,
        VerificationSettings verification,
        IProgress<ApplyProgress>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(changeId);
        ArgumentNullException.ThrowIfNull(change);
        ArgumentNullException.ThrowIfNull(control);
        ArgumentNullException.ThrowIfNull(verification);
        using var abortable = new Abortable();
        if (!_running.TryAdd(changeId, abortable))
        {
            throw new InvalidOperationException($"change {changeId} is already being applied");
        }

        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, abortable.Source.Token);
            var run = new Run(this, changeId, control, progress);
            Log.Applying(_logger, changeId, control.LineId, change.Operations.Length);
            return await run.ApplyAsync(change, candidate, verification, () => abortable.Reason, linked.Token).ConfigureAwait(false);
        }
        finally
        {
            _running.TryRemove(changeId, out _);
        }
    }

    /// <summary>
    /// Finishes an apply that was interrupted (the gateway stopped or crashed), given the steps its journal holds: an
    /// apply that had been verified is reported applied; otherwise the previous values it recorded are written back
    /// (each node first read: one that already holds its previous value is left alone), read back, and the twin
    /// re-adopts <paramref name="previousDefinition"/> when the apply had the twin adopt the change's.
    /// </summary>
    /// <param name="changeId">The change.</param>
    /// <param name="steps">The journal's steps of the change, in order.</param>
    /// <param name="control">The running line.</param>
    /// <param name="previousDefinition">
    /// The definition to go back to; null keeps the twin's (after a gateway restart the twin already runs the line file
    /// it started with, which is the previous definition).
    /// </param>
    /// <param name="cancellationToken">Cancels the recovery (what is done stays done and journalled).</param>
    public async Task<ApplyOutcome> RecoverAsync(string changeId, IReadOnlyList<ApplyStep> steps, ILineControl control,
        LineDefinition? previousDefinition = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(steps);
        ArgumentNullException.ThrowIfNull(control);
        var run = new Run(this, changeId, control, null);
        run.Steps.AddRange(steps);
        Log.Recovering(_logger, changeId, control.LineId, steps.Count, steps.Count > 0 ? steps[^1].Kind.ToString() : "nothing");
        return await run.RecoverAsync(steps, previousDefinition, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>True when <paramref name="read"/> is what was written (<paramref name="written"/>): Floats within a relative tolerance, the rest exactly.</summary>
    internal static bool SameValue(ChangeValue written, ChangeValue read, SignalDataType type)
    {
        if (written.Kind == ChangeValueKind.Numbers || read.Kind == ChangeValueKind.Numbers)
        {
            var (a, b) = (written.Numbers.IsDefault ? [] : written.Numbers, read.Numbers.IsDefault ? [] : read.Numbers);
            return written.Kind == read.Kind && a.Length == b.Length && a.Zip(b).All(p => SameNumber(p.First, p.Second, type));
        }

        if (written.Kind == ChangeValueKind.Text || read.Kind == ChangeValueKind.Text)
        {
            return written.Kind == read.Kind && string.Equals(written.Text, read.Text, StringComparison.Ordinal);
        }

        // Booleans are 0 and 1 in both kinds, so a Boolean written as the number 1 reads back the same.
        return SameNumber(written.Number, read.Number, type);
    }

    private static bool SameNumber(double written, double read, SignalDataType type) =>
        type == SignalDataType.Float
            ? Math.Abs(written - read) <= FloatTolerance * Math.Max(Math.Abs(written), float.Epsilon)
            : written.Equals(read);

    private static partial class Log
    {
        [LoggerMessage(EventId = 6401, Level = LogLevel.Information, Message = "Change {ChangeId}: applying {Operations} operation(s) to line {LineId}")]
        public static partial void Applying(ILogger logger, string changeId, string lineId, int operations);

        [LoggerMessage(EventId = 6402, Level = LogLevel.Information, Message = "Change {ChangeId}: {Kind}: {Message}")]
        public static partial void Step(ILogger logger, string changeId, ApplyStepKind kind, string message);

        [LoggerMessage(EventId = 6403, Level = LogLevel.Warning, Message = "Change {ChangeId}: rolling back: {Reason}")]
        public static partial void RollingBack(ILogger logger, string changeId, string reason);

        [LoggerMessage(EventId = 6404, Level = LogLevel.Error, Message = "Change {ChangeId}: the rollback did not complete, the line is left changed: {Reason}")]
        public static partial void RollbackFailed(ILogger logger, string changeId, string reason);

        [LoggerMessage(EventId = 6405, Level = LogLevel.Information, Message = "Change {ChangeId}: recovering an interrupted apply on line {LineId} from {Steps} journalled step(s), the last {Last}")]
        public static partial void Recovering(ILogger logger, string changeId, string lineId, int steps, string last);
    }
}
