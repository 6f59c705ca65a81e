using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using TwinGateway.Core.Lines;
using TwinGateway.Simulation;
using TwinGateway.Telemetry;
using TwinGateway.Telemetry.Recording;

namespace TwinGateway.Host.Gateway;

/// <summary>
/// One line at run time: its controller links, the latest real value of every signal, and the twin in shadow mode
/// stepping beside the real line (the real line's controller inputs go into the twin, which computes the expected
/// outputs). Watchers get every real value with the expected value of the same instant.
/// </summary>
public sealed partial class LineRuntime : IAsyncDisposable
{
    private readonly GatewayOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Dictionary<string, SignalState> _signals;
    private readonly List<ControllerLink> _links = [];
    private readonly ConcurrentDictionary<Channel<SignalSnapshot>, byte> _watchers = new();
    private readonly Lock _twinLock = new();
    private readonly LineTwin _twin;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _tasks = [];
    private readonly TelemetryRecorder? _recorder;
    private readonly Dictionary<SignalState, TelemetrySeries> _series = [];

    public LineRuntime(LineDefinition line, GatewayOptions options, TimeProvider time, ILoggerFactory loggers, TelemetryRecorder? recorder = null)
    {
        ArgumentNullException.ThrowIfNull(line);
        Definition = line;
        _options = options;
        _time = time;
        _logger = loggers.CreateLogger("TwinGateway.Gateway.Line");
        _signals = line.Signals.ToDictionary(s => s.Id, s => new SignalState(s), StringComparer.Ordinal);
        _twin = new LineTwin(line, new TwinOptions
        {
            Seed = options.TwinSeed,
            Step = TimeSpan.FromMilliseconds(options.StepMilliseconds),
            Mode = TwinMode.Shadow,
            Start = time.GetUtcNow().UtcDateTime,
        });
        _recorder = recorder;
        if (recorder is not null)
        {
            foreach (var signal in _signals.Values)
            {
                _series[signal] = recorder.GetSeries(line.Id, signal.Definition.Id, signal.Definition.StationId);
            }
        }

        var defaultController = line.Controllers.Length == 1 ? line.Controllers[0].Id : null;
        foreach (var controller in line.Controllers)
        {
            var signals = _signals.Values.Where(s => (s.Definition.ControllerId ?? defaultController) == controller.Id);
            _links.Add(new ControllerLink(this, controller, signals, options, time, loggers.CreateLogger("TwinGateway.Gateway.Controller")));
        }
    }

    public LineDefinition Definition { get; }

    public string Id => Definition.Id;

    public IReadOnlyCollection<SignalState> Signals => _signals.Values;

    public IReadOnlyList<LinkStatus> Links => [.. _links.Select(l => l.Status)];

    /// <summary>The line's overall state: the worst of its controllers'.</summary>
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
                return (_twin.SimTime, _twin.Steps, _twin.Options.Seed);
            }
        }
    }

    public bool TryGetSignal(string id, out SignalState signal) => _signals.TryGetValue(id, out signal!);

    public void Start()
    {
        foreach (var link in _links)
        {
            _tasks.Add(Task.Run(() => link.RunAsync(_stopping.Token)));
        }

        _tasks.Add(Task.Run(ShadowLoopAsync));
    }

    /// <summary>Steps the twin in real time: real controller inputs in, expected values out.</summary>
    private async Task ShadowLoopAsync()
    {
        var inputs = Definition.Signals.Where(s => s.Direction == SignalDirection.ControllerInput).Select(s => _signals[s.Id]).ToArray();
        var all = _signals.Values.ToArray();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(_options.StepMilliseconds), _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                lock (_twinLock)
                {
                    foreach (var input in inputs)
                    {
                        // A bad or missing real value leaves the twin's input as it was.
                        if (input.Snapshot.Real is { } real && double.IsFinite(real))
                        {
                            _twin.SetInput(input.Definition.Id, real);
                        }
                    }

                    _twin.Step();
                    foreach (var signal in all)
                    {
                        if (_twin.TryGetValue(signal.Definition.Id, out var expected) && !double.IsNaN(expected))
                        {
                            signal.SetExpected(expected);
                        }
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.TwinFailed(_logger, ex, Id);
        }
    }

    internal void OnRealValue(SignalState signal, SignalSnapshot snapshot, uint status)
    {
        var expected = signal.Snapshot.Expected;
        if (_recorder is not null)
        {
            // Every sample goes to the flight recorder with the twin's value of the same instant; Append never drops.
            _recorder.Append(new TelemetrySample(
                _series[signal],
                TelemetryTime.ToUnixNanoseconds(snapshot.SourceTime == default ? snapshot.ServerTime : snapshot.SourceTime),
                TelemetryTime.ToUnixNanoseconds(snapshot.ServerTime),
                snapshot.Real is { } real && double.IsFinite(real) ? real : null,
                status,
                expected));
        }

        foreach (var watcher in _watchers.Keys)
        {
            // A watcher that cannot keep up loses its oldest updates, never the gateway's pace (bounded channel, DropOldest).
            watcher.Writer.TryWrite(snapshot with { Expected = expected });
        }
    }

    /// <summary>Streams real values (with the expected ones) until <paramref name="cancellationToken"/> fires.</summary>
    public async IAsyncEnumerable<SignalSnapshot> WatchAsync(IReadOnlySet<string>? signalIds, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<SignalSnapshot>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        _watchers[channel] = 0;
        try
        {
            await foreach (var update in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (signalIds is null || signalIds.Count == 0 || signalIds.Contains(update.SignalId))
                {
                    yield return update;
                }
            }
        }
        finally
        {
            _watchers.TryRemove(channel, out _);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_tasks).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4101, Level = LogLevel.Error, Message = "The twin of line {LineId} stopped")]
        public static partial void TwinFailed(ILogger logger, Exception exception, string lineId);
    }
}
