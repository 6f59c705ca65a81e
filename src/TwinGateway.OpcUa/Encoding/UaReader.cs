using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Encoding;

/// <summary>
/// Decodes the OPC UA binary encoding (OPC 10000-6 §5.2) from a contiguous buffer. Every length is checked against
/// the <see cref="EncodingLimits"/> and against the bytes that remain before anything is allocated, so a hostile
/// length fails with <c>BadEncodingLimitsExceeded</c> or <c>BadDecodingError</c> instead of allocating.
/// </summary>
public ref struct UaReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private int _position;
    private int _depth;

    public UaReader(ReadOnlySpan<byte> buffer, EncodingLimits? limits = null, IEncodeableFactory? factory = null)
    {
        _buffer = buffer;
        Limits = limits ?? EncodingLimits.Default;
        Factory = factory ?? EncodeableFactory.Default;
    }

    public EncodingLimits Limits { get; }

    /// <summary>Maps ExtensionObject type ids to the structures we know how to decode.</summary>
    public IEncodeableFactory Factory { get; }

    public readonly int Position => _position;

    public readonly int Remaining => _buffer.Length - _position;

    public readonly ReadOnlySpan<byte> RemainingSpan => _buffer[_position..];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> Take(int count)
    {
        if ((uint)count > (uint)(_buffer.Length - _position))
        {
            ThrowTruncated(count);
        }

        var span = _buffer.Slice(_position, count);
        _position += count;
        return span;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private readonly void ThrowTruncated(int count) =>
        throw new ServiceResultException(StatusCodes.BadDecodingError,
            $"message truncated: needed {count} bytes at offset {_position}, {_buffer.Length - _position} left");

    public bool ReadBoolean() => Take(1)[0] != 0;
    public sbyte ReadSByte() => (sbyte)Take(1)[0];
    public byte ReadByte() => Take(1)[0];
    public short ReadInt16() => BinaryPrimitives.ReadInt16LittleEndian(Take(2));
    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));
    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));
    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));
    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
    public float ReadFloat() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));
    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));
    public StatusCode ReadStatusCode() => new(ReadUInt32());
    public Guid ReadGuid() => new(Take(16));

    /// <summary>Int64 100-ns ticks since 1601-01-01 UTC; 0 and anything before 1601 read as <see cref="DateTime.MinValue"/>.</summary>
    public DateTime ReadDateTime() => UaDateTime.FromWire(ReadInt64());

    /// <summary>Reads a length prefix; -1 (and any negative value, which some stacks send) means null.</summary>
    private int ReadLength(int limit, string what)
    {
        var length = ReadInt32();
        if (length < 0)
        {
            return -1;
        }

        if (limit > 0 && length > limit)
        {
            throw new ServiceResultException(StatusCodes.BadEncodingLimitsExceeded,
                $"{what} of {length} exceeds the limit of {limit} at offset {_position - 4}");
        }

        return length;
    }

    public string? ReadString()
    {
        var length = ReadLength(Limits.MaxStringLength, "string length");
        return length < 0 ? null : System.Text.Encoding.UTF8.GetString(Take(length));
    }

    public byte[]? ReadByteString()
    {
        var length = ReadLength(Limits.MaxByteStringLength, "byte string length");
        return length < 0 ? null : Take(length).ToArray();
    }

    public XmlElement ReadXmlElement() => new(ReadString());

    /// <summary>
    /// Reads an array length and proves the remaining bytes could hold that many elements of at least
    /// <paramref name="minElementSize"/> bytes, so a hostile count never reaches <c>new T[count]</c>.
    /// </summary>
    public int ReadArrayLength(int minElementSize = 1)
    {
        var length = ReadLength(Limits.MaxArrayLength, "array length");
        if (length > 0 && (long)length * minElementSize > Remaining)
        {
            throw new ServiceResultException(StatusCodes.BadDecodingError,
                $"array of {length} elements cannot fit in the {Remaining} bytes left at offset {_position - 4}");
        }

        return length;
    }

    public NodeId ReadNodeId()
    {
        var encoding = ReadByte();
        return ReadNodeIdBody(encoding & 0x3F, encoding);
    }

    private NodeId ReadNodeIdBody(int format, byte encodingByte)
    {
        switch (format)
        {
            case 0:
                return new NodeId(ReadByte());
            case 1:
                {
                    var ns = ReadByte();
                    return new NodeId(ReadUInt16(), ns);
                }

            case 2:
                {
                    var ns = ReadUInt16();
                    return new NodeId(ReadUInt32(), ns);
                }

            case 3:
                {
                    var ns = ReadUInt16();
                    return new NodeId(ReadString() ?? "", ns);
                }

            case 4:
                {
                    var ns = ReadUInt16();
                    return new NodeId(ReadGuid(), ns);
                }

            case 5:
                {
                    var ns = ReadUInt16();
                    return new NodeId(ReadByteString() ?? [], ns);
                }

            default:
                throw new ServiceResultException(StatusCodes.BadDecodingError,
                    $"invalid NodeId encoding byte 0x{encodingByte:X2} at offset {_position - 1}");
        }
    }

    public ExpandedNodeId ReadExpandedNodeId()
    {
        var encoding = ReadByte();
        var nodeId = ReadNodeIdBody(encoding & 0x3F, encoding);
        var uri = (encoding & 0x80) != 0 ? ReadString() : null;
        var server = (encoding & 0x40) != 0 ? ReadUInt32() : 0u;
        return new ExpandedNodeId(nodeId, uri, server);
    }

    public QualifiedName ReadQualifiedName()
    {
        var ns = ReadUInt16();
        return new QualifiedName(ns, ReadString());
    }

    public LocalizedText ReadLocalizedText()
    {
        var mask = ReadByte();
        var locale = (mask & 0x01) != 0 ? ReadString() : null;
        var text = (mask & 0x02) != 0 ? ReadString() : null;
        return new LocalizedText(locale, text);
    }

    public DiagnosticInfo? ReadDiagnosticInfo()
    {
        var mask = ReadByte();
        if ((mask & 0x7F) == 0)
        {
            // No defined field: the same as null (an undefined bit alone must not make decode-encode unstable).
            return null;
        }

        Enter();
        try
        {
            return new DiagnosticInfo
            {
                SymbolicId = (mask & 0x01) != 0 ? ReadInt32() : null,
                NamespaceUri = (mask & 0x02) != 0 ? ReadInt32() : null,
                Locale = (mask & 0x08) != 0 ? ReadInt32() : null,
                LocalizedText = (mask & 0x04) != 0 ? ReadInt32() : null,
                AdditionalInfo = (mask & 0x10) != 0 ? ReadString() : null,
                InnerStatusCode = (mask & 0x20) != 0 ? ReadStatusCode() : null,
                InnerDiagnosticInfo = (mask & 0x40) != 0 ? ReadDiagnosticInfo() : null,
            };
        }
        finally
        {
            _depth--;
        }
    }

    public ExtensionObject ReadExtensionObject()
    {
        var typeId = ReadNodeId();
        var encoding = ReadByte();
        switch (encoding)
        {
            case 0:
                return typeId.IsNull ? ExtensionObject.Null : new ExtensionObject(typeId, null);
            case 1:
                {
                    var length = ReadLength(Limits.MaxByteStringLength, "extension object length");
                    if (length < 0)
                    {
                        return new ExtensionObject(typeId, null);
                    }

                    var body = Take(length);
                    var decoded = Factory.Create(typeId);
                    if (decoded is null)
                    {
                        return new ExtensionObject(typeId, body.ToArray());
                    }

                    var inner = new UaReader(body, Limits, Factory) { _depth = _depth };
                    inner.Enter();
                    decoded.Decode(ref inner);
                    return new ExtensionObject(typeId, decoded);
                }

            case 2:
                return new ExtensionObject(typeId, ReadString(), ExtensionObjectEncoding.Xml);
            default:
                throw new ServiceResultException(StatusCodes.BadDecodingError,
                    $"invalid ExtensionObject encoding 0x{encoding:X2} for type {typeId} at offset {_position - 1}");
        }
    }

    /// <summary>Reads an ExtensionObject that must hold a <typeparamref name="T"/>; null when the body is empty.</summary>
    public T? ReadEncodeableInExtensionObject<T>()
        where T : class, IEncodeable
    {
        var eo = ReadExtensionObject();
        return eo.Body switch
        {
            null => null,
            T t => t,
            _ => throw new ServiceResultException(StatusCodes.BadDecodingError,
                $"expected a {typeof(T).Name} but the ExtensionObject holds type {eo.TypeId}"),
        };
    }

    public T ReadEncodeable<T>()
        where T : IEncodeable, new() => ReadEncodeable(new T());

    /// <summary>Decodes into <paramref name="instance"/> (generated code passes <c>new X()</c>, avoiding a generic <c>new T()</c>).</summary>
    public T ReadEncodeable<T>(T instance)
        where T : IEncodeable
    {
        ArgumentNullException.ThrowIfNull(instance);
        Enter();
        try
        {
            instance.Decode(ref this);
            return instance;
        }
        finally
        {
            _depth--;
        }
    }

    public DataValue ReadDataValue()
    {
        var mask = ReadByte();
        var value = (mask & 0x01) != 0 ? ReadVariant() : default;
        var status = (mask & 0x02) != 0 ? ReadStatusCode() : default;
        var source = (mask & 0x04) != 0 ? ReadDateTime() : default;
        var sourcePico = (mask & 0x10) != 0 ? ReadUInt16() : (ushort)0;
        var server = (mask & 0x08) != 0 ? ReadDateTime() : default;
        var serverPico = (mask & 0x20) != 0 ? ReadUInt16() : (ushort)0;
        return new DataValue(value, status, source, server, sourcePico, serverPico);
    }

    public Variant ReadVariant()
    {
        var mask = ReadByte();
        var typeId = mask & 0x3F;
        if (typeId > MaxReservedTypeId)
        {
            throw new ServiceResultException(StatusCodes.BadDecodingError,
                $"invalid Variant type id {typeId} at offset {_position - 1}");
        }

        var type = (BuiltInType)typeId;

        // OPC 10000-6 §5.2.2.16: ids 26..31 are reserved; decoders shall accept them, read the value as a ByteString
        // (or an array of ByteStrings) and pass the id on. Encoders never write them.
        var wireType = typeId > (int)BuiltInType.DiagnosticInfo ? BuiltInType.ByteString : type;
        if ((mask & 0x80) == 0)
        {
            if ((mask & 0x40) != 0)
            {
                throw new ServiceResultException(StatusCodes.BadDecodingError,
                    $"Variant at offset {_position - 1} has array dimensions but is not an array");
            }

            if (wireType != type)
            {
                return Variant.FromReference(type, ReadByteString(), false);
            }

            return type switch
            {
                BuiltInType.Null => default,
                BuiltInType.Boolean => Variant.FromBits(type, ReadByte() != 0 ? 1 : 0),
                BuiltInType.SByte => Variant.FromBits(type, ReadSByte()),
                BuiltInType.Byte => Variant.FromBits(type, ReadByte()),
                BuiltInType.Int16 => Variant.FromBits(type, ReadInt16()),
                BuiltInType.UInt16 => Variant.FromBits(type, ReadUInt16()),
                BuiltInType.Int32 => Variant.FromBits(type, ReadInt32()),
                BuiltInType.UInt32 => Variant.FromBits(type, ReadUInt32()),
                BuiltInType.Int64 => Variant.FromBits(type, ReadInt64()),
                BuiltInType.UInt64 => Variant.FromBits(type, ReadInt64()),
                BuiltInType.Float => Variant.FromBits(type, ReadInt32()),
                BuiltInType.Double => Variant.FromBits(type, ReadInt64()),
                BuiltInType.DateTime => Variant.FromBits(type, ReadDateTime().Ticks),
                BuiltInType.StatusCode => Variant.FromBits(type, ReadUInt32()),
                BuiltInType.Variant => throw new ServiceResultException(StatusCodes.BadDecodingError,
                    $"a Variant cannot hold a scalar Variant (offset {_position - 1})"),
                _ => Variant.FromReference(type, ReadNested(type), false),
            };
        }

        if (type == BuiltInType.Null)
        {
            throw new ServiceResultException(StatusCodes.BadDecodingError, $"array of Null at offset {_position - 1}");
        }

        Enter();
        try
        {
            var elements = ReadArrayOf(wireType);
            if ((mask & 0x40) == 0)
            {
                return Variant.FromReference(type, elements, true);
            }

            var rank = ReadArrayLength(4);
            if (rank < 1)
            {
                throw new ServiceResultException(StatusCodes.BadDecodingError, "matrix with no dimensions");
            }

            var dims = new int[rank];
            var length = elements?.Length ?? 0;
            long product = 1;
            var hasZero = false;
            for (var i = 0; i < rank; i++)
            {
                dims[i] = ReadInt32();
                if (dims[i] < 0)
                {
                    throw new ServiceResultException(StatusCodes.BadDecodingError, $"matrix dimension {i} is negative ({dims[i]})");
                }

                // Stop multiplying once past the element count: the product of hostile dimensions must not wrap
                // around to a value that happens to match (2^30 x 2^30 x 2^30 is 0 modulo 2^64).
                if (dims[i] == 0)
                {
                    hasZero = true;
                }
                else if (product <= length)
                {
                    product *= dims[i];
                }
            }

            if (hasZero)
            {
                product = 0;
            }

            if (product != length)
            {
                throw new ServiceResultException(StatusCodes.BadDecodingError,
                    $"matrix dimensions [{string.Join(",", dims)}] do not match its {length} elements");
            }

            return Variant.FromReference(type, new Matrix(elements ?? Array.CreateInstance(Variant.ArrayTypeOf(wireType).GetElementType()!, 0), dims), true);
        }
        finally
        {
            _depth--;
        }
    }

    private object? ReadNested(BuiltInType type)
    {
        Enter();
        try
        {
            return ReadScalarObject(type);
        }
        finally
        {
            _depth--;
        }
    }

    private object? ReadScalarObject(BuiltInType type) => type switch
    {
        BuiltInType.Boolean => ReadBoolean(),
        BuiltInType.SByte => ReadSByte(),
        BuiltInType.Byte => ReadByte(),
        BuiltInType.Int16 => ReadInt16(),
        BuiltInType.UInt16 => ReadUInt16(),
        BuiltInType.Int32 => ReadInt32(),
        BuiltInType.UInt32 => ReadUInt32(),
        BuiltInType.Int64 => ReadInt64(),
        BuiltInType.UInt64 => ReadUInt64(),
        BuiltInType.Float => ReadFloat(),
        BuiltInType.Double => ReadDouble(),
        BuiltInType.String => ReadString(),
        BuiltInType.DateTime => ReadDateTime(),
        BuiltInType.Guid => ReadGuid(),
        BuiltInType.ByteString => ReadByteString(),
        BuiltInType.XmlElement => ReadXmlElement(),
        BuiltInType.NodeId => ReadNodeId(),
        BuiltInType.ExpandedNodeId => ReadExpandedNodeId(),
        BuiltInType.StatusCode => ReadStatusCode(),
        BuiltInType.QualifiedName => ReadQualifiedName(),
        BuiltInType.LocalizedText => ReadLocalizedText(),
        BuiltInType.ExtensionObject => ReadExtensionObject(),
        BuiltInType.DataValue => ReadDataValue(),
        BuiltInType.Variant => ReadVariant(),
        BuiltInType.DiagnosticInfo => ReadDiagnosticInfo(),
        _ => throw new ServiceResultException(StatusCodes.BadDecodingError, $"cannot read a {type}"),
    };

    /// <summary>The highest Variant type id a decoder accepts: 26..31 are reserved and read as ByteStrings.</summary>
    private const int MaxReservedTypeId = 31;

    /// <summary>Smallest encoded size of one element, used to bound array counts before allocating.</summary>
    internal static int MinEncodedSize(BuiltInType type) => type switch
    {
        BuiltInType.Boolean or BuiltInType.SByte or BuiltInType.Byte => 1,
        BuiltInType.Int16 or BuiltInType.UInt16 => 2,
        BuiltInType.Int32 or BuiltInType.UInt32 or BuiltInType.Float or BuiltInType.StatusCode
            or BuiltInType.String or BuiltInType.ByteString or BuiltInType.XmlElement => 4,
        BuiltInType.Int64 or BuiltInType.UInt64 or BuiltInType.Double or BuiltInType.DateTime => 8,
        BuiltInType.Guid => 16,
        BuiltInType.NodeId or BuiltInType.ExpandedNodeId => 2,
        BuiltInType.QualifiedName => 6,
        BuiltInType.ExtensionObject => 3,
        _ => 1,
    };

    private Array? ReadArrayOf(BuiltInType type)
    {
        var length = ReadArrayLength(MinEncodedSize(type));
        if (length < 0)
        {
            return null;
        }

        switch (type)
        {
            case BuiltInType.Double:
                {
                    var values = new double[length];
                    for (var i = 0; i < values.Length; i++)
                    {
                        values[i] = ReadDouble();
                    }

                    return values;
                }

            case BuiltInType.Int32:
                {
                    var values = new int[length];
                    for (var i = 0; i < values.Length; i++)
                    {
                        values[i] = ReadInt32();
                    }

                    return values;
                }

            case BuiltInType.Byte:
                return Take(length).ToArray();
            default:
                {
                    var array = Array.CreateInstance(Variant.ArrayTypeOf(type).GetElementType()!, length);
                    for (var i = 0; i < length; i++)
                    {
                        array.SetValue(ReadScalarObject(type), i);
                    }

                    return array;
                }
        }
    }

    /// <summary>Reads an array of structures; null when the wire says -1.</summary>
    public T[]? ReadEncodeableArray<T>()
        where T : IEncodeable, new() => ReadEncodeableArray(static () => new T());

    /// <summary>Reads an array of structures made by <paramref name="create"/>; null when the wire says -1.</summary>
    public T[]? ReadEncodeableArray<T>(Func<T> create)
        where T : IEncodeable
    {
        ArgumentNullException.ThrowIfNull(create);
        var length = ReadArrayLength();
        if (length < 0)
        {
            return null;
        }

        var values = new T[length];
        for (var i = 0; i < length; i++)
        {
            values[i] = ReadEncodeable(create());
        }

        return values;
    }

    /// <summary>Reads an array of any element with a reader function (used by generated code).</summary>
    public T[]? ReadArray<T>(ArrayElementReader<T> read, int minElementSize = 1)
    {
        var length = ReadArrayLength(minElementSize);
        if (length < 0)
        {
            return null;
        }

        var values = new T[length];
        for (var i = 0; i < length; i++)
        {
            values[i] = read(ref this);
        }

        return values;
    }

    /// <summary>Enumerations are Int32 on the wire.</summary>
    public TEnum ReadEnum<TEnum>()
        where TEnum : struct, Enum
    {
        var value = ReadInt32();
        return Unsafe.As<int, TEnum>(ref value);
    }

    private void Enter()
    {
        if (++_depth > Limits.MaxNestingDepth)
        {
            throw new ServiceResultException(StatusCodes.BadEncodingLimitsExceeded,
                $"nesting deeper than {Limits.MaxNestingDepth} at offset {_position}");
        }
    }
}

/// <summary>Reads one array element (used by generated code for arrays of built-in types).</summary>
public delegate T ArrayElementReader<T>(ref UaReader reader);

/// <summary>The OPC UA DateTime mapping (OPC 10000-6 §5.2.2.5).</summary>
public static class UaDateTime
{
    private const long TicksAt1601 = 504911232000000000L;

    /// <summary>9999-12-31 23:59:59 UTC: this and anything later is encoded as Int64.MaxValue (OPC 10000-6 §5.2.2.5).</summary>
    private const long TicksAtLatest = 3155378975990000000L;

    public static DateTime FromWire(long value)
    {
        if (value <= 0)
        {
            return DateTime.MinValue;
        }

        if (value >= DateTime.MaxValue.Ticks - TicksAt1601)
        {
            return DateTime.MaxValue;
        }

        return new DateTime(value + TicksAt1601, DateTimeKind.Utc);
    }

    public static long ToWire(DateTime value)
    {
        var ticks = value.Kind == DateTimeKind.Local ? value.ToUniversalTime().Ticks : value.Ticks;
        if (ticks <= TicksAt1601)
        {
            return 0;
        }

        if (ticks >= TicksAtLatest)
        {
            return long.MaxValue;
        }

        return ticks - TicksAt1601;
    }
}
