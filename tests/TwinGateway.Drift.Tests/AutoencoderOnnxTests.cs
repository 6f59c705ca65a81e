using System.Collections.Immutable;
using Microsoft.ML.OnnxRuntime;
using TwinGateway.Drift.Models;

namespace TwinGateway.Drift.Tests;

/// <summary>The exported graph against the managed score, on ONNX Runtime's CPU provider.</summary>
public sealed class AutoencoderOnnxTests(AutoencoderLineFixture fixture) : IClassFixture<AutoencoderLineFixture>
{
    /// <summary>The contract's float tolerance: relative, with an absolute floor for values near 0 (tiny shares, scores of near-perfect reconstructions).</summary>
    private const float Relative = 1e-4f;
    private const float Floor = 1e-6f;

    [Fact]
    public void The_trained_model_scores_the_same_in_onnx_runtime_with_and_without_missing_values()
    {
        var model = fixture.Model;
        var (windows, count) = AutoencoderSyntheticLine.AllWindows(fixture.Fresh, model.Window);
        count = Math.Min(count, 200);
        windows = windows.AsSpan(0, count * model.Window * model.Features.Length).ToArray();
        var random = new Random(4);
        for (var i = 0; i < windows.Length; i += 1 + random.Next(40))
        {
            windows[i] = float.NaN;
        }

        var healthy = fixture.Healthy;
        AssertAgreement(model, model.ExportOnnx(AutoencoderSyntheticLine.Card(model, healthy)), windows, count);
    }

    [Theory]
    [InlineData(8, 10)]
    [InlineData(64, 10)]
    [InlineData(30, 7)]
    [InlineData(30, 10)]
    [InlineData(300, 10)]
    [InlineData(1, 3)]
    public void Every_pooling_shape_scores_the_same_in_onnx_runtime(int features, int window)
    {
        var random = new Random((features * 100) + window);
        var model = RandomModel(features, window, random);
        var count = 37;
        var windows = new float[count * window * features];
        for (var i = 0; i < windows.Length; i++)
        {
            var f = i % features;
            windows[i] = model.Mean[f] + (model.Scale[f] * (float)AutoencoderSyntheticLine.Gaussian(random));
        }

        // A window that is all missing, and one with a missing frame.
        windows.AsSpan(0, window * features).Fill(float.NaN);
        windows.AsSpan(window * features, features).Fill(float.NaN);
        AssertAgreement(model, model.ExportOnnx(Card(model)), windows, count);
    }

    [Fact]
    public void A_perfect_reconstruction_scores_zero_with_uniform_contributions_in_both()
    {
        // All weights and biases 0 reconstruct 0, which is exactly a window at the training mean.
        var model = RandomModel(5, 4, new Random(1));
        Array.Clear(model.Network.Parameters);
        var windows = new float[2 * 4 * 5];
        for (var i = 0; i < windows.Length; i++)
        {
            windows[i] = i < 20 ? model.Mean[i % 5] : float.NaN;
        }

        var (scores, contributions) = Managed(model, windows, 2);
        Assert.Equal([0f, 0f], scores);
        Assert.All(contributions, c => Assert.Equal(0.2f, c));
        AssertAgreement(model, model.ExportOnnx(Card(model)), windows, 2);
    }

    [Fact]
    public void Managed_contributions_are_shares_summing_to_one()
    {
        var model = fixture.Model;
        var (windows, count) = AutoencoderSyntheticLine.AllWindows(fixture.Fresh, model.Window);
        var (_, contributions) = Managed(model, windows, count);
        var features = model.Features.Length;
        for (var i = 0; i < count; i++)
        {
            var row = contributions.AsSpan(i * features, features);
            Assert.True(row.ToArray().All(c => c >= 0), $"window {i} has a negative share");
            Assert.Equal(1.0, row.ToArray().Sum(), 4);
        }
    }

    private static AutoencoderModel RandomModel(int features, int window, Random random)
    {
        var slots = AutoencoderModel.SlotsFor(window, features);
        var inputs = slots * features;
        var network = new AutoencoderNetwork<float>(inputs, AutoencoderModel.HiddenFor(inputs), AutoencoderModel.BottleneckFor(inputs));
        network.Initialise(random);
        for (var i = 0; i < network.Parameters.Length; i++)
        {
            network.Parameters[i] += 0.05f * (float)AutoencoderSyntheticLine.Gaussian(random);
        }

        var mean = Enumerable.Range(0, features).Select(_ => (float)((random.NextDouble() * 200) - 100)).ToArray();
        var scale = Enumerable.Range(0, features).Select(_ => (float)(0.01 + (random.NextDouble() * 5))).ToArray();
        var names = Enumerable.Range(0, features).Select(f => $"f{f}").ToImmutableArray();
        var metrics = new ModelMetrics(1000, 300, 0.37, 0.3, ImmutableDictionary<string, string>.Empty);
        return new AutoencoderModel(window, names, mean, scale, metrics, slots, network);
    }

    private static ModelCard Card(AutoencoderModel model) =>
        AutoencoderSyntheticLine.Card(model, new FrameMatrix(model.Features, new float[model.Features.Length]));

    private static (float[] Scores, float[] Contributions) Managed(DriftModel model, float[] windows, int count)
    {
        var scores = new float[count];
        var contributions = new float[count * model.Features.Length];
        model.Score(windows, count, scores, contributions);
        return (scores, contributions);
    }

    private static void AssertAgreement(DriftModel model, byte[] onnx, float[] windows, int count)
    {
        var features = model.Features.Length;
        var (scores, contributions) = Managed(model, windows, count);

        using var session = new InferenceSession(onnx);
        using var input = OrtValue.CreateTensorValueFromMemory(windows, [count, model.Window, features]);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, ["window"], [input], ["score", "contributions"]);
        var onnxScores = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        var onnxContributions = outputs[1].GetTensorDataAsSpan<float>().ToArray();
        Assert.Equal([count], outputs[0].GetTensorTypeAndShape().Shape);
        Assert.Equal([count, features], outputs[1].GetTensorTypeAndShape().Shape);

        for (var i = 0; i < count; i++)
        {
            Close(scores[i], onnxScores[i], $"score of window {i}");
            for (var f = 0; f < features; f++)
            {
                var k = (i * features) + f;
                Close(contributions[k], onnxContributions[k], $"contribution of feature {f} in window {i}");
            }
        }
    }

    private static void Close(float managed, float onnx, string what)
    {
        Assert.True(float.IsFinite(managed) && float.IsFinite(onnx), $"{what}: managed {managed}, ONNX {onnx}");
        var tolerance = Math.Max(Floor, Relative * Math.Max(Math.Abs(managed), Math.Abs(onnx)));
        Assert.True(Math.Abs(managed - onnx) <= tolerance, $"{what}: managed {managed:R}, ONNX {onnx:R}");
    }
}
