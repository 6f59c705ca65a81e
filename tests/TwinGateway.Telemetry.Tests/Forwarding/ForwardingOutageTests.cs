using Microsoft.Extensions.Logging;
using TwinGateway.Telemetry.Forwarding;
using TwinGateway.Telemetry.Tests.Fixtures;

namespace TwinGateway.Telemetry.Tests.Forwarding;

/// <summary>Store and forward across an outage of the server: a VictoriaMetrics of the test's own, stopped and restarted.</summary>
public sealed class ForwardingOutageTests
{
    [Fact]
    public async Task Forwarder_catches_up_after_an_outage_with_nothing_missing()
    {
        using var server = await VictoriaMetricsFixture.StartNewAsync();
        await using var scenario = new ForwardingScenario();
        var forwarder = scenario.StartForwarder(ForwardingScenario.Options(server.Url, batchSize: 400));
        await scenario.RecordAsync(300);
        await scenario.ForwardUntilCaughtUpAsync();
        var mark = scenario.Recorder.LastSeq;

        await server.StopAsync();
        await scenario.RecordAsync(300);
        var failed = await forwarder.ForwardAsync(CancellationToken.None);

        Assert.Equal(ForwardOutcome.Failed, failed.Outcome);
        Assert.StartsWith($"Cannot connect to InfluxDB at {server.Url} (", failed.Error, StringComparison.Ordinal);
        Assert.Contains("check that the server runs and Telemetry:Influx:Url", failed.Error, StringComparison.Ordinal);
        var status = forwarder.Status;
        Assert.Equal(ForwarderState.Backoff, status.State);
        Assert.Equal(mark, status.HighWater);
        Assert.Equal(900, status.Backlog);
        Assert.True(status.Lag > TimeSpan.Zero);
        Assert.NotNull(status.NextAttemptAt);
        Assert.NotNull(status.FailingSince);

        // Recording goes on while the server is down, and the forwarder keeps retrying without flooding the log.
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(60);
        while (forwarder.Status.Failures < 4 && TimeProvider.System.GetUtcNow() < deadline)
        {
            await scenario.RecordAsync(25);
            var result = await forwarder.ForwardAsync(CancellationToken.None);
            Assert.NotEqual(ForwardOutcome.CaughtUp, result.Outcome);
            await Task.Delay(20);
        }

        Assert.True(forwarder.Status.Failures >= 4, $"only {forwarder.Status.Failures} attempts failed");
        Assert.Equal(mark, scenario.Recorder.GetHighWater(InfluxForwarder.ConsumerName));
        Assert.Single(scenario.Log.Entries, e => e.Level >= LogLevel.Warning && e.Message.Contains("Cannot connect", StringComparison.Ordinal));
        forwarder.LogStatus();
        Assert.Contains(scenario.Log.Entries, e => e.Id.Id == 5207 && e.Message.Contains("Cannot connect", StringComparison.Ordinal));

        await server.StartAsync();
        var backlog = scenario.Recorder.LastSeq - mark;
        await scenario.ForwardUntilCaughtUpAsync();

        status = forwarder.Status;
        Assert.Equal(ForwarderState.CaughtUp, status.State);
        Assert.Equal(0, status.Backlog);
        Assert.Null(status.NextAttemptAt);
        Assert.Null(status.FailingSince);
        Assert.Contains(scenario.Log.Entries, e => e.Id.Id == 5204 && e.Message.Contains($"catching up {backlog} samples", StringComparison.Ordinal));
        Assert.Contains(scenario.Log.Entries, e => e.Id.Id == 5205 && e.Message.Contains($"caught up {backlog} points", StringComparison.Ordinal));
        await scenario.AssertExactlyOnceAsync(server);
    }
}
