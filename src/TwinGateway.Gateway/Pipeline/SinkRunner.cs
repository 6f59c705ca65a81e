using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using TwinGateway.Core.Lines;
using TwinGateway.Core.Pipeline;
using TwinGateway.Gateway.Supervision;

namespace TwinGateway.Gateway.Pipeline;

/// <summary>A sink's counters and state, as <c>twingw lines show</c> and the API show them.</summary>
/// <param name="Name">The sink's registered name.</param>
/// <param name="Overflow">What its queue does when it falls behind.</param>
/// <param name="Critical">Whether the line is Unhealthy (rather than Degraded) while it is failed.</param>
/// <param name="Component">Its supervision state: Running, Failed (being restarted, with the exception's message), restarts.</param>
/// <param name="Received">Samples the line handed to it.</param>
/// <param name="Written">Samples it took.</param>
/// <param name="Dropped">Samples its queue dropped (only a <see cref="SinkOverflow.DropOldest"/> sink drops).</param>
/// <param name="QueuedBatches">Batches waiting in its queue.</param>
/// <param name="Capacity">Batches its queue holds.</param>
/// <param name="Problem">A problem behind the sink that does not make it throw (the recorder's commits failing); null when fine.</param>
public sealed record SinkStatus(
    string Name,
    SinkOverflow Overflow,
    bool Critical,
    ComponentStatus Component,
    long Received,
    long Written,
    long Dropped,
    int QueuedBatches,
    int Capacity,
    string? Problem = null)
{
    /// <summary>Half its queue is full: it is not keeping up with the line.</summary>
    public bool Behind => QueuedBatches * 2 >= Capacity;
}

/// <summary>
/// One sink of one line: its bounded queue (waiting or dropping the oldest, as the sink declared), the task that feeds
/// it in order, and its supervision. A sink that throws is disposed, created again after a backoff and given the
/// sample it failed on again, so a <see cref="SinkOverflow.Wait"/> sink loses nothing.
/// </summary>
internal sealed partial class SinkRunner
{
    private readonly ILineSinkFactory _factory;
    private readonly LineDefinition _line;
    private readonly Channel<LineSample[]> _queue;
    private readonly int _capacity;
    private readonly ILogger _logger;
    private LineSample[]? _current;
    private int _resumeAt;
    private long _received;
    private long _written;
    private long _dropped;

    public SinkRunner(ILineSinkFactory factory, LineDefinition line, TimeProvider time, ILogger logger)
    {
        _factory = factory;
        _line = line;
        _logger = logger;
        _capacity = Math.Max(1, factory.QueueCapacity);
        var options = new BoundedChannelOptions(_capacity)
        {
            SingleReader = true,
            FullMode = factory.Overflow == SinkOverflow.Wait ? BoundedChannelFullMode.Wait : BoundedChannelFullMode.DropOldest,
        };
        _queue = Channel.CreateBounded<LineSample[]>(options, dropped => Interlocked.Add(ref _dropped, dropped.Length));
        Health = new ComponentHealth($"Line {line.Id} sink {factory.Name}", time, logger);
    }

    public ComponentHealth Health { get; }

    public string Name => _factory.Name;

    public SinkStatus Status
    {
        get
        {
            return new SinkStatus(_factory.Name, _factory.Overflow, _factory.Critical, Health.Status,
                Interlocked.Read(ref _received), Interlocked.Read(ref _written), Interlocked.Read(ref _dropped), _queue.Reader.Count, _capacity, _factory.Problem);
        }
    }

    /// <summary>Queues a batch; waits for room when the sink never drops, drops the oldest batch otherwise.</summary>
    public ValueTask EnqueueAsync(LineSample[] batch, CancellationToken cancellationToken)
    {
        Interlocked.Add(ref _received, batch.Length);
        return _queue.Writer.WriteAsync(batch, cancellationToken);
    }

    /// <summary>No more batches: <see cref="RunOnceAsync"/> drains the queue and returns.</summary>
    public void Complete() => _queue.Writer.TryComplete();

    /// <summary>The queue was completed and everything in it went to the sink.</summary>
    public bool Drained => _current is null && _queue.Reader.Completion.IsCompleted;

    /// <summary>
    /// One life of the sink: creates it and feeds it until the queue is completed and drained. Not cancelled by the
    /// line's stop, so that what was queued still reaches the sink; the supervisor only gives up on a sink that keeps
    /// failing at the stop (and <see cref="LostAtStop"/> says how much it held).
    /// </summary>
    public async Task RunOnceAsync(CancellationToken stopping)
    {
        var sink = _factory.Create(_line);
        try
        {
            if (Health.Status.State != ComponentState.Failed)
            {
                Health.MarkRunning();
            }

            while (true)
            {
                if (_current is null)
                {
                    if (!_queue.Reader.TryRead(out _current))
                    {
                        if (!await _queue.Reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
                        {
                            return;
                        }

                        continue;
                    }

                    _resumeAt = 0;
                }

                for (; _resumeAt < _current.Length; _resumeAt++)
                {
                    sink.Write(in _current[_resumeAt]);
                    Interlocked.Increment(ref _written);
                }

                _current = null;
                if (Health.Status.State == ComponentState.Failed)
                {
                    Health.MarkRunning();
                }
            }
        }
        finally
        {
            switch (sink)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }
    }

    /// <summary>Samples still queued after the sink stopped (non-zero only when it kept failing at the stop); logged.</summary>
    public long LostAtStop()
    {
        var lost = (_current is null ? 0 : _current.Length - _resumeAt);
        while (_queue.Reader.TryRead(out var batch))
        {
            lost += batch.Length;
        }

        if (lost > 0)
        {
            Log.Lost(_logger, _line.Id, _factory.Name, lost, Health.Status.Reason);
        }

        return lost;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4311, Level = LogLevel.Error, Message = "Line {LineId} sink {Sink} was still failing when the gateway stopped: {Count} samples did not reach it ({Reason})")]
        public static partial void Lost(ILogger logger, string lineId, string sink, long count, string reason);
    }
}
