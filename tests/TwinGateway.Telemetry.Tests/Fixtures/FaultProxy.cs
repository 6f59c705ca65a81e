using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TwinGateway.Telemetry.Tests.Fixtures;

/// <summary>
/// An HTTP reverse proxy on a free loopback port in front of a real server (VictoriaMetrics), switchable between
/// passing requests through, answering with an error as InfluxDB would (status, JSON body, Retry-After), and hanging
/// (the request is accepted and never answered, for timeouts). Fault injection in front of a real server, not a mock.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    /// <summary>The Retry-After the proxy sends with 503.</summary>
    public const int RetryAfterSeconds = 2;

    private readonly HttpListener _listener = new();
    private readonly HttpClient _upstream;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private readonly List<HttpListenerContext> _hanging = [];
    private readonly Task _loop;
    private FaultMode _mode = FaultMode.PassThrough;
    private int _requests;
    private int _forwarded;
    private string? _lastContentEncoding;

    public FaultProxy(string upstreamUrl)
    {
        _upstream = new HttpClient { BaseAddress = new Uri(upstreamUrl), Timeout = TimeSpan.FromSeconds(60) };
        for (var attempt = 1; ; attempt++)
        {
            using (var probe = new TcpListener(IPAddress.Loopback, 0))
            {
                probe.Start();
                Port = ((IPEndPoint)probe.LocalEndpoint).Port;
                probe.Stop();
            }

            _listener.Prefixes.Clear();
            _listener.Prefixes.Add($"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/");
            try
            {
                _listener.Start();
                break;
            }
            catch (HttpListenerException) when (attempt < 3)
            {
            }
        }

        _loop = AcceptLoopAsync();
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>What the proxy does with the next requests.</summary>
    public FaultMode Mode
    {
        get
        {
            lock (_lock)
            {
                return _mode;
            }
        }

        set
        {
            lock (_lock)
            {
                _mode = value;
            }
        }
    }

    /// <summary>Requests received, whatever was done with them.</summary>
    public int RequestCount => Volatile.Read(ref _requests);

    /// <summary>Requests passed through to the server.</summary>
    public int ForwardedCount => Volatile.Read(ref _forwarded);

    /// <summary>The Content-Encoding of the last request (gzip when the client compresses).</summary>
    public string? LastContentEncoding => Volatile.Read(ref _lastContentEncoding);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        lock (_lock)
        {
            foreach (var context in _hanging)
            {
                context.Response.Abort();
            }

            _hanging.Clear();
        }

        try
        {
            await _loop;
        }
        catch (ObjectDisposedException)
        {
        }

        _listener.Close();
        _upstream.Dispose();
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        Interlocked.Increment(ref _requests);
        Volatile.Write(ref _lastContentEncoding, context.Request.Headers["Content-Encoding"]);
        var mode = Mode;
        try
        {
            switch (mode)
            {
                case FaultMode.Hang:
                    lock (_lock)
                    {
                        _hanging.Add(context);
                    }

                    return;
                case FaultMode.PassThrough:
                    await PassThroughAsync(context);
                    return;
                default:
                    await AnswerAsync(context.Response, mode);
                    return;
            }
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException or HttpRequestException or OperationCanceledException)
        {
            // The client gave up (timeout) or the proxy is stopping: nothing to answer.
            context.Response.Abort();
        }
    }

    private async Task PassThroughAsync(HttpListenerContext context)
    {
        var request = context.Request;
        using var body = new MemoryStream();
        await request.InputStream.CopyToAsync(body, _stopping.Token);
        using var message = new HttpRequestMessage(new HttpMethod(request.HttpMethod), request.RawUrl);
        if (body.Length > 0 || request.HttpMethod == "POST")
        {
            message.Content = new ByteArrayContent(body.ToArray());
        }

        foreach (var name in request.Headers.AllKeys)
        {
            if (name is null || name is "Host" or "Content-Length" or "Transfer-Encoding" or "Connection" or "Expect")
            {
                continue;
            }

            var value = request.Headers[name];
            if (!message.Headers.TryAddWithoutValidation(name, value) && message.Content is not null)
            {
                message.Content.Headers.TryAddWithoutValidation(name, value);
            }
        }

        using var answer = await _upstream.SendAsync(message, _stopping.Token);
        var bytes = await answer.Content.ReadAsByteArrayAsync(_stopping.Token);
        Interlocked.Increment(ref _forwarded);
        var response = context.Response;
        response.StatusCode = (int)answer.StatusCode;
        if (answer.Content.Headers.ContentType is { } contentType)
        {
            response.ContentType = contentType.ToString();
        }

        if (bytes.Length > 0)
        {
            response.ContentLength64 = bytes.Length;
            await response.OutputStream.WriteAsync(bytes, _stopping.Token);
        }

        response.Close();
    }

    private async Task AnswerAsync(HttpListenerResponse response, FaultMode mode)
    {
        var (status, code, text) = mode switch
        {
            FaultMode.Unauthorized => (401, "unauthorized", "unauthorized access"),
            FaultMode.NotFound => (404, "not found", "bucket \\\"telemetry\\\" not found"),
            FaultMode.BadRequest => (400, "invalid", "unable to parse 'x y': invalid field format"),
            FaultMode.ServerError => (500, "internal error", "unexpected error writing points to database"),
            FaultMode.Unavailable => (503, "unavailable", "the server is temporarily unavailable"),
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
        };
        var bytes = Encoding.UTF8.GetBytes($"{{\"code\":\"{code}\",\"message\":\"{text}\"}}");
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        if (mode == FaultMode.Unavailable)
        {
            response.Headers["Retry-After"] = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        }

        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes, _stopping.Token);
        response.Close();
    }
}

/// <summary>What <see cref="FaultProxy"/> does with a request.</summary>
public enum FaultMode
{
    /// <summary>Forward it to the server and return the server's answer.</summary>
    PassThrough,

    /// <summary>401 with InfluxDB's body for a wrong token.</summary>
    Unauthorized,

    /// <summary>404, bucket not found.</summary>
    NotFound,

    /// <summary>400, a line that does not parse.</summary>
    BadRequest,

    /// <summary>500.</summary>
    ServerError,

    /// <summary>503 with <c>Retry-After: 2</c>.</summary>
    Unavailable,

    /// <summary>Accept the request and never answer it.</summary>
    Hang,
}
