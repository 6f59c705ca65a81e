using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace TwinGateway.Host.Web;

/// <summary>Server-sent events as the Lines pages' streams write them: one reused buffer per stream, one write and flush per event.</summary>
internal static partial class LineEvents
{
    /// <summary>Starts an event stream: its content type, no caching, and no response buffering (each event goes out when flushed).</summary>
    public static HttpResponse Start(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        httpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        return response;
    }

    /// <summary>Clears the buffer and writes <c>event: {type}\ndata: </c>; the JSON follows, then <see cref="End"/>.</summary>
    public static void Begin(ArrayBufferWriter<byte> buffer, Utf8JsonWriter json, ReadOnlySpan<byte> type)
    {
        buffer.ResetWrittenCount();
        buffer.Write("event: "u8);
        buffer.Write(type);
        buffer.Write("\ndata: "u8);
        json.Reset(buffer);
    }

    public static void End(ArrayBufferWriter<byte> buffer, Utf8JsonWriter json)
    {
        json.Flush();
        buffer.Write("\n\n"u8);
    }

    public static async Task SendAsync(HttpResponse response, ArrayBufferWriter<byte> buffer, CancellationToken cancellationToken)
    {
        await response.Body.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
        await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>JSON has no NaN: a missing value is null.</summary>
    public static void WriteNumberOrNull(Utf8JsonWriter json, double value)
    {
        if (double.IsFinite(value))
        {
            json.WriteNumberValue(value);
        }
        else
        {
            json.WriteNullValue();
        }
    }

    public static void WriteNumberOrNull(Utf8JsonWriter json, ReadOnlySpan<byte> name, double value)
    {
        json.WritePropertyName(name);
        WriteNumberOrNull(json, value);
    }

    public static long UnixMs(DateTime utc) => (utc.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond;

    [LoggerMessage(EventId = 4450, Level = LogLevel.Warning, Message = "Web console: the {Stream} stream of line {Line} stopped: {Reason}")]
    public static partial void StreamFailed(ILogger logger, string line, string stream, string reason);
}
