using System.Collections.Immutable;
using TwinGateway.Drift.Models;

namespace TwinGateway.Drift.Tests.Evaluation;

/// <summary>
/// A real, simple detector for the evaluator's tests: the raw score of a window is the largest per-feature |z-score|
/// in it (standardised on the fit rows, NaN counted as the mean), the threshold learned on the held-back rows through
/// <see cref="TrainingData"/> like the production trainers. It computes every score; nothing is hard-coded.
/// </summary>
internal sealed class ZScoreTrainer : IDriftModelTrainer
{
    public ModelKind Kind => ModelKind.Pca;

    public DriftModel Train(FrameMatrix healthy, TrainingOptions options, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var (fit, holdBack) = TrainingData.Split(healthy.Rows, options);
        var (mean, scale) = TrainingData.Standardisation(healthy, fit);
        if (scale.All(s => s <= TrainingData.ScaleFloor))
        {
            throw new ArgumentException("no column has any variance in the training rows");
        }

        var unscaled = new ZScoreModel(options.Window, healthy.Columns, mean, scale, 1.0);
        var windows = new float[holdBack * options.Window * healthy.Width];
        TrainingData.CopyWindows(healthy, options.Window, fit, holdBack, windows);
        var scores = new float[holdBack];
        unscaled.Score(windows, holdBack, scores, new float[holdBack * healthy.Width]);
        var (threshold, quantile) = TrainingData.Threshold(scores, options);
        return new ZScoreModel(options.Window, healthy.Columns, mean, scale, threshold, fit, holdBack, quantile);
    }

    private sealed class ZScoreModel(int window, ImmutableArray<string> features, float[] mean, float[] scale, double threshold, int fitRows = 0, int holdBackRows = 0, double quantile = 0)
        : DriftModel(ModelKind.Pca, window, features, mean, scale, new ModelMetrics(fitRows, holdBackRows, threshold, quantile, ImmutableDictionary<string, string>.Empty))
    {
        public override void Score(ReadOnlySpan<float> windows, int count, Span<float> scores, Span<float> contributions)
        {
            var width = Features.Length;
            var length = Window * width;
            for (var n = 0; n < count; n++)
            {
                var perFeature = contributions.Slice(n * width, width);
                perFeature.Clear();
                var values = windows.Slice(n * length, length);
                for (var i = 0; i < length; i++)
                {
                    var c = i % width;
                    var z = float.IsNaN(values[i]) ? 0 : Math.Abs((values[i] - Mean[c]) / Scale[c]);
                    perFeature[c] = Math.Max(perFeature[c], z);
                }

                var max = 0f;
                var sum = 0f;
                foreach (var z in perFeature)
                {
                    max = Math.Max(max, z);
                    sum += z;
                }

                for (var c = 0; c < width; c++)
                {
                    perFeature[c] = sum > 0 ? perFeature[c] / sum : 1f / width;
                }

                scores[n] = (float)(max / Metrics.Threshold);
            }
        }

        public override byte[] ExportOnnx(ModelCard card) => throw new NotSupportedException("the test detector has no ONNX graph");
    }
}
