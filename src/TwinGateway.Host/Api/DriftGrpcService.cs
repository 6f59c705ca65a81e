using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using TwinGateway.Api.V1;
using TwinGateway.Core.Alerts;
using TwinGateway.Drift.Alerts;
using TwinGateway.Drift.Models;
using TwinGateway.Drift.Registry;
using TwinGateway.Gateway;
using TwinGateway.Host.Drift;
using TwinGateway.Host.Identity;

namespace TwinGateway.Host.Api;

/// <summary>DriftService: train on the flight recorder, list and activate models, the lines' drift status, score a range.</summary>
internal sealed class DriftGrpcService(DriftRuntime drift, LineRegistry lines) : DriftService.DriftServiceBase
{
    public override async Task TrainModel(TrainModelRequest request, IServerStreamWriter<TrainModelProgress> responseStream, ServerCallContext context)
    {
        var user = CallerIdentity.Get(context);
        ModelKind? kind = null;
        if (!string.IsNullOrWhiteSpace(request.Kind))
        {
            if (!DriftTrainers.TryParse(request.Kind, out var parsed))
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"unknown model kind '{request.Kind}' (expected {DriftTrainers.Names})"));
            }

            kind = parsed;
        }

        var (from, to) = Range(request.From, request.To);
        var writes = Task.CompletedTask;
        var progress = new Progress(p =>
        {
            // Progress is reported from the training thread; writes are chained so the stream sees them in order.
            writes = writes.ContinueWith(_ => responseStream.WriteAsync(new TrainModelProgress { Stage = p.Stage, Fraction = p.Fraction }, context.CancellationToken),
                context.CancellationToken, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
        });
        RegisteredModel model;
        try
        {
            model = await drift.TrainAsync(request.Line, from, to, kind, user.Name, request.Activate, progress, context.CancellationToken).ConfigureAwait(false);
        }
        catch (KeyNotFoundException ex)
        {
            throw new RpcException(new Status(StatusCode.NotFound, ex.Message));
        }
        catch (ArgumentException ex)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, ex.Message));
        }
        catch (ModelRegistryException ex)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, ex.Message));
        }

        await writes.ConfigureAwait(false);
        await responseStream.WriteAsync(new TrainModelProgress
        {
            Stage = "done",
            Fraction = 1,
            Model = DriftMapping.ToProto(model, ActiveActivation(request.Line)),
        }, context.CancellationToken).ConfigureAwait(false);
    }

    public override Task<ListModelsResponse> ListModels(ListModelsRequest request, ServerCallContext context)
    {
        RequireLine(request.Line);
        var response = new ListModelsResponse();
        var active = ActiveActivation(request.Line);
        response.Models.AddRange(Registry(() => drift.Registry.List(request.Line)).OrderByDescending(m => long.TryParse(m.Version, out var v) ? v : 0)
            .Select(m => DriftMapping.ToProto(m, active)));
        return Task.FromResult(response);
    }

    public override async Task<ActivateModelResponse> ActivateModel(ActivateModelRequest request, ServerCallContext context)
    {
        var user = CallerIdentity.Get(context);
        return await Activation(request.Line, () => drift.ActivateAsync(request.Line, request.Version, user.Name, context.CancellationToken)).ConfigureAwait(false);
    }

    public override async Task<ActivateModelResponse> ApproveModelActivation(ApproveModelActivationRequest request, ServerCallContext context)
    {
        var user = CallerIdentity.Get(context);
        return await Activation(request.Line, () => drift.ApproveAsync(request.Line, request.Version, user.Name, context.CancellationToken)).ConfigureAwait(false);
    }

    private async Task<ActivateModelResponse> Activation(string line, Func<Task<ActivationOutcome>> act)
    {
        ActivationOutcome outcome;
        try
        {
            outcome = await act().ConfigureAwait(false);
        }
        catch (KeyNotFoundException ex)
        {
            throw new RpcException(new Status(StatusCode.NotFound, ex.Message));
        }
        catch (ArgumentException ex)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, ex.Message));
        }
        catch (ModelRegistryException ex)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, ex.Message));
        }

        var response = new ActivateModelResponse
        {
            Model = DriftMapping.ToProto(outcome.Model, ActiveActivation(line)),
            Pending = outcome.Pending,
            RequestedBy = outcome.Request?.RequestedBy ?? "",
            ApprovalsNeeded = outcome.ApprovalsNeeded,
            Message = outcome.Message,
        };
        response.ApprovedBy.AddRange(outcome.Request?.ApprovedBy ?? []);
        return response;
    }

    public override Task<GetDriftStatusResponse> GetDriftStatus(GetDriftStatusRequest request, ServerCallContext context)
    {
        var response = new GetDriftStatusResponse();
        var wanted = string.IsNullOrWhiteSpace(request.Line) ? null : request.Line;
        if (wanted is not null)
        {
            RequireLine(wanted);
        }

        var open = drift.Alerts.List(new AlertFilter(wanted, null, null, 10_000)).Where(a => a.State != AlertState.Resolved).GroupBy(a => a.Line)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        foreach (var line in lines.Lines.Select(l => l.Definition).Where(l => wanted is null || l.Id == wanted).OrderBy(l => l.Id, StringComparer.Ordinal))
        {
            var status = new LineDriftStatus
            {
                Line = line.Id,
                ExecutionProvider = drift.Execution.Provider.ToString().ToLowerInvariant(),
                ExecutionProviderReason = drift.Execution.Reason,
                PhysicsWindowSeconds = drift.Options.PhysicsWindowSeconds,
                OpenAlerts = open.GetValueOrDefault(line.Id),
            };
            if (drift.Registry.Active(line.Id) is { } model)
            {
                status.Model = DriftMapping.ToProto(model, ActiveActivation(line.Id));
            }

            var credibility = lines.Find(line.Id)?.GetCredibility(line.Signals.Select(s => s.Id), TimeSpan.FromMinutes(10))
                .ToDictionary(c => c.SignalId, StringComparer.Ordinal) ?? [];
            if (drift.Monitor.Get(line.Id)?.Status() is { } monitor)
            {
                status.PhysicsScore = monitor.PhysicsScore;
                status.StatisticalScore = monitor.StatisticalScore ?? 0;
                status.Frames = monitor.Frames;
                if (monitor.LastFrame is { } last)
                {
                    status.LastFrame = Timestamp.FromDateTimeOffset(last);
                }

                for (var f = 0; f < monitor.Features.Length; f++)
                {
                    var signal = new SignalDrift { Signal = monitor.Features[f], Tolerance = monitor.Tolerances[f] };
                    if (double.IsFinite(monitor.MeanResiduals[f]))
                    {
                        signal.MeanResidual = monitor.MeanResiduals[f];
                    }

                    if (credibility.TryGetValue(monitor.Features[f], out var c))
                    {
                        if (c.MeanScaledError is { } mean)
                        {
                            signal.MeanScaledError = mean;
                        }

                        if (c.MaxScaledError is { } max)
                        {
                            signal.MaxScaledError = max;
                        }
                    }

                    status.Signals.Add(signal);
                }
            }

            response.Lines.Add(status);
        }

        return Task.FromResult(response);
    }

    public override Task<ScoreRangeResponse> ScoreRange(ScoreRangeRequest request, ServerCallContext context)
    {
        var (from, to) = Range(request.From, request.To);
        (RegisteredModel? Model, IReadOnlyList<TwinGateway.Drift.Live.FrameScore> Frames) scored;
        try
        {
            scored = drift.ScoreRange(request.Line, from, to, request.Version, context.CancellationToken);
        }
        catch (KeyNotFoundException ex)
        {
            throw new RpcException(new Status(StatusCode.NotFound, ex.Message));
        }
        catch (ArgumentException ex)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, ex.Message));
        }

        var response = new ScoreRangeResponse();
        if (scored.Model is { } model)
        {
            response.Model = DriftMapping.ToProto(model, ActiveActivation(request.Line));
        }

        foreach (var frame in scored.Frames)
        {
            response.Frames.Add(new ScoredFrame
            {
                Time = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(frame.TimeMs)),
                Score = frame.Statistical ?? 0,
                PhysicsScore = frame.Physics,
                TopSignal = frame.TopSignal ?? "",
                TopShare = frame.TopShare,
            });
        }

        return Task.FromResult(response);
    }

    private ModelActivation? ActiveActivation(string line)
    {
        var active = drift.Registry.Active(line);
        return active is null ? null : drift.Registry.Activations(line).LastOrDefault(a => a.Version == active.Version);
    }

    private void RequireLine(string line)
    {
        if (drift.FindLine(line) is null)
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"no line '{line}'"));
        }
    }

    private static (DateTimeOffset From, DateTimeOffset To) Range(Timestamp? from, Timestamp? to)
    {
        if (from is null || to is null)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "from and to are both required"));
        }

        return (from.ToDateTimeOffset(), to.ToDateTimeOffset());
    }

    private static T Registry<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (ModelRegistryException ex)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, ex.Message));
        }
    }

    private sealed class Progress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
