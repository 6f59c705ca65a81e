using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;

namespace TwinGateway.Host.Web;

/// <summary>The console's live (server-sent events) and data endpoints of one area; each declares its RPC with RequireRpc.</summary>
internal static class ReplayLiveEndpoints
{
    public static void Map(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        // A replay started from the console: "progress" events while it runs, then one "end" event (the page reloads for the report).
        app.MapGet("/live/replays/{id:long}", (long id, ReplayJobs jobs, HttpContext context) => jobs.Get(id) is { } job
                ? Results.ServerSentEvents(Follow(job, context.RequestAborted))
                : Results.Text($"no replay {id.ToString(CultureInfo.InvariantCulture)} (the gateway keeps the newest {ReplayJobs.Kept}, until it restarts)",
                    "text/plain; charset=utf-8", statusCode: Microsoft.AspNetCore.Http.StatusCodes.Status404NotFound))
            .RequireRpc("ReplayService/Replay");
    }

    private static async IAsyncEnumerable<SseItem<ReplayLiveEvent>> Follow(ReplayJob job, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var changed = job.Changed;
            if (job.State != ReplayJobState.Running)
            {
                yield return new SseItem<ReplayLiveEvent>(ReplayLiveEvent.Of(job), "end");
                yield break;
            }

            // Also before the first progress report: the response starts at once.
            yield return new SseItem<ReplayLiveEvent>(ReplayLiveEvent.Of(job), "progress");

            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>What the replay page's script shows: the state, the counts and the sim time (ISO, UTC).</summary>
internal sealed record ReplayLiveEvent(string State, long Processed, long Total, double Fraction, string? SimTime, double SamplesPerSecond, double? SecondsLeft, string? Error)
{
    public static ReplayLiveEvent Of(ReplayJob job)
    {
        var p = job.Progress;
        return new ReplayLiveEvent(
            ReplayPageText.State(job.State),
            p?.SamplesProcessed ?? 0,
            p?.SamplesTotal ?? 0,
            p?.Fraction ?? 0,
            p is null ? null : DateTime.SpecifyKind(p.SimTime, DateTimeKind.Utc).ToString("O", CultureInfo.InvariantCulture),
            p?.SamplesPerSecond ?? 0,
            p?.EstimatedTimeLeft?.TotalSeconds,
            job.Error);
    }
}

/// <summary>Words the replay page and its live events share.</summary>
internal static class ReplayPageText
{
    public static string State(ReplayJobState state) => state switch
    {
        ReplayJobState.Done => "done",
        ReplayJobState.Failed => "failed",
        _ => "running",
    };
}
