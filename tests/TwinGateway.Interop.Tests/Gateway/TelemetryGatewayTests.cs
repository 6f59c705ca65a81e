using System.Text.Json;
using DuckDB.NET.Data;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using TwinGateway.Api.V1;
using TwinGateway.Gateway;
using TwinGateway.Host.Gateway;
using TwinGateway.Interop.Tests.Cli;
using TwinGateway.Interop.Tests.Fixtures;

namespace TwinGateway.Interop.Tests.Gateway;

/// <summary>
/// Telemetry through the whole gateway: the demo line's simulated PLC, the flight recorder, the gRPC TelemetryService
/// and ReplayService, and the twingw commands that use them, as a real process.
/// </summary>
public sealed class TelemetryGatewayTests : IAsyncLifetime
{
    private readonly GatewayUnderTest _gateway = new();

    private string Server => _gateway.Server;

    private async Task<TelemetryService.TelemetryServiceClient> StartAsync(IDictionary<string, string?>? settings = null) =>
        new(await _gateway.StartAsync(_gateway.DemoYaml, settings: settings));

    /// <summary>Waits until the recorder holds samples of the demo line spanning at least <paramref name="seconds"/>.</summary>
    private static async Task<(Timestamp From, Timestamp To)> RecordedWindowAsync(TelemetryService.TelemetryServiceClient client, double seconds)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var start = DateTimeOffset.UtcNow;
        while (true)
        {
            var status = await client.GetTelemetryStatusAsync(new GetTelemetryStatusRequest());
            if (status.Recorder.LastSeq > 0 && DateTimeOffset.UtcNow - start > TimeSpan.FromSeconds(seconds))
            {
                // A window that closed a moment ago: its samples are committed and no longer change.
                return (Timestamp.FromDateTimeOffset(start.AddSeconds(-5)), Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddSeconds(-0.5)));
            }

            await Task.Delay(200, cts.Token);
        }
    }

    /// <summary>
    /// Waits for a commit that began at least 0.5 s after the window's end: by then every sample whose source time lies in
    /// the window has been received, so the window no longer changes (the condition, not a fixed sleep, decides).
    /// </summary>
    private static async Task CommittedAfterAsync(TelemetryService.TelemetryServiceClient client, Timestamp to)
    {
        var after = to.ToDateTimeOffset().AddSeconds(0.5);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while ((await client.GetTelemetryStatusAsync(new GetTelemetryStatusRequest(), cancellationToken: cts.Token)).Recorder.LastCommit is not { } commit ||
            commit.ToDateTimeOffset() <= after)
        {
            await Task.Delay(50, cts.Token);
        }
    }

    private static async Task<List<Sample>> QueryAllAsync(TelemetryService.TelemetryServiceClient client, QueryRangeRequest request)
    {
        var samples = new List<Sample>();
        using var call = client.QueryRange(request);
        await foreach (var page in call.ResponseStream.ReadAllAsync())
        {
            samples.AddRange(page.Samples);
        }

        return samples;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task Every_received_sample_is_recorded_with_the_twins_expected_value_and_can_be_queried_raw_and_aggregated()
    {
        var client = await StartAsync();
        var (from, to) = await RecordedWindowAsync(client, 3);
        await CommittedAfterAsync(client, to);

        var samples = await QueryAllAsync(client, new QueryRangeRequest { LineId = "demo-line", From = from, To = to });
        Assert.NotEmpty(samples);
        Assert.All(samples, s => Assert.Equal("demo-line", s.LineId));
        Assert.True(samples.Zip(samples.Skip(1)).All(p => p.First.SourceTime.ToDateTime() <= p.Second.SourceTime.ToDateTime()), "samples are in source-time order");
        Assert.Equal(samples.Count, samples.Select(s => s.Seq).Distinct().Count());
        // The demo line's spindle speed is a modelled output: the twin's value is kept beside the real one.
        var spindle = samples.Where(s => s.SignalId == "cnc1.spindleSpeed").ToList();
        Assert.NotEmpty(spindle);
        Assert.Contains(spindle, s => s.HasValue && s.HasExpected);
        Assert.All(samples.Where(s => s.Status == 0), s => Assert.Equal("Good", s.StatusName));

        var limited = await QueryAllAsync(client, new QueryRangeRequest { LineId = "demo-line", From = from, To = to, MaxSamples = 10 });
        Assert.Equal(samples.Take(10).Select(s => s.Seq), limited.Select(s => s.Seq));

        using var aggregateCall = client.QueryRange(new QueryRangeRequest { LineId = "demo-line", From = from, To = to, SignalIds = { "cnc1.spindleSpeed" }, Bucket = Duration.FromTimeSpan(TimeSpan.FromSeconds(1)) });
        var aggregates = new List<Aggregate>();
        await foreach (var page in aggregateCall.ResponseStream.ReadAllAsync())
        {
            aggregates.AddRange(page.Aggregates);
        }

        Assert.Equal(spindle.Count, aggregates.Sum(a => a.Samples));
        Assert.All(aggregates, a => Assert.Equal("cnc1.spindleSpeed", a.SignalId));
        Assert.Equal(spindle.Where(s => s.HasValue).Max(s => s.Value), aggregates.Where(a => a.HasMax).Max(a => a.Max));
    }

    [Fact]
    public async Task Live_samples_stream_as_they_are_recorded_and_an_empty_range_names_what_is_recorded()
    {
        var client = await StartAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var stream = client.StreamSamples(new StreamSamplesRequest { LineId = "demo-line", SignalIds = { "line.ambientTemperature", "cnc1.spindleSpeed" } }, cancellationToken: cts.Token);
        var live = new List<Sample>();
        await foreach (var sample in stream.ResponseStream.ReadAllAsync(cts.Token))
        {
            live.Add(sample);
            if (live.Count == 5)
            {
                break;
            }
        }

        Assert.All(live, s => Assert.Contains(s.SignalId, new[] { "line.ambientTemperature", "cnc1.spindleSpeed" }));
        Assert.True(live.Zip(live.Skip(1)).All(p => p.First.Seq < p.Second.Seq));

        var past = Timestamp.FromDateTimeOffset(new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var error = await Assert.ThrowsAsync<RpcException>(() => QueryAllAsync(client, new QueryRangeRequest { LineId = "demo-line", From = past, To = Timestamp.FromDateTimeOffset(new DateTimeOffset(2020, 1, 2, 0, 0, 0, TimeSpan.Zero)) }));
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Contains("no samples of line 'demo-line' from 2020-01-01T00:00:00.000Z", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("the flight recorder holds", error.Status.Detail, StringComparison.Ordinal);

        var unknown = await Assert.ThrowsAsync<RpcException>(() => QueryAllAsync(client, new QueryRangeRequest { LineId = "nope", From = past, To = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow) }));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("no line 'nope'", unknown.Status.Detail, StringComparison.Ordinal);

        var backwards = await Assert.ThrowsAsync<RpcException>(() => QueryAllAsync(client, new QueryRangeRequest { LineId = "demo-line", From = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow), To = past }));
        Assert.Equal(StatusCode.InvalidArgument, backwards.StatusCode);
    }

    [Fact]
    public async Task The_cli_exports_parquet_and_csv_and_replays_with_a_report()
    {
        var client = await StartAsync();
        var (from, to) = await RecordedWindowAsync(client, 4);
        await CommittedAfterAsync(client, to);
        var expected = (await QueryAllAsync(client, new QueryRangeRequest { LineId = "demo-line", From = from, To = to })).Count;
        var range = new[] { "--line", "demo-line", "--from", from.ToDateTime().ToString("O"), "--to", to.ToDateTime().ToString("O"), "--server", Server };

        foreach (var file in new[] { "export.parquet", "export.csv" })
        {
            var path = Path.Combine(_gateway.Folder, file);
            var export = await TwingwProcess.RunAsAsync(_gateway.Token, TimeSpan.FromSeconds(120), ["telemetry", "export", .. range, "--out", path]);
            Assert.True(export.ExitCode == 0, export.ToString());
            Assert.Contains($"wrote {expected} samples", export.StdErr, StringComparison.Ordinal);
            using var connection = new DuckDBConnection("Data Source=:memory:");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT count(*), count(DISTINCT seq), min(line) FROM '{path}'";
            using var reader = command.ExecuteReader();
            reader.Read();
            Assert.Equal(expected, reader.GetInt64(0));
            Assert.Equal(expected, reader.GetInt64(1));
            Assert.Equal("demo-line", reader.GetString(2));
        }

        var badExtension = await TwingwProcess.RunAsAsync(_gateway.Token, TimeSpan.FromSeconds(60), ["telemetry", "export", .. range, "--out", Path.Combine(_gateway.Folder, "x.xlsx")]);
        Assert.Equal(2, badExtension.ExitCode);
        Assert.Contains("use .parquet or .csv", badExtension.StdErr, StringComparison.Ordinal);

        var empty = await TwingwProcess.RunAsAsync(_gateway.Token, TimeSpan.FromSeconds(60), "telemetry", "export", "--line", "demo-line", "--from", "2020-01-01T00:00:00Z", "--to", "2020-01-02T00:00:00Z", "--out", Path.Combine(_gateway.Folder, "empty.csv"), "--server", Server);
        Assert.Equal(1, empty.ExitCode);
        Assert.Contains("no samples of line 'demo-line'", empty.StdErr, StringComparison.Ordinal);

        var report = Path.Combine(_gateway.Folder, "replay.json");
        var series = Path.Combine(_gateway.Folder, "replay-series.parquet");
        var replay = await TwingwProcess.RunAsAsync(_gateway.Token, TimeSpan.FromSeconds(120), ["replay", .. range, "--max", "--report", report, "--series", series]);
        Assert.True(replay.ExitCode == 0, replay.ToString());
        Assert.Contains("100%", replay.StdErr, StringComparison.Ordinal);
        Assert.Contains("ETA", replay.StdErr, StringComparison.Ordinal);
        Assert.Contains($"demo-line: {expected} samples", replay.StdOut, StringComparison.Ordinal);
        Assert.Contains("cnc1.spindleSpeed", replay.StdOut, StringComparison.Ordinal);
        using (var json = JsonDocument.Parse(await File.ReadAllTextAsync(report)))
        {
            Assert.Equal("demo-line", json.RootElement.GetProperty("lineId").GetString());
            Assert.Equal(expected, json.RootElement.GetProperty("samplesRead").GetInt64());
            Assert.True(json.RootElement.GetProperty("signals").GetArrayLength() > 10);
        }

        Assert.True(new FileInfo(series).Length > 0);

        var paced = await TwingwProcess.RunAsAsync(_gateway.Token, TimeSpan.FromSeconds(120), ["replay", .. range, "--speed", "4", "--report", Path.Combine(_gateway.Folder, "paced.json")]);
        Assert.True(paced.ExitCode == 0, paced.ToString());
        using (var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_gateway.Folder, "paced.json"))))
        {
            Assert.Equal(4, json.RootElement.GetProperty("speed").GetDouble());
            // At 4x real time a window of several seconds takes about a quarter of it; paced waits prove the pacing ran.
            Assert.True(json.RootElement.GetProperty("pacingWaits").GetInt64() > 0);
        }

        var unknownLine = await TwingwProcess.RunAsAsync(_gateway.Token, TimeSpan.FromSeconds(60), "replay", "--line", "nope", "--from", "-1h", "--server", Server);
        Assert.Equal(1, unknownLine.ExitCode);
        Assert.Contains("no line 'nope'", unknownLine.StdErr, StringComparison.Ordinal);

        var status = await TwingwProcess.RunAsAsync(_gateway.Token, TimeSpan.FromSeconds(60), "telemetry", "status", "--server", Server);
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains("healthy", status.StdOut, StringComparison.Ordinal);
        Assert.Contains("forwarding is off", status.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_forwarding_on_the_gateway_forwards_every_recorded_sample_and_shows_backlog_and_lag()
    {
        using var victoria = await VictoriaMetricsFixture.StartNewAsync();
        var client = await StartAsync(new Dictionary<string, string?>
        {
            ["Telemetry:Influx:Enabled"] = "true",
            ["Telemetry:Influx:Url"] = victoria.Url,
            ["Telemetry:Influx:Token"] = "test-token",
            ["Telemetry:Influx:Organization"] = "plant",
            ["Telemetry:Influx:Bucket"] = "twin",
            ["Telemetry:Influx:InitialBackoff"] = "00:00:00.100",
            ["Telemetry:Influx:MaxBackoff"] = "00:00:00.500",
            ["Telemetry:ForwardIntervalSeconds"] = "0.2",
        });
        await RecordedWindowAsync(client, 2);

        // An outage: the gateway goes on recording, the forwarder shows its backlog and the reason.
        await victoria.StopAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        TelemetryStatus status;
        do
        {
            await Task.Delay(200, cts.Token);
            status = await client.GetTelemetryStatusAsync(new GetTelemetryStatusRequest());
        }
        while (status.Forwarder.Backlog < 1000 || status.Forwarder.LastError.Length == 0);

        Assert.True(status.Forwarder.Enabled);
        Assert.Contains(victoria.Url, status.Forwarder.LastError, StringComparison.Ordinal);
        Assert.True(status.Forwarder.Lag.ToTimeSpan() > TimeSpan.Zero);
        var cli = await TwingwProcess.RunAsAsync(_gateway.Token, TimeSpan.FromSeconds(60), "telemetry", "status", "--server", Server);
        Assert.Equal(1, cli.ExitCode);
        Assert.Contains("backlog", cli.StdOut, StringComparison.Ordinal);

        await victoria.StartAsync();
        do
        {
            await Task.Delay(200, cts.Token);
            status = await client.GetTelemetryStatusAsync(new GetTelemetryStatusRequest());
        }
        while (status.Forwarder.State != "caught-up" || status.Forwarder.Backlog > 2000);

        // Everything up to the high-water mark is in VictoriaMetrics: compare with the recorder's own range. Recording
        // goes on meanwhile, so both sides are cut at the first sample the mark does not cover yet.
        var highWater = status.Forwarder.HighWater;
        var recorded = await QueryAllAsync(client, new QueryRangeRequest
        {
            LineId = "demo-line",
            From = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(-1)),
            To = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddMinutes(1)),
            SignalIds = { "cnc1.spindleSpeed", "line.ambientTemperature" },
        });
        static long Ms(Sample s) => s.SourceTime.ToDateTimeOffset().ToUnixTimeMilliseconds();
        var cutoff = recorded.Where(s => s.Seq > highWater).Select(Ms).DefaultIfEmpty(long.MaxValue).Min();
        await victoria.ForceFlushAsync();
        var exported = await victoria.ExportAsync("{__name__=\"demo-line_value\",signal=~\"cnc1.spindleSpeed|line.ambientTemperature\"}");
        var expected = recorded.Where(s => s.HasValue && Ms(s) < cutoff).Select(s => (s.SignalId, Ms(s))).OrderBy(x => x).ToList();
        // A batch written just as the server stopped may be written again: the same series and timestamp, the one
        // duplicate the forwarder may produce, which InfluxDB overwrites. VictoriaMetrics keeps both, so compare sets.
        var actual = exported.Where(e => e.TimestampMs < cutoff).Select(e => (e.Label("signal")!, e.TimestampMs)).Distinct().OrderBy(x => x).ToList();
        Assert.True(expected.Count > 20, $"only {expected.Count} samples to compare");
        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task Bad_telemetry_settings_stop_the_start_with_every_problem_listed()
    {
        var error = await Assert.ThrowsAsync<GatewayConfigurationException>(() => StartAsync(new Dictionary<string, string?>
        {
            ["Telemetry:RetentionDays"] = "-1",
            ["Telemetry:Influx:Enabled"] = "true",
            ["Telemetry:Influx:Url"] = "influx.plant.local:8086",
            ["Telemetry:Influx:BatchSize"] = "0",
        }));
        var all = string.Join("\n", error.Problems);
        Assert.Contains("Telemetry:RetentionDays is -1", all, StringComparison.Ordinal);
        Assert.Contains("Telemetry:Influx:Url", all, StringComparison.Ordinal);
        Assert.Contains("Telemetry:Influx:Token", all, StringComparison.Ordinal);
        Assert.Contains("Telemetry:Influx:BatchSize", all, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_corrupt_recorder_file_does_not_stop_the_gateway_it_is_moved_aside()
    {
        _gateway.Log.Expect(5002); // the corrupt file, moved aside
        var data = _gateway.DataFolder;
        Directory.CreateDirectory(data);
        await File.WriteAllTextAsync(Path.Combine(data, "flight-recorder.duckdb"), "this is not a DuckDB file, it was damaged by a power cut");
        var client = await StartAsync();
        await RecordedWindowAsync(client, 1);
        var status = await client.GetTelemetryStatusAsync(new GetTelemetryStatusRequest());
        Assert.True(status.Recorder.Healthy);
        var aside = Assert.Single(Directory.GetFiles(data, "flight-recorder.duckdb.corrupt-*"));
        Assert.StartsWith("this is not a DuckDB file", await File.ReadAllTextAsync(aside), StringComparison.Ordinal);
    }
}
