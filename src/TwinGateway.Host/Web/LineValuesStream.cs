using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using TwinGateway.Core.Lines;
using TwinGateway.Gateway;

namespace TwinGateway.Host.Web;

/// <summary>
/// <c>GET /live/lines/{id}/values</c>: the line page's table of every signal, live. Every <see cref="Interval"/> it reads
/// each signal's latest snapshot (no subscription: the table shows the newest value, not every sample) and sends one
/// <c>values</c> event with the signals whose real value, expected value or status changed since the last event, as rows
/// <c>[index, real, expected, status]</c> by the signal's position in the line definition.
/// </summary>
internal sealed class LineValuesStream(LineRuntime line, TimeProvider time, ILogger log) : IResult
{
    /// <summary>Twice a second: a table is read, not watched like a plot.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var response = LineEvents.Start(httpContext);
        var signals = line.Definition.Signals;
        var states = signals.Select(s => line.TryGetSignal(s.Id, out var state) ? state : null).ToArray();
        var sent = new SignalSnapshot?[signals.Length];
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        using var json = new Utf8JsonWriter(buffer);
        var cancellationToken = httpContext.RequestAborted;
        try
        {
            using var timer = new PeriodicTimer(Interval, time);
            do
            {
                LineEvents.Begin(buffer, json, "values"u8);
                json.WriteStartObject();
                json.WriteStartArray("v"u8);
                for (var i = 0; i < states.Length; i++)
                {
                    // A snapshot is an immutable record replaced on every change: the same reference is the same value.
                    var now = states[i]?.Snapshot;
                    if (now is null || ReferenceEquals(now, sent[i]))
                    {
                        continue;
                    }

                    if (sent[i] is not { } before || before.Real != now.Real || before.Expected != now.Expected || before.Status != now.Status)
                    {
                        json.WriteStartArray();
                        json.WriteNumberValue(i);
                        LineEvents.WriteNumberOrNull(json, now.Real ?? double.NaN);
                        LineEvents.WriteNumberOrNull(json, now.Expected ?? double.NaN);
                        json.WriteStringValue(now.Status);
                        json.WriteEndArray();
                    }

                    sent[i] = now;
                }

                json.WriteEndArray();
                json.WriteEndObject();
                LineEvents.End(buffer, json);
                await LineEvents.SendAsync(response, buffer, cancellationToken).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The page went away.
        }
        catch (IOException) when (cancellationToken.IsCancellationRequested)
        {
            // A write that raced the page's going away.
        }
        catch (IOException ex)
        {
            LineEvents.StreamFailed(log, line.Id, "values", ex.Message);
        }
    }
}
