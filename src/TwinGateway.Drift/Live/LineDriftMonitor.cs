using System.Collections.Immutable;
using TwinGateway.Core;
using TwinGateway.Core.Alerts;
using TwinGateway.Core.Lines;
using TwinGateway.Core.Pipeline;
using TwinGateway.Drift.Alerts;
using TwinGateway.Drift.Features;

namespace TwinGateway.Drift.Live;

/// <summary>One frame's scores: the physics rule's and, with a model active, the learned model's (both normalised: 1 = threshold).</summary>
/// <param name="TimeMs">The frame's end, Unix milliseconds.</param>
/// <param name="Physics">The physics rule's score (0 until its window is full).</param>
/// <param name="Statistical">The active model's score; null without a model or before its window is full.</param>
/// <param name="TopSignal">The signal contributing most to the statistical score (else the physics one); null when neither scored.</param>
/// <param name="TopShare">Its share.</param>
public readonly record struct FrameScore(long TimeMs, double Physics, double? Statistical, string? TopSignal, double TopShare);

/// <summary>What <see cref="LineDriftMonitor.Status"/> reports.</summary>
public sealed record LineDriftStatus(
    string Line,
    double PhysicsScore,
    double? StatisticalScore,
    string? ModelVersion,
    DateTimeOffset? LastFrame,
    long Frames,
    ImmutableArray<string> Features,
    ImmutableArray<double> MeanResiduals,
    ImmutableArray<double> Tolerances);

/// <summary>
/// Watches one line for drift: its samples become frames (<see cref="FrameBuilder"/>); each frame is judged by the
/// physics rule (<see cref="PhysicsDetector"/>, authority physics) and, when the line has an active model, by the
/// model over the last window of frames (authority statistical, with the model's version); both scores go to the
/// alert engine as separate detectors, so the two authorities never mix. For <see cref="DriftMonitorOptions.WarmupSeconds"/>
/// after the start and after a gap, frames are scored but raise nothing. One writer (the line's sink or a replay);
/// <see cref="Status"/> and <see cref="SetModel"/> may be called from any thread.
/// </summary>
public sealed class LineDriftMonitor : IFrameSink
{
    private readonly LineFeatures _features;
    private readonly FrameBuilder _builder;
    private readonly PhysicsDetector _physics;
    private readonly AlertEngine? _engine;
    private readonly Action<AlertEvent>? _onEvent;
    private readonly DriftMonitorOptions _options;
    private readonly float[] _meanResidual;
    private readonly float[] _physicsShares;
    private readonly double[] _lastReal;
    private readonly double[] _lastExpected;
    private readonly Lock _lock = new();
    private ActiveModel? _model;
    private float[] _window = [];
    private float[] _modelShares = [];
    private int _windowFilled;
    private double _physicsScore;
    private double? _statisticalScore;
    private long _frames;
    private long _framesSinceStart;
    private long _lastFrameMs = long.MinValue;

    public LineDriftMonitor(LineDefinition line, DriftMonitorOptions options, AlertEngine? engine = null, Action<AlertEvent>? onEvent = null)
    {
        ArgumentNullException.ThrowIfNull(line);
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _features = LineFeatures.For(line);
        _builder = new FrameBuilder(_features, options.FrameInterval);
        _physics = new PhysicsDetector(_features, options.PhysicsWindowFrames);
        _engine = engine;
        _onEvent = onEvent;
        _meanResidual = new float[_features.Count];
        _physicsShares = new float[_features.Count];
        _lastReal = new double[_features.Count];
        _lastExpected = new double[_features.Count];
        Array.Fill(_lastReal, double.NaN);
        Array.Fill(_lastExpected, double.NaN);
    }

    public LineFeatures Features => _features;

    public string Line => _features.Line;

    /// <summary>Called with every frame's scores (evaluation, offline scoring, the plots); on the writer's thread.</summary>
    public Action<FrameScore>? FrameScored { get; set; }

    /// <summary>The active model, or null.</summary>
    public ActiveModel? Model => Volatile.Read(ref _model);

    /// <summary>Uses <paramref name="model"/> from the next frame on (null: no learned model); its window starts empty.</summary>
    public void SetModel(ActiveModel? model)
    {
        if (model is not null && !model.Card.Features.SequenceEqual(_features.Names))
        {
            throw new ArgumentException($"model {model.Version} was trained on other signals than line '{Line}' compares now", nameof(model));
        }

        lock (_lock)
        {
            _model = model;
            _window = model is null ? [] : new float[model.Card.Window * _features.Count];
            _modelShares = new float[_features.Count];
            _windowFilled = 0;
            _statisticalScore = null;
        }
    }

    /// <summary>Takes one sample of the line's pipeline.</summary>
    public void Add(in LineSample sample) =>
        Add(sample.SignalIndex, new DateTimeOffset(DateTime.SpecifyKind(sample.Time, DateTimeKind.Utc)).ToUnixTimeMilliseconds(), sample.Value, sample.Expected, sample.Status == 0);

    /// <summary>Takes one sample: the signal's index in the definition, its time (Unix ms), real and expected values.</summary>
    public void Add(int signalIndex, long timeMs, double? real, double? expected, bool good)
    {
        lock (_lock)
        {
            _builder.Add(signalIndex, timeMs, real, expected, good, this);
            var feature = _features.FeatureOf(signalIndex);
            if (feature >= 0)
            {
                _lastReal[feature] = good && real is { } r ? r : double.NaN;
                _lastExpected[feature] = expected ?? double.NaN;
            }
        }
    }

    void IFrameSink.Frame(long endMs, ReadOnlySpan<float> frame)
    {
        _frames++;
        _framesSinceStart++;
        _lastFrameMs = endMs;
        var time = DateTimeOffset.FromUnixTimeMilliseconds(endMs);
        _physicsScore = _physics.Add(frame, _meanResidual, _physicsShares);
        var top = (Signal: (string?)null, Share: 0.0);
        if (_physics.Ready)
        {
            Observe(Authority.Physics, "physics", null, time, _physicsScore, _physicsShares);
            top = Top(_physicsShares);
        }

        if (_model is { } model)
        {
            var width = _features.Count;
            var span = _window.AsSpan();
            span[width..].CopyTo(span); // slide one frame
            frame.CopyTo(span[^width..]);
            _windowFilled = Math.Min(_windowFilled + 1, model.Card.Window);
            if (_windowFilled >= model.Card.Window)
            {
                Span<float> score = stackalloc float[1];
                model.Scorer.Score(_window, 1, score, _modelShares);
                _statisticalScore = score[0];
                Observe(Authority.Statistical, model.Card.Kind.ToString().ToLowerInvariant(), model.Version, time, score[0], _modelShares);
                top = Top(_modelShares);
            }
        }

        FrameScored?.Invoke(new FrameScore(endMs, _physicsScore, _statisticalScore, top.Signal, top.Share));
    }

    void IFrameSink.Gap(long lastEndMs, long resumeMs)
    {
        // Stale data must not be judged: both windows start again.
        _physics.Reset();
        _windowFilled = 0;
        _framesSinceStart = 0;
    }

    /// <summary>A copy of the line's current figures.</summary>
    public LineDriftStatus Status()
    {
        lock (_lock)
        {
            return new LineDriftStatus(Line, _physicsScore, _statisticalScore, _model?.Version,
                _lastFrameMs == long.MinValue ? null : DateTimeOffset.FromUnixTimeMilliseconds(_lastFrameMs), _frames, _features.Names,
                [.. _meanResidual.Select((m, f) => float.IsNaN(m) ? double.NaN : m * _features.Scales[f])], [.. _features.Tolerances]);
        }
    }

    private void Observe(Authority authority, string detector, string? version, DateTimeOffset time, double score, ReadOnlySpan<float> shares)
    {
        if (_engine is null || _framesSinceStart <= _options.WarmupFrames)
        {
            return;
        }

        var events = _engine.Observe(Line, authority, detector, version, time, score, score >= _engine.Rules.Threshold ? Contributors(shares) : []);
        if (_onEvent is not null)
        {
            foreach (var e in events)
            {
                _onEvent(e);
            }
        }
    }

    /// <summary>Every signal with a share, with its latest real and expected values; the alert engine orders them and keeps the largest.</summary>
    private AlertContributor[] Contributors(ReadOnlySpan<float> shares)
    {
        var result = new List<AlertContributor>();
        for (var f = 0; f < shares.Length; f++)
        {
            if (shares[f] > 0)
            {
                result.Add(new AlertContributor(_features.Names[f], shares[f], Finite(_lastReal[f]), Finite(_lastExpected[f])));
            }
        }

        return [.. result];
    }

    private (string? Signal, double Share) Top(ReadOnlySpan<float> shares)
    {
        var best = -1;
        for (var f = 0; f < shares.Length; f++)
        {
            if (shares[f] > 0 && (best < 0 || shares[f] > shares[best]))
            {
                best = f;
            }
        }

        return best < 0 ? (null, 0) : (_features.Names[best], shares[best]);
    }

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;
}
