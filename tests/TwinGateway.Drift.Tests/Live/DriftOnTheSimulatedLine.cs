using TwinGateway.Core;
using TwinGateway.Core.Alerts;
using TwinGateway.Drift.Alerts;
using TwinGateway.Drift.Features;
using TwinGateway.Drift.Live;
using TwinGateway.Drift.Models;
using TwinGateway.Drift.Tests.Alerts;
using TwinGateway.Simulation;

namespace TwinGateway.Drift.Tests.Live;

/// <summary>
/// The demo line played as the real one beside its shadow twin, faster than real time, through the live detector's
/// code: a monitor per run, its alerts in a real SQLite store.
/// </summary>
internal sealed class DriftOnTheSimulatedLine : IDisposable
{
    private static readonly DateTime Start = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private readonly TempFolder _folder = new();
    private readonly SqliteAlertStore _store;

    public DriftOnTheSimulatedLine(ulong realSeed, DriftMonitorOptions? options = null)
    {
        Run = new PairedTwinRun(DemoLine.Definition, realSeed, shadowSeed: 1, TimeSpan.FromMilliseconds(100), Start);
        _store = SqliteAlertStore.Open(Path.Combine(_folder.Path, "changes.db"));
        Engine = new AlertEngine(_store);
        Monitor = new LineDriftMonitor(DemoLine.Definition, options ?? new DriftMonitorOptions(), Engine, Events.Add);
    }

    public PairedTwinRun Run { get; }

    public AlertEngine Engine { get; }

    public LineDriftMonitor Monitor { get; }

    public List<AlertEvent> Events { get; } = [];

    public IEnumerable<DriftAlert> Opened => Events.Where(e => e.Kind == AlertEventKind.Opened).Select(e => e.Alert);

    public TimeSpan Elapsed => Run.Time - Start;

    /// <summary>Steps the pair for <paramref name="duration"/> of simulated time, or until <paramref name="stop"/> says so.</summary>
    public void Play(TimeSpan duration, Func<bool>? stop = null)
    {
        var steps = (long)(duration / TimeSpan.FromMilliseconds(100));
        for (var i = 0; i < steps; i++)
        {
            var ms = new DateTimeOffset(Run.Time.AddMilliseconds(100)).ToUnixTimeMilliseconds();
            Run.Step((signal, real, expected) => Monitor.Add(signal, ms, real, expected, good: true));
            if (stop is not null && i % 10 == 0 && stop())
            {
                return;
            }
        }
    }

    /// <summary>Healthy frames of this run for <paramref name="duration"/>, collected as a model's training data.</summary>
    public FrameMatrix Record(TimeSpan duration)
    {
        var features = Monitor.Features;
        var builder = new FrameBuilder(features, TimeSpan.FromSeconds(1));
        var collector = new FrameCollector(features);
        var steps = (long)(duration / TimeSpan.FromMilliseconds(100));
        for (var i = 0; i < steps; i++)
        {
            var ms = new DateTimeOffset(Run.Time.AddMilliseconds(100)).ToUnixTimeMilliseconds();
            Run.Step((signal, real, expected) => builder.Add(signal, ms, real, expected, true, collector));
        }

        return collector.ToMatrix();
    }

    public static ActiveModel Activate(LineDriftMonitor monitor, DriftModel model, FrameMatrix frames)
    {
        var card = new ModelCard(monitor.Line, "1", model.Kind, frames.Columns, model.Window, 1000, [.. model.Mean], [.. model.Scale],
            model.Metrics.Threshold, 0.999, 1.25, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, TrainingData.Hash(frames), DateTimeOffset.UnixEpoch, "test", model.Metrics);
        var active = new ActiveModel("1", card, new ManagedScorer(model));
        monitor.SetModel(active);
        return active;
    }

    public void Dispose()
    {
        _store.Dispose();
        _folder.Dispose();
    }
}
