using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TwinGateway.Drift.Models;

/// <summary>
/// What a model file says about itself: stored as JSON under the ONNX metadata key <see cref="MetadataKey"/> (and a
/// few plain keys for other tools), so that a model file alone says which line and signals it scores, on what window
/// and normalisation, with which threshold, trained on which range and data.
/// </summary>
/// <param name="Line">The line id ("" for a model trained on a data file by <c>drift eval</c>).</param>
/// <param name="Version">The registry's version, for example <c>3</c>.</param>
/// <param name="Kind">The model kind.</param>
/// <param name="Features">Feature names in input order (signal features of a line: <c>signalId:residual</c>, <c>signalId:value</c>).</param>
/// <param name="Window">Frames per window.</param>
/// <param name="FrameMilliseconds">The time between frames the model was trained on.</param>
/// <param name="Mean">Per-feature training mean.</param>
/// <param name="Scale">Per-feature training standard deviation.</param>
/// <param name="Threshold">The raw score at which the normalised score is 1.</param>
/// <param name="ThresholdQuantile">The held-back quantile the threshold was learned from.</param>
/// <param name="ThresholdMargin">The factor applied to that quantile.</param>
/// <param name="TrainedFrom">Start of the healthy range (UTC).</param>
/// <param name="TrainedTo">End of the healthy range (UTC).</param>
/// <param name="TrainingDataHash">SHA-256 (hex) over the training frames' bytes.</param>
/// <param name="TrainedAt">When it was trained (UTC).</param>
/// <param name="TrainedBy">Who trained it (a user name, or <c>scheduler</c>).</param>
/// <param name="Metrics">The training run's figures.</param>
public sealed record ModelCard(
    string Line,
    string Version,
    ModelKind Kind,
    ImmutableArray<string> Features,
    int Window,
    double FrameMilliseconds,
    ImmutableArray<float> Mean,
    ImmutableArray<float> Scale,
    double Threshold,
    double ThresholdQuantile,
    double ThresholdMargin,
    DateTimeOffset TrainedFrom,
    DateTimeOffset TrainedTo,
    string TrainingDataHash,
    DateTimeOffset TrainedAt,
    string TrainedBy,
    ModelMetrics Metrics)
{
    /// <summary>The ONNX metadata_props key holding this card as JSON.</summary>
    public const string MetadataKey = "twingateway.card";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads a card back; throws <see cref="FormatException"/> naming what is wrong.</summary>
    public static ModelCard FromJson(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<ModelCard>(json, Json) ?? throw new FormatException("the model card is empty");
        }
        catch (JsonException e)
        {
            throw new FormatException($"the model card is not valid: {e.Message}", e);
        }
    }

    /// <summary>The plain metadata keys written beside the card, for tools that do not read it.</summary>
    public IEnumerable<KeyValuePair<string, string>> PlainMetadata()
    {
        yield return new("twingateway.line", Line);
        yield return new("twingateway.version", Version);
        yield return new("twingateway.kind", Kind.ToString().ToLowerInvariant());
        yield return new("twingateway.window", Window.ToString(System.Globalization.CultureInfo.InvariantCulture));
        yield return new("twingateway.threshold", Threshold.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        yield return new("twingateway.trainingDataHash", TrainingDataHash);
    }
}
