using TwinGateway.Drift.Models;

namespace TwinGateway.Drift.Live;

/// <summary>
/// Scores windows as <see cref="DriftModel.Score"/> defines it (normalised score and per-feature contributions):
/// ONNX Runtime's session over a model file in the gateway, or a model in memory.
/// </summary>
public interface IWindowScorer
{
    void Score(ReadOnlySpan<float> windows, int count, Span<float> scores, Span<float> contributions);
}

/// <summary>A trained model in memory as a scorer (tests, evaluation, offline scoring).</summary>
public sealed class ManagedScorer(DriftModel model) : IWindowScorer
{
    public void Score(ReadOnlySpan<float> windows, int count, Span<float> scores, Span<float> contributions) =>
        model.Score(windows, count, scores, contributions);
}

/// <summary>The line's active learned model: its registry version, its card and what scores it.</summary>
public sealed record ActiveModel(string Version, ModelCard Card, IWindowScorer Scorer);
