using Grpc.Core;
using TwinGateway.Api.V1;
using TwinGateway.Core.Alerts;
using TwinGateway.Drift.Alerts;
using TwinGateway.Host.Drift;
using TwinGateway.Host.Identity;
using ApiAlertEvent = TwinGateway.Api.V1.AlertEvent;

namespace TwinGateway.Host.Api;

/// <summary>AlertService: drift alerts from the store, live from the feed, acknowledged and resolved by named people.</summary>
internal sealed class AlertGrpcService(DriftRuntime drift) : AlertService.AlertServiceBase
{
    public override Task<ListAlertsResponse> ListAlerts(ListAlertsRequest request, ServerCallContext context)
    {
        var response = new ListAlertsResponse();
        response.Alerts.AddRange(List(request.Line, request.State, request.Limit).Select(DriftMapping.ToProto));
        return Task.FromResult(response);
    }

    public override async Task WatchAlerts(WatchAlertsRequest request, IServerStreamWriter<ApiAlertEvent> responseStream, ServerCallContext context)
    {
        var line = string.IsNullOrWhiteSpace(request.Line) ? null : request.Line;
        // Subscribe before listing, so nothing that happens in between is missed (an event may come twice: the later wins).
        var live = drift.Feed.WatchAsync(cancellationToken: context.CancellationToken).GetAsyncEnumerator(context.CancellationToken);
        try
        {
            var pending = live.MoveNextAsync();
            foreach (var alert in List(request.Line, "", 1000).Where(a => a.State != AlertState.Resolved).Reverse())
            {
                await responseStream.WriteAsync(new ApiAlertEvent { Kind = "existing", Alert = DriftMapping.ToProto(alert) }, context.CancellationToken).ConfigureAwait(false);
            }

            await responseStream.WriteAsync(new ApiAlertEvent { Kind = "live" }, context.CancellationToken).ConfigureAwait(false);
            while (await pending.ConfigureAwait(false))
            {
                var next = live.Current;
                if (line is null || string.Equals(next.Alert.Line, line, StringComparison.Ordinal))
                {
                    await responseStream.WriteAsync(new ApiAlertEvent { Kind = next.Kind.ToText(), Alert = DriftMapping.ToProto(next.Alert) }, context.CancellationToken).ConfigureAwait(false);
                }

                pending = live.MoveNextAsync();
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
        finally
        {
            await live.DisposeAsync().ConfigureAwait(false);
        }
    }

    public override Task<Alert> AcknowledgeAlert(AcknowledgeAlertRequest request, ServerCallContext context) =>
        Task.FromResult(Act(() => drift.AcknowledgeAlert(request.Id, CallerIdentity.Get(context).Name, request.Note)));

    public override Task<Alert> ResolveAlert(ResolveAlertRequest request, ServerCallContext context) =>
        Task.FromResult(Act(() => drift.ResolveAlert(request.Id, CallerIdentity.Get(context).Name, request.Note)));

    /// <summary>The runtime's refusals as statuses: unknown alert NotFound, refused action FailedPrecondition, store Unavailable.</summary>
    private static Alert Act(Func<DriftAlert> act)
    {
        try
        {
            return DriftMapping.ToProto(act());
        }
        catch (KeyNotFoundException ex)
        {
            throw new RpcException(new Status(StatusCode.NotFound, ex.Message));
        }
        catch (AlertActionException ex)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, ex.Message));
        }
        catch (AlertStoreException ex)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, ex.Message));
        }
    }

    private IReadOnlyList<DriftAlert> List(string line, string state, int limit)
    {
        AlertState? wanted = null;
        if (!string.IsNullOrWhiteSpace(state))
        {
            if (!Enum.TryParse<AlertState>(state, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed))
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"unknown alert state '{state}' (expected open, acknowledged or resolved)"));
            }

            wanted = parsed;
        }

        return Guard(() => drift.Alerts.List(new AlertFilter(string.IsNullOrWhiteSpace(line) ? null : line, wanted, null, limit is > 0 and <= 10_000 ? limit : 100)));
    }

    private static T Guard<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (AlertStoreException ex)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, ex.Message));
        }
    }
}
