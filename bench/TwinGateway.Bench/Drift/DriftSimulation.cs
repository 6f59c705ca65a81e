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
/// The physics detector is taken from the first monitor (every monitor runs the same rule on the same frames).
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
    /// Runs <paramref name="healthy"/> of healthy running, then injects <paramref name="fault"/> (when given) and runs
    /// <paramref name="after"/> more. Returns the physics track, then one track per model, in order.
    /// </summary>
    public static IReadOnlyList<DetectorTrack> Run(LineDefinition line, ulong seed, TimeSpan healthy, TwinFault? fault, TimeSpan after,
        IReadOnlyList<ActiveModel> models, string storeFolder, FrameCollector? collector, CancellationToken cancellationToken)
    {
        var onsetMs = fault is null ? long.MaxValue : Ms(Start + healthy);
        var physics = new DetectorTrack("physics", onsetMs);
        var tracks = new List<DetectorTrack> { physics };
        var stores = new List<SqliteAlertStore>();
        var monitors = new List<LineDriftMonitor>();
        var builder = collector is null ? null : new FrameBuilder(LineFeatures.For(line), TimeSpan.FromSeconds(1));
        try
        {
            var monitorOptions = new DriftMonitorOptions();
            for (var k = 0; k < models.Count; k++)
            {
                var model = models[k];
                var track = new DetectorTrack(DriftTrainers.Name(model.Card.Kind), onsetMs);
                tracks.Add(track);
                var store = SqliteAlertStore.Open(Path.Combine(storeFolder, $"{Guid.NewGuid():N}.db"));
                stores.Add(store);
                var first = k == 0;
                var engine = new AlertEngine(store, AlertRules.Default);
                var monitor = new LineDriftMonitor(line, monitorOptions, engine, e =>
                {
                    if (e.Kind != AlertEventKind.Opened)
                    {
                        return;
                    }

                    if (e.Alert.Authority == Authority.Statistical)
                    {
                        track.Opened(e.Alert);
                    }
                    else if (first)
                    {
                        physics.Opened(e.Alert);
                    }
                });
                var frames = 0L;
                var physicsWindow = monitorOptions.PhysicsWindowFrames;
                monitor.FrameScored = score =>
                {
                    frames++;
                    if (first)
                    {
                        physics.Frame(score.TimeMs, frames >= physicsWindow ? score.Physics : null);
                    }

                    track.Frame(score.TimeMs, score.Statistical);
                };
                monitor.SetModel(model);
                monitors.Add(monitor);
            }

            var run = new PairedTwinRun(line, seed, seed + ShadowSeedOffset, TwinStep, Start);
            var feeder = new Feeder(monitors, builder, collector);
            var sample = (Action<int, double, double>)feeder.Sample;
            var healthySteps = healthy.Ticks / TwinStep.Ticks;
            var totalSteps = (healthy + (fault is null ? TimeSpan.Zero : after)).Ticks / TwinStep.Ticks;
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
