namespace TwinGateway.Drift.Features;

/// <summary>
/// The physics authority's rule, no learning: per compared signal (<see cref="LineFeatures.IsPhysicsCompared"/>), the mean residual (real - expected) over the last
/// <see cref="WindowFrames"/> frames must stay within the signal's tolerance from the line definition
/// (<see cref="LineFeatures.Tolerances"/>). The mean, not the mean absolute value: the real line and its twin run the
/// same process but not in the same phase (a machine busy in one may be idle in the other), and those differences
/// average out while an offset, a gain error or a heating bearing does not. The normalised score of a feature is
/// |mean residual| / tolerance, or, where the definition states the signal's noise, the residual's variance against
/// what that noise explains (<see cref="SpreadFactor"/>), whichever is larger: a sensor that became noisier moves no
/// mean. The line's score is the largest, and each feature's share of the excess is its contribution. A feature needs <see cref="MinValidShare"/> of the window with values before it is scored.
/// </summary>
public sealed class PhysicsDetector
{
    /// <summary>The share of a window's frames a feature needs values in before it is scored.</summary>
    public const double MinValidShare = 0.8;

    /// <summary>
    /// How many times the standard deviation the stated noise explains the residual's spread may reach: the real sensor
    /// and the twin each carry the definition's noise, so a healthy residual spreads by about sqrt(2) times it; beyond
    /// twice that, the sensor has become noisier than its definition says (a loose connection, a failing transmitter).
    /// </summary>
    public const double SpreadFactor = 2;

    private readonly LineFeatures _features;
    private readonly float[] _ring;
    private readonly double[] _sum;
    private readonly double[] _sumSquares;
    private readonly double[] _spreadLimit;
    private readonly int[] _valid;
    private readonly double[] _toleranceScaled;
    private int _next;
    private int _filled;

    public PhysicsDetector(LineFeatures features, int windowFrames)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentOutOfRangeException.ThrowIfLessThan(windowFrames, 1);
        _features = features;
        WindowFrames = windowFrames;
        _ring = new float[windowFrames * features.Count];
        Array.Fill(_ring, float.NaN);
        _sum = new double[features.Count];
        _sumSquares = new double[features.Count];
        _spreadLimit = new double[features.Count];
        _valid = new int[features.Count];
        _toleranceScaled = new double[features.Count];
        for (var f = 0; f < features.Count; f++)
        {
            // The residuals in a frame are already divided by the scale; so is the tolerance here.
            _toleranceScaled[f] = features.Tolerances[f] / features.Scales[f];

            // The residual variance the stated noise explains (both sides noisy), times the allowed factor squared; 0: no spread rule.
            var noise = features.Noise(f) / features.Scales[f];
            _spreadLimit[f] = 2 * noise * noise * SpreadFactor * SpreadFactor;
        }
    }

    public int WindowFrames { get; }

    /// <summary>True once a whole window has been seen since the start or the last <see cref="Reset"/>.</summary>
    public bool Ready => _filled >= WindowFrames;

    /// <summary>Forgets the window (after a gap in the samples, or when the twin restarted).</summary>
    public void Reset()
    {
        Array.Fill(_ring, float.NaN);
        Array.Clear(_sum);
        Array.Clear(_sumSquares);
        Array.Clear(_valid);
        _next = 0;
        _filled = 0;
    }

    /// <summary>
    /// Adds a frame and scores the window ending with it: the line's normalised score (0 until <see cref="Ready"/>),
    /// and per feature its mean scaled residual (NaN when not scored) and its contribution (shares of the excess over
    /// the tolerance, summing to 1 when the score is at least 1, else all 0).
    /// </summary>
    public double Add(ReadOnlySpan<float> frame, Span<float> meanResidual, Span<float> contributions)
    {
        var count = _features.Count;
        var slot = _ring.AsSpan(_next * count, count);
        for (var f = 0; f < count; f++)
        {
            var old = slot[f];
            if (!float.IsNaN(old))
            {
                _sum[f] -= old;
                _sumSquares[f] -= (double)old * old;
                _valid[f]--;
            }

            var value = frame[f];
            slot[f] = value;
            if (!float.IsNaN(value))
            {
                _sum[f] += value;
                _sumSquares[f] += (double)value * value;
                _valid[f]++;
            }
        }

        _next = (_next + 1) % WindowFrames;
        _filled = Math.Min(_filled + 1, WindowFrames);

        var best = 0.0;
        var excess = 0.0;
        var need = (int)Math.Ceiling(MinValidShare * WindowFrames);
        for (var f = 0; f < count; f++)
        {
            contributions[f] = 0;
            if (!Ready || _valid[f] < need || !_features.IsPhysicsCompared(f))
            {
                meanResidual[f] = float.NaN;
                continue;
            }

            var mean = _sum[f] / _valid[f];
            meanResidual[f] = (float)mean;
            var score = Math.Abs(mean) / _toleranceScaled[f];
            if (_spreadLimit[f] > 0)
            {
                var variance = Math.Max(0, (_sumSquares[f] / _valid[f]) - (mean * mean));
                score = Math.Max(score, variance / _spreadLimit[f]);
            }
            best = Math.Max(best, score);
            if (score >= 1)
            {
                contributions[f] = (float)(score - 1 + 1e-9);
                excess += contributions[f];
            }
        }

        if (excess > 0)
        {
            for (var f = 0; f < count; f++)
            {
                contributions[f] = (float)(contributions[f] / excess);
            }
        }

        return best;
    }
}
