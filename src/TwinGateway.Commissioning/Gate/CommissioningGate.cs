using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using TwinGateway.Commissioning.Apply;
using TwinGateway.Commissioning.Audit;
using TwinGateway.Commissioning.Changes;
using TwinGateway.Commissioning.Policy;
using TwinGateway.Commissioning.Store;
using TwinGateway.Commissioning.Validation;
using TwinGateway.Core;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Identity;

namespace TwinGateway.Commissioning.Gate;

/// <summary>
/// The commissioning gate: no line change reaches a controller until the twin has validated it, the people its
/// policy names have approved it, and every step is in the audit chain. It keeps each change's life in the change store
/// (state transitions with optimistic versions, so two gateways on one store never overwrite each other), records
/// every event in the signed audit log, and streams events to watchers.
/// </summary>
/// <remarks>
/// Authorities: validation is <see cref="Authority.Physics"/> (the twin's deterministic simulation, with its measured
/// credibility), approvals and rejections are <see cref="Authority.Human"/> (an authenticated person with a role). No
/// learned model takes part in a decision yet; the policy loader refuses one as the sole authority of a safety change.
/// </remarks>
public sealed partial class CommissioningGate : IAsyncDisposable
{
    /// <summary>The actor the audit names for what the gateway does on its own (finishing an interrupted apply).</summary>
    public const string GatewayActor = "gateway";

    private readonly IChangeStore _store;
    private readonly AuditLog _audit;
    private readonly ILineControlProvider _lines;
    private readonly ValidationPolicies _policies;
    private readonly ChangeApplier _applier;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _artifacts;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Channel<ChangeEvent>, (string? Line, string? Id)> _watchers = new();
    private readonly ConcurrentDictionary<string, string> _adoptedText = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();

    /// <param name="store">Changes, approvals, apply journals.</param>
    /// <param name="audit">The signed, hash-chained audit log.</param>
    /// <param name="lines">The running lines.</param>
    /// <param name="policies">The validation policies.</param>
    /// <param name="artifactsFolder">Where each validation's inputs are kept for its evidence bundle (twin snapshot, line and policy text).</param>
    /// <param name="time">The gateway's clock.</param>
    /// <param name="loggers">Logging.</param>
    public CommissioningGate(IChangeStore store, AuditLog audit, ILineControlProvider lines, ValidationPolicies policies, string artifactsFolder,
        TimeProvider time, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(loggers);
        _store = store;
        _audit = audit;
        _lines = lines;
        _policies = policies;
        _time = time;
        _artifacts = Path.GetFullPath(artifactsFolder);
        _logger = loggers.CreateLogger<CommissioningGate>();
        _applier = new ChangeApplier(new StoreApplyJournal(store), time, loggers.CreateLogger<ChangeApplier>());
    }

    public ValidationPolicies Policies => _policies;

    /// <summary>Checks a change against the line it names (every problem at once) and stores it as a draft.</summary>
    /// <param name="request">The change.</param>
    /// <param name="user">Who submits it.</param>
    /// <param name="replaces">
    /// The id of a change of the same submitter, not yet applied, whose content this replaces (an edit): it goes back to
    /// draft and earlier approvals no longer count, since they are bound to the old content hash.
    /// </param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="ChangeRefusedException">The change has problems, or its line is not run here or has no policy.</exception>
    public async Task<ChangeView> SubmitAsync(ChangeRequest request, UserIdentity user, string? replaces = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(user);
        var control = Line(request.LineId);
        var policy = _policies.Get(control.Definition);
        var check = ChangeChecks.Check(request, control.Definition, policy.Policy.SafetySignals);
        if (check.Problems.Length > 0)
        {
            throw new ChangeRefusedException(RefusalKind.Invalid, $"change '{request.Title}' for line '{request.LineId}' has {check.Problems.Length} problem(s)",
                [.. check.Problems.Select(p => p.ToString())]);
        }

        var now = _time.GetUtcNow();
        var hash = ChangeHash.Compute(request);
        var reasons = check.Classification.Deciding.Select(r => r.ToString()).ToImmutableArray();
        var spec = ChangeJson.WriteString(request);
        ChangeRecord record;
        string eventName;
        if (replaces is null)
        {
            record = new ChangeRecord
            {
                Id = NewId(now),
                LineId = request.LineId,
                Title = request.Title,
                State = ChangeState.Draft,
                Class = check.Classification.Class,
                ClassReasons = reasons,
                ContentHash = hash,
                Submitter = user.Name,
                SubmittedAt = now,
                UpdatedAt = now,
                SpecJson = spec,
            };
            await _store.AddAsync(record, cancellationToken).ConfigureAwait(false);
            eventName = "submitted";
        }
        else
        {
            using var held = await LockAsync(replaces, cancellationToken).ConfigureAwait(false);
            var old = await LoadAsync(replaces, cancellationToken).ConfigureAwait(false);
            if (!string.Equals(old.Submitter, user.Name, StringComparison.OrdinalIgnoreCase))
            {
                throw new ChangeRefusedException(RefusalKind.NotAllowed, $"change {old.Id} was submitted by '{old.Submitter}': only they can edit it ('{user.Name}' can submit a new change)");
            }

            if (old.State.IsFinal() || old.State is ChangeState.Applying or ChangeState.Verifying or ChangeState.Validating)
            {
                throw new ChangeRefusedException(RefusalKind.NotNow, $"change {old.Id} is {old.State.ToText()}: it can no longer be edited; submit a new change");
            }

            if (!string.Equals(old.LineId, request.LineId, StringComparison.Ordinal))
            {
                throw new ChangeRefusedException(RefusalKind.Invalid, $"change {old.Id} is for line '{old.LineId}', the edit names '{request.LineId}': submit a new change for another line");
            }

            record = await _store.UpdateAsync(old with
            {
                Title = request.Title,
                State = ChangeState.Draft,
                Class = check.Classification.Class,
                ClassReasons = reasons,
                ContentHash = hash,
                UpdatedAt = now,
                SpecJson = spec,
                EvidenceJson = null,
                EvidenceHash = null,
                Outcome = null,
            }, old.Version, cancellationToken).ConfigureAwait(false);
            eventName = "edited";
        }

        await AuditAsync(record, AuditEventKind.Submitted, user.Name, Authority.Human, w =>
        {
            w.WriteString("contentHash", hash);
            w.WriteString("title", request.Title);
            w.WriteString("class", record.Class.ToString().ToLowerInvariant());
            w.WriteNumber("operations", request.Operations.Length);
            if (replaces is not null)
            {
                w.WriteString("replacesContent", "earlier approvals no longer count");
            }
        }).ConfigureAwait(false);
        Log.Submitted(_logger, record.Id, record.LineId, user.Name, record.Class.ToString().ToLowerInvariant(), hash);
        return await PublishAsync(eventName, record, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The change with its evidence, approvals and steps.</summary>
    /// <exception cref="ChangeRefusedException">No such change.</exception>
    public async Task<ChangeView> GetAsync(string id, CancellationToken cancellationToken = default) =>
        await ViewAsync(await LoadAsync(id, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyList<ChangeView>> ListAsync(string? lineId, IReadOnlyCollection<ChangeState>? states, CancellationToken cancellationToken = default)
    {
        var records = await _store.ListAsync(lineId, states, cancellationToken).ConfigureAwait(false);
        var views = new List<ChangeView>(records.Count);
        foreach (var record in records)
        {
            views.Add(await ViewAsync(record, cancellationToken).ConfigureAwait(false));
        }

        return views;
    }

    /// <summary>Approves the change as it is now (its content hash and its latest evidence hash).</summary>
    /// <exception cref="ChangeRefusedException">Not validated, the approver's own change, a role missing, a second approval by the same person.</exception>
    public async Task<ChangeView> ApproveAsync(string id, UserIdentity user, string? comment, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        using var held = await LockAsync(id, cancellationToken).ConfigureAwait(false);
        var record = await LoadAsync(id, cancellationToken).ConfigureAwait(false);
        if (record.State != ChangeState.Validated)
        {
            throw new ChangeRefusedException(RefusalKind.NotNow, record.State == ChangeState.Approved
                ? $"change {id} is already approved"
                : $"change {id} is {record.State.ToText()}: only a validated change can be approved{(record.State is ChangeState.Draft or ChangeState.RejectedByValidation ? " (validate it first)" : "")}");
        }

        var policy = _policies.Get(Line(record.LineId).Definition).Policy;
        var approvals = ToRuleApprovals(await _store.GetApprovalsAsync(id, cancellationToken).ConfigureAwait(false));
        var check = ApprovalRules.CheckApproval(record.Class, policy, record.Submitter, approvals, user, record.ContentHash, record.EvidenceHash ?? "");
        if (!check.Accepted)
        {
            Log.Refused(_logger, id, "approval", user.Name, check.Refusal ?? "");
            throw new ChangeRefusedException(RefusalKind.NotAllowed, check.Refusal ?? "approval refused");
        }

        var now = _time.GetUtcNow();
        var approval = new ApprovalRecord(id, user.Name, user.Roles, Authority.Human, string.IsNullOrWhiteSpace(comment) ? null : comment, now, record.ContentHash, record.EvidenceHash!);
        await _store.AddApprovalAsync(approval, cancellationToken).ConfigureAwait(false);
        await AuditAsync(record, AuditEventKind.Approved, user.Name, Authority.Human, w =>
        {
            w.WriteString("contentHash", record.ContentHash);
            w.WriteString("evidenceHash", record.EvidenceHash);
            w.WriteString("roles", string.Join(",", user.Roles.Select(r => r.ToText())));
            if (approval.Comment is not null)
            {
                w.WriteString("comment", approval.Comment);
            }
        }).ConfigureAwait(false);

        var decision = Decide(record, policy, [.. approvals, ToRuleApproval(approval)]);
        if (decision.Approved)
        {
            record = await _store.UpdateAsync(record with { State = ChangeState.Approved, UpdatedAt = now }, record.Version, cancellationToken).ConfigureAwait(false);
            Log.Approved(_logger, id, string.Join(", ", decision.Counted.Select(a => a.User)));
            return await PublishAsync("approved", record, cancellationToken).ConfigureAwait(false);
        }

        return await PublishAsync("approval", record, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Rejects the change with a reason; it is final.</summary>
    public async Task<ChangeView> RejectAsync(string id, UserIdentity user, string? reason, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        using var held = await LockAsync(id, cancellationToken).ConfigureAwait(false);
        var record = await LoadAsync(id, cancellationToken).ConfigureAwait(false);
        var check = ApprovalRules.CheckRejection(user, reason);
        if (!check.Accepted)
        {
            throw new ChangeRefusedException(string.IsNullOrWhiteSpace(reason) ? RefusalKind.Invalid : RefusalKind.NotAllowed, check.Refusal ?? "rejection refused");
        }

        RequireOpen(record, "rejected");
        record = await _store.UpdateAsync(record with { State = ChangeState.Rejected, UpdatedAt = _time.GetUtcNow(), Outcome = $"rejected by {user.Name}: {reason}" },
            record.Version, cancellationToken).ConfigureAwait(false);
        await AuditAsync(record, AuditEventKind.Rejected, user.Name, Authority.Human, w =>
        {
            w.WriteString("contentHash", record.ContentHash);
            w.WriteString("reason", reason);
        }).ConfigureAwait(false);
        return await PublishAsync("rejected", record, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The submitter (or an admin) withdraws a change that is not being applied and not final.</summary>
    public async Task<ChangeView> WithdrawAsync(string id, UserIdentity user, string? reason, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        using var held = await LockAsync(id, cancellationToken).ConfigureAwait(false);
        var record = await LoadAsync(id, cancellationToken).ConfigureAwait(false);
        if (!string.Equals(record.Submitter, user.Name, StringComparison.OrdinalIgnoreCase) && !user.IsIn(Role.Admin))
        {
            throw new ChangeRefusedException(RefusalKind.NotAllowed, $"change {id} was submitted by '{record.Submitter}': only they (or an admin) can withdraw it; an approver can reject it");
        }

        RequireOpen(record, "withdrawn");
        record = await _store.UpdateAsync(record with { State = ChangeState.Withdrawn, UpdatedAt = _time.GetUtcNow(), Outcome = $"withdrawn by {user.Name}{(string.IsNullOrWhiteSpace(reason) ? "" : ": " + reason)}" },
            record.Version, cancellationToken).ConfigureAwait(false);
        await AuditAsync(record, AuditEventKind.Withdrawn, user.Name, Authority.Human, w => w.WriteString("reason", reason ?? "")).ConfigureAwait(false);
        return await PublishAsync("withdrawn", record, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes the change's evidence bundle (see <see cref="EvidenceBundle"/>) to <paramref name="output"/>.</summary>
    public async Task ExportAsync(string id, Stream output, CancellationToken cancellationToken = default)
    {
        var view = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        await EvidenceBundle.WriteAsync(output, view, _artifacts, _audit, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every change event from now on (of one line, or one change, when given), until cancelled.</summary>
    public async IAsyncEnumerable<ChangeEvent> WatchAsync(string? lineId, string? id, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<ChangeEvent>(new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        _watchers[channel] = (lineId, id);
        try
        {
            await foreach (var item in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return item;
            }
        }
        finally
        {
            _watchers.TryRemove(channel, out _);
        }
    }

    private static void RequireOpen(ChangeRecord record, string verb)
    {
        if (record.State.IsFinal())
        {
            throw new ChangeRefusedException(RefusalKind.NotNow, $"change {record.Id} is {record.State.ToText()} (final): it cannot be {verb}");
        }

        if (record.State is ChangeState.Applying or ChangeState.Verifying)
        {
            throw new ChangeRefusedException(RefusalKind.NotNow, $"change {record.Id} is being applied ({record.State.ToText()}): abort it instead (`twingw change abort {record.Id}`)");
        }
    }

    private ILineControl Line(string lineId) =>
        _lines.Find(lineId) ?? throw new ChangeRefusedException(RefusalKind.NotFound, $"this gateway runs no line '{lineId}'");

    private async Task<ChangeRecord> LoadAsync(string id, CancellationToken cancellationToken) =>
        await _store.GetAsync(id, cancellationToken).ConfigureAwait(false)
            ?? throw new ChangeRefusedException(RefusalKind.NotFound, $"no change '{id}' (`twingw change list` shows them)");

    private static string NewId(DateTimeOffset now) =>
        $"ch-{now.UtcDateTime:yyyyMMdd}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";

    private async Task<IDisposable> LockAsync(string id, CancellationToken cancellationToken)
    {
        var gate = _locks.GetOrAdd(id, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Releaser(gate);
    }

    private sealed class Releaser(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }

    internal static Approval ToRuleApproval(ApprovalRecord a) =>
        new(a.User, a.Roles, a.ContentHash, a.EvidenceHash, a.Time, a.Comment) { Authority = a.Authority };

    private static ImmutableArray<Approval> ToRuleApprovals(IEnumerable<ApprovalRecord> approvals) => [.. approvals.Select(ToRuleApproval)];

    private static ApprovalDecision Decide(ChangeRecord record, ValidationPolicy policy, IReadOnlyList<Approval> approvals) =>
        Decide(record, ReadEvidence(record)?.Verdict, policy, approvals);

    /// <summary>Decides on evidence already read from <paramref name="record"/> (its verdict, or null when it has none).</summary>
    private static ApprovalDecision Decide(ChangeRecord record, ValidationVerdict? verdict, ValidationPolicy policy, IReadOnlyList<Approval> approvals) =>
        ApprovalRules.Decide(record.Class, policy, record.Submitter, approvals, record.ContentHash, record.EvidenceHash, verdict);

    private static Evidence? ReadEvidence(ChangeRecord record) => record.EvidenceJson is { } json ? EvidenceJson.Read(json) : null;

    /// <summary>The record with everything the API shows about it.</summary>
    private async Task<ChangeView> ViewAsync(ChangeRecord record, CancellationToken cancellationToken)
    {
        var request = ChangeJson.Read(record.SpecJson);
        var evidence = ReadEvidence(record);
        var approvals = await _store.GetApprovalsAsync(record.Id, cancellationToken).ConfigureAwait(false);
        var steps = await _store.GetJournalAsync(record.Id, cancellationToken).ConfigureAwait(false);
        var counted = approvals.Select(a => (a, record.EvidenceHash is not null && ToRuleApproval(a).IsBoundTo(record.ContentHash, record.EvidenceHash))).ToImmutableArray();
        ImmutableArray<string> missing = [];
        if (!record.State.IsFinal() && _lines.Find(record.LineId) is { } control)
        {
            try
            {
                var policy = _policies.Get(control.Definition).Policy;
                missing = Decide(record, evidence?.Verdict, policy, ToRuleApprovals(approvals)).Missing;
            }
            catch (ChangeRefusedException ex)
            {
                missing = [ex.Message];
            }
        }

        return new ChangeView(record, request, evidence, counted, missing, [.. steps.Select(StoreApplyJournal.ToStep)]);
    }

    private async Task<ChangeView> PublishAsync(string eventName, ChangeRecord record, CancellationToken cancellationToken)
    {
        var view = await ViewAsync(record, cancellationToken).ConfigureAwait(false);
        var item = new ChangeEvent(eventName, _time.GetUtcNow(), view);
        foreach (var (channel, filter) in _watchers)
        {
            if ((filter.Line is null || filter.Line == record.LineId) && (filter.Id is null || filter.Id == record.Id))
            {
                channel.Writer.TryWrite(item);
            }
        }

        return view;
    }

    /// <summary>
    /// Appends an audit entry for an event that has already happened (the store write before it is committed), so it
    /// takes no cancellation token: a caller going away must not leave a state change without its audit entry.
    /// </summary>
    private async Task AuditAsync(ChangeRecord record, AuditEventKind kind, string actor, Authority authority, Action<Utf8JsonWriter> payload)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("state", record.State.ToText());
            payload(w);
            w.WriteEndObject();
        }

        await _audit.AppendAsync(new AuditRecord(record.LineId, record.Id, kind, actor, authority, System.Text.Encoding.UTF8.GetString(buffer.ToArray())), CancellationToken.None).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6101, Level = LogLevel.Information, Message = "Change {ChangeId} submitted for line {LineId} by {User} ({Class}, content {ContentHash})")]
        public static partial void Submitted(ILogger logger, string changeId, string lineId, string user, string @class, string contentHash);

        [LoggerMessage(EventId = 6102, Level = LogLevel.Information, Message = "Change {ChangeId} validated on the twin: {Verdict} ({Summary}); evidence {EvidenceHash}, {WallSeconds:0.0} s wall")]
        public static partial void Validated(ILogger logger, string changeId, string verdict, string summary, string evidenceHash, double wallSeconds);

        [LoggerMessage(EventId = 6103, Level = LogLevel.Information, Message = "Change {ChangeId} approved (approvals: {Approvers})")]
        public static partial void Approved(ILogger logger, string changeId, string approvers);

        [LoggerMessage(EventId = 6104, Level = LogLevel.Information, Message = "Change {ChangeId}: {Action} by {User} refused: {Reason}")]
        public static partial void Refused(ILogger logger, string changeId, string action, string user, string reason);

        [LoggerMessage(EventId = 6105, Level = LogLevel.Information, Message = "Change {ChangeId} on line {LineId}: {Result}: {Reason}")]
        public static partial void ApplyEnded(ILogger logger, string changeId, string lineId, string result, string reason);

        [LoggerMessage(EventId = 6106, Level = LogLevel.Warning, Message = "Change {ChangeId} was interrupted while {State}; finishing it: {Result}: {Reason}")]
        public static partial void Recovered(ILogger logger, string changeId, string state, string result, string reason);

        [LoggerMessage(EventId = 6108, Level = LogLevel.Information, Message = "Line {LineId}: the twin runs the definition of {Count} applied change(s) again")]
        public static partial void Readopted(ILogger logger, string lineId, int count);

        [LoggerMessage(EventId = 6107, Level = LogLevel.Error, Message = "Change {ChangeId} was interrupted while {State} and cannot be finished now: {Reason}")]
        public static partial void RecoveryFailed(ILogger logger, string changeId, string state, string reason);
    }
}
