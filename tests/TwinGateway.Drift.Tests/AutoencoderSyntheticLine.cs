using System.Collections.Immutable;
using TwinGateway.Drift.Models;

namespace TwinGateway.Drift.Tests;

/// <summary>
/// A line whose features are driven by a few latent factors: each factor a smooth AR(1) process, each feature a seeded
/// random mix of the factors plus its own offset, gain and a little independent noise. Healthy frames keep the
/// correlations; a feature that breaks them stands out to a model that learned them.
/// </summary>
internal sealed class AutoencoderSyntheticLine
{
    private const double Persistence = 0.95;
    private const double Noise = 0.1;

    private readonly double[,] _loadings;
    private readonly double[] _offset;
    private readonly double[] _gain;
    private readonly double[] _latent;
    private readonly Random _random;

    public AutoencoderSyntheticLine(int features, int factors, int seed)
    {
        _random = new Random(seed);
        Features = features;
        _loadings = new double[features, factors];
        _offset = new double[features];
        _gain = new double[features];
        _latent = new double[factors];
        for (var f = 0; f < features; f++)
        {
            for (var k = 0; k < factors; k++)
            {
                _loadings[f, k] = Gaussian(_random);
            }

            _offset[f] = (_random.NextDouble() * 20) - 10;
            _gain[f] = 0.5 + (_random.NextDouble() * 3);
        }
    }

    public int Features { get; }

    public ImmutableArray<string> Columns => [.. Enumerable.Range(0, Features).Select(f => $"s{f}:residual")];

    /// <summary>The next <paramref name="rows"/> frames (the factors carry on from the previous call).</summary>
    public FrameMatrix Next(int rows)
    {
        var data = new float[rows * Features];
        var innovation = Math.Sqrt(1 - (Persistence * Persistence));
        for (var r = 0; r < rows; r++)
        {
            for (var k = 0; k < _latent.Length; k++)
            {
                _latent[k] = (Persistence * _latent[k]) + (innovation * Gaussian(_random));
            }

            for (var f = 0; f < Features; f++)
            {
                var x = Noise * Gaussian(_random);
                for (var k = 0; k < _latent.Length; k++)
                {
                    x += _loadings[f, k] * _latent[k];
                }

                data[(r * Features) + f] = (float)(_offset[f] + (_gain[f] * x));
            }
        }

        return new FrameMatrix(Columns, data);
    }

    public static double Gaussian(Random random)
    {
        var u = 1 - random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * random.NextDouble());
    }

    /// <summary>Windows ending at every row from <c>window - 1</c> on, back to back (the layout Score takes).</summary>
    public static (float[] Windows, int Count) AllWindows(FrameMatrix frames, int window)
    {
        var count = frames.Rows - window + 1;
        var windows = new float[count * window * frames.Width];
        TrainingData.CopyWindows(frames, window, window - 1, count, windows);
        return (windows, count);
    }

    public static ModelCard Card(DriftModel model, FrameMatrix healthy) => new(
        Line: "test-line",
        Version: "1",
        Kind: model.Kind,
        Features: model.Features,
        Window: model.Window,
        FrameMilliseconds: 1000,
        Mean: [.. model.Mean],
        Scale: [.. model.Scale],
        Threshold: model.Metrics.Threshold,
        ThresholdQuantile: 0.999,
        ThresholdMargin: 1.25,
        TrainedFrom: new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero),
        TrainedTo: new DateTimeOffset(2026, 1, 2, 0, 0, 0, TimeSpan.Zero),
        TrainingDataHash: TrainingData.Hash(healthy),
        TrainedAt: new DateTimeOffset(2026, 1, 3, 0, 0, 0, TimeSpan.Zero),
        TrainedBy: "test",
        Metrics: model.Metrics);
}
