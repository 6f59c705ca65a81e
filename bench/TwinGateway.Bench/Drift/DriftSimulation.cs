using TwinGateway.Core;
using TwinGateway.Core.Alerts;
using TwinGateway.Core.Lines;
using TwinGateway.Drift.Alerts;
using TwinGateway.Drift.Features;
using TwinGateway.Drift.Live;
using TwinGateway.Drift.Models;
using TwinGateway.Simulation;

namespace TwinGateway.Bench.Drift;

/// <summary>What one detector did in one run: frame counts against the onset label, alerts opened, the first alert after onset.</summary>
internal sealed class DetectorTrack(string detector, long onsetMs)
{
    public string Detector { get; } = detector;

    public long OnsetMs { get; } = onsetMs;

    public int TruePositives { get; private set; }

    public int FalsePositives { get; private set; }

    public int FalseNegatives { get; private set; }

    public int TrueNegatives { get; private set; }

    public long ScoredFrames { get; private set; }

    public long FramesAtOrAbove { get; private set; }

    public int AlertsOpened { get; private set; }

    public int AlertsOpenedBeforeOnset { get; private set; }

    public long? FirstAlertAfterOnsetMs { get; private set; }

    public string? FirstAlertTopSignal { get; private set; }

    /// <summary>When each alert opened, in seconds from the start of the run.</summary>
    public List<double> AlertOpenedSeconds { get; } = [];

    /// <summary>The top contributor of every alert opened, in order.</summary>
    public List<string?> AlertTopSignals { get; } = [];

    /// <summary>Per hour of the run (from the first frame): scored frames and frames at or above 1.</summary>
    public List<(long Scored, long AtOrAbove)> Hourly { get; } = [];

    private long _firstFrameMs = long.MinValue;

    /// <summary>One frame's normalised score (null: the detector's window is not full yet; not counted).</summary>
    public void Frame(long timeMs, double? score)
    {
        if (score is not { } s || double.IsNaN(s))
        {
            return;
        }

        ScoredFrames++;
        var alarm = s >= 1;
        if (alarm)
        {
            FramesAtOrAbove++;
        }

        if (_firstFrameMs == long.MinValue)
        {
            _firstFrameMs = timeMs;
        }

        var hour = (int)((timeMs - _firstFrameMs) / 3_600_000);
        while (Hourly.Count <= hour)
        {
            Hourly.Add((0, 0));
        }

        Hourly[hour] = (Hourly[hour].Scored + 1, Hourly[hour].AtOrAbove + (alarm ? 1 : 0));

        var drifting = timeMs > OnsetMs; // the frame ends after onset: it holds faulted samples
        if (drifting && alarm)
        {
            TruePositives++;
        }
        else if (drifting)
        {
            FalseNegatives++;
        }
        else if (alarm)
        {
            FalsePositives++;
        }
        else
        {
            TrueNegatives++;
        }
    }

    public void Opened(DriftAlert alert)
    {
        AlertsOpened++;
        AlertTopSignals.Add(alert.Contributors.IsDefaultOrEmpty ? null : alert.Contributors[0].Signal);
        AlertOpenedSeconds.Add((alert.LastSeen.ToUnixTimeMilliseconds() - DriftSimulation.Ms(DriftSimulation.Start)) / 1000.0);
        var at = alert.LastSeen.ToUnixTimeMilliseconds(); // the frame at which the engine opened it
        if (at < OnsetMs)
        {
            AlertsOpenedBeforeOnset++;
        }
        else if (FirstAlertAfterOnsetMs is null)
        {
            FirstAlertAfterOnsetMs = at;
            FirstAlertTopSignal = alert.Contributors.IsDefaultOrEmpty ? null : alert.Contributors[0].Signal;
        }
    }

    public double? F1
    {
        get
        {
            var denominator = 2.0 * TruePositives + FalsePositives + FalseNegatives;
            return denominator == 0 ? null : 2.0 * TruePositives / denominator;
        }
    }

    public double? Precision => TruePositives + FalsePositives == 0 ? null : (double)TruePositives / (TruePositives + FalsePositives);

    public double? Recall => TruePositives + FalseNegatives == 0 ? null : (double)TruePositives / (TruePositives + FalseNegatives);
}

/// <summary>
/// Plays the demo line as a <see cref="PairedTwinRun"/> (100 ms twin steps) and feeds it at 1 Hz (every 10th step,
/// at whole seconds: each signal's real and expected value, as the gateway's pipeline hands them on) to a
/// <see cref="LineDriftMonitor"/> per model kind (each with its own <see cref="AlertEngine"/> over a
/// <see cref="SqliteAlertStore"/> in a temp folder, default <see cref="AlertRules"/>) and optionally a frame collector.
/// The physics rule is judged on a monitor of its own (no model) and, as <c>physics beside KIND</c>, on each model's
/// monitor, where the line's alert rate limit is shared with the model's alerts.
/// </summary>
internal static class DriftSimulation
{
    public static readonly DateTime Start = new(2026, 3, 2, 6, 0, 0, DateTimeKind.Utc);

    public static readonly TimeSpan TwinStep = TimeSpan.FromMilliseconds(100);

    /// <summary>Twin steps per fed sample (1 Hz feeding).</summary>
    public const int StepsPerSample = 10;

    public const ulong ShadowSeedOffset = 1000;

    public static long Ms(DateTime time) => new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)).ToUnixTimeMilliseconds();

    /// <summary>Healthy frames of <paramref name="span"/> of running with real seed <paramref name="seed"/> (training data).</summary>
    public static FrameMatrix Record(LineDefinition line, ulong seed, TimeSpan span, CancellationToken cancellationToken)
    {
        var features = LineFeatures.For(line);
        var collector = new FrameCollector(features);
        Run(line, seed, span, null, TimeSpan.Zero, [], "", collector, cancellationToken);
        return collector.ToMatrix();
    }

    /// <summary>
    /// Runs <paramref name="healthy"/> of healthy running, then injects <paramref name="fault"/> (when given: without
    /// one, a control run of the same seed) and runs <paramref name="after"/> more; the onset is at the end of
    /// <paramref name="healthy"/> when <paramref name="after"/> is positive (else there is none). Returns the physics rule's track (alone on its monitor), one track per model, in
    /// order, then the physics rule's track on each model's monitor (<c>physics beside KIND</c>).
    /// </summary>
    public static IReadOnlyList<DetectorTrack> Run(LineDefinition line, ulong seed, TimeSpan healthy, TwinFault? fault, TimeSpan after,
        IReadOnlyList<ActiveModel> models, string storeFolder, FrameCollector? collector, CancellationToken cancellationToken)
    {
        var onsetMs = after > TimeSpan.Zero ? Ms(Start + healthy) : long.MaxValue;
        var tracks = new List<DetectorTrack> { new("physics", onsetMs) };
        var beside = new List<DetectorTrack>();
        var stores = new List<SqliteAlertStore>();
        var monitors = new List<LineDriftMonitor>();
        var builder = collector is null ? null : new FrameBuilder(LineFeatures.For(line), TimeSpan.FromSeconds(1));
        try
        {
            var monitorOptions = new DriftMonitorOptions();
            // A monitor without a model for the physics rule alone, then one per model (its physics rule shares the
            // line's alert engine, and so its rate limit, with the model, as on a gateway line with an active model).
            var entries = models.Count == 0 ? [] : new ActiveModel?[] { null }.Concat(models).ToList();
            foreach (var model in entries)
            {
                var physics = model is null ? tracks[0] : new DetectorTrack($"physics beside {DriftTrainers.Name(model.Card.Kind)}", onsetMs);
                var track = model is null ? null : new DetectorTrack(DriftTrainers.Name(model.Card.Kind), onsetMs);
                if (model is not null)
                {
                    tracks.Add(track!);
                    beside.Add(physics);
                }

                var store = SqliteAlertStore.Open(Path.Combine(storeFolder, $"{Guid.NewGuid():N}.db"));
                stores.Add(store);
                var engine = new AlertEngine(store, AlertRules.Default);
                var monitor = new LineDriftMonitor(line, monitorOptions, engine, e =>
                {
                    if (e.Kind != AlertEventKind.Opened)
                    {
                        return;
                    }

                    if (e.Alert.Authority == Authority.Statistical)
                    {
                        track?.Opened(e.Alert);
                    }
                    else
                    {
                        physics.Opened(e.Alert);
                    }
                });
                var frames = 0L;
                var physicsWindow = monitorOptions.PhysicsWindowFrames;
                monitor.FrameScored = score =>
                {
                    frames++;
                    physics.Frame(score.TimeMs, frames >= physicsWindow ? score.Physics : null);
                    track?.Frame(score.TimeMs, score.Statistical);
                };
                monitor.SetModel(model);
                monitors.Add(monitor);
            }

            var run = new PairedTwinRun(line, seed, seed + ShadowSeedOffset, TwinStep, Start);
            var feeder = new Feeder(monitors, builder, collector);
            var sample = (Action<int, double, double>)feeder.Sample;
            var healthySteps = healthy.Ticks / TwinStep.Ticks;
            var totalSteps = (healthy + after).Ticks / TwinStep.Ticks;
            for (var step = 0L; step < totalSteps; step++)
            {
                if (step == healthySteps && fault is not null)
                {
                    run.Real.InjectFault(fault);
                }

                if ((step & 0xFFFF) == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }

                feeder.Active = (step + 1) % StepsPerSample == 0;
                feeder.TimeMs = Ms(Start + TwinStep * (step + 1));
                run.Step(sample);
            }
        }
        finally
        {
            foreach (var store in stores)
            {
                store.Dispose();
            }
        }

        tracks.AddRange(beside);
        return tracks;
    }

    /// <summary>Hands one step's samples to the monitors (and the collector's frame builder) when the step is fed.</summary>
    private sealed class Feeder(List<LineDriftMonitor> monitors, FrameBuilder? builder, FrameCollector? collector)
    {
        public bool Active { get; set; }

        public long TimeMs { get; set; }

        public void Sample(int signal, double real, double expected)
        {
            if (!Active)
            {
                return;
            }

            foreach (var monitor in monitors)
            {
                monitor.Add(signal, TimeMs, real, expected, good: true);
            }

            builder?.Add(signal, TimeMs, real, expected, true, collector!);
        }
    }
}
