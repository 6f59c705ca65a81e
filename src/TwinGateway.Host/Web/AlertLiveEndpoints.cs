using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using TwinGateway.Core.Alerts;
using TwinGateway.Host.Api;
using TwinGateway.Host.Drift;

namespace TwinGateway.Host.Web;

/// <summary>What the alerts page hears of an alert: enough to fetch its row again and to announce it.</summary>
/// <param name="Kind"><c>opened</c>, <c>updated</c>, <c>acknowledged</c> or <c>resolved</c>.</param>
/// <param name="Id">The alert.</param>
/// <param name="Line">Its line.</param>
/// <param name="State"><c>open</c>, <c>acknowledged</c> or <c>resolved</c>, after the event.</param>
/// <param name="Severity"><c>warning</c> or <c>critical</c>.</param>
internal sealed record AlertChange(
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("line")] string Line,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("severity")] string Severity);

/// <summary>The console's live (server-sent events) and data endpoints of one area; each declares its RPC with RequireRpc.</summary>
internal static class AlertLiveEndpoints
{
    public static void Map(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        // Event "live" once subscribed (the page lists what happened before; after a reconnect it reloads its rows), then
        // one "alert" event per change, from the same feed as AlertService/WatchAlerts.
        // The stream also ends when the gateway stops: an open page must not hold its shutdown (the browser reconnects).
        app.MapGet("/live/alerts", (string? line, DriftRuntime drift, IHostApplicationLifetime lifetime, HttpContext context) =>
                TypedResults.ServerSentEvents(Watch(drift.Feed, string.IsNullOrWhiteSpace(line) ? null : line.Trim(), lifetime.ApplicationStopping, context.RequestAborted)))
            .RequireRpc("AlertService/WatchAlerts");
    }

    private static async IAsyncEnumerable<SseItem<AlertChange>> Watch(TwinGateway.Drift.Live.AlertFeed feed, string? line,
        CancellationToken stopping, [EnumeratorCancellation] CancellationToken requestAborted)
    {
        using var both = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, stopping);
        var cancellationToken = both.Token;

        // Subscribe before saying "live", so nothing that happens in between is missed.
        var live = feed.WatchAsync(cancellationToken: cancellationToken).GetAsyncEnumerator(cancellationToken);
        try
        {
            var pending = live.MoveNextAsync();
            yield return new SseItem<AlertChange>(new AlertChange("live", 0, line ?? "", "", ""), "live");
            while (await Next(pending, cancellationToken).ConfigureAwait(false))
            {
                var next = live.Current;
                if (line is null || string.Equals(next.Alert.Line, line, StringComparison.Ordinal))
                {
                    var alert = next.Alert;
                    yield return new SseItem<AlertChange>(new AlertChange(next.Kind.ToText(), alert.Id, alert.Line,
                        alert.State.ToString().ToLowerInvariant(), alert.Severity.ToString().ToLowerInvariant()), "alert");
                }

                pending = live.MoveNextAsync();
            }
        }
        finally
        {
            await live.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The next event, or false once the page went away.</summary>
    private static async Task<bool> Next(ValueTask<bool> pending, CancellationToken cancellationToken)
    {
        try
        {
            return await pending.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
