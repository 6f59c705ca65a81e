using Microsoft.Extensions.Logging;
using TwinGateway.Telemetry.Forwarding;
using TwinGateway.Telemetry.Tests.Fixtures;

namespace TwinGateway.Telemetry.Tests.Forwarding;

/// <summary>
/// The forwarder against a real VictoriaMetrics (InfluxDB v2 write API) through InfluxDB.Client, read back through the
/// export API. Each test writes its own line (measurement), so they share one server.
/// </summary>
public sealed class ForwardingToVictoriaMetricsTests(VictoriaMetricsFixture server) : IClassFixture<VictoriaMetricsFixture>
{
    [Fact]
    public async Task Every_sample_arrives_exactly_once()
    {
        await using var scenario = new ForwardingScenario();
        await scenario.RecordAsync(2_000);
        var forwarder = scenario.StartForwarder(ForwardingScenario.Options(server.Url, batchSize: 1_000));

        var result = await forwarder.ForwardAsync(CancellationToken.None);

        Assert.Equal(ForwardOutcome.CaughtUp, result.Outcome);
        Assert.Equal(6_000, result.Points);
        Assert.Equal(6, result.Batches);
        var status = forwarder.Status;
        Assert.Equal(ForwarderState.CaughtUp, status.State);
        Assert.Equal(scenario.Recorder.LastSeq, status.HighWater);
        Assert.Equal(scenario.Recorder.LastSeq, scenario.Recorder.GetHighWater(InfluxForwarder.ConsumerName));
        Assert.Equal(0, status.Backlog);
        Assert.Equal(TimeSpan.Zero, status.Lag);
        Assert.Equal(6_000, status.PointsForwarded);
        Assert.Equal(6, status.Batches);
        Assert.NotNull(status.LastSuccessAt);
        Assert.Null(status.LastError);
        await scenario.AssertExactlyOnceAsync(server);
        scenario.Log.AssertNoErrors();
    }

    [Fact]
    public async Task Nothing_to_forward_is_caught_up_without_a_request()
    {
        await using var scenario = new ForwardingScenario();
        await using var proxy = new FaultProxy(server.Url);
        var forwarder = scenario.StartForwarder(ForwardingScenario.Options(proxy.Url));

        var result = await forwarder.ForwardAsync(CancellationToken.None);

        Assert.Equal(ForwardOutcome.CaughtUp, result.Outcome);
        Assert.Equal(0, result.Points);
        Assert.Equal(0, proxy.RequestCount);
    }

    [Fact]
    public async Task Status_shows_backlog_and_lag_before_forwarding()
    {
        await using var scenario = new ForwardingScenario();
        var forwarder = scenario.StartForwarder(ForwardingScenario.Options(server.Url));
        await scenario.RecordAsync(100);

        var status = forwarder.Status;

        Assert.Equal(ForwarderState.Idle, status.State);
        Assert.Equal(300, status.Backlog);

        // The oldest sample was recorded with a source time two hours back.
        Assert.InRange(status.Lag, TimeSpan.FromHours(1.9), TimeSpan.FromHours(3));
        forwarder.LogStatus();
        Assert.Contains(scenario.Log.Entries, e => e.Id.Id == 5206 && e.Message.Contains("backlog 300 samples", StringComparison.Ordinal));
    }

    [Fact]
    public async Task High_water_mark_survives_a_restart_of_the_recorder()
    {
        await using var scenario = new ForwardingScenario();
        var options = ForwardingScenario.Options(server.Url, batchSize: 250);
        await scenario.RecordAsync(200);
        scenario.StartForwarder(options);
        await scenario.ForwardUntilCaughtUpAsync();
        var mark = scenario.Recorder.LastSeq;

        await scenario.ReopenRecorderAsync();
        await scenario.RecordAsync(150);
        var forwarder = scenario.StartForwarder(options);
        Assert.Equal(mark, forwarder.Status.HighWater);
        Assert.Equal(450, forwarder.Status.Backlog);

        var result = await forwarder.ForwardAsync(CancellationToken.None);

        Assert.Equal(ForwardOutcome.CaughtUp, result.Outcome);
        Assert.Equal(450, result.Points);
        await scenario.AssertExactlyOnceAsync(server);
    }

    public static TheoryData<FaultMode, string, ForwarderState> Refusals => new()
    {
        { FaultMode.Unauthorized, "refused the token (401 Unauthorized): check Telemetry:Influx:Token", ForwarderState.Failing },
        { FaultMode.NotFound, "answered 404 Not Found: bucket 'telemetry' or organization 'plant' not found", ForwarderState.Failing },
        { FaultMode.BadRequest, "rejected the batch (400 Bad Request): unable to parse 'x y': invalid field format", ForwarderState.Failing },
        { FaultMode.ServerError, "server error (500 Internal Server Error); the server said: unexpected error writing points", ForwarderState.Backoff },
        { FaultMode.Unavailable, "server error (503 Service Unavailable)", ForwarderState.Backoff },
        { FaultMode.Hang, "gave no answer within 1 s", ForwarderState.Backoff },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Refusal_keeps_the_mark_says_why_and_loses_nothing(FaultMode fault, string message, ForwarderState state)
    {
        await using var scenario = new ForwardingScenario();
        await using var proxy = new FaultProxy(server.Url);
        var forwarder = scenario.StartForwarder(ForwardingScenario.Options(proxy.Url, batchSize: 200, requestTimeoutSeconds: 1));
        await scenario.RecordAsync(100);
        await scenario.ForwardUntilCaughtUpAsync();
        var mark = scenario.Recorder.LastSeq;
        await scenario.RecordAsync(100);

        proxy.Mode = fault;
        if (state == ForwarderState.Failing)
        {
            // A refusal that needs a setting fixed is an error (5201), with the setting to fix in the message.
            scenario.Log.Expect(5201);
        }

        var result = await forwarder.ForwardAsync(CancellationToken.None);

        Assert.Equal(ForwardOutcome.Failed, result.Outcome);
        Assert.Equal(mark, result.HighWater);
        Assert.Contains($"InfluxDB at {proxy.Url} ", result.Error, StringComparison.Ordinal);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
        Assert.Equal(mark, scenario.Recorder.GetHighWater(InfluxForwarder.ConsumerName));
        var status = forwarder.Status;
        Assert.Equal(state, status.State);
        Assert.Equal(mark, status.HighWater);
        Assert.Equal(300, status.Backlog);
        Assert.True(status.Lag > TimeSpan.Zero);
        Assert.Equal(result.Error, status.LastError);
        Assert.NotNull(status.NextAttemptAt);
        if (fault == FaultMode.Unavailable)
        {
            // Retry-After: 2 replaces the 50 ms backoff.
            Assert.Equal(TimeSpan.FromSeconds(FaultProxy.RetryAfterSeconds), status.NextAttemptAt - status.LastFailureAt);
        }

        var level = state == ForwarderState.Failing ? LogLevel.Error : LogLevel.Warning;
        Assert.Single(scenario.Log.Entries, e => e.Level == level && e.Message.Contains(message, StringComparison.Ordinal));

        proxy.Mode = FaultMode.PassThrough;
        await scenario.ForwardUntilCaughtUpAsync();

        Assert.Equal(ForwarderState.CaughtUp, forwarder.Status.State);
        Assert.Null(forwarder.Status.LastError);
        Assert.Contains(scenario.Log.Entries, e => e.Id.Id == 5204);
        Assert.Contains(scenario.Log.Entries, e => e.Id.Id == 5205 && e.Message.Contains("caught up 300 points", StringComparison.Ordinal));
        Assert.Equal("gzip", proxy.LastContentEncoding);
        await scenario.AssertExactlyOnceAsync(server);
    }

    [Fact]
    public async Task Calls_during_the_backoff_do_not_touch_the_server()
    {
        await using var scenario = new ForwardingScenario();
        await using var proxy = new FaultProxy(server.Url) { Mode = FaultMode.ServerError };
        var forwarder = scenario.StartForwarder(ForwardingScenario.Options(proxy.Url, initialBackoffMs: 600_000, maxBackoffSeconds: 600));
        await scenario.RecordAsync(10);

        var first = await forwarder.ForwardAsync(CancellationToken.None);
        var second = await forwarder.ForwardAsync(CancellationToken.None);

        Assert.Equal(ForwardOutcome.Failed, first.Outcome);
        Assert.Equal(ForwardOutcome.BackingOff, second.Outcome);
        Assert.Equal(first.Error, second.Error);
        Assert.Equal(1, proxy.RequestCount);
        Assert.Equal(0, proxy.ForwardedCount);
        Assert.Equal(TimeSpan.FromMinutes(10), forwarder.Status.NextAttemptAt - forwarder.Status.LastFailureAt);
    }

    [Fact]
    public async Task Backoff_doubles_up_to_the_maximum()
    {
        await using var scenario = new ForwardingScenario();
        await using var proxy = new FaultProxy(server.Url) { Mode = FaultMode.ServerError };
        var options = new InfluxForwarderOptions
        {
            Enabled = true,
            Url = proxy.Url,
            Token = "test-token",
            Organization = "plant",
            Bucket = "telemetry",
            InitialBackoff = TimeSpan.FromMilliseconds(20),
            MaxBackoff = TimeSpan.FromMilliseconds(100),
        };
        var forwarder = scenario.StartForwarder(options);
        await scenario.RecordAsync(10);

        var delays = new List<TimeSpan>();
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(60);
        while (delays.Count < 5 && TimeProvider.System.GetUtcNow() < deadline)
        {
            var result = await forwarder.ForwardAsync(CancellationToken.None);
            if (result.Outcome == ForwardOutcome.Failed)
            {
                var status = forwarder.Status;
                delays.Add(status.NextAttemptAt!.Value - status.LastFailureAt!.Value);
            }

            await Task.Delay(5);
        }

        Assert.Equal(new[] { 20.0, 40, 80, 100, 100 }, delays.Select(d => d.TotalMilliseconds));

        // Five failures of the same kind are one warning; the repeats go to Debug.
        Assert.Single(scenario.Log.Entries, e => e.Id.Id == 5202);
        Assert.Equal(4, scenario.Log.Entries.Count(e => e.Id.Id == 5203));
        Assert.Equal(0, proxy.ForwardedCount);
    }

    [Fact]
    public async Task Cancelling_a_hanging_write_throws_and_keeps_the_mark()
    {
        await using var scenario = new ForwardingScenario();
        await using var proxy = new FaultProxy(server.Url) { Mode = FaultMode.Hang };
        var forwarder = scenario.StartForwarder(ForwardingScenario.Options(proxy.Url, requestTimeoutSeconds: 60));
        await scenario.RecordAsync(10);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => forwarder.ForwardAsync(cancel.Token));

        Assert.Equal(0, scenario.Recorder.GetHighWater(InfluxForwarder.ConsumerName));
        Assert.Equal(ForwarderState.Idle, forwarder.Status.State);
        Assert.Null(forwarder.Status.NextAttemptAt);
        proxy.Mode = FaultMode.PassThrough;
        await scenario.ForwardUntilCaughtUpAsync();
        await scenario.AssertExactlyOnceAsync(server);
    }
}
