using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using TwinGateway.Drift.Live;

namespace TwinGateway.Host.Web;

/// <summary>
/// <c>GET /live/lines/{id}/drift</c>: the line's drift scores as server-sent events, as ratios to the alert threshold
/// (1 = an alert's level): one <c>status</c> event (the monitor's latest figures), then one <c>frame</c> event per frame scored.
/// </summary>
internal sealed class LineDriftStream(LineDriftMonitor monitor, double threshold, ILogger log) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var response = LineEvents.Start(httpContext);
        var buffer = new ArrayBufferWriter<byte>(1024);
        using var json = new Utf8JsonWriter(buffer);
        var stopping = httpContext.RequestAborted;
        try
        {
            // Subscribe before reading the status, so no frame falls between the two.
            var frames = LineDriftFanOut.Of(monitor).WatchAsync(stopping).GetAsyncEnumerator(stopping);
            await using (frames.ConfigureAwait(false))
            {
                var next = frames.MoveNextAsync();
                var status = monitor.Status();
                LineEvents.Begin(buffer, json, "status"u8);
                json.WriteStartObject();
                json.WriteString("line"u8, status.Line);
                json.WriteNumber("threshold"u8, threshold);
                if (status.LastFrame is { } last)
                {
                    json.WriteNumber("t"u8, last.ToUnixTimeMilliseconds());
                }

                LineEvents.WriteNumberOrNull(json, "physics"u8, status.PhysicsScore / threshold);
                LineEvents.WriteNumberOrNull(json, "statistical"u8, (status.StatisticalScore ?? double.NaN) / threshold);
                json.WriteString("model"u8, status.ModelVersion);
                json.WriteEndObject();
                LineEvents.End(buffer, json);
                await LineEvents.SendAsync(response, buffer, stopping).ConfigureAwait(false);
                while (await next.ConfigureAwait(false))
                {
                    var frame = frames.Current;
                    LineEvents.Begin(buffer, json, "frame"u8);
                    json.WriteStartObject();
                    json.WriteNumber("t"u8, frame.TimeMs);
                    LineEvents.WriteNumberOrNull(json, "physics"u8, frame.Physics / threshold);
                    LineEvents.WriteNumberOrNull(json, "statistical"u8, (frame.Statistical ?? double.NaN) / threshold);
                    json.WriteString("top"u8, frame.TopSignal);
                    json.WriteEndObject();
                    LineEvents.End(buffer, json);
                    await LineEvents.SendAsync(response, buffer, stopping).ConfigureAwait(false);
                    next = frames.MoveNextAsync();
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The page went away.
        }
        catch (IOException ex) when (!stopping.IsCancellationRequested)
        {
            LineEvents.StreamFailed(log, monitor.Line, "drift", ex.Message);
        }
        catch (IOException)
        {
            // A write that raced the page's going away.
        }
    }
}
