using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TwinGateway.Host.Telemetry;
using TwinGateway.Telemetry;
using TwinGateway.Telemetry.Forwarding;
using TwinGateway.Telemetry.Recording;

namespace TwinGateway.Interop.Tests.Gateway;

/// <summary>The retention job the gateway's Quartz scheduler runs, on a real recorder.</summary>
public sealed class RetentionJobTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
    private readonly string _folder = Directory.CreateTempSubdirectory("twingw-retention-").FullName;

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static async Task<TelemetryRecorder> RecordAsync(string path)
    {
        var recorder = TelemetryRecorder.Open(new RecorderOptions { DatabasePath = path, FlushIntervalMilliseconds = 10 });
        var series = recorder.GetSeries("line1", "s.a", "s");
        // One sample a day for 60 days back, an hour before the day mark: 31 are older than the 30-day retention.
        for (var day = 60; day >= 1; day--)
        {
            var time = TelemetryTime.ToUnixNanoseconds(Now.AddDays(-day).AddHours(-1));
            recorder.Append(new TelemetrySample(series, time, time, day, 0, null));
        }

        await recorder.FlushAsync();
        return recorder;
    }

    private static RecorderRetentionJob Job(TelemetryRecorder recorder, InfluxForwarder? forwarder)
    {
        return new RecorderRetentionJob(recorder, new InfluxForwarding(forwarder), Options.Create(new TelemetryOptions { RetentionDays = 30 }), new FixedTime(Now), NullLogger<RecorderRetentionJob>.Instance);
    }

    [Fact]
    public async Task Without_forwarding_samples_older_than_the_retention_are_deleted()
    {
        await using var recorder = await RecordAsync(Path.Combine(_folder, "a.duckdb"));
        await Job(recorder, null).Execute(null!, CancellationToken.None);
        var left = recorder.ReadRange("line1", 0, long.MaxValue).ToList();
        Assert.Equal(29, left.Count);
        Assert.All(left, s => Assert.True(TelemetryTime.FromUnixNanoseconds(s.SourceTime) >= Now.AddDays(-30).UtcDateTime));
    }

    [Fact]
    public async Task With_forwarding_samples_influx_has_not_acknowledged_are_kept_however_old()
    {
        await using var recorder = await RecordAsync(Path.Combine(_folder, "b.duckdb"));
        // InfluxDB acknowledged the 10 oldest only (the forwarder's mark, as it stores it).
        recorder.SetHighWater(InfluxForwarder.ConsumerName, 10);
        using var forwarder = new InfluxForwarder(recorder, new InfluxForwarderOptions
        {
            Enabled = true,
            Url = "http://127.0.0.1:9",
            Token = "t",
            Organization = "o",
            Bucket = "b",
        }, TimeProvider.System, NullLogger.Instance);
        await Job(recorder, forwarder).Execute(null!, CancellationToken.None);
        var left = recorder.ReadRange("line1", 0, long.MaxValue).ToList();
        Assert.Equal(50, left.Count);
        Assert.Equal(11, left[0].Seq);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
