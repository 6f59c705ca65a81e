using System.Globalization;
using System.Text;

namespace TwinGateway.OpcUa.Types;

/// <summary>How a <see cref="NodeId"/> identifies its node (OPC 10000-3 §8.2.3).</summary>
public enum IdType : byte
{
    Numeric = 0,
    String = 1,
    Guid = 2,
    Opaque = 3,
}

/// <summary>
/// An OPC UA NodeId. A value type: <c>default</c> is the null NodeId (<c>i=0</c>), as in the specification.
/// The text form is the standard one: <c>ns=2;s=Line.Speed</c>, <c>i=2258</c>, <c>ns=1;g=...</c>, <c>ns=1;b=base64</c>.
/// </summary>
public readonly struct NodeId : IEquatable<NodeId>
{
    private readonly object? _identifier; // string, Guid (boxed) or byte[]; null for numeric
    private readonly uint _numeric;

    public NodeId(uint value, ushort namespaceIndex = 0)
    {
        _numeric = value;
        NamespaceIndex = namespaceIndex;
        IdType = IdType.Numeric;
    }

    public NodeId(string value, ushort namespaceIndex)
    {
        ArgumentNullException.ThrowIfNull(value);
        _identifier = value;
        NamespaceIndex = namespaceIndex;
        IdType = IdType.String;
    }

    public NodeId(Guid value, ushort namespaceIndex)
    {
        _identifier = value;
        NamespaceIndex = namespaceIndex;
        IdType = IdType.Guid;
    }

    public NodeId(byte[] value, ushort namespaceIndex)
    {
        ArgumentNullException.ThrowIfNull(value);
        _identifier = value;
        NamespaceIndex = namespaceIndex;
        IdType = IdType.Opaque;
    }

    public static NodeId Null => default;

    public ushort NamespaceIndex { get; }

    public IdType IdType { get; }

    public uint NumericId => IdType == IdType.Numeric ? _numeric : throw new InvalidOperationException($"{this} is not numeric");

    public string StringId => _identifier as string ?? throw new InvalidOperationException($"{this} is not a string NodeId");

    public Guid GuidId => IdType == IdType.Guid ? (Guid)_identifier! : throw new InvalidOperationException($"{this} is not a Guid NodeId");

    public byte[] OpaqueId => IdType == IdType.Opaque ? (byte[])_identifier! : throw new InvalidOperationException($"{this} is not an opaque NodeId");

    /// <summary>The identifier as an object: <see cref="uint"/>, <see cref="string"/>, <see cref="Guid"/> or byte[].</summary>
    public object Identifier => IdType == IdType.Numeric ? _numeric : _identifier!;

    /// <summary>True for the null NodeId in any of its forms (numeric 0, empty string, empty Guid, empty opaque) in namespace 0.</summary>
    public bool IsNull => NamespaceIndex == 0 && IdType switch
    {
        IdType.Numeric => _numeric == 0,
        IdType.String => ((string)_identifier!).Length == 0,
        IdType.Guid => (Guid)_identifier! == Guid.Empty,
        _ => ((byte[])_identifier!).Length == 0,
    };

    public bool Equals(NodeId other)
    {
        if (NamespaceIndex != other.NamespaceIndex || IdType != other.IdType)
        {
            return false;
        }

        return IdType switch
        {
            IdType.Numeric => _numeric == other._numeric,
            IdType.String => string.Equals((string)_identifier!, (string)other._identifier!, StringComparison.Ordinal),
            IdType.Guid => (Guid)_identifier! == (Guid)other._identifier!,
            _ => ((byte[])_identifier!).AsSpan().SequenceEqual((byte[])other._identifier!),
        };
    }

    public override bool Equals(object? obj) => obj is NodeId other && Equals(other);

    public override int GetHashCode() => IdType switch
    {
        IdType.Numeric => HashCode.Combine(NamespaceIndex, _numeric),
        IdType.String => HashCode.Combine(NamespaceIndex, StringComparer.Ordinal.GetHashCode((string)_identifier!)),
        IdType.Guid => HashCode.Combine(NamespaceIndex, (Guid)_identifier!),
        _ => HashCode.Combine(NamespaceIndex, ((byte[])_identifier!).Length),
    };

    public static bool operator ==(NodeId left, NodeId right) => left.Equals(right);

    public static bool operator !=(NodeId left, NodeId right) => !left.Equals(right);

    public static implicit operator NodeId(uint value) => new(value);

    public override string ToString()
    {
        var prefix = NamespaceIndex == 0 ? "" : "ns=" + NamespaceIndex.ToString(CultureInfo.InvariantCulture) + ";";
        return IdType switch
        {
            IdType.Numeric => prefix + "i=" + _numeric.ToString(CultureInfo.InvariantCulture),
            IdType.String => prefix + "s=" + (string)_identifier!,
            IdType.Guid => prefix + "g=" + ((Guid)_identifier!).ToString("D"),
            _ => prefix + "b=" + Convert.ToBase64String((byte[])_identifier!),
        };
    }

    /// <summary>Parses the standard text form; throws <see cref="FormatException"/> naming what is wrong.</summary>
    public static NodeId Parse(string text)
    {
        if (TryParse(text, out var id, out var error))
        {
            return id;
        }

        throw new FormatException($"'{text}' is not a NodeId: {error}");
    }

    public static bool TryParse(string? text, out NodeId nodeId) => TryParse(text, out nodeId, out _);

    public static bool TryParse(string? text, out NodeId nodeId, out string error)
    {
        nodeId = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "empty text";
            return false;
        }

        // Only leading white space is dropped: a string identifier may end in white space (OPC 10000-6 §5.3.1.10).
        var rest = text.AsSpan().TrimStart();
        ushort ns = 0;
        if (rest.StartsWith("ns=", StringComparison.Ordinal))
        {
            var semi = rest.IndexOf(';');
            if (semi < 0)
            {
                error = "namespace index must be followed by ';'";
                return false;
            }

            if (!ushort.TryParse(rest[3..semi], NumberStyles.None, CultureInfo.InvariantCulture, out ns))
            {
                error = $"namespace index '{rest[3..semi].ToString()}' is not a number from 0 to 65535";
                return false;
            }

            rest = rest[(semi + 1)..];
        }

        if (rest.Length < 2 || rest[1] != '=')
        {
            error = "expected i=, s=, g= or b= after the namespace";
            return false;
        }

        var value = rest[2..];
        if (rest[0] != 's')
        {
            value = value.TrimEnd();
        }

        // "ns=1;s=" would name no node at all (and in namespace 0 it is the null NodeId): refuse it here rather than
        // send it and have the server answer BadNodeIdUnknown or BadNodeIdInvalid (issue 15).
        if (value.IsEmpty && rest[0] is 'i' or 's' or 'g' or 'b')
        {
            error = $"the identifier after '{rest[0]}=' is empty";
            return false;
        }

        switch (rest[0])
        {
            case 'i':
                if (!uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var numeric))
                {
                    error = $"'{value.ToString()}' is not a 32-bit unsigned number";
                    return false;
                }

                nodeId = new NodeId(numeric, ns);
                break;
            case 's':
                nodeId = new NodeId(value.ToString(), ns);
                break;
            case 'g':
                if (!Guid.TryParse(value, out var guid))
                {
                    error = $"'{value.ToString()}' is not a GUID";
                    return false;
                }

                nodeId = new NodeId(guid, ns);
                break;
            case 'b':
                var buffer = new byte[(value.Length * 3 / 4) + 3];
                if (!Convert.TryFromBase64Chars(value, buffer, out var written))
                {
                    error = $"'{value.ToString()}' is not base64";
                    return false;
                }

                nodeId = new NodeId(buffer.AsSpan(0, written).ToArray(), ns);
                break;
            default:
                error = $"unknown identifier type '{rest[0]}' (expected i, s, g or b)";
                return false;
        }

        error = "";
        return true;
    }
}

/// <summary>A NodeId that may name its namespace by URI and live on another server (OPC 10000-6 §5.2.2.10).</summary>
public readonly record struct ExpandedNodeId(NodeId NodeId, string? NamespaceUri = null, uint ServerIndex = 0)
{
    public static implicit operator ExpandedNodeId(NodeId nodeId) => new(nodeId);

    public bool IsLocal => NamespaceUri is null && ServerIndex == 0;

    public override string ToString()
    {
        var sb = new StringBuilder();
        if (ServerIndex != 0)
        {
            sb.Append("svr=").Append(ServerIndex.ToString(CultureInfo.InvariantCulture)).Append(';');
        }

        if (NamespaceUri is not null)
        {
            sb.Append("nsu=").Append(NamespaceUri).Append(';');
            var local = NodeId.ToString();
            sb.Append(local.StartsWith("ns=", StringComparison.Ordinal) ? local[(local.IndexOf(';', StringComparison.Ordinal) + 1)..] : local);
        }
        else
        {
            sb.Append(NodeId.ToString());
        }

        return sb.ToString();
    }
}
