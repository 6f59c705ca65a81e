using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace TwinGateway.Testing;

/// <summary>
/// A real VictoriaMetrics single-node server on a free loopback port with a temporary data folder: it accepts the
/// InfluxDB v2 write API (<c>/api/v2/write</c>), so the forwarder writes to it through InfluxDB.Client, and tests read
/// every stored sample back through <c>/api/v1/export</c>. Usable as an xunit class fixture or created per test, and by the
/// benchmark harness (<c>telemetry</c>'s forward part).
/// </summary>
/// <remarks>
/// What VictoriaMetrics 1.79.5 does with InfluxDB writes, found by trying it:
/// the metric name is <c>{measurement}_{field}</c> and the tags become labels; the v2 write's <c>bucket</c> and
/// <c>org</c> parameters are ignored (no <c>db</c> label is added, only the v1 <c>db</c> parameter does that), so tests
/// keep their data apart with a measurement (line id) of their own; timestamps are stored in milliseconds;
/// a sample written twice is stored twice (no deduplication without <c>-dedup.minScrapeInterval</c>), which is what
/// lets the tests see a duplicate; values are stored as decimals with about 12 significant digits, and a block holding
/// very different magnitudes (1e308 beside 0.3) loses the small ones, so tests use values exact in a few digits.
/// </remarks>
public sealed partial class VictoriaMetricsFixture : IDisposable
{
    public const string NotInstalled = "victoria-metrics is not installed: apt-get install victoria-metrics (test.sh does this)";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly StringBuilder _output = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };
    private Process? _process;
    private bool _disposed;

    public VictoriaMetricsFixture()
    {
        Executable = FindExecutable() ?? throw new InvalidOperationException(NotInstalled);
        DataPath = Path.Combine(Path.GetTempPath(), "twingw-vm-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(DataPath);
    }

    public string Executable { get; }

    /// <summary>The storage folder; kept across <see cref="StopAsync"/> and <see cref="StartAsync"/>, deleted on dispose.</summary>
    public string DataPath { get; }

    /// <summary>The loopback port; chosen at the first start and kept for restarts.</summary>
    public int Port { get; private set; }

    /// <summary>The base URL, for example <c>http://127.0.0.1:41234</c>.</summary>
    public string Url => $"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The server's process id while it runs (the benchmark reads its CPU time); 0 when stopped.</summary>
    public int Pid => _process is { HasExited: false } process ? process.Id : 0;

    /// <summary>A started server, for tests that need one of their own (one that they stop, for example).</summary>
    public static async Task<VictoriaMetricsFixture> StartNewAsync()
    {
        var fixture = new VictoriaMetricsFixture();
        try
        {
            await fixture.StartAsync();
            return fixture;
        }
        catch
        {
            fixture.Dispose();
            throw;
        }
    }

    /// <summary>Starts the server (again: same port, same data) and waits until <c>/health</c> answers.</summary>
    public async Task StartAsync()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (IsRunning)
        {
            return;
        }

        // A first start may lose a race for its free port to another process; a restart must keep its port.
        var attempts = Port == 0 ? 3 : 1;
        for (var attempt = 1; ; attempt++)
        {
            if (Port == 0 || attempt > 1)
            {
                Port = FreePort.Next();
            }

            try
            {
                await StartOnceAsync();
                return;
            }
            catch (InvalidOperationException) when (attempt < attempts)
            {
            }
        }
    }

    /// <summary>
    /// Stops the server and waits for it to exit. SIGTERM first, so samples it acknowledged are on disk before it goes
    /// (its own durability is not what the tests are about); SIGKILL if it does not exit within 30 s.
    /// </summary>
    public async Task StopAsync()
    {
        var process = _process;
        if (process is null || process.HasExited)
        {
            return;
        }

        using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false }))
        {
            if (kill is not null)
            {
                await kill.WaitForExitAsync();
            }
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
        _process = null;
    }

    /// <summary>Makes everything written so far visible to queries (<c>/internal/force_flush</c>).</summary>
    public async Task ForceFlushAsync(CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync(new Uri($"{Url}/internal/force_flush"), cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>
    /// The value of an instant query that returns one number (0 when it returns no series), evaluated at
    /// <paramref name="atUnixSeconds"/>.
    /// </summary>
    public async Task<double> QueryScalarAsync(string query, double atUnixSeconds, CancellationToken cancellationToken = default)
    {
        var uri = new Uri(string.Create(CultureInfo.InvariantCulture, $"{Url}/api/v1/query?query={Uri.EscapeDataString(query)}&time={atUnixSeconds:0.###}"));
        using var response = await _http.GetAsync(uri, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
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

    /// <summary>
    /// Every stored sample of the series matching <paramref name="matchSelector"/> (for example <c>{__name__=~"line1_.*"}</c>),
    /// flushed first; duplicates are returned as stored.
    /// </summary>
    public async Task<IReadOnlyList<ExportedSample>> ExportAsync(string matchSelector)
    {
        await ForceFlushAsync();

        // start=0 and an end far in the future: the tests' samples may be old or recent, and the default range is not all time.
        var query = $"match[]={Uri.EscapeDataString(matchSelector)}&start=0&end=4102444800";
        using var response = await _http.GetAsync(new Uri($"{Url}/api/v1/export?{query}"));
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"export from {Url} failed with {(int)response.StatusCode}: {body}");
        }

        var samples = new List<ExportedSample>();
        foreach (var line in body.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            var labels = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var label in root.GetProperty("metric").EnumerateObject())
            {
                labels[label.Name] = label.Value.GetString() ?? "";
            }

            var values = root.GetProperty("values");
            var timestamps = root.GetProperty("timestamps");
            if (values.GetArrayLength() != timestamps.GetArrayLength())
            {
                throw new InvalidOperationException($"export line with {values.GetArrayLength()} values and {timestamps.GetArrayLength()} timestamps: {line}");
            }

            for (var i = 0; i < values.GetArrayLength(); i++)
            {
                samples.Add(new ExportedSample(labels, timestamps[i].GetInt64(), values[i].GetDouble()));
            }
        }

        return samples;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_process is { } process)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(10_000);
                }
            }
            catch (InvalidOperationException)
            {
            }

            process.Dispose();
            _process = null;
        }

        _http.Dispose();
        try
        {
            Directory.Delete(DataPath, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>What the server printed, for failure messages.</summary>
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
        foreach (var folder in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Append("/usr/bin"))
        {
            var candidate = Path.Combine(folder, "victoria-metrics");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private async Task StartOnceAsync()
    {
        var start = new ProcessStartInfo(Executable)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add($"-httpListenAddr=127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}");
        start.ArgumentList.Add($"-storageDataPath={DataPath}");
        start.ArgumentList.Add("-retentionPeriod=100y");
        start.ArgumentList.Add("-search.disableCache");
        start.ArgumentList.Add("-loggerLevel=ERROR");

        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        if (!process.Start())
        {
            process.Dispose();
            throw new InvalidOperationException($"{Executable} did not start");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < StartTimeout)
        {
            if (process.HasExited)
            {
                await process.WaitForExitAsync();
                var code = process.ExitCode;
                process.Dispose();
                _process = null;
                throw new InvalidOperationException($"victoria-metrics exited with {code} while starting on {Url}: {Output}");
            }

            try
            {
                using var response = await _http.GetAsync(new Uri($"{Url}/health"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(50);
        }

        process.Kill(entireProcessTree: true);
        throw new TimeoutException($"victoria-metrics did not answer /health on {Url} within {StartTimeout}: {Output}");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}

/// <summary>One sample as VictoriaMetrics exported it.</summary>
/// <param name="Labels">The series' labels, <c>__name__</c> included.</param>
/// <param name="TimestampMs">Unix milliseconds.</param>
/// <param name="Value">The stored value.</param>
public sealed record ExportedSample(IReadOnlyDictionary<string, string> Labels, long TimestampMs, double Value)
{
    public string Name => Labels.TryGetValue("__name__", out var name) ? name : "";

    public string? Label(string name) => Labels.TryGetValue(name, out var value) ? value : null;
}
