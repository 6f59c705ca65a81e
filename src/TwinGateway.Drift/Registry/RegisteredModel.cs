using TwinGateway.Drift.Models;

namespace TwinGateway.Drift.Registry;

/// <summary>A model version in the registry.</summary>
/// <param name="Line">The line it scores.</param>
/// <param name="Version">The registry's version: <c>1</c>, <c>2</c>, ... per line.</param>
/// <param name="Card">Its card, with <see cref="ModelCard.Version"/> set to <paramref name="Version"/> (the same card is embedded in the ONNX file).</param>
/// <param name="Sha256">SHA-256 (lower-case hex) of the ONNX file as registered.</param>
/// <param name="Size">The ONNX file's length in bytes.</param>
/// <param name="File">The ONNX file: <c>&lt;dataDir&gt;/models/&lt;line&gt;/&lt;version&gt;.onnx</c>.</param>
/// <param name="RegisteredBy">Who registered it.</param>
/// <param name="RegisteredAt">When (UTC).</param>
public sealed record RegisteredModel(string Line, string Version, ModelCard Card, string Sha256, long Size, string File, string RegisteredBy, DateTimeOffset RegisteredAt);

/// <summary>One activation of a line's model: from then on it is the line's active model, until the next activation.</summary>
public sealed record ModelActivation(string Line, string Version, string ActivatedBy, DateTimeOffset ActivatedAt);

/// <summary>The registry refuses an operation or cannot read its files: the message names the line, the version and the reason.</summary>
public sealed class ModelRegistryException : Exception
{
    public ModelRegistryException()
    {
    }

    public ModelRegistryException(string message)
        : base(message)
    {
    }

    public ModelRegistryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
