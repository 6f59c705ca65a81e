using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using TwinGateway.Api.V1;
using TwinGateway.Core.Pipeline;
using TwinGateway.Gateway;
using TwinGateway.Gateway.Health;
using TwinGateway.Gateway.Pipeline;
using TwinGateway.Gateway.Supervision;

namespace TwinGateway.Host.Api;

/// <summary>LineService for MES and the CLI: lines, connection state, real vs expected signals, streaming.</summary>
internal sealed class LineGrpcService(LineRegistry registry) : LineService.LineServiceBase
{
    public override Task<ListLinesResponse> ListLines(ListLinesRequest request, ServerCallContext context)
    {
        var response = new ListLinesResponse();
        foreach (var line in registry.Lines.OrderBy(l => l.Id, StringComparer.Ordinal))
        {
            var summary = line.Summary;
            var health = LineHealthReport.Of(line);
            response.Lines.Add(new LineSummary
            {
                Id = line.Id,
                Name = line.Definition.Name,
                State = ToProto(summary.State),
                Reason = summary.State == LinkState.Connected ? "" : summary.Reason,
                StationCount = line.Definition.Stations.Length,
                SignalCount = line.Definition.Signals.Length,
                MonitoredSignals = line.Links.Sum(l => l.State == LinkState.Connected ? l.MonitoredSignals : 0),
                Health = HealthName(health.Status),
                HealthReason = health.Reason,
            });
        }

        response.FileProblems.AddRange(registry.FileProblems.Select(p => p.ToString()));

        return Task.FromResult(response);
    }

    private LineRuntime Find(string lineId) =>
        registry.TryGet(lineId, out var line)
            ? line
            : throw new RpcException(new Status(StatusCode.NotFound, $"no line '{lineId}' (lines: {string.Join(", ", registry.Lines.Select(l => l.Id))})"));

    public override Task<Line> GetLine(GetLineRequest request, ServerCallContext context)
    {
        var line = Find(request.LineId);
        var definition = line.Definition;
        var (simTime, steps, seed) = line.TwinState;
        var result = new Line
        {
            Id = line.Id,
            Name = definition.Name,
            SourceFile = definition.Source?.File ?? "",
            Twin = new TwinState { Mode = "shadow", SimTime = Timestamp.FromDateTime(DateTime.SpecifyKind(simTime, DateTimeKind.Utc)), Steps = (ulong)steps, Seed = seed },
            TwinLoop = ToProto(line.TwinLoop),
            Watchers = ToProto(line.Watchers),
        };
        var health = LineHealthReport.Of(line);
        result.Health = HealthName(health.Status);
        result.HealthReason = health.Reason;
        result.Sinks.AddRange(line.Sinks.Select(ToProto));
        foreach (var link in line.Links)
        {
            var controller = new Controller
            {
                Id = link.ControllerId,
                EndpointUrl = link.EndpointUrl,
                State = ToProto(link.State),
                Reason = link.Reason,
                Since = Timestamp.FromDateTimeOffset(link.Since),
                MonitoredSignals = link.MonitoredSignals,
            };
            controller.Problems.AddRange(link.Problems.Select(p => new TwinGateway.Api.V1.SignalProblem { SignalId = p.SignalId, NodeId = p.NodeId, Reason = p.Reason }));
            result.Controllers.Add(controller);
        }

        result.Stations.AddRange(definition.Stations.Select(s => new Station { Id = s.Id, Kind = s.Kind.ToString().ToLowerInvariant(), Name = s.Name ?? s.Id }));
        result.Signals.AddRange(definition.Signals.Select(s => new Signal
        {
            Id = s.Id,
            StationId = s.StationId ?? "",
            DataType = s.DataType.ToString(),
            Unit = s.Unit ?? "",
            Direction = s.Direction == Core.Lines.SignalDirection.ControllerInput ? "input" : "output",
            NodeId = s.NodeId,
            NominalLow = s.NominalRange?.Low ?? 0,
            NominalHigh = s.NominalRange?.High ?? 0,
            ControllerId = s.ControllerId ?? definition.Controllers.FirstOrDefault()?.Id ?? "",
        }));
        return Task.FromResult(result);
    }

    public override Task<ReadSignalsResponse> ReadSignals(ReadSignalsRequest request, ServerCallContext context)
    {
        var line = Find(request.LineId);
        var response = new ReadSignalsResponse();
        var ids = request.SignalIds.Count > 0 ? request.SignalIds.ToList() : [.. line.Definition.Signals.Select(s => s.Id)];
        foreach (var id in ids)
        {
            if (!line.TryGetSignal(id, out var signal))
            {
                throw new RpcException(new Status(StatusCode.NotFound, $"line '{line.Id}' has no signal '{id}'"));
            }

            response.Values.Add(ToProto(signal.Snapshot, signal.Definition.Unit));
        }

        return Task.FromResult(response);
    }

    public override async Task WatchSignals(WatchSignalsRequest request, IServerStreamWriter<SignalUpdate> responseStream, ServerCallContext context)
    {
        var line = Find(request.LineId);
        foreach (var id in request.SignalIds)
        {
            if (!line.TryGetSignal(id, out _))
            {
                throw new RpcException(new Status(StatusCode.NotFound, $"line '{line.Id}' has no signal '{id}'"));
            }
        }

        var filter = request.SignalIds.ToHashSet(StringComparer.Ordinal);
        try
        {
            await foreach (var update in line.WatchAsync(filter, context.CancellationToken).ConfigureAwait(false))
            {
                line.TryGetSignal(update.SignalId, out var signal);
                await responseStream.WriteAsync(new SignalUpdate { LineId = line.Id, Value = ToProto(update, signal?.Definition.Unit) }, context.CancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The client went away.
        }
        catch (InvalidOperationException) when (context.CancellationToken.IsCancellationRequested || context.GetHttpContext().Response.HasStarted)
        {
            // A write that raced the client's hang-up ("the request is complete") is that hang-up, not a server error.
        }
    }

    private static SignalValue ToProto(SignalSnapshot snapshot, string? unit)
    {
        var value = new SignalValue { SignalId = snapshot.SignalId, Status = snapshot.Status, Unit = unit ?? "" };
        if (snapshot.Real is { } real)
        {
            value.Real = real;
        }

        if (snapshot.Expected is { } expected)
        {
            value.Expected = expected;
        }

        if (snapshot.SourceTime != default)
        {
            value.SourceTime = Timestamp.FromDateTime(DateTime.SpecifyKind(snapshot.SourceTime, DateTimeKind.Utc));
        }

        if (snapshot.ServerTime != default)
        {
            value.ServerTime = Timestamp.FromDateTime(DateTime.SpecifyKind(snapshot.ServerTime, DateTimeKind.Utc));
        }

        return value;
    }

    private static string HealthName(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus status) => status.ToString().ToLowerInvariant();

    private static Component ToProto(ComponentStatus status) => new()
    {
        State = status.State.ToString().ToLowerInvariant(),
        Reason = status.Reason,
        Since = Timestamp.FromDateTimeOffset(status.Since),
        Restarts = status.Restarts,
    };

    private static Sink ToProto(SinkStatus sink) => new()
    {
        Name = sink.Name,
        Overflow = sink.Overflow == SinkOverflow.Wait ? "wait" : "drop-oldest",
        Critical = sink.Critical,
        Component = ToProto(sink.Component),
        Received = sink.Received,
        Written = sink.Written,
        Dropped = sink.Dropped,
        QueuedBatches = sink.QueuedBatches,
        Capacity = sink.Capacity,
        Behind = sink.Behind,
        Problem = sink.Problem ?? "",
    };

    private static Watchers ToProto(WatcherStatus watchers) => new()
    {
        Count = watchers.Watchers,
        Delivered = watchers.Delivered,
        Dropped = watchers.Dropped,
        Capacity = watchers.Capacity,
    };

    private static ConnectionState ToProto(LinkState state) => state switch
    {
        LinkState.Connecting => ConnectionState.Connecting,
        LinkState.Connected => ConnectionState.Connected,
        LinkState.Reconnecting => ConnectionState.Reconnecting,
        _ => ConnectionState.Failed,
    };
}
