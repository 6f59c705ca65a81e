using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using TwinGateway.Bench.E2e;

namespace TwinGateway.Bench.Telemetry;

/// <summary>
/// A VictoriaMetrics single-node server on a free loopback port with a temporary data folder, for the forwarder: it
/// takes InfluxDB v2 writes (<c>/api/v2/write</c>) and stores each field as metric <c>{measurement}_{field}</c>, in
/// milliseconds, duplicates kept. The same start-up as the tests' VictoriaMetricsFixture, without xunit.
/// </summary>
internal sealed class VictoriaMetricsServer : IAsyncDisposable
{
    public const string NotInstalled = "victoria-metrics is not installed: apt-get install victoria-metrics";

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(120) };

    private VictoriaMetricsServer(Process process, string url, string dataPath)
    {
        _process = process;
        Url = url;
        DataPath = dataPath;
    }

    public string Url { get; }

    public string DataPath { get; }

    public int Pid => _process.Id;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static string? FindExecutable()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Append("/usr/bin")
            .Select(folder => Path.Combine(folder, "victoria-metrics"))
            .FirstOrDefault(File.Exists);
    }

    /// <summary>Starts the server and waits until <c>/health</c> answers (a port lost to another process is retried).</summary>
    public static async Task<VictoriaMetricsServer> StartAsync(string executable, string dataPath, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(dataPath);
        for (var attempt = 1; ; attempt++)
        {
            var url = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{NodePeer.FreePort()}");
            var start = new ProcessStartInfo(executable)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            start.ArgumentList.Add($"-httpListenAddr={url["http://".Length..]}");
            start.ArgumentList.Add($"-storageDataPath={dataPath}");
            start.ArgumentList.Add("-retentionPeriod=100y");
            start.ArgumentList.Add("-search.disableCache");
            start.ArgumentList.Add("-loggerLevel=ERROR");
            var process = Process.Start(start) ?? throw new InvalidOperationException($"{executable} did not start");
            var server = new VictoriaMetricsServer(process, url, dataPath);
            process.OutputDataReceived += (_, e) => server.Append(e.Data);
            process.ErrorDataReceived += (_, e) => server.Append(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                await server.WaitHealthyAsync(cancellationToken).ConfigureAwait(false);
                return server;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                await server.DisposeAsync().ConfigureAwait(false);
            }
            catch
            {
                await server.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary>Makes everything written so far visible to queries.</summary>
    public async Task ForceFlushAsync(CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(new Uri($"{Url}/internal/force_flush"), cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>
    /// The value of an instant query that returns one number (0 when it returns no series), evaluated at
    /// <paramref name="atUnixSeconds"/>.
    /// </summary>
    public async Task<double> QueryScalarAsync(string query, double atUnixSeconds, CancellationToken cancellationToken)
    {
        var uri = new Uri(string.Create(CultureInfo.InvariantCulture, $"{Url}/api/v1/query?query={Uri.EscapeDataString(query)}&time={atUnixSeconds:0.###}"));
        using var response = await _http.GetAsync(uri, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"query {query} on {Url} failed with {(int)response.StatusCode}: {body}");
        }

        using var json = JsonDocument.Parse(body);
        var result = json.RootElement.GetProperty("data").GetProperty("result");
        if (result.GetArrayLength() == 0)
        {
            return 0;
        }

        var value = result[0].GetProperty("value")[1].GetString();
        return double.Parse(value ?? "0", NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
        {
        }

        _process.Dispose();
        _http.Dispose();
    }

    private async Task WaitHealthyAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"victoria-metrics exited with {_process.ExitCode} while starting on {Url}: {Output}");
            }

            try
            {
                using var response = await _http.GetAsync(new Uri($"{Url}/health"), cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }

        throw new TimeoutException($"victoria-metrics did not answer /health on {Url} within 60 s: {Output}");
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
