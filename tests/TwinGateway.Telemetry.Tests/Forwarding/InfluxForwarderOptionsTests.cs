using Microsoft.Extensions.Logging.Abstractions;
using TwinGateway.Telemetry.Forwarding;
using TwinGateway.Telemetry.Recording;

namespace TwinGateway.Telemetry.Tests.Forwarding;

public sealed class InfluxForwarderOptionsTests
{
    [Fact]
    public void Defaults_follow_the_issue()
    {
        var options = new InfluxForwarderOptions();

        Assert.False(options.Enabled);
        Assert.Equal(5_000, options.BatchSize);
        Assert.True(options.Gzip);
        Assert.Equal(TimeSpan.FromSeconds(10), options.RequestTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), options.InitialBackoff);
        Assert.Equal(TimeSpan.FromSeconds(60), options.MaxBackoff);
    }

    [Fact]
    public void Usable_settings_have_no_problems()
    {
        Assert.Empty(ForwardingScenario.Options("https://influx.plant.local:8086").Validate());
    }

    [Fact]
    public void Disabled_forwarder_needs_no_connection_settings()
    {
        Assert.Empty(new InfluxForwarderOptions { Enabled = false, BatchSize = 0 }.Validate());
    }

    [Fact]
    public void Every_problem_is_listed_at_once_with_its_key()
    {
        var options = new InfluxForwarderOptions
        {
            Enabled = true,
            Url = "influx:8086",
            BatchSize = 100_001,
            RequestTimeout = TimeSpan.Zero,
            InitialBackoff = TimeSpan.FromSeconds(5),
            MaxBackoff = TimeSpan.FromSeconds(1),
        };

        var problems = options.Validate();

        Assert.Collection(
            problems,
            p => Assert.StartsWith("Telemetry:Influx:Url: 'influx:8086' is not an absolute http", p, StringComparison.Ordinal),
            p => Assert.StartsWith("Telemetry:Influx:Token: required", p, StringComparison.Ordinal),
            p => Assert.StartsWith("Telemetry:Influx:Organization: required", p, StringComparison.Ordinal),
            p => Assert.StartsWith("Telemetry:Influx:Bucket: required", p, StringComparison.Ordinal),
            p => Assert.Equal("Telemetry:Influx:BatchSize: 100001 is outside 1..100000", p),
            p => Assert.StartsWith("Telemetry:Influx:RequestTimeout: 00:00:00 is outside", p, StringComparison.Ordinal),
            p => Assert.StartsWith("Telemetry:Influx:MaxBackoff: 00:00:01 is shorter than InitialBackoff", p, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Batch_size_below_one_is_refused(int batchSize)
    {
        var options = new InfluxForwarderOptions
        {
            Enabled = true,
            Url = "http://localhost:8086",
            Token = "t",
            Organization = "o",
            Bucket = "b",
            BatchSize = batchSize,
        };

        Assert.Equal([$"Telemetry:Influx:BatchSize: {batchSize} is outside 1..100000"], options.Validate());
    }

    [Fact]
    public void Forwarder_refuses_invalid_settings_naming_them()
    {
        using var folder = new TempFolder();
        using var recorder = TelemetryRecorder.Open(new RecorderOptions { DatabasePath = folder.File("r.duckdb") });
        var options = new InfluxForwarderOptions { Enabled = true, Url = "ftp://x" };

        var error = Assert.Throws<ArgumentException>(() => new InfluxForwarder(recorder, options, TimeProvider.System, NullLogger.Instance));

        Assert.Contains("Telemetry:Influx:Url: 'ftp://x'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Telemetry:Influx:Token", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disabled_forwarder_does_nothing()
    {
        using var folder = new TempFolder();
        await using var recorder = TelemetryRecorder.Open(new RecorderOptions { DatabasePath = folder.File("r.duckdb") });
        using var log = new TestLog();
        using var forwarder = new InfluxForwarder(recorder, new InfluxForwarderOptions(), TimeProvider.System, log);

        var result = await forwarder.ForwardAsync(CancellationToken.None);

        Assert.Equal(ForwardOutcome.Disabled, result.Outcome);
        Assert.Equal(ForwarderState.Idle, forwarder.Status.State);
    }
}
