using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;

namespace TwinGateway.Host.Web;

/// <summary>The console's live (server-sent events) and data endpoints of one area; each declares its RPC with RequireRpc.</summary>
internal static class ChangeLiveEndpoints
{
    public static void Map(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        // One change's events (the gate's, as WatchChanges streams them) and the progress of a validation or apply
        // started from the console: "hello" (the state now), then "change", "progress" and "step" events.
        app.MapGet("/live/changes/{id}", async (string id, ChangeRuns runs, HttpContext context) =>
                await runs.ExistsAsync(id, context.RequestAborted).ConfigureAwait(false)
                    ? Results.ServerSentEvents(Follow(runs, id, context.RequestAborted))
                    : Results.Text($"no change '{id}'", "text/plain; charset=utf-8", statusCode: Microsoft.AspNetCore.Http.StatusCodes.Status404NotFound))
            .RequireRpc("CommissioningService/WatchChanges");
    }

    private static async IAsyncEnumerable<SseItem<ChangeLiveEvent>> Follow(ChangeRuns runs, string id, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var item in runs.FollowAsync(id, cancellationToken).ConfigureAwait(false))
        {
            yield return new SseItem<ChangeLiveEvent>(item, item.Event is "progress" or "step" or "hello" ? item.Event : "change");
        }
    }
}
