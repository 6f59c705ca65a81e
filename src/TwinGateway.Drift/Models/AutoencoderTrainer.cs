using System.Collections.Immutable;
using System.Globalization;
using System.Numerics.Tensors;

namespace TwinGateway.Drift.Models;

/// <summary>
/// Trains an <see cref="AutoencoderModel"/> on healthy frames in managed code: the fit part's windows are standardised
/// and pooled once, a seeded Glorot-initialised network is fitted by mini-batch Adam on seeded shuffles, with early
/// stopping on the trailing validation slice of the fit windows, a maximum epoch count and a time budget; the threshold
/// comes from the held-back windows' scores (<see cref="TrainingData.Threshold"/>).
/// </summary>
/// <remarks>
/// Single-threaded, so the same data, options and seed give the same weights bit for bit (unless the time budget ends
/// the run, which <c>stoppedBy</c> in the metrics says).
/// </remarks>
public sealed class AutoencoderTrainer : IDriftModelTrainer
{
    /// <summary>Windows copied and pooled, or scored, per block.</summary>
    private const int Block = 256;

    private readonly AutoencoderOptions _options;
    private readonly TimeProvider _time;

    public AutoencoderTrainer(AutoencoderOptions? options = null, TimeProvider? timeProvider = null)
    {
        _options = options ?? new AutoencoderOptions();
        _options.Validate();
        _time = timeProvider ?? TimeProvider.System;
    }

    public ModelKind Kind => ModelKind.Autoencoder;

    /// <inheritdoc/>
    public DriftModel Train(FrameMatrix healthy, TrainingOptions options, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(healthy);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Window, 1);
        var (fitRows, holdBackRows) = TrainingData.Split(healthy.Rows, options);
        var (mean, scale) = TrainingData.Standardisation(healthy, fitRows);
        if (!scale.AsSpan().ContainsAnyExcept(TrainingData.ScaleFloor))
        {
            throw new ArgumentException(
                $"none of the {healthy.Width} features varies in the {fitRows} fit frames (every standard deviation is at the floor {TrainingData.ScaleFloor}); an autoencoder cannot learn from constant data");
        }

        var window = options.Window;
        var slots = AutoencoderModel.SlotsFor(window, healthy.Width);
        var inputs = slots * healthy.Width;
        var network = new AutoencoderNetwork<float>(inputs, AutoencoderModel.HiddenFor(inputs), AutoencoderModel.BottleneckFor(inputs));
        var random = new Random(options.Seed);
        network.Initialise(random);

        progress?.Report(new TrainingProgress("pooling windows", 0));
        var plan = WindowPlan.Create(fitRows - window + 1, window, _options);
        var training = PoolWindows(healthy, window, slots, mean, scale, window - 1, plan.Training, plan.Stride, cancellationToken);
        var validation = PoolWindows(healthy, window, slots, mean, scale, window - 1 + plan.ValidationStart, plan.Validation, plan.Stride, cancellationToken);

        var run = Fit(network, training, validation, random, progress, cancellationToken);

        progress?.Report(new TrainingProgress("thresholds", 0.95));
        var provisional = new AutoencoderModel(window, healthy.Columns, mean, scale,
            new ModelMetrics(fitRows, holdBackRows, 1, 1, ImmutableDictionary<string, string>.Empty), slots, network);
        var heldBack = ScoreHeldBack(provisional, healthy, fitRows + window - 1, holdBackRows - window + 1, cancellationToken);
        var (threshold, quantile) = TrainingData.Threshold(heldBack, options);

        var details = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        details["slots"] = Text(slots);
        details["inputs"] = Text(inputs);
        details["hidden"] = Text(network.Hidden);
        details["bottleneck"] = Text(network.Bottleneck);
        details["epochs"] = Text(run.Epochs);
        details["bestEpoch"] = Text(run.BestEpoch);
        details["stoppedBy"] = run.StoppedBy;
        details["initialTrainLoss"] = Text(run.InitialTrainLoss);
        details["trainLoss"] = Text(run.TrainLoss);
        details["validationLoss"] = Text(run.ValidationLoss);
        details["trainingWindows"] = Text(plan.Training);
        details["validationWindows"] = Text(plan.Validation);
        details["windowStride"] = Text(plan.Stride);
        details["batchSize"] = Text(_options.BatchSize);
        details["learningRate"] = Text(_options.LearningRate);
        var metrics = new ModelMetrics(fitRows, holdBackRows, threshold, quantile, details.ToImmutable());
        progress?.Report(new TrainingProgress("done", 1));
        return new AutoencoderModel(window, healthy.Columns, mean, scale, metrics, slots, network);
    }

    /// <summary>
    /// Fits <paramref name="network"/> on pooled <paramref name="training"/> rows with Adam, stopping early on
    /// <paramref name="validation"/>; leaves the best validation epoch's weights in the network.
    /// </summary>
    internal FitResult Fit(AutoencoderNetwork<float> network, float[] training, float[] validation, Random random, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        var inputs = network.Inputs;
        var rows = training.Length / inputs;
        var activations = new float[network.ActivationLength];
        var scratch = new float[network.GradientScratchLength];
        var gradient = new float[network.Parameters.Length];
        var best = (float[])network.Parameters.Clone();
        var adam = new Adam(network.Parameters.Length, _options.LearningRate);
        var order = new int[rows];
        for (var i = 0; i < rows; i++)
        {
            order[i] = i;
        }

        var initialLoss = network.Loss(training, activations);
        var bestLoss = network.Loss(validation, activations);
        var bestEpoch = 0;
        var reference = bestLoss;
        var sinceBetter = 0;
        var epoch = 0;
        var stoppedBy = "maxEpochs";
        var started = _time.GetTimestamp();
        while (epoch < _options.MaxEpochs)
        {
            epoch++;
            random.Shuffle(order);
            var outOfTime = false;
            for (var start = 0; start < rows; start += _options.BatchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (_time.GetElapsedTime(started) > _options.TimeBudget)
                {
                    outOfTime = true;
                    break;
                }

                var count = Math.Min(_options.BatchSize, rows - start);
                var lossScale = 1f / ((float)count * inputs);
                Array.Clear(gradient);
                for (var k = start; k < start + count; k++)
                {
                    var x = training.AsSpan(order[k] * inputs, inputs);
                    network.Forward(x, activations);
                    network.Backward(x, activations, lossScale, gradient, scratch);
                }

                adam.Step(network.Parameters, gradient);
            }

            var loss = network.Loss(validation, activations);
            if (loss < bestLoss)
            {
                bestLoss = loss;
                bestEpoch = epoch;
                network.Parameters.CopyTo(best, 0);
            }

            if (loss < reference * (1 - _options.MinImprovement))
            {
                reference = loss;
                sinceBetter = 0;
            }
            else
            {
                sinceBetter++;
            }

            progress?.Report(new TrainingProgress(
                string.Create(CultureInfo.InvariantCulture, $"epoch {epoch}/{_options.MaxEpochs}, validation loss {loss:G4}"),
                0.05 + (0.9 * epoch / _options.MaxEpochs)));
            if (outOfTime)
            {
                stoppedBy = "timeBudget";
                break;
            }

            if (sinceBetter >= _options.Patience)
            {
                stoppedBy = "patience";
                break;
            }
        }

        best.CopyTo(network.Parameters, 0);
        return new FitResult(epoch, bestEpoch, stoppedBy, initialLoss, network.Loss(training, activations), bestLoss);
    }

    private static float[] PoolWindows(FrameMatrix frames, int window, int slots, float[] mean, float[] scale, int firstEnd, int count, int stride, CancellationToken cancellationToken)
    {
        var width = frames.Width;
        var inputs = slots * width;
        var pooled = new float[count * inputs];
        var raw = new float[window * width];
        var inverseScale = AutoencoderModel.InverseOf(scale);
        for (var k = 0; k < count; k++)
        {
            if (k % Block == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            TrainingData.CopyWindows(frames, window, firstEnd + (k * stride), 1, raw);
            AutoencoderModel.Pool(raw, window, slots, mean, inverseScale, pooled.AsSpan(k * inputs, inputs));
        }

        return pooled;
    }

    private static float[] ScoreHeldBack(AutoencoderModel model, FrameMatrix frames, int firstEnd, int count, CancellationToken cancellationToken)
    {
        var width = frames.Width;
        var scores = new float[count];
        var raw = new float[Block * model.Window * width];
        var contributions = new float[Block * width];
        for (var start = 0; start < count; start += Block)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var n = Math.Min(Block, count - start);
            TrainingData.CopyWindows(frames, model.Window, firstEnd + start, n, raw);
            model.Score(raw, n, scores.AsSpan(start, n), contributions);
        }

        return scores;
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Text(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>What one fit did: epochs run, the kept epoch, why it stopped, and the losses (mean squared error of the standardised pooled input).</summary>
    internal readonly record struct FitResult(int Epochs, int BestEpoch, string StoppedBy, double InitialTrainLoss, double TrainLoss, double ValidationLoss);

    /// <summary>
    /// Which fit windows train and which validate: the trailing <see cref="AutoencoderOptions.ValidationFraction"/>
    /// validates, the <c>Window - 1</c> windows before it (which share frames with it) are skipped while enough remain,
    /// and both are thinned to every <c>Stride</c>-th window above <see cref="AutoencoderOptions.MaxTrainingWindows"/>.
    /// </summary>
    private readonly record struct WindowPlan(int Training, int ValidationStart, int Validation, int Stride)
    {
        public static WindowPlan Create(int fitWindows, int window, AutoencoderOptions options)
        {
            var validation = Math.Max(1, (int)Math.Round(fitWindows * options.ValidationFraction));
            var validationStart = fitWindows - validation;
            var training = validationStart - (window - 1);
            if (training < validation)
            {
                training = validationStart;
            }

            var stride = (training + options.MaxTrainingWindows - 1) / options.MaxTrainingWindows;
            return new WindowPlan((training + stride - 1) / stride, validationStart, (validation + stride - 1) / stride, stride);
        }
    }

    /// <summary>Adam (Kingma and Ba, 2015) over one flat parameter array, with bias-corrected step size.</summary>
    private sealed class Adam(int length, double learningRate)
    {
        private const float Beta1 = 0.9f;
        private const float Beta2 = 0.999f;
        private const float Epsilon = 1e-8f;
        private readonly float[] _m = new float[length];
        private readonly float[] _v = new float[length];
        private readonly float[] _step = new float[length];
        private int _t;

        public void Step(Span<float> parameters, ReadOnlySpan<float> gradient)
        {
            _t++;
            var stepSize = (float)(learningRate * Math.Sqrt(1 - Math.Pow(Beta2, _t)) / (1 - Math.Pow(Beta1, _t)));

            // m = β1 m + (1 - β1) g; v = β2 v + (1 - β2) g²; p -= α m / (√v + ε).
            TensorPrimitives.Multiply(_m, Beta1, _m);
            TensorPrimitives.MultiplyAdd(gradient, 1 - Beta1, _m, _m);
            TensorPrimitives.Multiply(gradient, gradient, _step);
            TensorPrimitives.Multiply(_v, Beta2, _v);
            TensorPrimitives.MultiplyAdd(_step, 1 - Beta2, _v, _v);
            TensorPrimitives.Sqrt(_v, _step);
            TensorPrimitives.Add(_step, Epsilon, _step);
            TensorPrimitives.Divide(_m, _step, _step);
            TensorPrimitives.MultiplyAdd(_step, -stepSize, parameters, parameters);
        }
    }
}
