namespace TwinGateway.Drift.Features;

/// <summary>Where closed frames go.</summary>
public interface IFrameSink
{
    /// <summary>A frame ending at <paramref name="endMs"/> (Unix ms, exclusive); the span is only valid during the call.</summary>
    void Frame(long endMs, ReadOnlySpan<float> frame);

    /// <summary>The samples stopped for longer than <see cref="FrameBuilder.MaxHeldFrames"/> intervals before <paramref name="resumeMs"/>.</summary>
    void Gap(long lastEndMs, long resumeMs);
}

/// <summary>
/// Turns a line's samples (in time order) into frames at a fixed interval: each frame holds, per feature, the residual
/// of the signal's latest real value against the twin's expected value of the same sample, scaled
/// (<see cref="LineFeatures"/>); NaN where the signal has no usable pair yet, and where the signal depends on its
/// station's state and the station is not in the same state on the line and in the twin (<see cref="LineFeatures.StationOfFeature"/>). A frame closes when a sample at or after
/// its end arrives. A gap longer than <see cref="MaxHeldFrames"/> intervals is not filled with held values: the
/// builder says so (<see cref="IFrameSink.Gap"/>) so windows restart instead of scoring stale data.
/// </summary>
public sealed class FrameBuilder
{
    /// <summary>Frames held over a silence before it counts as a gap.</summary>
    public const int MaxHeldFrames = 30;

    private readonly LineFeatures _features;
    private readonly long _intervalMs;
    private readonly float[] _latest;
    private readonly float[] _frame;
    private readonly double[] _realState;
    private readonly double[] _expectedState;
    private readonly long[] _equalSince;
    private long _frameEnd = long.MinValue;

    public FrameBuilder(LineFeatures features, TimeSpan interval)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (interval < TimeSpan.FromMilliseconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(interval), interval, "the frame interval must be at least 1 ms");
        }

        _features = features;
        _intervalMs = (long)interval.TotalMilliseconds;
        _latest = new float[features.Count];
        Array.Fill(_latest, float.NaN);
        _frame = new float[features.Count];
        _realState = new double[features.Stations];
        _expectedState = new double[features.Stations];
        Array.Fill(_realState, double.NaN);
        Array.Fill(_expectedState, double.NaN);
        _equalSince = new long[features.Stations];
        Array.Fill(_equalSince, long.MaxValue);
    }

    public LineFeatures Features => _features;

    public TimeSpan Interval => TimeSpan.FromMilliseconds(_intervalMs);

    /// <summary>
    /// Takes one sample of the signal at <paramref name="signalIndex"/> (its index in the line definition), closing
    /// the frames that end at or before its time first.
    /// </summary>
    public void Add(int signalIndex, long timeMs, double? real, double? expected, bool good, IFrameSink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        Advance(timeMs, sink);
        if (_features.StationOfStateSignal(signalIndex) is var station and >= 0)
        {
            var wasEqual = _equalSince[station] != long.MaxValue;
            _realState[station] = good && real is { } rs ? rs : double.NaN;
            _expectedState[station] = expected ?? double.NaN;
            var equal = _realState[station] == _expectedState[station];
            _equalSince[station] = !equal ? long.MaxValue : wasEqual ? _equalSince[station] : timeMs;
        }

        var feature = _features.FeatureOf(signalIndex);
        if (feature < 0)
        {
            return;
        }

        _latest[feature] = good && real is { } r && expected is { } e && double.IsFinite(r) && double.IsFinite(e)
            ? (float)((r - e) / _features.Scales[feature])
            : float.NaN;
    }

    /// <summary>Closes every frame that ends at or before <paramref name="timeMs"/> (a clock tick with no samples).</summary>
    public void Advance(long timeMs, IFrameSink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        if (_frameEnd == long.MinValue)
        {
            _frameEnd = (Math.DivRem(timeMs, _intervalMs, out _) + 1) * _intervalMs;
            return;
        }

        if (timeMs < _frameEnd)
        {
            return;
        }

        var due = (timeMs - _frameEnd) / _intervalMs + 1;
        if (due > MaxHeldFrames)
        {
            // A silence: close the frame in progress, then skip to the one the new sample falls in.
            sink.Frame(_frameEnd, Masked(_frameEnd));
            var last = _frameEnd;
            _frameEnd = (timeMs / _intervalMs + 1) * _intervalMs;
            sink.Gap(last, _frameEnd - _intervalMs);
            return;
        }

        for (var i = 0; i < due; i++)
        {
            sink.Frame(_frameEnd, Masked(_frameEnd));
            _frameEnd += _intervalMs;
        }
    }

    /// <summary>
    /// The latest residuals, with NaN for a state-dependent feature whose station is not in the same state in both, or
    /// has not been for the feature's settling time (<see cref="LineFeatures.SettleMilliseconds"/>).
    /// </summary>
    private float[] Masked(long frameEnd)
    {
        for (var f = 0; f < _latest.Length; f++)
        {
            var station = _features.StationOfFeature(f);
            // Unknown states (NaN) never count as equal, so they mask too.
            _frame[f] = station < 0 || (_equalSince[station] != long.MaxValue && frameEnd - _equalSince[station] >= _features.SettleMilliseconds(f))
                ? _latest[f]
                : float.NaN;
        }

        return _frame;
    }
}
