using Google.Protobuf;
using Onnx;

namespace TwinGateway.Drift.Models;

/// <summary>
/// A model file (ONNX bytes) as the gateway checks it before scoring: its card, read from the metadata without running
/// anything, and whether that card fits the line and signals the caller scores.
/// </summary>
public static class ModelFile
{
    /// <summary>Reads the card from a model file's bytes; throws <see cref="FormatException"/> when they are not an ONNX model with a card.</summary>
    public static ModelCard ReadCard(byte[] model)
    {
        ArgumentNullException.ThrowIfNull(model);
        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.ParseFrom(model);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new FormatException($"the model file ({model.Length} bytes) is not an ONNX model: {e.Message}", e);
        }

        foreach (var entry in proto.MetadataProps)
        {
            if (entry.Key == ModelCard.MetadataKey)
            {
                return ModelCard.FromJson(entry.Value);
            }
        }

        throw new FormatException($"the model file has no '{ModelCard.MetadataKey}' metadata: it was not written by TwinGateway");
    }

    /// <summary>
    /// Null when <paramref name="card"/> scores <paramref name="expectedLine"/> with exactly
    /// <paramref name="expectedFeatures"/> in that order; else the reason, naming the difference (both lines; the
    /// first features added and removed; or the first position that differs).
    /// </summary>
    public static string? Check(ModelCard card, string expectedLine, IReadOnlyList<string> expectedFeatures)
    {
        ArgumentNullException.ThrowIfNull(card);
        ArgumentNullException.ThrowIfNull(expectedLine);
        ArgumentNullException.ThrowIfNull(expectedFeatures);
        if (!string.Equals(card.Line, expectedLine, StringComparison.Ordinal))
        {
            return $"the model is for line '{card.Line}', not line '{expectedLine}'";
        }

        var model = card.Features;
        var inModel = new HashSet<string>(model, StringComparer.Ordinal);
        var expected = new HashSet<string>(expectedFeatures, StringComparer.Ordinal);
        var added = expectedFeatures.Where(f => !inModel.Contains(f)).ToList();
        var removed = model.Where(f => !expected.Contains(f)).ToList();
        if (added.Count > 0 || removed.Count > 0)
        {
            var parts = new List<string>(2);
            if (added.Count > 0)
            {
                parts.Add($"{added.Count} added ({Firsts(added)})");
            }

            if (removed.Count > 0)
            {
                parts.Add($"{removed.Count} removed ({Firsts(removed)})");
            }

            return $"the signal list changed since the model was trained: {string.Join("; ", parts)}; retrain the model";
        }

        var length = Math.Min(model.Length, expectedFeatures.Count);
        for (var i = 0; i < length; i++)
        {
            if (!string.Equals(model[i], expectedFeatures[i], StringComparison.Ordinal))
            {
                return $"the signal order changed: feature {i} is '{model[i]}' in the model but '{expectedFeatures[i]}' now; retrain the model";
            }
        }

        return model.Length == expectedFeatures.Count
            ? null
            : $"the model has {model.Length} features but {expectedFeatures.Count} are expected (a repeated signal); retrain the model";
    }

    private static string Firsts(List<string> names) =>
        names.Count <= 3 ? string.Join(", ", names.Select(n => $"'{n}'")) : string.Join(", ", names.Take(3).Select(n => $"'{n}'")) + ", ...";
}
