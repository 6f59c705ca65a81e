using System.Globalization;
using TwinGateway.Telemetry.Forwarding;
using TwinGateway.Telemetry.Recording;
using TwinGateway.Telemetry.Tests.Fixtures;

namespace TwinGateway.Telemetry.Tests.Forwarding;

/// <summary>
/// One line's recorder, forwarder and expectations for the real-server tests: records samples of three series with
/// distinct millisecond timestamps, knows which points VictoriaMetrics must hold for them, and compares an export
/// with that set as a multiset (so a missing point and a duplicate both fail).
/// </summary>
internal sealed class ForwardingScenario : IAsyncDisposable
{
    /// <summary>A bad OPC UA status (BadSensorFailure) written on some samples, so the status field is exercised.</summary>
    private const uint BadStatus = 0x808B0000;

    private readonly TempFolder _folder = new();
    private readonly List<TelemetrySample> _recorded = [];
    private readonly long _startMs;
    private InfluxForwarder? _forwarder;

    public ForwardingScenario()
    {
        // Unique per test: VictoriaMetrics 1.79.5 ignores the bucket, so the measurement keeps tests apart.
        LineId = "line" + Guid.NewGuid().ToString("N")[..12];

        // Two hours back: inside any retention, and the lag of the oldest unforwarded sample is clearly positive.
        _startMs = TimeProvider.System.GetUtcNow().AddHours(-2).ToUnixTimeMilliseconds();
        Recorder = OpenRecorder();
    }

    public string LineId { get; }

    public string DatabasePath => _folder.File("recorder.duckdb");

    public TestLog Log { get; } = new();

    public TelemetryRecorder Recorder { get; private set; }

    public IReadOnlyList<TelemetrySample> Recorded => _recorded;

    public InfluxForwarder Forwarder => _forwarder ?? throw new InvalidOperationException("no forwarder yet");

    public static InfluxForwarderOptions Options(string url, int batchSize = 500, double requestTimeoutSeconds = 10, double initialBackoffMs = 50, double maxBackoffSeconds = 30) => new()
    {
        Enabled = true,
        Url = url,
        Token = "test-token",
        Organization = "plant",
        Bucket = "telemetry",
        BatchSize = batchSize,
        RequestTimeout = TimeSpan.FromSeconds(requestTimeoutSeconds),
        InitialBackoff = TimeSpan.FromMilliseconds(initialBackoffMs),
        MaxBackoff = TimeSpan.FromSeconds(maxBackoffSeconds),
    };

    public InfluxForwarder StartForwarder(InfluxForwarderOptions options)
    {
        _forwarder?.Dispose();
        _forwarder = new InfluxForwarder(Recorder, options, TimeProvider.System, Log);
        return _forwarder;
    }

    /// <summary>Records <paramref name="perSeries"/> more samples of each of the three series and waits for the commit.</summary>
    public async Task RecordAsync(int perSeries)
    {
        var press = Recorder.GetSeries(LineId, "press.force", "st10");
        var speed = Recorder.GetSeries(LineId, "conveyor speed", null);
        var torque = Recorder.GetSeries(LineId, "robot,torque", "st=20");
        for (var i = 0; i < perSeries; i++)
        {
            var k = _recorded.Count / 3;
            var ns = (_startMs + k) * 1_000_000 + 250_000;

            // Press: value and the twin's expected value.
            Add(new TelemetrySample(press, ns, ns + 1_000_000, 100_000 + (k * 0.25), 0, 100_000.5 + (k * 0.25)));

            // Speed: line-wide, every 50th sample Bad with its value kept.
            Add(new TelemetrySample(speed, ns, ns + 1_000_000, 200_000 + (k * 0.25), k % 50 == 0 ? BadStatus : 0, null));

            // Torque: no source time (the server time is the point's time), every 100th sample without a number.
            Add(new TelemetrySample(torque, 0, ns, k % 100 == 0 ? null : 300_000 + (k * 0.25), 0, null));
        }

        await Recorder.FlushAsync();
    }

    /// <summary>Calls ForwardAsync (as the host's job does, every few ms here) until everything recorded is acknowledged.</summary>
    public async Task<ForwardResult> ForwardUntilCaughtUpAsync(TimeSpan? timeout = null)
    {
        var deadline = TimeProvider.System.GetUtcNow() + (timeout ?? TimeSpan.FromSeconds(90));
        while (true)
        {
            var result = await Forwarder.ForwardAsync(CancellationToken.None);
            if (result.Outcome == ForwardOutcome.CaughtUp && result.HighWater == Recorder.LastSeq)
            {
                return result;
            }

            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                Assert.Fail($"not caught up: last result {result}, status {Forwarder.Status}\nlog:\n{Log}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Reopens the recorder on the same file, as a restart of the gateway does.</summary>
    public async Task ReopenRecorderAsync()
    {
        _forwarder?.Dispose();
        _forwarder = null;
        await Recorder.DisposeAsync();
        Recorder = OpenRecorder();
    }

    /// <summary>Fails unless the server holds every point of every recorded sample exactly once, and nothing else of this line.</summary>
    public async Task AssertExactlyOnceAsync(VictoriaMetricsFixture server)
    {
        var exported = await server.ExportAsync($"{{__name__=~\"{LineId}_.*\"}}");
        var expected = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var sample in _recorded)
        {
            foreach (var key in ExpectedPoints(sample))
            {
                expected[key] = expected.GetValueOrDefault(key) + 1;
            }
        }

        var actual = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var point in exported)
        {
            var key = Key(point.Name, point.Label("signal"), point.Label("station"), point.TimestampMs, point.Value);
            actual[key] = actual.GetValueOrDefault(key) + 1;
        }

        var missing = Difference(expected, actual);
        var extra = Difference(actual, expected);
        Assert.True(
            missing.Count == 0 && extra.Count == 0,
            $"{expected.Values.Sum()} points expected, {exported.Count} exported; {missing.Count} missing, {extra.Count} extra or duplicated\n"
            + $"missing: {string.Join("\n  ", missing.Take(5))}\nextra: {string.Join("\n  ", extra.Take(5))}");
    }

    public async ValueTask DisposeAsync()
    {
        _forwarder?.Dispose();
        await Recorder.DisposeAsync();
        _folder.Dispose();
        Log.Dispose();
    }

    private static IEnumerable<string> ExpectedPoints(TelemetrySample sample)
    {
        var series = sample.Series;
        var ms = (sample.SourceTime != 0 ? sample.SourceTime : sample.ServerTime) / 1_000_000;
        if (sample.Value is { } value)
        {
            yield return Key($"{series.LineId}_value", series.SignalId, series.StationId, ms, value);
        }

        if (sample.Expected is { } expected)
        {
            yield return Key($"{series.LineId}_expected", series.SignalId, series.StationId, ms, expected);
        }

        if (sample.Status != 0 || (sample.Value is null && sample.Expected is null))
        {
            yield return Key($"{series.LineId}_status", series.SignalId, series.StationId, ms, sample.Status);
        }
    }

    private static string Key(string name, string? signal, string? station, long ms, double value) =>
        string.Create(CultureInfo.InvariantCulture, $"{name} signal={signal} station={station ?? "-"} t={ms} v={value:R}");

    private static List<string> Difference(Dictionary<string, int> left, Dictionary<string, int> right)
    {
        var result = new List<string>();
        foreach (var (key, count) in left)
        {
            var surplus = count - right.GetValueOrDefault(key);
            if (surplus > 0)
            {
                result.Add($"{key} (x{surplus})");
            }
        }

        result.Sort(StringComparer.Ordinal);
        return result;
    }

    private TelemetryRecorder OpenRecorder() =>
        TelemetryRecorder.Open(new RecorderOptions { DatabasePath = DatabasePath, FlushIntervalMilliseconds = 20 });

    private void Add(in TelemetrySample sample)
    {
        Recorder.Append(sample);
        _recorded.Add(sample);
    }
}
