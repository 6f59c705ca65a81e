using Microsoft.Extensions.Time.Testing;
using TwinGateway.Core.Lines;
using TwinGateway.Core.Pipeline;
using TwinGateway.Gateway.Pipeline;
using TwinGateway.Gateway.Supervision;

namespace TwinGateway.Gateway.Tests;

/// <summary>
/// A sink's runner: a sink that never drops gets every sample once and in order across a failure (it is created again
/// and given the sample it failed on); a dropping sink's queue drops the oldest batches and counts every sample.
/// </summary>
public sealed class SinkRunnerTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);
    private static readonly RestartPolicy s_fast = new(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.FromMinutes(1));

    private static readonly LineDefinition s_line = LineDefinitionLoader.Parse("""
        id: mini
        name: Mini line
        controllers:
          - id: plc1
            endpointUrl: opc.tcp://localhost:4840
        stations:
          - id: st1
            kind: machine
            cycleTime: 10
        signals:
          - id: st1.speed
            dataType: Double
            direction: controllerOutput
            nodeId: ns=2;s=Mini.st1.speed
        """, "mini.yaml").GetDefinitionOrThrow();

    private readonly FakeTimeProvider _time = new();

    private static LineSample[] Batch(int first, int count) =>
        [.. Enumerable.Range(first, count).Select(i => new LineSample(0, DateTime.UnixEpoch.AddSeconds(i), DateTime.UnixEpoch.AddSeconds(i), i, 0, null))];

    [Fact]
    public async Task A_waiting_sink_that_throws_gets_every_sample_once_in_order_and_is_created_again()
    {
        var factory = new RecordingSinkFactory(SinkOverflow.Wait, capacity: 4) { FailAt = [7, 23] };
        var runner = new SinkRunner(factory, s_line, _time, new TestLogger());
        using var stop = new CancellationTokenSource();
        var running = Supervisor.RunAsync(runner.Health, runner.RunOnceAsync, s_fast, _time, stop.Token, () => runner.Drained);

        for (var b = 0; b < 10; b++)
        {
            await runner.EnqueueAsync(Batch(b * 5, 5), CancellationToken.None).AsTask().WaitAsync(s_wait);
        }

        runner.Complete();
        await running.WaitAsync(s_wait);

        Assert.Equal(Enumerable.Range(0, 50).Select(i => (double)i), factory.Written);
        Assert.Equal(3, factory.Created);
        var status = runner.Status;
        Assert.Equal((50L, 50L, 0L, 0), (status.Received, status.Written, status.Dropped, status.QueuedBatches));
        Assert.Equal(2, status.Component.Restarts);
        Assert.Equal(0, runner.LostAtStop());
    }

    [Fact]
    public async Task A_dropping_sink_that_falls_behind_loses_the_oldest_batches_and_counts_them()
    {
        var factory = new RecordingSinkFactory(SinkOverflow.DropOldest, capacity: 2);
        var runner = new SinkRunner(factory, s_line, _time, new TestLogger());

        // Not running yet: the queue holds two batches, the older ones are dropped, the producer never waits.
        for (var b = 0; b < 5; b++)
        {
            Assert.True(CompletedAtOnce(runner.EnqueueAsync(Batch(b * 3, 3), CancellationToken.None)));
        }

        var behind = runner.Status;
        Assert.Equal((15L, 9L, 2), (behind.Received, behind.Dropped, behind.QueuedBatches));
        Assert.True(behind.Behind);

        using var stop = new CancellationTokenSource();
        var running = Supervisor.RunAsync(runner.Health, runner.RunOnceAsync, s_fast, _time, stop.Token, () => runner.Drained);
        runner.Complete();
        await running.WaitAsync(s_wait);

        Assert.Equal(Enumerable.Range(9, 6).Select(i => (double)i), factory.Written);
        Assert.Equal(6L, runner.Status.Written);
    }

    private static bool CompletedAtOnce(ValueTask enqueue) => enqueue.IsCompletedSuccessfully;

    private sealed class RecordingSinkFactory(SinkOverflow overflow, int capacity) : ILineSinkFactory
    {
        private readonly List<double> _written = [];
        private int _created;

        /// <summary>Values at which the sink throws once each.</summary>
        public HashSet<double> FailAt { get; init; } = [];

        public IReadOnlyList<double> Written
        {
            get
            {
                lock (_written)
                {
                    return [.. _written];
                }
            }
        }

        public int Created => Volatile.Read(ref _created);

        public string Name => "recording";

        public SinkOverflow Overflow => overflow;

        public bool Critical => false;

        public int QueueCapacity => capacity;

        public ILineSink Create(LineDefinition line)
        {
            Interlocked.Increment(ref _created);
            return new Sink(this);
        }

        private sealed class Sink(RecordingSinkFactory owner) : ILineSink
        {
            public void Write(in LineSample sample)
            {
                var value = sample.Value!.Value;
                if (owner.FailAt.Remove(value))
                {
                    throw new IOException($"failed at {value}");
                }

                lock (owner._written)
                {
                    owner._written.Add(value);
                }
            }
        }
    }
}
