namespace TwinGateway.OpcUa.Encoding;

/// <summary>
/// Limits every decoder checks before it allocates, and every encoder checks before it sends.
/// A hostile length must fail with <c>BadEncodingLimitsExceeded</c>, never reach an allocation.
/// </summary>
public sealed record EncodingLimits
{
    /// <summary>Defaults in line with common stacks: 16 MiB messages, 1 Mi-element arrays, 100-deep nesting.</summary>
    public static EncodingLimits Default { get; } = new();

    /// <summary>Largest string in bytes (UTF-8); 0 means no limit beyond the message size.</summary>
    public int MaxStringLength { get; init; } = 1 << 20;

    /// <summary>Largest byte string in bytes; 0 means no limit beyond the message size.</summary>
    public int MaxByteStringLength { get; init; } = 16 << 20;

    /// <summary>Largest array in elements; 0 means no limit beyond the message size.</summary>
    public int MaxArrayLength { get; init; } = 1 << 20;

    /// <summary>Largest whole message in bytes; 0 means no limit.</summary>
    public int MaxMessageSize { get; init; } = 16 << 20;

    /// <summary>Deepest nesting of Variants, DiagnosticInfos and structures; OPC 10000-6 §5.1.5 asks decoders to support at least 100.</summary>
    public int MaxNestingDepth { get; init; } = 100;
}
