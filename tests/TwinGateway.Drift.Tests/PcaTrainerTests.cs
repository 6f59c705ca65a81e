using System.Security.Cryptography;
using TwinGateway.Drift.Models;

namespace TwinGateway.Drift.Tests;

public sealed class PcaTrainerTests
{
    private const int Window = 10;

    private static readonly TrainingOptions Options = new(Window: Window);

    [Fact]
    public void Healthy_windows_score_below_one_and_a_broken_feature_scores_above_one_as_the_top_contributor()
    {
        var data = new PcaTestData(features: 12);
        var model = (PcaModel)new PcaTrainer().Train(data.Frames(6000, seed: 11), Options);
        Assert.InRange(model.Components, 1, model.Dims - 1);

        var (healthy, count) = PcaTestData.AllWindows(data.Frames(3000, seed: 12), Window);
        var scores = new float[count];
        var contributions = new float[count * data.Features];
        model.Score(healthy, count, scores, contributions);
        var falseAlarms = scores.Count(s => s > 1) / (double)count;

        // The threshold is the 0.999 quantile times 1.25: fresh healthy data should almost never cross it.
        Assert.True(falseAlarms <= 0.01, $"false-alarm share {falseAlarms:P2} on fresh healthy data");
        Assert.True(scores.Average() < 0.5, $"mean healthy score {scores.Average()}");

        const int broken = 4;
        var frames = data.Frames(3000, seed: 13);
        var sigma = model.Scale[broken];
        for (var r = 0; r < frames.Rows; r++)
        {
            frames.Data[(r * frames.Width) + broken] += 4 * sigma;
        }

        var (drifted, _) = PcaTestData.AllWindows(frames, Window);
        model.Score(drifted, count, scores, contributions);
        var detected = scores.Count(s => s > 1) / (double)count;
        Assert.True(detected >= 0.95, $"only {detected:P1} of the windows with feature {broken} off by 4 sigma score above 1");

        var topIsBroken = 0;
        for (var i = 0; i < count; i++)
        {
            var row = contributions.AsSpan(i * data.Features, data.Features);
            if (row.IndexOf(Max(row)) == broken)
            {
                topIsBroken++;
            }
        }

        Assert.True(topIsBroken >= 0.95 * count, $"feature {broken} is the top contributor in only {topIsBroken} of {count} windows");
    }

    [Fact]
    public void Contributions_are_non_negative_shares_that_sum_to_one()
    {
        var data = new PcaTestData(features: 30);
        var model = new PcaTrainer().Train(data.Frames(2000, seed: 1), Options);
        var (windows, count) = PcaTestData.AllWindows(data.Frames(300, seed: 2), Window);
        var scores = new float[count];
        var contributions = new float[count * data.Features];
        model.Score(windows, count, scores, contributions);
        for (var i = 0; i < count; i++)
        {
            var row = contributions.AsSpan(i * data.Features, data.Features);
            Assert.True(Min(row) >= 0, $"window {i} has a negative share");
            Assert.Equal(1.0, Sum(row), 4);
            Assert.True(scores[i] >= 0 && float.IsFinite(scores[i]));
        }
    }

    [Fact]
    public void A_missing_value_scores_as_the_features_training_mean()
    {
        var data = new PcaTestData(features: 20);
        var model = new PcaTrainer().Train(data.Frames(2000, seed: 3), Options);
        var (windows, _) = PcaTestData.AllWindows(data.Frames(Window, seed: 4), Window);
        var withMean = (float[])windows.Clone();
        var withNaN = (float[])windows.Clone();
        foreach (var (frame, feature) in new[] { (0, 3), (5, 3), (9, 17), (2, 0) })
        {
            withNaN[(frame * data.Features) + feature] = float.NaN;
            withMean[(frame * data.Features) + feature] = model.Mean[feature];
        }

        var a = new float[1];
        var b = new float[1];
        var ca = new float[data.Features];
        var cb = new float[data.Features];
        model.Score(withNaN, 1, a, ca);
        model.Score(withMean, 1, b, cb);
        Assert.Equal(b[0], a[0], 5);
        for (var f = 0; f < data.Features; f++)
        {
            Assert.Equal(cb[f], ca[f], 5);
        }

        Assert.NotEqual(a[0], Score(model, windows));
    }

    [Theory]
    [InlineData(10, 200, 2)]
    [InlineData(10, 400, 1)]
    [InlineData(10, 60, 5)]
    [InlineData(10, 12, 10)]
    [InlineData(12, 100, 4)]
    [InlineData(1, 1, 1)]
    public void Windows_pool_into_equal_slots_of_at_most_512_values(int window, int features, int slots)
    {
        Assert.Equal(slots, PcaModel.PoolSlots(window, features));
    }

    [Fact]
    public void The_pooling_components_and_limits_are_recorded_in_the_metrics()
    {
        var data = new PcaTestData(features: 60);
        var model = (PcaModel)new PcaTrainer().Train(data.Frames(1000, seed: 5), Options);
        var details = model.Metrics.Details;
        Assert.Equal("5", details["slots"]);
        Assert.Equal("2", details["framesPerSlot"]);
        Assert.Equal("300", details["pooledDims"]);
        Assert.Equal(model.Components.ToString(System.Globalization.CultureInfo.InvariantCulture), details["components"]);
        Assert.True(double.Parse(details["explainedVariance"], System.Globalization.CultureInfo.InvariantCulture) >= PcaTrainer.ExplainedVarianceTarget);
        Assert.Equal(750, model.Metrics.FitRows);
        Assert.Equal(250, model.Metrics.HoldBackRows);
        Assert.True(model.Metrics.Threshold > 0);
    }

    [Fact]
    public void Too_few_frames_are_refused_with_the_numbers()
    {
        var data = new PcaTestData(features: 8);
        var error = Assert.Throws<ArgumentException>(() => new PcaTrainer().Train(data.Frames(60, seed: 1), Options));
        Assert.Contains("60 healthy frames", error.Message, StringComparison.Ordinal);
        Assert.Contains("29", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constant_data_is_refused()
    {
        var columns = new PcaTestData(features: 5).Columns;
        var frames = new FrameMatrix(columns, Enumerable.Repeat(3f, 500 * 5).ToArray());
        var error = Assert.Throws<ArgumentException>(() => new PcaTrainer().Train(frames, Options));
        Assert.Contains("varies", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_data_give_the_same_model_file()
    {
        var data = new PcaTestData(features: 40);
        var first = new PcaTrainer().Train(data.Frames(1500, seed: 9), Options);
        var second = new PcaTrainer().Train(data.Frames(1500, seed: 9), Options);
        var other = new PcaTrainer().Train(data.Frames(1500, seed: 10), Options);
        var hash = Hash(first.ExportOnnx(PcaTestData.Card(first)));
        Assert.Equal(hash, Hash(second.ExportOnnx(PcaTestData.Card(second))));
        Assert.NotEqual(hash, Hash(other.ExportOnnx(PcaTestData.Card(other))));
    }

    [Fact]
    public void Export_refuses_a_card_of_another_model()
    {
        var data = new PcaTestData(features: 6);
        var model = new PcaTrainer().Train(data.Frames(800, seed: 1), Options);
        var card = PcaTestData.Card(model) with { Window = 5 };
        Assert.Throws<ArgumentException>(() => model.ExportOnnx(card));
    }

    private static float Score(DriftModel model, float[] window)
    {
        var score = new float[1];
        model.Score(window, 1, score, new float[model.Features.Length]);
        return score[0];
    }

    private static string Hash(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes));

    private static float Max(ReadOnlySpan<float> values) => System.Numerics.Tensors.TensorPrimitives.Max(values);

    private static float Min(ReadOnlySpan<float> values) => System.Numerics.Tensors.TensorPrimitives.Min(values);

    private static double Sum(ReadOnlySpan<float> values) => System.Numerics.Tensors.TensorPrimitives.Sum(values);
}
