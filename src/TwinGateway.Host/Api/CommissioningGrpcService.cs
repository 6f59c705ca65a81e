using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using TwinGateway.Api.V1;
using TwinGateway.Commissioning.Apply;
using TwinGateway.Commissioning.Audit;
using TwinGateway.Commissioning.Gate;
using TwinGateway.Commissioning.Validation;
using TwinGateway.Core.Changes;
using TwinGateway.Host.Commissioning;
using TwinGateway.Host.Identity;
using ProtoChangeEvent = TwinGateway.Api.V1.ChangeEvent;

namespace TwinGateway.Host.Api;

/// <summary>CommissioningService: the commissioning gate for engineers, approvers and MES (every call role-checked by <see cref="CallerAuthorization"/>).</summary>
internal sealed class CommissioningGrpcService(CommissioningRuntime runtime) : CommissioningService.CommissioningServiceBase
{
    public override async Task<Change> SubmitChange(SubmitChangeRequest request, ServerCallContext context)
    {
        var (change, problems) = ChangeMapping.FromProto(request.Change ?? new ChangeSpec());
        if (change is null)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"the change message has {problems.Count} problem(s):\n{string.Join("\n", problems)}"));
        }

        var gate = await runtime.GetGateAsync(context.CancellationToken).ConfigureAwait(false);
        return await Guard(async () => ToProto(await gate.SubmitAsync(change, CallerIdentity.Get(context),
            string.IsNullOrEmpty(request.Replaces) ? null : request.Replaces, context.CancellationToken).ConfigureAwait(false))).ConfigureAwait(false);
    }

    public override async Task<Change> GetChange(GetChangeRequest request, ServerCallContext context)
    {
        var gate = await runtime.GetGateAsync(context.CancellationToken).ConfigureAwait(false);
        return await Guard(async () => ToProto(await gate.GetAsync(request.Id, context.CancellationToken).ConfigureAwait(false))).ConfigureAwait(false);
    }

    public override async Task<ListChangesResponse> ListChanges(ListChangesRequest request, ServerCallContext context)
    {
        var states = new List<ChangeState>();
        foreach (var text in request.States)
        {
            var state = System.Enum.GetValues<ChangeState>().FirstOrDefault(s => s.ToText() == text, (ChangeState)(-1));
            if ((int)state < 0)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument,
                    $"states: unknown state '{text}' (states: {string.Join(", ", System.Enum.GetValues<ChangeState>().Select(s => s.ToText()))})"));
            }

            states.Add(state);
        }

        var gate = await runtime.GetGateAsync(context.CancellationToken).ConfigureAwait(false);
        var response = new ListChangesResponse();
        foreach (var view in await gate.ListAsync(string.IsNullOrEmpty(request.Line) ? null : request.Line, states, context.CancellationToken).ConfigureAwait(false))
        {
            response.Changes.Add(ToProto(view));
        }

        return response;
    }

    public override async Task ValidateChange(ValidateChangeRequest request, IServerStreamWriter<ValidationUpdate> responseStream, ServerCallContext context)
    {
        var gate = await runtime.GetGateAsync(context.CancellationToken).ConfigureAwait(false);
        var updates = System.Threading.Channels.Channel.CreateBounded<ValidationUpdate>(new System.Threading.Channels.BoundedChannelOptions(64)
        {
            FullMode = System.Threading.Channels.BoundedChannelFullMode.DropOldest,
        });
        var progress = new SyncProgress<TwinGateway.Commissioning.Validation.ValidationProgress>(p => updates.Writer.TryWrite(new ValidationUpdate
        {
            Progress = new TwinGateway.Api.V1.ValidationProgress
            {
                Fraction = p.Fraction,
                RunsDone = p.RunsDone,
                RunsTotal = p.RunsTotal,
                SecondsLeft = p.EstimatedTimeLeft?.TotalSeconds ?? 0,
            },
        }));
        var run = Task.Run(async () =>
        {
            try
            {
                return await gate.ValidateAsync(request.Id, CallerIdentity.Get(context), progress, context.CancellationToken).ConfigureAwait(false);
            }
            finally
            {
                updates.Writer.TryComplete();
            }
        });
        await foreach (var update in updates.Reader.ReadAllAsync(context.CancellationToken).ConfigureAwait(false))
        {
            await responseStream.WriteAsync(update).ConfigureAwait(false);
        }

        var result = await Guard(async () => ToProto(await run.ConfigureAwait(false))).ConfigureAwait(false);
        await responseStream.WriteAsync(new ValidationUpdate { Result = result }).ConfigureAwait(false);
    }

    public override async Task<Change> ApproveChange(ApproveChangeRequest request, ServerCallContext context)
    {
        var gate = await runtime.GetGateAsync(context.CancellationToken).ConfigureAwait(false);
        return await Guard(async () => ToProto(await gate.ApproveAsync(request.Id, CallerIdentity.Get(context), request.Comment, context.CancellationToken).ConfigureAwait(false))).ConfigureAwait(false);
    }

    public override async Task<Change> RejectChange(RejectChangeRequest request, ServerCallContext context)
    {
        var gate = await runtime.GetGateAsync(context.CancellationToken).ConfigureAwait(false);
        return await Guard(async () => ToProto(await gate.RejectAsync(request.Id, CallerIdentity.Get(context), request.Reason, context.CancellationToken).ConfigureAwait(false))).ConfigureAwait(false);
    }

    public override async Task ApplyChange(ApplyChangeRequest request, IServerStreamWriter<ApplyUpdate> responseStream, ServerCallContext context)
    {
        var gate = await runtime.GetGateAsync(context.CancellationToken).ConfigureAwait(false);
        var steps = System.Threading.Channels.Channel.CreateUnbounded<ApplyUpdate>();
        var progress = new SyncProgress<ApplyProgress>(p => steps.Writer.TryWrite(new ApplyUpdate
        {
            Step = new TwinGateway.Api.V1.ApplyStep { Kind = StepText(p.Kind), Message = p.Message, Time = Timestamp.FromDateTimeOffset(p.At) },
        }));

        // The apply runs to its end whether or not the caller stays (a caller that goes away must not leave a half-applied change).
        var run = Task.Run(async () =>
        {
            try
            {
                return await gate.ApplyAsync(request.Id, CallerIdentity.Get(context), progress, CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                steps.Writer.TryComplete();
            }
        });
        await foreach (var update in steps.Reader.ReadAllAsync(context.CancellationToken).ConfigureAwait(false))
        {
            await responseStream.WriteAsync(update).ConfigureAwait(false);
        }

        var result = await Guard(async () => ToProto(await run.ConfigureAwait(false))).ConfigureAwait(false);
        await responseStream.WriteAsync(new ApplyUpdate { Result = result }).ConfigureAwait(false);
    }

    public override async Task<Change> AbortChange(AbortChangeRequest request, ServerCallContext context)
    {
        var gate = await runtime.GetGateAsync(context.CancellationToken).ConfigureAwait(false);
        return await Guard(async () => ToProto(await gate.AbortAsync(request.Id, CallerIdentity.Get(context), request.Reason, context.CancellationToken).ConfigureAwait(false))).ConfigureAwait(false);
    }

    public override async Task<Change> WithdrawChange(WithdrawChangeRequest request, ServerCallContext context)
    {
        var gate = await runtime.GetGateAsync(context.CancellationToken).ConfigureAwait(false);
        return await Guard(async () => ToProto(await gate.WithdrawAsync(request.Id, CallerIdentity.Get(context), request.Reason, context.CancellationToken).ConfigureAwait(false))).ConfigureAwait(false);
    }

    public override async Task WatchChanges(WatchChangesRequest request, IServerStreamWriter<ProtoChangeEvent> responseStream, ServerCallContext context)
    {
        var gate = await runtime.GetGateAsync(context.CancellationToken).ConfigureAwait(false);
        await foreach (var item in gate.WatchAsync(string.IsNullOrEmpty(request.Line) ? null : request.Line, string.IsNullOrEmpty(request.Id) ? null : request.Id, context.CancellationToken).ConfigureAwait(false))
        {
            await responseStream.WriteAsync(new ProtoChangeEvent { Event = item.Event, Time = Timestamp.FromDateTimeOffset(item.Time), Change = ToProto(item.Change) }).ConfigureAwait(false);
        }
    }

    public override async Task ExportEvidence(ExportEvidenceRequest request, IServerStreamWriter<EvidenceChunk> responseStream, ServerCallContext context)
    {
        var gate = await runtime.GetGateAsync(context.CancellationToken).ConfigureAwait(false);
        using var bundle = new MemoryStream();
        await Guard(async () =>
        {
            await gate.ExportAsync(request.Id, bundle, context.CancellationToken).ConfigureAwait(false);
            return 0;
        }).ConfigureAwait(false);
        var bytes = bundle.ToArray();
        const int ChunkSize = 256 * 1024;
        for (var offset = 0; offset < bytes.Length || offset == 0; offset += ChunkSize)
        {
            await responseStream.WriteAsync(new EvidenceChunk
            {
                FileName = $"{request.Id}-evidence.zip",
                Data = ByteString.CopyFrom(bytes, offset, Math.Min(ChunkSize, bytes.Length - offset)),
            }).ConfigureAwait(false);
            if (bytes.Length == 0)
            {
                break;
            }
        }
    }

    /// <summary>Turns the gate's refusals into their status codes; nothing else is caught.</summary>
    private static async Task<T> Guard<T>(Func<Task<T>> body)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (ChangeRefusedException ex)
        {
            throw new RpcException(new Status(ex.Kind switch
            {
                RefusalKind.Invalid => StatusCode.InvalidArgument,
                RefusalKind.NotFound => StatusCode.NotFound,
                RefusalKind.NotAllowed => StatusCode.PermissionDenied,
                _ => StatusCode.FailedPrecondition,
            }, ex.Message));
        }
    }

    internal static string StepText(ApplyStepKind kind) => kind switch
    {
        ApplyStepKind.PreviousValuesRecorded => "previous-values-recorded",
        ApplyStepKind.ReadBackOk => "read-back-ok",
        ApplyStepKind.DefinitionAdopted => "definition-adopted",
        ApplyStepKind.RollingBack => "rolling-back",
        ApplyStepKind.RolledBack => "rolled-back",
        _ => kind.ToString().ToLowerInvariant(),
    };

    internal static Change ToProto(ChangeView view)
    {
        var record = view.Record;
        var change = new Change
        {
            Id = record.Id,
            Line = record.LineId,
            Title = record.Title,
            Reason = view.Request.Reason,
            State = record.State.ToText(),
            ChangeClass = record.Class.ToString().ToLowerInvariant(),
            ContentHash = record.ContentHash,
            Submitter = record.Submitter,
            SubmittedAt = Timestamp.FromDateTimeOffset(record.SubmittedAt),
            UpdatedAt = Timestamp.FromDateTimeOffset(record.UpdatedAt),
            Spec = ChangeMapping.ToProto(view.Request),
            Outcome = record.Outcome ?? "",
        };
        change.ClassReasons.AddRange(record.ClassReasons);
        change.ApprovalsMissing.AddRange(view.Missing);
        if (view.Evidence is { } evidence)
        {
            var validation = new Validation
            {
                Verdict = EvidenceJson.VerdictText(evidence.Verdict),
                EvidenceHash = record.EvidenceHash ?? evidence.Hash,
                PolicyHash = evidence.PolicyHash,
                DefinitionHash = evidence.LineDefinitionHash,
                HorizonHours = evidence.HorizonSeconds / 3600,
                WallSeconds = evidence.Timing.WallSeconds,
                RealTimeFactorPerCore = evidence.Timing.RealTimeFactorPerCore,
                Summary = evidence.Summary,
            };
            validation.Seeds.AddRange(evidence.Seeds);
            foreach (var c in evidence.Criteria)
            {
                validation.Criteria.Add(new Criterion
                {
                    Name = c.Subject.Length > 0 ? $"{c.Kind} {c.Subject}" : c.Kind,
                    Authority = c.Authority.ToText(),
                    Baseline = c.BaselineMean,
                    Candidate = c.CandidateMean,
                    Difference = c.DifferenceMean,
                    DifferenceLow = c.DifferenceLow,
                    DifferenceHigh = c.DifferenceHigh,
                    Confidence = c.Confidence,
                    Passed = c.Passed,
                    Detail = c.Explanation,
                });
            }

            foreach (var s in evidence.Credibility.Signals)
            {
                validation.Credibility.Add(new Credibility
                {
                    Signal = s.SignalId,
                    Samples = s.Samples,
                    MeanScaledError = s.MeanScaledError ?? double.NaN,
                    MaxScaledError = s.MaxScaledError ?? double.NaN,
                    Credible = s.Credible,
                });
            }

            change.Validation = validation;
        }

        foreach (var (approval, counts) in view.Approvals)
        {
            var proto = new Approval
            {
                User = approval.User,
                Authority = approval.Authority.ToText(),
                Comment = approval.Comment ?? "",
                Time = Timestamp.FromDateTimeOffset(approval.Time),
                ContentHash = approval.ContentHash,
                EvidenceHash = approval.EvidenceHash,
                Counts = counts,
            };
            proto.Roles.AddRange(approval.Roles.Select(r => r.ToString().ToLowerInvariant()));
            change.Approvals.Add(proto);
        }

        foreach (var step in view.Steps)
        {
            change.ApplySteps.Add(new TwinGateway.Api.V1.ApplyStep { Kind = StepText(step.Kind), Message = step.Message, Time = Timestamp.FromDateTimeOffset(step.At) });
        }

        return change;
    }

    /// <summary>An IProgress that reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool and reorder).</summary>
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
