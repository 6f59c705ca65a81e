using System.Globalization;
using Microsoft.Extensions.Time.Testing;
using TwinGateway.Drift.Models;

namespace TwinGateway.Drift.Tests;

/// <summary>One autoencoder trained on a synthetic correlated line, shared by the tests that only read it.</summary>
public sealed class AutoencoderLineFixture
{
    public const int Features = 8;

    public AutoencoderLineFixture()
    {
        Line = new AutoencoderSyntheticLine(Features, factors: 2, seed: 11);
        Healthy = Line.Next(3000);
        Fresh = Line.Next(600);
        var progress = new RecordingProgress();
        Model = (AutoencoderModel)new AutoencoderTrainer().Train(Healthy, new TrainingOptions(), progress);
        Progress = progress.Reports;
    }

    internal AutoencoderSyntheticLine Line { get; }

    public FrameMatrix Healthy { get; }

    /// <summary>Healthy frames that follow the training range (never seen by the trainer).</summary>
    public FrameMatrix Fresh { get; }

    public AutoencoderModel Model { get; }

    public IReadOnlyList<TrainingProgress> Progress { get; }
}

/// <summary>Reports synchronously (Progress&lt;T&gt; would post to the thread pool and race the assertions).</summary>
internal sealed class RecordingProgress(Action<TrainingProgress>? onReport = null) : IProgress<TrainingProgress>
{
    public List<TrainingProgress> Reports { get; } = [];

    public void Report(TrainingProgress value)
    {
        Reports.Add(value);
        onReport?.Invoke(value);
    }
}

public sealed class AutoencoderTrainerTests(AutoencoderLineFixture fixture) : IClassFixture<AutoencoderLineFixture>
{
    [Fact]
    public void Sizes_follow_the_stated_rules()
    {
        Assert.Equal(1, AutoencoderModel.SlotsFor(10, 200));
        Assert.Equal(1, AutoencoderModel.SlotsFor(10, 400));
        Assert.Equal(2, AutoencoderModel.SlotsFor(10, 64));
        Assert.Equal(5, AutoencoderModel.SlotsFor(10, 30));
        Assert.Equal(10, AutoencoderModel.SlotsFor(10, 8));
        Assert.Equal(7, AutoencoderModel.SlotsFor(7, 30));
        Assert.Equal(50, AutoencoderModel.HiddenFor(200));
        Assert.Equal(12, AutoencoderModel.BottleneckFor(200));
        Assert.Equal(8, AutoencoderModel.HiddenFor(10));
        Assert.Equal(2, AutoencoderModel.BottleneckFor(10));
        Assert.Equal(64, AutoencoderModel.HiddenFor(2000));
        Assert.Equal(16, AutoencoderModel.BottleneckFor(2000));

        var model = fixture.Model;
        Assert.Equal(ModelKind.Autoencoder, model.Kind);
        Assert.Equal((10, 80, 20, 5), (model.Slots, model.Inputs, model.Hidden, model.Bottleneck));
    }

    [Fact]
    public void Training_reduces_the_reconstruction_loss_and_records_its_figures()
    {
        var details = fixture.Model.Metrics.Details;
        double Number(string key) => double.Parse(details[key], CultureInfo.InvariantCulture);

        Assert.True(Number("trainLoss") < 0.25 * Number("initialTrainLoss"), $"train loss {details["trainLoss"]} from {details["initialTrainLoss"]}");
        Assert.True(Number("validationLoss") < 0.25 * Number("initialTrainLoss"), $"validation loss {details["validationLoss"]}");
        Assert.Equal("10", details["slots"]);
        Assert.Equal("20", details["hidden"]);
        Assert.Equal("5", details["bottleneck"]);
        Assert.InRange(Number("bestEpoch"), 1, Number("epochs"));
        Assert.Contains(details["stoppedBy"], new[] { "patience", "maxEpochs" });
        Assert.Equal(2250, fixture.Model.Metrics.FitRows);
        Assert.Equal(750, fixture.Model.Metrics.HoldBackRows);
        Assert.True(fixture.Model.Metrics.Threshold > 0);

        var epochs = fixture.Progress.Count(p => p.Stage.StartsWith("epoch ", StringComparison.Ordinal));
        Assert.Equal((int)Number("epochs"), epochs);
        Assert.Equal(1, fixture.Progress[^1].Fraction);
    }

    [Fact]
    public void Fresh_healthy_windows_score_below_one()
    {
        var model = fixture.Model;
        var (windows, count) = AutoencoderSyntheticLine.AllWindows(fixture.Fresh, model.Window);
        var scores = new float[count];
        model.Score(windows, count, scores, new float[count * model.Features.Length]);

        var below = scores.Count(s => s < 1) / (double)count;
        Assert.True(below >= 0.97, $"{below:P1} of fresh healthy windows below 1 (median {scores.Order().ElementAt(count / 2):G3})");
    }

    [Fact]
    public void A_feature_that_breaks_its_correlation_scores_above_one_and_is_the_top_contributor()
    {
        var model = fixture.Model;
        var features = model.Features.Length;
        var length = model.Window * features;
        var (windows, count) = AutoencoderSyntheticLine.AllWindows(fixture.Fresh, model.Window);
        var tried = 0;
        var topRight = 0;
        var scores = new float[1];
        var contributions = new float[features];
        for (var i = 0; i < count; i += 13)
        {
            var feature = tried % features;
            var broken = windows.AsSpan(i * length, length).ToArray();
            for (var frame = 0; frame < model.Window; frame++)
            {
                broken[(frame * features) + feature] += 4 * model.Scale[feature];
            }

            model.Score(broken, 1, scores, contributions);
            tried++;
            Assert.True(scores[0] > 1, $"window {i}, feature {feature} offset by 4 sigma: score {scores[0]:G3}");
            if (contributions.AsSpan().IndexOf(contributions.Max()) == feature)
            {
                topRight++;
            }
        }

        Assert.True(topRight == tried, $"the broken feature was the top contributor in {topRight} of {tried} windows");
    }

    [Fact]
    public void The_same_data_and_seed_give_identical_exported_bytes_and_another_seed_does_not()
    {
        var line = new AutoencoderSyntheticLine(6, factors: 2, seed: 3);
        var healthy = line.Next(600);
        var options = new AutoencoderOptions { MaxEpochs = 15 };
        byte[] Export(int seed)
        {
            var model = new AutoencoderTrainer(options).Train(healthy, new TrainingOptions(Seed: seed));
            return model.ExportOnnx(AutoencoderSyntheticLine.Card(model, healthy));
        }

        var first = Export(7);
        Assert.Equal(first, Export(7));
        Assert.NotEqual(first, Export(8));
    }

    [Fact]
    public void Cancellation_stops_training_within_the_epoch_it_was_requested_in()
    {
        using var cancellation = new CancellationTokenSource();
        var progress = new RecordingProgress(p =>
        {
            if (p.Stage.StartsWith("epoch ", StringComparison.Ordinal))
            {
                cancellation.Cancel();
            }
        });

        Assert.ThrowsAny<OperationCanceledException>(() =>
            new AutoencoderTrainer().Train(fixture.Healthy, new TrainingOptions(), progress, cancellation.Token));
        Assert.Single(progress.Reports, p => p.Stage.StartsWith("epoch ", StringComparison.Ordinal));
    }

    [Fact]
    public void A_cancelled_token_stops_training_before_it_starts()
    {
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();
        var progress = new RecordingProgress();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            new AutoencoderTrainer().Train(fixture.Healthy, new TrainingOptions(), progress, cancellation.Token));
        Assert.DoesNotContain(progress.Reports, p => p.Stage.StartsWith("epoch ", StringComparison.Ordinal));
    }

    [Fact]
    public void The_time_budget_ends_training_with_the_best_weights_so_far()
    {
        // Every clock read advances the fake clock by one second: a 10 s budget allows about 10 batches of the 32 in an epoch.
        var clock = new FakeTimeProvider { AutoAdvanceAmount = TimeSpan.FromSeconds(1) };
        var options = new AutoencoderOptions { TimeBudget = TimeSpan.FromSeconds(10) };
        var model = new AutoencoderTrainer(options, clock).Train(fixture.Healthy, new TrainingOptions());

        Assert.Equal("timeBudget", model.Metrics.Details["stoppedBy"]);
        Assert.Equal("1", model.Metrics.Details["epochs"]);
    }

    [Fact]
    public void Scoring_from_several_threads_gives_the_sequential_result_without_allocating_after_the_first_call()
    {
        var model = fixture.Model;
        var features = model.Features.Length;
        var (windows, count) = AutoencoderSyntheticLine.AllWindows(fixture.Fresh, model.Window);
        var expected = new float[count];
        var expectedShares = new float[count * features];
        model.Score(windows, count, expected, expectedShares);

        // Scratch allocated per call would be kilobytes per call; the runtime itself may allocate a few bytes while it
        // re-compiles a hot method (up to about 6 KB seen while the whole suite loads the machine), so ten calls stay under 16 KiB.
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        for (var repeat = 0; repeat < 10; repeat++)
        {
            model.Score(windows, count, expected, expectedShares);
        }

        var perTen = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Assert.True(perTen < 16 * 1024, $"ten calls allocated {perTen} bytes");

        var results = new (float[] Scores, float[] Shares)[4];
        Parallel.For(0, results.Length, t =>
        {
            var scores = new float[count];
            var shares = new float[count * features];
            for (var repeat = 0; repeat < 3; repeat++)
            {
                model.Score(windows, count, scores, shares);
            }

            results[t] = (scores, shares);
        });
        Assert.All(results, r =>
        {
            Assert.Equal(expected, r.Scores);
            Assert.Equal(expectedShares, r.Shares);
        });
    }

    [Fact]
    public void Data_that_cannot_train_a_model_is_rejected_with_the_reason()
    {
        var trainer = new AutoencoderTrainer();
        var tooFew = Assert.Throws<ArgumentException>(() => trainer.Train(fixture.Healthy.Slice(0, 60), new TrainingOptions()));
        Assert.Contains("too few", tooFew.Message, StringComparison.Ordinal);

        var constant = new FrameMatrix(fixture.Healthy.Columns, Enumerable.Repeat(3f, 400 * AutoencoderLineFixture.Features).ToArray());
        var flat = Assert.Throws<ArgumentException>(() => trainer.Train(constant, new TrainingOptions()));
        Assert.Contains("varies", flat.Message, StringComparison.Ordinal);

        var bad = Assert.Throws<ArgumentException>(() => new AutoencoderTrainer(new AutoencoderOptions { BatchSize = 0, Patience = 0 }));
        Assert.Contains("BatchSize", bad.Message, StringComparison.Ordinal);
        Assert.Contains("Patience", bad.Message, StringComparison.Ordinal);
    }
}
