using System.Collections.Concurrent;
using TwinGateway.Core.Alerts;
using TwinGateway.Core.Lines;
using TwinGateway.Core.Pipeline;
using TwinGateway.Drift.Alerts;

namespace TwinGateway.Drift.Live;

/// <summary>
/// The drift detector as a sink of every line's pipeline (registered with the host like the flight recorder): one
/// <see cref="LineDriftMonitor"/> per line, one alert engine for all, the events to an <see cref="AlertFeed"/>. It
/// drops the oldest samples when it falls behind (the line never waits for it) and counts them.
/// </summary>
public sealed class DriftMonitor(DriftMonitorOptions options, AlertEngine engine, AlertFeed feed, Func<LineDefinition, ActiveModel?> activeModel) : ILineSinkFactory
{
    private readonly ConcurrentDictionary<string, LineDriftMonitor> _lines = new(StringComparer.Ordinal);

    public string Name => "drift-detector";

    public SinkOverflow Overflow => SinkOverflow.DropOldest;

    public bool Critical => false;

    public AlertEngine Engine => engine;

    public AlertFeed Feed => feed;

    public DriftMonitorOptions Options => options;

    /// <summary>The monitor of a line, once its pipeline has started.</summary>
    public LineDriftMonitor? Get(string line) => _lines.TryGetValue(line, out var monitor) ? monitor : null;

    public IReadOnlyCollection<LineDriftMonitor> Lines => [.. _lines.Values];

    public ILineSink Create(LineDefinition line)
    {
        ArgumentNullException.ThrowIfNull(line);
        // A sink created again (after a failure, or for an adopted definition) keeps the line's monitor when the
        // compared signals are the same, so its windows and its model carry on.
        var monitor = _lines.AddOrUpdate(line.Id,
            _ => Start(line),
            (_, existing) => existing.Features.Names.SequenceEqual(Features.LineFeatures.For(line).Names) ? existing : Start(line));
        return new Sink(monitor);
    }

    private LineDriftMonitor Start(LineDefinition line)
    {
        var monitor = new LineDriftMonitor(line, options, engine, feed.Publish);
        ActiveModel? model = null;
        try
        {
            model = activeModel(line);
        }
        catch (ArgumentException)
        {
            // The host logged why the model does not fit; the physics rule watches the line alone.
        }

        if (model is not null && model.Card.Features.SequenceEqual(monitor.Features.Names))
        {
            monitor.SetModel(model);
        }

        return monitor;
    }

    /// <summary>Publishes an event that did not come from a frame (an acknowledgement or a resolution by a person).</summary>
    public void Publish(AlertEvent alertEvent) => feed.Publish(alertEvent);

    private sealed class Sink(LineDriftMonitor monitor) : ILineSink
    {
        public void Write(in LineSample sample) => monitor.Add(sample);
    }
}
