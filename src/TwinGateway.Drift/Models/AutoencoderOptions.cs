namespace TwinGateway.Drift.Models;

/// <summary>
/// How <see cref="AutoencoderTrainer"/> optimises, beside the shared <see cref="TrainingOptions"/>. Every default is
/// stated, none is tuned on held-out data.
/// </summary>
public sealed class AutoencoderOptions
{
    /// <summary>The most passes over the training windows.</summary>
    public int MaxEpochs { get; init; } = 200;

    /// <summary>Windows per Adam step.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Adam's step size (β1 = 0.9, β2 = 0.999, ε = 1e-8 as in Kingma and Ba).</summary>
    public double LearningRate { get; init; } = 2e-3;

    /// <summary>Epochs without a better validation loss (by <see cref="MinImprovement"/>) before training stops; the best epoch's weights are kept.</summary>
    public int Patience { get; init; } = 10;

    /// <summary>The relative drop in validation loss that counts as better.</summary>
    public double MinImprovement { get; init; } = 1e-3;

    /// <summary>The trailing share of the fit windows used for early stopping (not trained on; the windows overlapping it are skipped too).</summary>
    public double ValidationFraction { get; init; } = 0.1;

    /// <summary>
    /// Wall-clock budget of the epochs; when spent, training stops after the current batch with the best weights so far.
    /// A run that hits it is no longer reproducible from data and seed alone, which Metrics.Details records as <c>stoppedBy</c>.
    /// </summary>
    public TimeSpan TimeBudget { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The most windows trained on per epoch; above it, every k-th window is taken (consecutive windows overlap in all but one frame).</summary>
    public int MaxTrainingWindows { get; init; } = 50_000;

    /// <summary>Throws one <see cref="ArgumentException"/> listing every setting out of range.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        if (MaxEpochs < 1)
        {
            problems.Add($"MaxEpochs {MaxEpochs} must be at least 1");
        }

        if (BatchSize < 1)
        {
            problems.Add($"BatchSize {BatchSize} must be at least 1");
        }

        if (!(LearningRate > 0) || double.IsInfinity(LearningRate))
        {
            problems.Add($"LearningRate {LearningRate} must be positive and finite");
        }

        if (Patience < 1)
        {
            problems.Add($"Patience {Patience} must be at least 1");
        }

        if (MinImprovement is < 0 or >= 1 || double.IsNaN(MinImprovement))
        {
            problems.Add($"MinImprovement {MinImprovement} must be in [0, 1)");
        }

        if (ValidationFraction is <= 0 or >= 0.5 || double.IsNaN(ValidationFraction))
        {
            problems.Add($"ValidationFraction {ValidationFraction} must be in (0, 0.5)");
        }

        if (TimeBudget <= TimeSpan.Zero)
        {
            problems.Add($"TimeBudget {TimeBudget} must be positive");
        }

        if (MaxTrainingWindows < 1)
        {
            problems.Add($"MaxTrainingWindows {MaxTrainingWindows} must be at least 1");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException("autoencoder options: " + string.Join("; ", problems));
        }
    }
}
