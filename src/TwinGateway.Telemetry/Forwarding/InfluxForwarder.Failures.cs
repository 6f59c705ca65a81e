using System.Globalization;
using System.Net;
using System.Net.Sockets;
using InfluxDB.Client.Core.Exceptions;

namespace TwinGateway.Telemetry.Forwarding;

/// <summary>
/// Failures classified: each becomes a message that names the server and the setting to fix, whether waiting alone can
/// fix it, and the wait the server asked for.
/// </summary>
public sealed partial class InfluxForwarder
{
    private const int MaxServerMessageLength = 300;

    private Failure Classify(Exception ex)
    {
        var url = _options.Url;
        if (ex is HttpException { Status: >= 400 } http)
        {
            var code = http.Status;
            var said = ServerMessage(http);
            TimeSpan? retryAfter = http.RetryAfter is { } seconds && seconds >= 0 ? TimeSpan.FromSeconds(seconds) : null;
            var status = $"{code.ToString(CultureInfo.InvariantCulture)} {ReasonPhrase(code)}";
            var key = code.ToString(CultureInfo.InvariantCulture);
            return code switch
            {
                401 or 403 => new Failure(
                    key,
                    $"InfluxDB at {url} refused the token ({status}): check {InfluxForwarderOptions.SectionName}:Token{Said(said)}",
                    NeedsAction: true,
                    retryAfter),
                404 => new Failure(
                    key,
                    $"InfluxDB at {url} answered {status}: bucket '{_options.Bucket}' or organization '{_options.Organization}' not found: "
                    + $"check {InfluxForwarderOptions.SectionName}:Bucket and {InfluxForwarderOptions.SectionName}:Organization{Said(said)}",
                    NeedsAction: true,
                    retryAfter),
                413 => new Failure(
                    key,
                    $"InfluxDB at {url} rejected the batch as too large ({status}): lower {InfluxForwarderOptions.SectionName}:BatchSize "
                    + $"(now {_options.BatchSize.ToString(CultureInfo.InvariantCulture)}){Said(said)}",
                    NeedsAction: true,
                    retryAfter),
                429 => new Failure(
                    key,
                    $"InfluxDB at {url} asks for fewer writes ({status}){Said(said)}; the batch is retried",
                    NeedsAction: false,
                    retryAfter),
                >= 500 => new Failure(
                    key,
                    $"InfluxDB at {url} answered with a server error ({status}){Said(said)}; the batch is retried",
                    NeedsAction: false,
                    retryAfter),
                _ => new Failure(
                    key,
                    $"InfluxDB at {url} rejected the batch ({status}): {(said.Length > 0 ? said : "no message")}",
                    NeedsAction: true,
                    retryAfter),
            };
        }

        for (var inner = ex; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException or HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError })
            {
                return new Failure(
                    "connect",
                    $"Cannot connect to InfluxDB at {url} ({inner.Message}): check that the server runs and {InfluxForwarderOptions.SectionName}:Url",
                    NeedsAction: false,
                    null);
            }

            if (inner is OperationCanceledException or TimeoutException)
            {
                return new Failure(
                    "timeout",
                    $"InfluxDB at {url} gave no answer within {_options.RequestTimeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s: "
                    + $"check that the server is up and reachable, or raise {InfluxForwarderOptions.SectionName}:RequestTimeout",
                    NeedsAction: false,
                    null);
            }
        }

        return new Failure(ex.GetType().Name, $"Writing to InfluxDB at {url} failed: {ex.Message}", NeedsAction: false, null);
    }

    /// <summary>
    /// A server or proxy may echo the request's Authorization header in its error body (seen in SecretsTests with a
    /// server that does): the token never reaches a log line or a status message.
    /// </summary>
    private Failure Redacted(Failure failure) =>
        string.IsNullOrEmpty(_options.Token) || !failure.Message.Contains(_options.Token, StringComparison.Ordinal)
            ? failure
            : failure with { Message = failure.Message.Replace(_options.Token, "<the token>", StringComparison.Ordinal) };

    private static string Said(string serverMessage) => serverMessage.Length > 0 ? $"; the server said: {serverMessage}" : "";

    private static string ServerMessage(HttpException http)
    {
        // InfluxDB.Client puts the JSON body's "message" into Message; a proxy's HTML page arrives there whole.
        var text = (http.Message ?? "").ReplaceLineEndings(" ").Trim();
        return text.Length <= MaxServerMessageLength ? text : string.Concat(text.AsSpan(0, MaxServerMessageLength), "...");
    }

    private static string ReasonPhrase(int code) => code switch
    {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => Enum.IsDefined((HttpStatusCode)code) ? ((HttpStatusCode)code).ToString() : "",
    };

    /// <param name="Key">Identifies the kind of failure, so a repeat of the same one is not logged again.</param>
    /// <param name="Message">What went wrong and what to change, naming the URL and the setting.</param>
    /// <param name="NeedsAction">The server refuses the writes (token, bucket, content): waiting alone will not fix it.</param>
    /// <param name="RetryAfter">The wait the server asked for (429, 503).</param>
    private sealed record Failure(string Key, string Message, bool NeedsAction, TimeSpan? RetryAfter);
}
