using Microsoft.Extensions.Logging;
using TwinGateway.Drift.Inference;
using TwinGateway.Drift.Models;

namespace TwinGateway.Drift.Tests;

public sealed class OnnxScorerTests
{
    private const int Window = 10;

    [Theory]
    [InlineData(60)]
    [InlineData(12)]
    [InlineData(600)]
    public void Onnx_runtime_scores_the_exported_pca_graph_like_the_managed_model(int features)
    {
        var data = new PcaTestData(features);
        var model = new PcaTrainer().Train(data.Frames(features > 512 ? 2400 : 1600, seed: 21), new TrainingOptions(Window: Window));
        var frames = data.Frames(200, seed: 22);
        var random = new Random(23);

        // Missing values here and there, a whole missing frame, and a drifted feature in the second half.
        for (var r = 0; r < frames.Rows; r++)
        {
            if (r >= 100)
            {
                frames.Data[(r * features) + 1] += 5 * model.Scale[1];
            }

            if (random.NextDouble() < 0.3)
            {
                frames.Data[(r * features) + random.Next(features)] = float.NaN;
            }
        }

        frames.Data.AsSpan(50 * features, features).Fill(float.NaN);
        var (windows, count) = PcaTestData.AllWindows(frames, Window);
        var managedScores = new float[count];
        var managedContributions = new float[count * features];
        model.Score(windows, count, managedScores, managedContributions);

        using var scorer = OnnxScorer.Load(model.ExportOnnx(PcaTestData.Card(model)), ExecutionProviders.Choose(forceCpu: true));
        var onnxScores = new float[count];
        var onnxContributions = new float[count * features];
        scorer.Score(windows, count, onnxScores, onnxContributions);

        Assert.Contains(managedScores, s => s > 1);
        for (var i = 0; i < count; i++)
        {
            AssertClose(managedScores[i], onnxScores[i], $"score of window {i}");
        }

        for (var i = 0; i < managedContributions.Length; i++)
        {
            AssertClose(managedContributions[i], onnxContributions[i], $"contribution {i % features} of window {i / features}");
        }
    }

    [Fact]
    public void Concurrent_calls_give_the_same_scores_as_one_call_managed_and_onnx()
    {
        var data = new PcaTestData(features: 40);
        var model = new PcaTrainer().Train(data.Frames(1500, seed: 31), new TrainingOptions(Window: Window));
        var (windows, count) = PcaTestData.AllWindows(data.Frames(400, seed: 32), Window);
        using var scorer = OnnxScorer.Load(model.ExportOnnx(PcaTestData.Card(model)), ExecutionProviders.Choose(forceCpu: true));
        var expected = new float[count];
        model.Score(windows, count, expected, new float[count * 40]);

        var managed = new float[count];
        var onnx = new float[count];
        var length = Window * 40;
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            var one = windows.AsSpan(i * length, length);
            model.Score(one, 1, managed.AsSpan(i, 1), new float[40]);
            scorer.Score(one, 1, onnx.AsSpan(i, 1), new float[40]);
        });

        for (var i = 0; i < count; i++)
        {
            Assert.Equal(expected[i], managed[i]);
            AssertClose(expected[i], onnx[i], $"score of window {i}");
        }
    }

    [Fact]
    public void Short_buffers_are_refused_and_an_empty_batch_is_a_no_op()
    {
        var data = new PcaTestData(features: 8);
        var model = new PcaTrainer().Train(data.Frames(800, seed: 1), new TrainingOptions(Window: Window));
        using var scorer = OnnxScorer.Load(model.ExportOnnx(PcaTestData.Card(model)), ExecutionProviders.Choose(forceCpu: true));
        var windows = new float[2 * Window * 8];
        var error = Assert.Throws<ArgumentException>(() => scorer.Score(windows, 3, new float[3], new float[24]));
        Assert.Contains("240 values", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => model.Score(windows, 2, new float[2], new float[15]));
        scorer.Score([], 0, [], []);
        model.Score([], 0, [], []);
    }

    [Fact]
    public void The_card_round_trips_through_the_model_file()
    {
        var data = new PcaTestData(features: 9);
        var model = new PcaTrainer().Train(data.Frames(800, seed: 1), new TrainingOptions(Window: Window));
        var card = PcaTestData.Card(model, "press-7", "3");
        var bytes = model.ExportOnnx(card);

        var read = ModelFile.ReadCard(bytes);
        Assert.Equal(card.ToJson(), read.ToJson());
        Assert.Equal(card.Features.ToArray(), read.Features.ToArray());
        Assert.Equal(card.Mean.ToArray(), read.Mean.ToArray());
        Assert.Equal(card.Metrics.Details, read.Metrics.Details);
        Assert.Equal(card.Threshold, read.Threshold);
        Assert.Equal(card.TrainedAt, read.TrainedAt);

        using var scorer = OnnxScorer.Load(bytes, ExecutionProviders.Choose(forceCpu: true));
        Assert.Equal(card.ToJson(), scorer.Card.ToJson());
        Assert.Equal(ModelKind.Pca, scorer.Card.Kind);
    }

    [Fact]
    public void A_file_without_a_card_or_not_onnx_is_refused()
    {
        Assert.Throws<FormatException>(() => ModelFile.ReadCard([1, 2, 3, 4, 5]));
        Assert.Throws<FormatException>(() => OnnxScorer.Load([1, 2, 3, 4, 5], ExecutionProviders.Choose(forceCpu: true)));
    }

    [Fact]
    public void Check_accepts_the_same_line_and_signals()
    {
        var card = Card("line-a", "s1", "s2", "s3");
        Assert.Null(ModelFile.Check(card, "line-a", ["s1", "s2", "s3"]));
    }

    [Fact]
    public void Check_refuses_another_line_naming_both()
    {
        var reason = ModelFile.Check(Card("line-a", "s1", "s2"), "line-b", ["s1", "s2"]);
        Assert.NotNull(reason);
        Assert.Contains("'line-a'", reason, StringComparison.Ordinal);
        Assert.Contains("'line-b'", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_refuses_a_changed_signal_list_naming_the_added_and_removed_signals()
    {
        var reason = ModelFile.Check(Card("line-a", "s1", "s2", "s3"), "line-a", ["s1", "s3", "s4"]);
        Assert.NotNull(reason);
        Assert.Contains("1 added ('s4')", reason, StringComparison.Ordinal);
        Assert.Contains("1 removed ('s2')", reason, StringComparison.Ordinal);

        var reordered = ModelFile.Check(Card("line-a", "s1", "s2", "s3"), "line-a", ["s1", "s3", "s2"]);
        Assert.NotNull(reordered);
        Assert.Contains("feature 1 is 's2' in the model but 's3'", reordered, StringComparison.Ordinal);
    }

    [Fact]
    public void The_provider_choice_is_made_once_with_a_reason_and_logged_once()
    {
        var logger = new ListLogger();
        var first = ExecutionProviders.Choose(logger: logger);
        var second = ExecutionProviders.Choose(logger: logger);
        Assert.Same(first, second);
        Assert.False(string.IsNullOrWhiteSpace(first.Reason));
        if (first.Provider == ExecutionProvider.Cpu)
        {
            Assert.Contains("CUDA", first.Reason, StringComparison.Ordinal);
        }

        var line = Assert.Single(logger.Lines);
        Assert.Equal(LogLevel.Information, line.Level);
        Assert.Contains(first.Reason, line.Message, StringComparison.Ordinal);

        var forced = ExecutionProviders.Choose(forceCpu: true);
        Assert.Equal(ExecutionProvider.Cpu, forced.Provider);
        Assert.Contains("forced", forced.Reason, StringComparison.Ordinal);
    }

    private static void AssertClose(float expected, float actual, string what)
    {
        // 1e-4 relative, with a 1e-6 absolute floor for shares that are (nearly) zero.
        var tolerance = (1e-4 * Math.Max(Math.Abs(expected), Math.Abs(actual))) + 1e-6;
        Assert.True(Math.Abs(expected - actual) <= tolerance, $"{what}: managed {expected:R}, ONNX Runtime {actual:R}");
    }

    private static ModelCard Card(string line, params string[] features)
    {
        var metrics = new ModelMetrics(100, 30, 2, 1.6, System.Collections.Immutable.ImmutableDictionary<string, string>.Empty);
        var zeros = new float[features.Length];
        var ones = Enumerable.Repeat(1f, features.Length).ToArray();
        var model = new PcaModel(10, [.. features], zeros, ones, metrics, 10, new float[features.Length * 10], new float[features.Length * 10], [1f], 1, 1);
        return PcaTestData.Card(model, line);
    }

    private sealed class ListLogger : ILogger
    {
        public List<(LogLevel Level, string Message)> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Lines)
            {
                Lines.Add((logLevel, formatter(state, exception)));
            }
        }
    }
}
