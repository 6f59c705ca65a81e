using System.Collections.Immutable;
using TwinGateway.Drift.Models;

namespace TwinGateway.Drift.Tests;

/// <summary>Correlated frames: a few slow latent factors (AR(1)) mixed into every feature, plus independent noise.</summary>
internal sealed class PcaTestData
{
    private readonly double[,] _loadings;
    private readonly double[] _offsets;
    private readonly double[] _gains;

    public PcaTestData(int features, int factors = 3, int seed = 7, double noise = 0.15)
    {
        Features = features;
        Factors = factors;
        Noise = noise;
        var random = new Random(seed);
        _loadings = new double[features, factors];
        _offsets = new double[features];
        _gains = new double[features];
        for (var f = 0; f < features; f++)
        {
            for (var j = 0; j < factors; j++)
            {
                _loadings[f, j] = Gaussian(random);
            }

            // Different means and units per feature, so standardisation matters.
            _offsets[f] = 10 * Gaussian(random);
            _gains[f] = 0.5 + (3 * random.NextDouble());
        }

        Columns = [.. Enumerable.Range(0, features).Select(f => $"sig{f}:residual")];
    }

    public int Features { get; }

    public int Factors { get; }

    public double Noise { get; }

    public ImmutableArray<string> Columns { get; }

    /// <summary><paramref name="rows"/> healthy frames drawn with <paramref name="seed"/>.</summary>
    public FrameMatrix Frames(int rows, int seed)
    {
        var random = new Random(seed);
        var latent = new double[Factors];
        var data = new float[rows * Features];
        for (var r = 0; r < rows; r++)
        {
            for (var j = 0; j < Factors; j++)
            {
                latent[j] = (0.9 * latent[j]) + (Math.Sqrt(1 - 0.81) * Gaussian(random));
            }

            for (var f = 0; f < Features; f++)
            {
                var x = Noise * Gaussian(random);
                for (var j = 0; j < Factors; j++)
                {
                    x += _loadings[f, j] * latent[j];
                }

                data[(r * Features) + f] = (float)(_offsets[f] + (_gains[f] * x));
            }
        }

        return new FrameMatrix(Columns, data);
    }

    /// <summary>All windows of <paramref name="frames"/>, back to back.</summary>
    public static (float[] Windows, int Count) AllWindows(FrameMatrix frames, int window)
    {
        var count = frames.Rows - window + 1;
        var windows = new float[count * window * frames.Width];
        TrainingData.CopyWindows(frames, window, window - 1, count, windows);
        return (windows, count);
    }

    public static ModelCard Card(DriftModel model, string line = "line-a", string version = "1") => new(
        line,
        version,
        model.Kind,
        model.Features,
        model.Window,
        100,
        [.. model.Mean],
        [.. model.Scale],
        model.Metrics.Threshold,
        0.999,
        1.25,
        new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero),
        new DateTimeOffset(2026, 1, 2, 0, 0, 0, TimeSpan.Zero),
        "abc123",
        new DateTimeOffset(2026, 1, 3, 0, 0, 0, TimeSpan.Zero),
        "tester",
        model.Metrics);

    private static double Gaussian(Random random)
    {
        var u1 = 1 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
