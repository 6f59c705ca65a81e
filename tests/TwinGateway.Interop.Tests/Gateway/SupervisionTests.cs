using System.Collections.Concurrent;
using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using TwinGateway.Api.V1;
using TwinGateway.Core.Lines;
using TwinGateway.Core.Pipeline;
using TwinGateway.Core.Twins;
using TwinGateway.Simulation;
using TwinGateway.Telemetry.Recording;

namespace TwinGateway.Interop.Tests.Gateway;

/// <summary>
/// Supervision and health of a running gateway: a sink, the twin loop and a controller link are broken on purpose, and
/// each must be restarted, shown as failed with the reason, reflected in the health (gRPC and <c>/healthz</c>), and
/// recover; a sink that never drops gets every sample once, across its failure.
/// </summary>
public sealed class SupervisionTests : IAsyncLifetime
{
    private readonly GatewayUnderTest _gateway = new();
    private readonly HttpClient _http = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _gateway.DisposeAsync();
    }

    private static async Task<T> Eventually<T>(Func<Task<T>> probe, Func<T, bool> done, string what)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var last = await probe();
        while (!done(last))
        {
            await Task.Delay(100, cts.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            if (cts.IsCancellationRequested)
            {
                throw new TimeoutException($"gave up waiting for {what}; last seen: {last}");
            }

            last = await probe();
        }

        return last;
    }

    private Task<Line> LineAsync(CallInvoker channel) =>
        new LineService.LineServiceClient(channel).GetLineAsync(new GetLineRequest { LineId = "demo-line" }).ResponseAsync;

    private async Task<(HttpStatusCode Code, string Body)> HealthzAsync()
    {
        using var response = await _http.GetAsync(new Uri(_gateway.HealthUrl));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_sink_that_throws_is_restarted_degrades_the_health_and_loses_no_sample()
    {
        _gateway.Log.Expect(4301); // the broken sink, restarted
        var sink = new BreakableSinkFactory();
        var channel = await _gateway.StartAsync(_gateway.DemoYaml, configure: services => services.AddSingleton<ILineSinkFactory>(sink));
        await Eventually(() => LineAsync(channel), l => l.Health == "healthy" && l.Sinks.Single(s => s.Name == sink.Name).Written > 500, "samples reaching the sink");

        sink.Broken = true;
        var failed = await Eventually(() => LineAsync(channel), l => l.Sinks.Single(s => s.Name == sink.Name).Component.State == "failed", "the sink failing");
        var status = failed.Sinks.Single(s => s.Name == sink.Name);
        Assert.Contains("the test broke this sink", status.Component.Reason, StringComparison.Ordinal);
        Assert.Equal("degraded", failed.Health);
        Assert.Contains($"sink {sink.Name} failed", failed.HealthReason, StringComparison.Ordinal);
        var (code, body) = await Eventually(HealthzAsync, h => h.Body.Contains("Degraded", StringComparison.Ordinal), "/healthz degraded");
        Assert.Equal(HttpStatusCode.OK, code);
        Assert.Contains("the test broke this sink", body, StringComparison.Ordinal);
        await Eventually(() => LineAsync(channel), l => l.Sinks.Single(s => s.Name == sink.Name).Component.Restarts >= 2, "restarts with backoff");

        sink.Broken = false;
        var recovered = await Eventually(() => LineAsync(channel),
            l => l.Sinks.Single(s => s.Name == sink.Name) is { Component.State: "running", QueuedBatches: 0 } && l.Health == "healthy", "the sink recovering");
        var healthy = await Eventually(HealthzAsync, h => h.Body.StartsWith("{\"status\":\"Healthy\"", StringComparison.Ordinal), "/healthz healthy");
        Assert.Equal(HttpStatusCode.OK, healthy.Code);

        // Every sample the line produced reached the sink exactly once, in order per signal, across the failure: the
        // sink got as many as the flight recorder (which was never broken) committed.
        await _gateway.StopAsync();
        var final = sink.Counters;
        await using (var recorder = TelemetryRecorder.Open(new RecorderOptions { DatabasePath = Path.Combine(_gateway.DataFolder, "flight-recorder.duckdb") }))
        {
            Assert.Equal(recorder.CountRange("demo-line", 0, long.MaxValue), final.Written);
        }

        Assert.Equal(0, final.Duplicates);
        Assert.Equal(0, final.OutOfOrder);
        var recoveredStatus = recovered.Sinks.Single(s => s.Name == sink.Name);
        Assert.Equal(0, recoveredStatus.Dropped);
        Assert.True(recoveredStatus.Component.Restarts >= 2);
    }

    [Fact]
    public async Task A_twin_loop_that_throws_makes_the_gateway_unhealthy_until_it_is_restarted()
    {
        // The broken twin loop (4301) and the health check that reports it Unhealthy.
        _gateway.Log.Expect(4301).Expect("^Health check lines with status Unhealthy");
        var twins = new BreakableTwinFactory();
        var channel = await _gateway.StartAsync(_gateway.DemoYaml, configure: services => services.AddSingleton<ITwinFactory>(twins));
        await Eventually(() => LineAsync(channel), l => l.Health == "healthy" && l.TwinLoop.State == "running", "the twin running");

        twins.Broken = true;
        var failed = await Eventually(() => LineAsync(channel), l => l.TwinLoop.State == "failed", "the twin loop failing");
        Assert.Contains("the test broke the twin", failed.TwinLoop.Reason, StringComparison.Ordinal);
        Assert.Equal("unhealthy", failed.Health);
        var (code, body) = await Eventually(HealthzAsync, h => h.Code == HttpStatusCode.ServiceUnavailable, "/healthz unhealthy");
        Assert.Contains("twin loop failed", body, StringComparison.Ordinal);
        var grpcHealth = await new Grpc.Health.V1.Health.HealthClient(channel).CheckAsync(new Grpc.Health.V1.HealthCheckRequest());
        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.NotServing, grpcHealth.Status);

        twins.Broken = false;
        var recovered = await Eventually(() => LineAsync(channel), l => l.TwinLoop.State == "running" && l.Health == "healthy", "the twin loop restarting");
        Assert.True(recovered.TwinLoop.Restarts >= 1);
        Assert.True(twins.Created >= 2, "a restart starts a fresh twin");
        Assert.Equal(HttpStatusCode.OK, (await Eventually(HealthzAsync, h => h.Code == HttpStatusCode.OK, "/healthz ok")).Code);
    }

    [Fact]
    public async Task A_controller_that_goes_away_degrades_the_health_with_its_reason_and_recovers()
    {
        var plcLine = LineDefinitionLoader.Parse(_gateway.DemoYaml, "plc.yaml").GetDefinitionOrThrow();
        var plc = new global::TwinGateway.PlcSim.SimulatedPlc(plcLine, new global::TwinGateway.PlcSim.SimulatedPlcOptions { Seed = 7, Port = _gateway.PlcPort });
        await plc.StartAsync();
        var channel = await _gateway.StartAsync(_gateway.DemoYaml, simulate: false);
        await Eventually(() => LineAsync(channel), l => l.Health == "healthy", "connected and healthy");

        await plc.DisposeAsync();
        var down = await Eventually(() => LineAsync(channel), l => l.Health == "degraded", "the health noticing the controller is gone");
        Assert.Contains("controller plc1", down.HealthReason, StringComparison.Ordinal);
        var (code, body) = await HealthzAsync();
        Assert.Equal(HttpStatusCode.OK, code);
        Assert.Contains("controller plc1", body, StringComparison.Ordinal);
        // While it is away its values are not presented as current.
        var stale = await new LineService.LineServiceClient(channel).ReadSignalsAsync(new ReadSignalsRequest { LineId = "demo-line" });
        Assert.All(stale.Values, v => Assert.Equal("BadNotConnected", v.Status));

        await using var again = new global::TwinGateway.PlcSim.SimulatedPlc(plcLine, new global::TwinGateway.PlcSim.SimulatedPlcOptions { Seed = 7, Port = _gateway.PlcPort });
        await again.StartAsync();
        await Eventually(() => LineAsync(channel), l => l.Health == "healthy", "healthy again after the controller came back");
        Assert.Contains("\"status\":\"Healthy\"", (await HealthzAsync()).Body, StringComparison.Ordinal);
        await Eventually(() => new LineService.LineServiceClient(channel).ReadSignalsAsync(new ReadSignalsRequest { LineId = "demo-line", SignalIds = { "line.ambientTemperature" } }).ResponseAsync,
            r => r.Values[0].Status == "Good", "fresh values after the reconnect");

        // The recorder holds the gap: one BadNotConnected sample per signal where the controller was last heard from.
        await _gateway.StopAsync();
        await using var recorder = TelemetryRecorder.Open(new RecorderOptions { DatabasePath = Path.Combine(_gateway.DataFolder, "flight-recorder.duckdb") });
        var marks = recorder.ReadRange("demo-line", 0, long.MaxValue).Where(r => r.Sample.Status == 0x808A0000u).ToList();
        Assert.Equal(plcLine.Signals.Length, marks.Count);
        Assert.All(marks, m => Assert.Null(m.Sample.Value));
    }

    /// <summary>A sink that records what it gets and throws while <see cref="Broken"/> is set (as a full disk or a lost database would).</summary>
    private sealed class BreakableSinkFactory : ILineSinkFactory
    {
        private readonly ConcurrentDictionary<int, DateTime> _lastTime = new();
        private readonly HashSet<(int, DateTime)> _seen = [];
        private readonly Lock _sync = new();
        private long _written;
        private long _duplicates;
        private long _outOfOrder;

        public volatile bool Broken;

        public string Name => "test-breakable";

        public SinkOverflow Overflow => SinkOverflow.Wait;

        public bool Critical => false;

        public (long Written, long Duplicates, long OutOfOrder) Counters
        {
            get
            {
                lock (_sync)
                {
                    return (_written, _duplicates, _outOfOrder);
                }
            }
        }

        public ILineSink Create(LineDefinition line) => new Sink(this);

        private sealed class Sink(BreakableSinkFactory owner) : ILineSink
        {
            public void Write(in LineSample sample)
            {
                if (owner.Broken)
                {
                    throw new IOException("the test broke this sink");
                }

                lock (owner._sync)
                {
                    owner._written++;
                    if (!owner._seen.Add((sample.SignalIndex, sample.ServerTime)))
                    {
                        owner._duplicates++;
                    }

                    if (owner._lastTime.TryGetValue(sample.SignalIndex, out var last) && sample.ServerTime < last)
                    {
                        owner._outOfOrder++;
                    }

                    owner._lastTime[sample.SignalIndex] = sample.ServerTime;
                }
            }
        }
    }

    /// <summary>The real twin engine, whose steps throw while <see cref="Broken"/> is set.</summary>
    private sealed class BreakableTwinFactory : ITwinFactory
    {
        private readonly LineTwinFactory _engine = new();
        private int _created;

        public volatile bool Broken;

        public int Created => Volatile.Read(ref _created);

        public ILineTwin CreateShadow(LineDefinition line, TwinSettings settings)
        {
            Interlocked.Increment(ref _created);
            return new Twin(this, _engine.CreateShadow(line, settings));
        }

        public ILineTwin Restore(LineDefinition line, ReadOnlySpan<byte> state) => new Twin(this, _engine.Restore(line, state));

        private sealed class Twin(BreakableTwinFactory owner, ILineTwin inner) : ILineTwin
        {
            public LineDefinition Line => inner.Line;

            public DateTime SimTime => inner.SimTime;

            public long Steps => inner.Steps;

            public ulong Seed => inner.Seed;

            public void Step()
            {
                if (owner.Broken)
                {
                    throw new InvalidOperationException("the test broke the twin");
                }

                inner.Step();
            }

            public void SetInput(string signalId, double value) => inner.SetInput(signalId, value);

            public double GetValue(int index) => inner.GetValue(index);

            public long PartsProduced => inner.PartsProduced;

            public long InterlockViolations => inner.InterlockViolations;

            public long AxisLimitViolations => inner.AxisLimitViolations;

            public StationState GetStationState(int stationIndex) => inner.GetStationState(stationIndex);

            public void FollowDowntime(int stationIndex, bool down) => inner.FollowDowntime(stationIndex, down);

            public int GetStationLevel(int stationIndex) => inner.GetStationLevel(stationIndex);

            public long GetStationProduced(int stationIndex) => inner.GetStationProduced(stationIndex);

            public double GetLastCycleTime(int stationIndex) => inner.GetLastCycleTime(stationIndex);

            public ILineTwin ForkWhatIf(LineDefinition? changedLine, ulong seed) => inner.ForkWhatIf(changedLine, seed);

            public ILineTwin ForkShadow(LineDefinition? changedLine) => new Twin(owner, inner.ForkShadow(changedLine));

            public byte[] SaveState() => inner.SaveState();

            public TimeSpan StepLength => inner.StepLength;

            public ILineTwin WithStep(TimeSpan step) => inner.WithStep(step);
        }
    }
}
