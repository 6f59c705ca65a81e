namespace TwinGateway.Drift.Models;

/// <summary>The trainer of each model kind, by the name <c>--model</c> takes.</summary>
public static class DriftTrainers
{
    /// <summary>The kinds' names, for messages.</summary>
    public static string Names => string.Join(", ", Enum.GetValues<ModelKind>().Select(Name));

    public static string Name(ModelKind kind) => kind.ToString().ToLowerInvariant();

    public static bool TryParse(string? text, out ModelKind kind) =>
        Enum.TryParse(text?.Trim(), ignoreCase: true, out kind) && Enum.IsDefined(kind);

    public static IDriftModelTrainer Create(ModelKind kind) => kind switch
    {
        ModelKind.Pca => new PcaTrainer(),
        ModelKind.Autoencoder => new AutoencoderTrainer(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, $"no trainer for {kind}"),
    };
}
