using System.Collections;
using System.Globalization;

namespace TwinGateway.OpcUa.Types;

/// <summary>A multi-dimensional array carried in a Variant: the elements flattened in row-major order, and the lengths.</summary>
public sealed record Matrix(Array Elements, int[] Dimensions)
{
    public bool Equals(Matrix? other) =>
        other is not null && Dimensions.AsSpan().SequenceEqual(other.Dimensions) && Variant.ArraysEqual(Elements, other.Elements);

    public override int GetHashCode() => HashCode.Combine(Dimensions.Length, Elements.Length);
}

/// <summary>
/// A value of any built-in type, scalar, array or matrix (OPC 10000-6 §5.2.2.16).
/// Numeric scalars are stored inline, so decoding a Double DataValue allocates nothing; <see cref="Value"/>
/// boxes only when a caller asks for an object.
/// </summary>
public readonly struct Variant : IEquatable<Variant>
{
    private readonly long _bits;
    private readonly object? _ref;

    private Variant(BuiltInType type, long bits, object? reference, bool isArray)
    {
        Type = type;
        _bits = bits;
        _ref = reference;
        IsArray = isArray;
    }

    public Variant(bool value) : this(BuiltInType.Boolean, value ? 1 : 0, null, false) { }
    public Variant(sbyte value) : this(BuiltInType.SByte, value, null, false) { }
    public Variant(byte value) : this(BuiltInType.Byte, value, null, false) { }
    public Variant(short value) : this(BuiltInType.Int16, value, null, false) { }
    public Variant(ushort value) : this(BuiltInType.UInt16, value, null, false) { }
    public Variant(int value) : this(BuiltInType.Int32, value, null, false) { }
    public Variant(uint value) : this(BuiltInType.UInt32, value, null, false) { }
    public Variant(long value) : this(BuiltInType.Int64, value, null, false) { }
    public Variant(ulong value) : this(BuiltInType.UInt64, unchecked((long)value), null, false) { }
    public Variant(float value) : this(BuiltInType.Float, BitConverter.SingleToInt32Bits(value), null, false) { }
    public Variant(double value) : this(BuiltInType.Double, BitConverter.DoubleToInt64Bits(value), null, false) { }
    public Variant(DateTime value) : this(BuiltInType.DateTime, (value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : value).Ticks, null, false) { }
    public Variant(StatusCode value) : this(BuiltInType.StatusCode, value.Code, null, false) { }
    public Variant(string? value) : this(BuiltInType.String, 0, value, false) { }
    public Variant(Guid value) : this(BuiltInType.Guid, 0, value, false) { }
    public Variant(XmlElement value) : this(BuiltInType.XmlElement, 0, value, false) { }
    public Variant(NodeId value) : this(BuiltInType.NodeId, 0, value, false) { }
    public Variant(ExpandedNodeId value) : this(BuiltInType.ExpandedNodeId, 0, value, false) { }
    public Variant(QualifiedName value) : this(BuiltInType.QualifiedName, 0, value, false) { }
    public Variant(LocalizedText value) : this(BuiltInType.LocalizedText, 0, value, false) { }
    public Variant(ExtensionObject value) : this(BuiltInType.ExtensionObject, 0, value, false) { }
    public Variant(DataValue value) : this(BuiltInType.DataValue, 0, value, false) { }
    public Variant(DiagnosticInfo value) : this(BuiltInType.DiagnosticInfo, 0, value, false) { }

    /// <summary>A ByteString scalar. (A Byte array is built with <see cref="FromArray"/>.)</summary>
    public static Variant FromByteString(byte[]? value) => new(BuiltInType.ByteString, 0, value, false);

    /// <summary>A one-dimensional array; <paramref name="elements"/> must be the element type's CLR array.</summary>
    public static Variant FromArray(BuiltInType elementType, Array? elements)
    {
        if (elements is not null && elements.GetType() != ArrayTypeOf(elementType))
        {
            throw new ArgumentException($"{elements.GetType().Name} is not an array of {elementType}", nameof(elements));
        }

        return new Variant(elementType, 0, elements, true);
    }

    /// <summary>A matrix: row-major elements and the length of each dimension.</summary>
    public static Variant FromMatrix(BuiltInType elementType, Array elements, int[] dimensions)
    {
        ArgumentNullException.ThrowIfNull(elements);
        ArgumentNullException.ThrowIfNull(dimensions);
        if (elements.GetType() != ArrayTypeOf(elementType))
        {
            throw new ArgumentException($"{elements.GetType().Name} is not an array of {elementType}", nameof(elements));
        }

        long product = 1;
        var hasZero = false;
        foreach (var d in dimensions)
        {
            if (d < 0)
            {
                throw new ArgumentException("matrix dimensions cannot be negative", nameof(dimensions));
            }

            // Stop multiplying once past the element count so the product cannot wrap around to a match.
            if (d == 0)
            {
                hasZero = true;
            }
            else if (product <= elements.Length)
            {
                product *= d;
            }
        }

        if (hasZero)
        {
            product = 0;
        }

        if (product != elements.Length)
        {
            throw new ArgumentException($"dimensions multiply to {product} but there are {elements.Length} elements", nameof(dimensions));
        }

        return new Variant(elementType, 0, new Matrix(elements, dimensions), true);
    }

    public static Variant Null => default;

    public BuiltInType Type { get; }

    /// <summary>True for arrays and matrices.</summary>
    public bool IsArray { get; }

    public bool IsNull => Type == BuiltInType.Null;

    /// <summary>The dimensions of a matrix; null for scalars and one-dimensional arrays.</summary>
    public int[]? ArrayDimensions => (_ref as Matrix)?.Dimensions;

    /// <summary>The elements of an array or matrix (flattened), null for scalars.</summary>
    public Array? ArrayValue => IsArray ? (_ref as Matrix)?.Elements ?? _ref as Array : null;

    /// <summary>The value as an object: a boxed scalar, an array, or a <see cref="Matrix"/>. Boxes numeric scalars.</summary>
    public object? Value => IsArray ? _ref : Type switch
    {
        BuiltInType.Null => null,
        BuiltInType.Boolean => _bits != 0,
        BuiltInType.SByte => (sbyte)_bits,
        BuiltInType.Byte => (byte)_bits,
        BuiltInType.Int16 => (short)_bits,
        BuiltInType.UInt16 => (ushort)_bits,
        BuiltInType.Int32 => (int)_bits,
        BuiltInType.UInt32 => (uint)_bits,
        BuiltInType.Int64 => _bits,
        BuiltInType.UInt64 => unchecked((ulong)_bits),
        BuiltInType.Float => BitConverter.Int32BitsToSingle((int)_bits),
        BuiltInType.Double => BitConverter.Int64BitsToDouble(_bits),
        BuiltInType.DateTime => new DateTime(_bits, DateTimeKind.Utc),
        BuiltInType.StatusCode => new StatusCode((uint)_bits),
        _ => _ref,
    };

    /// <summary>Raw inline bits of a numeric scalar (used by the codec).</summary>
    internal long Bits => _bits;

    internal object? Reference => _ref;

    internal static Variant FromBits(BuiltInType type, long bits) => new(type, bits, null, false);

    internal static Variant FromReference(BuiltInType type, object? reference, bool isArray) => new(type, 0, reference, isArray);

    /// <summary>Numeric scalars as a double (for deadbands, plots and drift): throws for non-numeric values.</summary>
    public double ToDouble() => !IsArray ? Type switch
    {
        BuiltInType.Boolean or BuiltInType.SByte or BuiltInType.Byte or BuiltInType.Int16 or BuiltInType.UInt16
            or BuiltInType.Int32 or BuiltInType.UInt32 or BuiltInType.Int64 => _bits,
        BuiltInType.UInt64 => unchecked((ulong)_bits),
        BuiltInType.Float => BitConverter.Int32BitsToSingle((int)_bits),
        BuiltInType.Double => BitConverter.Int64BitsToDouble(_bits),
        _ => throw new InvalidCastException($"a {Type} value is not numeric"),
    }
    : throw new InvalidCastException("an array is not a number");

    public bool IsNumeric => !IsArray && Type is >= BuiltInType.Boolean and <= BuiltInType.Double;

    /// <summary>Builds a Variant from a CLR value, inferring the built-in type. Throws for unsupported types.</summary>
    public static Variant FromObject(object? value) => value switch
    {
        null => default,
        Variant v => v,
        bool b => new Variant(b),
        sbyte sb => new Variant(sb),
        byte by => new Variant(by),
        short s => new Variant(s),
        ushort us => new Variant(us),
        int i => new Variant(i),
        uint ui => new Variant(ui),
        long l => new Variant(l),
        ulong ul => new Variant(ul),
        float f => new Variant(f),
        double d => new Variant(d),
        string str => new Variant(str),
        DateTime dt => new Variant(dt),
        Guid g => new Variant(g),
        byte[] bs => FromByteString(bs),
        XmlElement x => new Variant(x),
        NodeId n => new Variant(n),
        ExpandedNodeId en => new Variant(en),
        StatusCode sc => new Variant(sc),
        QualifiedName q => new Variant(q),
        LocalizedText lt => new Variant(lt),
        ExtensionObject eo => new Variant(eo),
        DataValue dv => new Variant(dv),
        DiagnosticInfo di => new Variant(di),
        Array array when ElementTypeOf(array.GetType()) is { } et => FromArray(et, array),
        _ => throw new ArgumentException($"{value.GetType().Name} has no OPC UA built-in type", nameof(value)),
    };

    /// <summary>The CLR array type the codec uses for a built-in element type.</summary>
    public static Type ArrayTypeOf(BuiltInType elementType) => elementType switch
    {
        BuiltInType.Boolean => typeof(bool[]),
        BuiltInType.SByte => typeof(sbyte[]),
        BuiltInType.Byte => typeof(byte[]),
        BuiltInType.Int16 => typeof(short[]),
        BuiltInType.UInt16 => typeof(ushort[]),
        BuiltInType.Int32 => typeof(int[]),
        BuiltInType.UInt32 => typeof(uint[]),
        BuiltInType.Int64 => typeof(long[]),
        BuiltInType.UInt64 => typeof(ulong[]),
        BuiltInType.Float => typeof(float[]),
        BuiltInType.Double => typeof(double[]),
        BuiltInType.String => typeof(string[]),
        BuiltInType.DateTime => typeof(DateTime[]),
        BuiltInType.Guid => typeof(Guid[]),
        BuiltInType.ByteString => typeof(byte[][]),
        BuiltInType.XmlElement => typeof(XmlElement[]),
        BuiltInType.NodeId => typeof(NodeId[]),
        BuiltInType.ExpandedNodeId => typeof(ExpandedNodeId[]),
        BuiltInType.StatusCode => typeof(StatusCode[]),
        BuiltInType.QualifiedName => typeof(QualifiedName[]),
        BuiltInType.LocalizedText => typeof(LocalizedText[]),
        BuiltInType.ExtensionObject => typeof(ExtensionObject[]),
        BuiltInType.DataValue => typeof(DataValue[]),
        BuiltInType.Variant => typeof(Variant[]),
        BuiltInType.DiagnosticInfo => typeof(DiagnosticInfo[]),
        _ => throw new ArgumentOutOfRangeException(nameof(elementType), elementType, "no array of Null"),
    };

    private static BuiltInType? ElementTypeOf(Type arrayType)
    {
        for (var t = BuiltInType.Boolean; t <= BuiltInType.DiagnosticInfo; t++)
        {
            if (ArrayTypeOf(t) == arrayType)
            {
                return t;
            }
        }

        return null;
    }

    public bool Equals(Variant other)
    {
        if (Type != other.Type || IsArray != other.IsArray || _bits != other._bits)
        {
            return false;
        }

        return _ref switch
        {
            null => other._ref is null,
            Array a => other._ref is Array b && ArraysEqual(a, b),
            _ => _ref.Equals(other._ref),
        };
    }

    internal static bool ArraysEqual(Array a, Array b)
    {
        if (a.Length != b.Length || a.GetType() != b.GetType())
        {
            return false;
        }

        for (var i = 0; i < a.Length; i++)
        {
            var x = a.GetValue(i);
            var y = b.GetValue(i);
            var same = x switch
            {
                null => y is null,
                byte[] bx => y is byte[] by && bx.AsSpan().SequenceEqual(by),
                double dx => y is double dy && BitConverter.DoubleToInt64Bits(dx) == BitConverter.DoubleToInt64Bits(dy),
                float fx => y is float fy && BitConverter.SingleToInt32Bits(fx) == BitConverter.SingleToInt32Bits(fy),
                _ => x.Equals(y),
            };
            if (!same)
            {
                return false;
            }
        }

        return true;
    }

    public override bool Equals(object? obj) => obj is Variant other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Type, IsArray, _bits, _ref is IStructuralEquatable ? 0 : _ref?.GetHashCode() ?? 0);

    public static bool operator ==(Variant left, Variant right) => left.Equals(right);

    public static bool operator !=(Variant left, Variant right) => !left.Equals(right);

    public override string ToString()
    {
        if (IsArray)
        {
            var elements = ArrayValue;
            if (elements is null)
            {
                return "null";
            }

            var parts = new List<string>(Math.Min(elements.Length, 32));
            foreach (var e in elements)
            {
                if (parts.Count == 32)
                {
                    parts.Add("...");
                    break;
                }

                parts.Add(FormatScalar(e));
            }

            var dims = ArrayDimensions is { } d ? "[" + string.Join("x", d) + "]" : "";
            return dims + "[" + string.Join(", ", parts) + "]";
        }

        return FormatScalar(Value);
    }

    private static string FormatScalar(object? value) => value switch
    {
        null => "null",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        DateTime dt => dt.ToString("O", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        byte[] bs => Convert.ToBase64String(bs),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}

/// <summary>
/// A value with its quality and timestamps (OPC 10000-4 §7.11). A value type: decoding one allocates nothing
/// beyond what its Variant holds.
/// </summary>
public readonly record struct DataValue(
    Variant Value,
    StatusCode StatusCode = default,
    DateTime SourceTimestamp = default,
    DateTime ServerTimestamp = default,
    ushort SourcePicoseconds = 0,
    ushort ServerPicoseconds = 0)
{
    public DataValue(double value, DateTime sourceTimestamp)
        : this(new Variant(value), StatusCodes.Good, sourceTimestamp)
    {
    }
}
