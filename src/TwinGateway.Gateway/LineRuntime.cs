using Microsoft.Extensions.Logging;
using TwinGateway.Core.Lines;
using TwinGateway.Core.Pipeline;
using TwinGateway.Core.Twins;
using TwinGateway.Gateway.Pipeline;
using TwinGateway.Gateway.Supervision;

namespace TwinGateway.Gateway;

/// <summary>
/// One line at run time: its controller links, the latest real value of every signal, the twin in shadow mode stepping
/// beside the real line (the real line's controller inputs go into the twin, which computes the expected outputs), and
/// the pipeline that takes every value, with the expected value of the same instant, to the registered sinks and the
/// live watchers. Every part runs supervised: one that throws is restarted with backoff and its state says why.
/// </summary>
public sealed partial class LineRuntime : IAsyncDisposable
{
    private readonly GatewayOptions _options;
    private readonly ITwinFactory _twins;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RestartPolicy _restart;
    private readonly Dictionary<string, SignalState> _signals;
    private readonly SignalState[] _byIndex;
    private readonly List<ControllerLink> _links = [];
    private readonly Lock _twinLock = new();
    private readonly LinePipeline _pipeline;
    private readonly ComponentHealth _twinHealth;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _linkTasks = [];
    private Task? _twinTask;
    private readonly CredibilityRing?[] _credibility;
    private ILineTwin? _twin;
    private LineDefinition _definition;
    private bool _disposed;

    public LineRuntime(
        LineDefinition line,
        GatewayOptions options,
        ITwinFactory twins,
        IEnumerable<ILineSinkFactory> sinks,
        TimeProvider time,
        ILoggerFactory loggers,
        RestartPolicy? restart = null)
    {
        ArgumentNullException.ThrowIfNull(line);
        ArgumentNullException.ThrowIfNull(loggers);
        _definition = line;
        _options = options;
        _twins = twins;
        _time = time;
        _restart = restart ?? RestartPolicy.Default;
        _logger = loggers.CreateLogger("TwinGateway.Gateway.Line");
        _byIndex = [.. line.Signals.Select((s, i) => new SignalState(s, i))];
        _signals = _byIndex.ToDictionary(s => s.Definition.Id, StringComparer.Ordinal);
        // Each ring keeps its signal's comparison scale, computed once here and not per twin step. The rings and their
        // scales are the start definition's signals' (as SignalState.Definition is): AdoptDefinition keeps them.
        _credibility = [.. line.Signals.Select(s => SignalComparison.Scale(s) is var scale and > 0 ? new CredibilityRing(scale) : null)];
        _pipeline = new LinePipeline(line, sinks, _restart, time, loggers.CreateLogger("TwinGateway.Gateway.Sinks"));
        _twinHealth = new ComponentHealth($"Line {line.Id} twin loop", time, _logger);
        _twin = CreateTwin();

        var defaultController = line.Controllers.Length == 1 ? line.Controllers[0].Id : null;
        var linkLogger = loggers.CreateLogger("TwinGateway.Gateway.Controller");
        foreach (var controller in line.Controllers)
        {
            var signals = _byIndex.Where(s => (s.Definition.ControllerId ?? defaultController) == controller.Id);
            _links.Add(new ControllerLink(this, controller, signals, options, time, linkLogger));
        }
    }

    /// <summary>
    /// The definition the shadow twin runs: the line's file at start, a change's definition once the commissioning
    /// gate had it adopted (<see cref="AdoptDefinition"/>). Its signals are always the start's (links, pipeline and
    /// <see cref="Signals"/> keep those), which adopting checks.
    /// </summary>
    public LineDefinition Definition => Volatile.Read(ref _definition);

    public string Id => Definition.Id;

    public IReadOnlyCollection<SignalState> Signals => _byIndex;

    public IReadOnlyList<LinkStatus> Links => [.. _links.Select(l => l.Status)];

    /// <summary>The twin loop's state (Failed with the exception's message while it is being restarted).</summary>
    public ComponentStatus TwinLoop => _twinHealth.Status;

    /// <summary>Every registered sink's state and counters.</summary>
    public IReadOnlyList<SinkStatus> Sinks => _pipeline.Sinks;

    /// <summary>The live watchers: how many, what they got, what they lost.</summary>
    public WatcherStatus Watchers => _pipeline.Watchers.Status;

    /// <summary>The line's overall connection state: the worst of its controllers'.</summary>
    public LinkStatus Summary => Links.OrderByDescending(l => l.State switch
    {
        LinkState.Failed => 3,
        LinkState.Reconnecting => 2,
        LinkState.Connecting => 1,
        _ => 0,
    }).FirstOrDefault() ?? new LinkStatus("", "", LinkState.Failed, "the line has no controller", _time.GetUtcNow(), 0, []);

    public (DateTime SimTime, long Steps, ulong Seed) TwinState
    {
        get
        {
            lock (_twinLock)
            {
                return _twin is { } twin ? (twin.SimTime, twin.Steps, twin.Seed) : (default, 0, _options.TwinSeed);
            }
        }
    }

    public bool TryGetSignal(string id, out SignalState signal) => _signals.TryGetValue(id, out signal!);

    public void Start()
    {
        _pipeline.Start(_stopping.Token);
        foreach (var link in _links)
        {
            _linkTasks.Add(Supervisor.RunAsync(link.Health, link.RunAsync, _restart, _time, _stopping.Token));
        }

        _twinTask = Supervisor.RunAsync(_twinHealth, ShadowLoopAsync, _restart, _time, _stopping.Token);
    }

    private ILineTwin CreateTwin() => _twins.CreateShadow(Definition, new TwinSettings(
        _options.TwinSeed, TimeSpan.FromMilliseconds(_options.StepMilliseconds), _time.GetUtcNow().UtcDateTime));

    /// <summary>
    /// Steps the twin in real time: real controller inputs in, expected values out. A twin that threw may be in any
    /// state, so a restart starts a fresh one at the current time.
    /// </summary>
    private async Task ShadowLoopAsync(CancellationToken stopping)
    {
        if (_twinHealth.Status.State == ComponentState.Failed)
        {
            // Under the lock, so a definition adopted meanwhile is the one the fresh twin runs.
            lock (_twinLock)
            {
                _twin = CreateTwin();
            }
        }

        var inputs = Definition.Signals.Where(s => s.Direction == SignalDirection.ControllerInput).Select(s => _signals[s.Id]).ToArray();
        var stateCodes = StationStateSignals();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(_options.StepMilliseconds), _time);
        while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
        {
            lock (_twinLock)
            {
                var twin = _twin!;
                foreach (var input in inputs)
                {
                    // A bad or missing real value leaves the twin's input as it was.
                    if (input.Snapshot.Real is { } real && double.IsFinite(real))
                    {
                        twin.SetInput(input.Definition.Id, real);
                    }
                }

                foreach (var (station, signal) in stateCodes)
                {
                    // A station the real line reports failed is held down in the twin until it reports it up again.
                    if (signal.Snapshot.Real is { } code && double.IsFinite(code))
                    {
                        twin.FollowDowntime(station, (int)code == (int)StationState.Failed);
                    }
                }

                twin.Step();
                var now = _time.GetUtcNow();
                foreach (var signal in _byIndex)
                {
                    var expected = twin.GetValue(signal.Index);
                    if (!double.IsNaN(expected))
                    {
                        var snapshot = signal.SetExpected(expected);
                        RecordCredibility(signal, snapshot, expected, now);
                    }
                }
            }

            _twinHealth.MarkRunning();
        }
    }

    /// <summary>Each station's state-code signal (a <c>state</c> model without <c>is</c>), by station index.</summary>
    private (int Station, SignalState Signal)[] StationStateSignals()
    {
        var line = Definition;
        var result = new List<(int, SignalState)>();
        for (var i = 0; i < line.Stations.Length; i++)
        {
            var id = line.Stations[i].Id;
            var code = line.Signals.FirstOrDefault(s => s.StationId == id && s.Model is StationStateModel { States.IsDefaultOrEmpty: true });
            if (code is not null && _signals.TryGetValue(code.Id, out var state))
            {
                result.Add((i, state));
            }
        }

        return [.. result];
    }

    /// <summary>
    /// The pipeline's entry, called by a controller link with the values of one notification: each value becomes the
    /// signal's latest real value and takes the twin's expected value of the same instant, then the batch goes to the
    /// live watchers (never waiting) and to every sink (waiting while a sink that never drops is full).
    /// </summary>
    internal ValueTask PublishAsync(LineSample[] batch, CancellationToken cancellationToken)
    {
        if (_pipeline.Watchers.Any)
        {
            // Each watcher gets every value as it came (a batch may hold several of one signal), not the latest.
            foreach (ref readonly var sample in batch.AsSpan())
            {
                _pipeline.Watchers.Publish(new SignalSnapshot(_byIndex[sample.SignalIndex].Definition.Id, sample.Value, sample.Expected,
                    sample.SourceTime, sample.ServerTime, new OpcUa.Types.StatusCode(sample.Status).Name));
            }
        }

        return _pipeline.PublishAsync(batch, cancellationToken);
    }

    /// <summary>Streams real values (with the expected ones) until <paramref name="cancellationToken"/> fires.</summary>
    public IAsyncEnumerable<SignalSnapshot> WatchAsync(IReadOnlySet<string>? signalIds, CancellationToken cancellationToken) =>
        _pipeline.Watchers.WatchAsync(signalIds, cancellationToken);

    /// <summary>Stops the links first, then lets every sink drain what the links delivered.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_linkTasks).ConfigureAwait(false);
        if (_twinTask is not null)
        {
            await _twinTask.ConfigureAwait(false);
        }

        await _pipeline.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }
}
