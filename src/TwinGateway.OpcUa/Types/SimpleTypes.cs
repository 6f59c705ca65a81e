using System.Globalization;

using TwinGateway.OpcUa.Encoding;

namespace TwinGateway.OpcUa.Types;

/// <summary>A name qualified by a namespace index (OPC 10000-3 §8.3); text form <c>2:Speed</c>.</summary>
public readonly record struct QualifiedName(ushort NamespaceIndex, string? Name)
{
    public QualifiedName(string name)
        : this(0, name)
    {
    }

    public override string ToString() =>
        NamespaceIndex == 0 ? Name ?? "" : NamespaceIndex.ToString(CultureInfo.InvariantCulture) + ":" + Name;

    /// <summary>Parses <c>2:Speed</c> or <c>Speed</c> (namespace 0).</summary>
    public static QualifiedName Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && ushort.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var ns))
        {
            return new QualifiedName(ns, text[(colon + 1)..]);
        }

        return new QualifiedName(0, text);
    }
}

/// <summary>Human-readable text with an optional locale (OPC 10000-3 §8.5).</summary>
public readonly record struct LocalizedText(string? Locale, string? Text)
{
    public LocalizedText(string? text)
        : this(null, text)
    {
    }

    public override string ToString() => Text ?? "";
}

/// <summary>The XmlElement built-in type: an XML fragment carried as UTF-8 text.</summary>
public readonly record struct XmlElement(string? Xml)
{
    public override string ToString() => Xml ?? "";
}

/// <summary>Vendor-specific diagnostics returned beside a status code (OPC 10000-4 §7.12).</summary>
public sealed record DiagnosticInfo
{
    public int? SymbolicId { get; init; }
    public int? NamespaceUri { get; init; }
    public int? Locale { get; init; }
    public int? LocalizedText { get; init; }
    public string? AdditionalInfo { get; init; }
    public StatusCode? InnerStatusCode { get; init; }
    public DiagnosticInfo? InnerDiagnosticInfo { get; init; }
}

/// <summary>How an <see cref="ExtensionObject"/>'s body is encoded on the wire.</summary>
public enum ExtensionObjectEncoding : byte
{
    None = 0,
    Binary = 1,
    Xml = 2,
}

/// <summary>
/// A structure inside a Variant or a service message (OPC 10000-6 §5.2.2.15). Known types are decoded into
/// <see cref="Body"/>; unknown ones keep their bytes in <see cref="Body"/> as byte[] (or string for XML) and
/// re-encode byte for byte.
/// </summary>
public sealed record ExtensionObject
{
    public ExtensionObject(NodeId typeId, object? body, ExtensionObjectEncoding encoding = ExtensionObjectEncoding.Binary)
    {
        TypeId = typeId;
        Body = body;
        Encoding = body is null ? ExtensionObjectEncoding.None : encoding;
    }

    public ExtensionObject(IEncodeable body)
    {
        ArgumentNullException.ThrowIfNull(body);
        TypeId = body.BinaryEncodingId;
        Body = body;
        Encoding = ExtensionObjectEncoding.Binary;
    }

    public static ExtensionObject Null { get; } = new(NodeId.Null, null);

    /// <summary>The encoding's NodeId (for binary: the type's "Default Binary" encoding node).</summary>
    public NodeId TypeId { get; }

    /// <summary>An <see cref="IEncodeable"/> when the type is known; otherwise byte[] (binary) or string (XML).</summary>
    public object? Body { get; }

    public ExtensionObjectEncoding Encoding { get; }

    public bool IsDecoded => Body is IEncodeable;

    /// <summary>Equal when the type, encoding and body are; opaque (byte[]) bodies compare by content.</summary>
    public bool Equals(ExtensionObject? other) =>
        other is not null
        && TypeId == other.TypeId
        && Encoding == other.Encoding
        && (Body is byte[] mine && other.Body is byte[] theirs ? mine.AsSpan().SequenceEqual(theirs) : Equals(Body, other.Body));

    public override int GetHashCode() =>
        HashCode.Combine(TypeId, Encoding, Body is byte[] bytes ? bytes.Length : Body?.GetHashCode() ?? 0);
}
