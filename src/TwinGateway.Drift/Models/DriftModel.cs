using System.Collections.Immutable;

namespace TwinGateway.Drift.Models;

/// <summary>The kinds of learned model; the name is what <c>--model</c> takes and what a model file records.</summary>
public enum ModelKind
{
    /// <summary>Principal component subspace with Hotelling's T-squared and the Q (SPE) statistic.</summary>
    Pca,

    /// <summary>A small MLP autoencoder over windows, trained in managed code; the score is its reconstruction error.</summary>
    Autoencoder,
}

/// <summary>How a model is trained. Every field has a stated default; none is tuned on held-out data.</summary>
/// <param name="Window">Frames per window (the model's input is <c>Window x Features</c>).</param>
/// <param name="HoldBackFraction">The trailing share of the healthy frames kept out of fitting; the threshold is learned on it.</param>
/// <param name="ThresholdQuantile">The quantile of the held-back scores the threshold starts from.</param>
/// <param name="ThresholdMargin">The factor the quantile is multiplied by to give the threshold.</param>
/// <param name="Seed">Seeds every random draw of the training (initial weights, shuffling): the same data and seed give the same model.</param>
public sealed record TrainingOptions(
    int Window = 10,
    double HoldBackFraction = 0.25,
    double ThresholdQuantile = 0.999,
    double ThresholdMargin = 1.25,
    int Seed = 1);

/// <summary>How far a training run is (for the progress stream and bar).</summary>
/// <param name="Stage">What it does now ("fitting", "epoch 3/40", "thresholds").</param>
/// <param name="Fraction">0 to 1.</param>
public readonly record struct TrainingProgress(string Stage, double Fraction);

/// <summary>Figures of a training run, recorded in the model file and shown by <c>drift models</c>.</summary>
/// <param name="FitRows">Frames the model was fitted on.</param>
/// <param name="HoldBackRows">Frames the threshold was learned on.</param>
/// <param name="Threshold">The raw score at which the normalised score is 1.</param>
/// <param name="HoldBackQuantile">The held-back scores' <see cref="TrainingOptions.ThresholdQuantile"/> quantile before the margin.</param>
/// <param name="Details">Model-specific figures (components and explained variance, final loss, epochs), invariant-culture text.</param>
public sealed record ModelMetrics(int FitRows, int HoldBackRows, double Threshold, double HoldBackQuantile, ImmutableDictionary<string, string> Details);

/// <summary>
/// A trained model in memory: scores windows in managed code and exports itself as one ONNX graph holding the whole
/// scoring path. Both follow one contract, so the managed score and ONNX Runtime's agree within float tolerance:
/// <list type="bullet">
/// <item>input <c>window</c>: float <c>[N, Window, Features]</c>, raw feature values (NaN = missing, replaced by the feature's training mean);</item>
/// <item>output <c>score</c>: float <c>[N]</c>, the raw score divided by <see cref="ModelMetrics.Threshold"/> (1 = the threshold);</item>
/// <item>output <c>contributions</c>: float <c>[N, Features]</c>, each feature's non-negative share of the raw score, summing to 1 per row (uniform when the score is 0).</item>
/// </list>
/// Standardisation (per feature: <c>(x - Mean) / Scale</c>) is the first stage of both.
/// </summary>
public abstract class DriftModel
{
    protected DriftModel(ModelKind kind, int window, ImmutableArray<string> features, float[] mean, float[] scale, ModelMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(scale);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        if (mean.Length != features.Length || scale.Length != features.Length)
        {
            throw new ArgumentException($"{features.Length} features but {mean.Length} means and {scale.Length} scales");
        }

        Kind = kind;
        Window = window;
        Features = features;
        Mean = mean;
        Scale = scale;
        Metrics = metrics;
    }

    public ModelKind Kind { get; }

    public int Window { get; }

    public ImmutableArray<string> Features { get; }

    /// <summary>Per-feature training mean.</summary>
    public float[] Mean { get; }

    /// <summary>Per-feature training standard deviation (a floor keeps constant features from dividing by zero).</summary>
    public float[] Scale { get; }

    public ModelMetrics Metrics { get; }

    /// <summary>
    /// Scores <paramref name="count"/> windows laid out back to back in <paramref name="windows"/>
    /// (<c>count * Window * Features</c> values) into <paramref name="scores"/> (<c>count</c>) and
    /// <paramref name="contributions"/> (<c>count * Features</c>). Thread-safe; allocation-free in steady state.
    /// </summary>
    public abstract void Score(ReadOnlySpan<float> windows, int count, Span<float> scores, Span<float> contributions);

    /// <summary>The whole scoring path as an ONNX graph (opset 17), with <paramref name="card"/> in its metadata.</summary>
    public abstract byte[] ExportOnnx(ModelCard card);
}

/// <summary>Trains one kind of model on healthy frames.</summary>
public interface IDriftModelTrainer
{
    ModelKind Kind { get; }

    /// <summary>
    /// Fits on the leading <c>1 - HoldBackFraction</c> of <paramref name="healthy"/> and learns the threshold on the
    /// rest. Throws <see cref="ArgumentException"/> naming the problem when the data cannot train a model (too few rows
    /// for the window and the hold-back, no column with any variance).
    /// </summary>
    DriftModel Train(FrameMatrix healthy, TrainingOptions options, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default);
}
