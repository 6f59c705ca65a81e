using Microsoft.Extensions.Logging;
using TwinGateway.Core.Lines;
using TwinGateway.Core.Pipeline;
using TwinGateway.Gateway.Supervision;

namespace TwinGateway.Gateway.Pipeline;

/// <summary>
/// The path of a line's samples after the twin has given each its expected value: every registered sink, in the order
/// the line produced them, each through its own bounded queue with its own overflow rule. Batches from several
/// controller links are queued one at a time, so every sink sees the same order.
/// </summary>
internal sealed class LinePipeline : IAsyncDisposable
{
    private readonly SinkRunner[] _sinks;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly RestartPolicy _restart;
    private readonly TimeProvider _time;
    private readonly List<Task> _running = [];

    public LinePipeline(LineDefinition line, IEnumerable<ILineSinkFactory> sinks, RestartPolicy restart, TimeProvider time, ILogger logger)
    {
        _restart = restart;
        _time = time;
        _sinks = [.. sinks.Select(factory => new SinkRunner(factory, line, time, logger))];
        var duplicate = _sinks.GroupBy(s => s.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"two sinks are registered as '{duplicate.Key}'; sink names must be unique", nameof(sinks));
        }
    }

    public LiveWatchers Watchers { get; } = new();

    public IReadOnlyList<SinkStatus> Sinks => [.. _sinks.Select(s => s.Status)];

    public void Start(CancellationToken stopping)
    {
        foreach (var sink in _sinks)
        {
            _running.Add(Supervisor.RunAsync(sink.Health, sink.RunOnceAsync, _restart, _time, stopping, () => sink.Drained));
        }
    }

    /// <summary>Hands a batch to every sink; waits while a sink that never drops has no room (the links wait, nothing is lost).</summary>
    public async ValueTask PublishAsync(LineSample[] batch, CancellationToken cancellationToken)
    {
        if (batch.Length == 0 || _sinks.Length == 0)
        {
            return;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var sink in _sinks)
            {
                await sink.EnqueueAsync(batch, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>After the links stopped: lets every sink drain its queue, then reports what a failing sink still held.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var sink in _sinks)
        {
            sink.Complete();
        }

        await Task.WhenAll(_running).ConfigureAwait(false);
        foreach (var sink in _sinks)
        {
            sink.LostAtStop();
        }

        _gate.Dispose();
    }
}
