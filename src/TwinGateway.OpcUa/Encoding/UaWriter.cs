using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Encoding;

/// <summary>
/// Encodes the OPC UA binary encoding into a growable buffer rented from <see cref="ArrayPool{T}"/>.
/// The writer owns the buffer until <see cref="Dispose"/>; <see cref="WrittenSpan"/> is valid until the next write.
/// Limits are enforced on the way out as well, so we never send what a peer must reject.
/// </summary>
public sealed class UaWriter : IDisposable
{
    private byte[] _buffer;
    private int _position;
    private int _depth;

    /// <summary>Where writing must stop without a check: the buffer's end, or MaxMessageSize when that is smaller.</summary>
    private int _end;

    public UaWriter(int initialCapacity = 4096, EncodingLimits? limits = null)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, 64));
        Limits = limits ?? EncodingLimits.Default;
        _end = EndOf(_buffer);
    }

    public EncodingLimits Limits { get; }

    public int Position => _position;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _position);

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _position);

    public byte[] ToArray() => WrittenSpan.ToArray();

    /// <summary>
    /// Hands the rented buffer to the caller without copying: the written bytes are its first <paramref name="length"/>
    /// bytes, and the caller returns it to <see cref="ArrayPool{T}.Shared"/>. The writer is empty afterwards. For large
    /// bodies that outlive the writer (a server's NotificationMessages), where <see cref="ToArray"/> would copy them into
    /// a fresh array on the large object heap.
    /// </summary>
    public byte[] DetachBuffer(out int length)
    {
        var buffer = _buffer;
        length = _position;
        _buffer = [];
        _position = 0;
        _depth = 0;
        _end = 0;
        return buffer;
    }

    /// <summary>Forgets what was written, keeping the buffer (for reuse on a hot path).</summary>
    public void Reset()
    {
        _position = 0;
        _depth = 0; // a write that failed half-way through a nested value leaves the depth raised
    }

    /// <summary>Reserves <paramref name="count"/> bytes to be patched later (headers whose size is known at the end).</summary>
    public int Reserve(int count)
    {
        var at = _position;
        GetSpan(count);
        _position += count;
        return at;
    }

    /// <summary>Writes at an earlier position without moving the end.</summary>
    public void PatchUInt32(int at, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(at, 4), value);

    public void PatchByte(int at, byte value) => _buffer[at] = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<byte> GetSpan(int count)
    {
        if (_end - _position < count)
        {
            Grow(count);
        }

        return _buffer.AsSpan(_position, count);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow(int count)
    {
        var needed = (long)_position + count;
        if (Limits.MaxMessageSize > 0 && needed > Limits.MaxMessageSize)
        {
            throw new ServiceResultException(StatusCodes.BadEncodingLimitsExceeded,
                $"message would exceed MaxMessageSize of {Limits.MaxMessageSize} bytes");
        }

        var next = ArrayPool<byte>.Shared.Rent((int)Math.Max(needed, Math.Min((long)_buffer.Length * 2, int.MaxValue)));
        _buffer.AsSpan(0, _position).CopyTo(next);
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        _buffer = next;
        _end = EndOf(next);
    }

    // The pool may hand out more than was asked for; MaxMessageSize must hold whatever the buffer's size.
    private int EndOf(byte[] buffer) =>
        Limits.MaxMessageSize > 0 ? Math.Min(buffer.Length, Limits.MaxMessageSize) : buffer.Length;

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        _position += bytes.Length;
    }

    public void WriteBoolean(bool value) => WriteByte(value ? (byte)1 : (byte)0);
    public void WriteSByte(sbyte value) => WriteByte((byte)value);

    public void WriteByte(byte value)
    {
        GetSpan(1)[0] = value;
        _position++;
    }

    public void WriteInt16(short value) { BinaryPrimitives.WriteInt16LittleEndian(GetSpan(2), value); _position += 2; }
    public void WriteUInt16(ushort value) { BinaryPrimitives.WriteUInt16LittleEndian(GetSpan(2), value); _position += 2; }
    public void WriteInt32(int value) { BinaryPrimitives.WriteInt32LittleEndian(GetSpan(4), value); _position += 4; }
    public void WriteUInt32(uint value) { BinaryPrimitives.WriteUInt32LittleEndian(GetSpan(4), value); _position += 4; }
    public void WriteInt64(long value) { BinaryPrimitives.WriteInt64LittleEndian(GetSpan(8), value); _position += 8; }
    public void WriteUInt64(ulong value) { BinaryPrimitives.WriteUInt64LittleEndian(GetSpan(8), value); _position += 8; }
    public void WriteFloat(float value) { BinaryPrimitives.WriteInt32LittleEndian(GetSpan(4), FloatBits(value)); _position += 4; }
    public void WriteDouble(double value) { BinaryPrimitives.WriteInt64LittleEndian(GetSpan(8), DoubleBits(value)); _position += 8; }

    /// <summary>OPC 10000-6 §5.2.2.3: encoders shall write every NaN as the quiet NaN 0xFFC00000 (bytes 00 00 C0 FF).</summary>
    private const int CanonicalFloatNaN = unchecked((int)0xFFC00000);

    /// <summary>OPC 10000-6 §5.2.2.3: encoders shall write every NaN as the quiet NaN 0xFFF8000000000000 (bytes ... F8 FF).</summary>
    private const long CanonicalDoubleNaN = unchecked((long)0xFFF8000000000000);

    private static int FloatBits(float value) => float.IsNaN(value) ? CanonicalFloatNaN : BitConverter.SingleToInt32Bits(value);

    private static long DoubleBits(double value) => double.IsNaN(value) ? CanonicalDoubleNaN : BitConverter.DoubleToInt64Bits(value);
    public void WriteStatusCode(StatusCode value) => WriteUInt32(value.Code);
    public void WriteDateTime(DateTime value) => WriteInt64(UaDateTime.ToWire(value));

    public void WriteGuid(Guid value)
    {
        value.TryWriteBytes(GetSpan(16));
        _position += 16;
    }

    public void WriteString(string? value)
    {
        if (value is null)
        {
            WriteInt32(-1);
            return;
        }

        var byteCount = System.Text.Encoding.UTF8.GetByteCount(value);
        CheckLength(byteCount, Limits.MaxStringLength, "string");
        WriteInt32(byteCount);
        System.Text.Encoding.UTF8.GetBytes(value, GetSpan(byteCount));
        _position += byteCount;
    }

    public void WriteByteString(ReadOnlySpan<byte> value)
    {
        CheckLength(value.Length, Limits.MaxByteStringLength, "byte string");
        WriteInt32(value.Length);
        WriteBytes(value);
    }

    public void WriteByteString(byte[]? value)
    {
        if (value is null)
        {
            WriteInt32(-1);
            return;
        }

        WriteByteString(value.AsSpan());
    }

    public void WriteXmlElement(XmlElement value) => WriteString(value.Xml);

    private static void CheckLength(int length, int limit, string what)
    {
        if (limit > 0 && length > limit)
        {
            throw new ServiceResultException(StatusCodes.BadEncodingLimitsExceeded,
                $"{what} of {length} exceeds the limit of {limit}");
        }
    }

    /// <summary>Writes an array length (-1 for null) after checking the array limit.</summary>
    public void WriteArrayLength(int length)
    {
        if (length >= 0)
        {
            CheckLength(length, Limits.MaxArrayLength, "array");
        }

        WriteInt32(length);
    }

    public void WriteNodeId(NodeId value) => WriteNodeId(value, 0);

    private void WriteNodeId(NodeId value, byte flags)
    {
        var ns = value.NamespaceIndex;
        switch (value.IdType)
        {
            case IdType.Numeric:
                var id = value.NumericId;
                if (ns == 0 && id <= byte.MaxValue)
                {
                    WriteByte(flags);
                    WriteByte((byte)id);
                }
                else if (ns <= byte.MaxValue && id <= ushort.MaxValue)
                {
                    WriteByte((byte)(0x01 | flags));
                    WriteByte((byte)ns);
                    WriteUInt16((ushort)id);
                }
                else
                {
                    WriteByte((byte)(0x02 | flags));
                    WriteUInt16(ns);
                    WriteUInt32(id);
                }

                break;
            case IdType.String:
                WriteByte((byte)(0x03 | flags));
                WriteUInt16(ns);
                WriteString(value.StringId);
                break;
            case IdType.Guid:
                WriteByte((byte)(0x04 | flags));
                WriteUInt16(ns);
                WriteGuid(value.GuidId);
                break;
            default:
                WriteByte((byte)(0x05 | flags));
                WriteUInt16(ns);
                WriteByteString(value.OpaqueId);
                break;
        }
    }

    public void WriteExpandedNodeId(ExpandedNodeId value)
    {
        // OPC 10000-6 §5.2.2.10: the NamespaceUri is not present if null or empty; when it is present the
        // NamespaceIndex of the NodeId is written as 0.
        var hasUri = !string.IsNullOrEmpty(value.NamespaceUri);
        byte flags = 0;
        if (hasUri)
        {
            flags |= 0x80;
        }

        if (value.ServerIndex != 0)
        {
            flags |= 0x40;
        }

        WriteNodeId(hasUri ? WithNamespaceZero(value.NodeId) : value.NodeId, flags);
        if (hasUri)
        {
            WriteString(value.NamespaceUri);
        }

        if (value.ServerIndex != 0)
        {
            WriteUInt32(value.ServerIndex);
        }
    }

    private static NodeId WithNamespaceZero(NodeId id) => id.NamespaceIndex == 0 ? id : id.IdType switch
    {
        IdType.Numeric => new NodeId(id.NumericId),
        IdType.String => new NodeId(id.StringId, 0),
        IdType.Guid => new NodeId(id.GuidId, 0),
        _ => new NodeId(id.OpaqueId, 0),
    };

    public void WriteQualifiedName(QualifiedName value)
    {
        WriteUInt16(value.NamespaceIndex);
        WriteString(value.Name);
    }

    public void WriteLocalizedText(LocalizedText value)
    {
        // OPC 10000-6 §5.2.2.14: Locale and Text are each omitted if null or empty.
        var hasLocale = !string.IsNullOrEmpty(value.Locale);
        var hasText = !string.IsNullOrEmpty(value.Text);
        byte mask = 0;
        if (hasLocale)
        {
            mask |= 0x01;
        }

        if (hasText)
        {
            mask |= 0x02;
        }

        WriteByte(mask);
        if (hasLocale)
        {
            WriteString(value.Locale);
        }

        if (hasText)
        {
            WriteString(value.Text);
        }
    }

    public void WriteDiagnosticInfo(DiagnosticInfo? value)
    {
        if (value is null)
        {
            WriteByte(0);
            return;
        }

        Enter();
        byte mask = 0;
        if (value.SymbolicId.HasValue) { mask |= 0x01; }
        if (value.NamespaceUri.HasValue) { mask |= 0x02; }
        if (value.LocalizedText.HasValue) { mask |= 0x04; }
        if (value.Locale.HasValue) { mask |= 0x08; }
        if (value.AdditionalInfo is not null) { mask |= 0x10; }
        if (value.InnerStatusCode.HasValue) { mask |= 0x20; }
        if (value.InnerDiagnosticInfo is not null) { mask |= 0x40; }
        WriteByte(mask);
        if (value.SymbolicId is { } s) { WriteInt32(s); }
        if (value.NamespaceUri is { } n) { WriteInt32(n); }
        if (value.Locale is { } l) { WriteInt32(l); }
        if (value.LocalizedText is { } t) { WriteInt32(t); }
        if (value.AdditionalInfo is not null) { WriteString(value.AdditionalInfo); }
        if (value.InnerStatusCode is { } c) { WriteStatusCode(c); }
        if (value.InnerDiagnosticInfo is not null) { WriteDiagnosticInfo(value.InnerDiagnosticInfo); }
        _depth--;
    }

    public void WriteExtensionObject(ExtensionObject? value)
    {
        if (value is null || (value.Body is null && value.TypeId.IsNull))
        {
            WriteNodeId(NodeId.Null);
            WriteByte(0);
            return;
        }

        WriteNodeId(value.TypeId);
        switch (value.Body)
        {
            case null:
                WriteByte(0);
                break;
            case IEncodeable encodeable:
                WriteByte(1);
                var lengthAt = Reserve(4);
                Enter();
                encodeable.Encode(this);
                _depth--;
                PatchUInt32(lengthAt, (uint)(_position - lengthAt - 4));
                break;
            case byte[] bytes:
                WriteByte(1);
                WriteByteString(bytes);
                break;
            case string xml:
                WriteByte(2);
                WriteString(xml);
                break;
            default:
                throw new ServiceResultException(StatusCodes.BadEncodingError,
                    $"ExtensionObject {value.TypeId} has a body of type {value.Body.GetType().Name} that cannot be encoded");
        }
    }

    /// <summary>Writes a structure wrapped in an ExtensionObject with its binary encoding id (null writes an empty one).</summary>
    public void WriteEncodeableInExtensionObject(IEncodeable? value) =>
        WriteExtensionObject(value is null ? null : new ExtensionObject(value));

    public void WriteEncodeable(IEncodeable value)
    {
        ArgumentNullException.ThrowIfNull(value);
        Enter();
        value.Encode(this);
        _depth--;
    }

    public void WriteEncodeableArray<T>(T[]? values)
        where T : IEncodeable
    {
        if (values is null)
        {
            WriteArrayLength(-1);
            return;
        }

        WriteArrayLength(values.Length);
        foreach (var value in values)
        {
            WriteEncodeable(value);
        }
    }

    /// <summary>Writes an array of any element with a writer function (used by generated code).</summary>
    public void WriteArray<T>(T[]? values, Action<UaWriter, T> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        if (values is null)
        {
            WriteArrayLength(-1);
            return;
        }

        WriteArrayLength(values.Length);
        foreach (var value in values)
        {
            write(this, value);
        }
    }

    public void WriteEnum<TEnum>(TEnum value)
        where TEnum : struct, Enum => WriteInt32(Unsafe.As<TEnum, int>(ref value));

    public void WriteDataValue(DataValue value)
    {
        byte mask = 0;
        if (!value.Value.IsNull) { mask |= 0x01; }
        if (value.StatusCode.Code != 0) { mask |= 0x02; }
        if (value.SourceTimestamp != default) { mask |= 0x04; }
        if (value.ServerTimestamp != default) { mask |= 0x08; }
        if (value.SourcePicoseconds != 0) { mask |= 0x10; }
        if (value.ServerPicoseconds != 0) { mask |= 0x20; }
        WriteByte(mask);
        if ((mask & 0x01) != 0) { WriteVariant(value.Value); }
        if ((mask & 0x02) != 0) { WriteStatusCode(value.StatusCode); }
        if ((mask & 0x04) != 0) { WriteDateTime(value.SourceTimestamp); }
        if ((mask & 0x10) != 0) { WriteUInt16(value.SourcePicoseconds); }
        if ((mask & 0x08) != 0) { WriteDateTime(value.ServerTimestamp); }
        if ((mask & 0x20) != 0) { WriteUInt16(value.ServerPicoseconds); }
    }

    public void WriteVariant(Variant value)
    {
        var type = value.Type;
        if (!value.IsArray)
        {
            WriteByte((byte)type);
            switch (type)
            {
                case BuiltInType.Null:
                    break;
                case BuiltInType.Boolean:
                case BuiltInType.SByte:
                case BuiltInType.Byte:
                    WriteByte((byte)value.Bits);
                    break;
                case BuiltInType.Int16:
                case BuiltInType.UInt16:
                    WriteUInt16((ushort)value.Bits);
                    break;
                case BuiltInType.Int32:
                case BuiltInType.UInt32:
                case BuiltInType.StatusCode:
                    WriteUInt32((uint)value.Bits);
                    break;
                case BuiltInType.Float:
                    WriteFloat(BitConverter.Int32BitsToSingle((int)value.Bits));
                    break;
                case BuiltInType.Int64:
                case BuiltInType.UInt64:
                    WriteInt64(value.Bits);
                    break;
                case BuiltInType.Double:
                    WriteDouble(BitConverter.Int64BitsToDouble(value.Bits));
                    break;
                case BuiltInType.DateTime:
                    WriteDateTime(new DateTime(value.Bits, DateTimeKind.Utc));
                    break;
                case BuiltInType.Variant:
                    throw new ServiceResultException(StatusCodes.BadEncodingError, "a Variant cannot hold a scalar Variant");
                default:
                    Enter();
                    WriteScalarObject(type, value.Reference);
                    _depth--;
                    break;
            }

            return;
        }

        var matrix = value.Reference as Matrix;
        var elements = matrix?.Elements ?? value.Reference as Array;

        // OPC 10000-6 §5.2.2.16: ArrayDimensions are only present for 2 or more dimensions that are all greater
        // than 0; any other matrix goes on the wire as its flat array.
        if (matrix is not null && (matrix.Dimensions.Length < 2 || matrix.Dimensions.AsSpan().Contains(0)))
        {
            matrix = null;
        }

        WriteByte((byte)((byte)type | 0x80 | (matrix is null ? 0 : 0x40)));
        Enter();
        if (elements is null)
        {
            WriteArrayLength(-1);
        }
        else
        {
            WriteArrayLength(elements.Length);
            switch (elements)
            {
                case double[] doubles:
                    foreach (var d in doubles)
                    {
                        WriteDouble(d);
                    }

                    break;
                case byte[] bytes when type == BuiltInType.Byte:
                    WriteBytes(bytes);
                    break;
                default:
                    foreach (var element in elements)
                    {
                        WriteScalarObject(type, element);
                    }

                    break;
            }
        }

        if (matrix is not null)
        {
            WriteArrayLength(matrix.Dimensions.Length);
            foreach (var d in matrix.Dimensions)
            {
                WriteInt32(d);
            }
        }

        _depth--;
    }

    private void WriteScalarObject(BuiltInType type, object? value)
    {
        switch (type)
        {
            case BuiltInType.Boolean: WriteBoolean((bool)value!); break;
            case BuiltInType.SByte: WriteSByte((sbyte)value!); break;
            case BuiltInType.Byte: WriteByte((byte)value!); break;
            case BuiltInType.Int16: WriteInt16((short)value!); break;
            case BuiltInType.UInt16: WriteUInt16((ushort)value!); break;
            case BuiltInType.Int32: WriteInt32((int)value!); break;
            case BuiltInType.UInt32: WriteUInt32((uint)value!); break;
            case BuiltInType.Int64: WriteInt64((long)value!); break;
            case BuiltInType.UInt64: WriteUInt64((ulong)value!); break;
            case BuiltInType.Float: WriteFloat((float)value!); break;
            case BuiltInType.Double: WriteDouble((double)value!); break;
            case BuiltInType.String: WriteString((string?)value); break;
            case BuiltInType.DateTime: WriteDateTime((DateTime)value!); break;
            case BuiltInType.Guid: WriteGuid((Guid)value!); break;
            case BuiltInType.ByteString: WriteByteString((byte[]?)value); break;
            case BuiltInType.XmlElement: WriteXmlElement(value is XmlElement x ? x : default); break;
            case BuiltInType.NodeId: WriteNodeId(value is NodeId n ? n : default); break;
            case BuiltInType.ExpandedNodeId: WriteExpandedNodeId(value is ExpandedNodeId e ? e : default); break;
            case BuiltInType.StatusCode: WriteStatusCode(value is StatusCode s ? s : default); break;
            case BuiltInType.QualifiedName: WriteQualifiedName(value is QualifiedName q ? q : default); break;
            case BuiltInType.LocalizedText: WriteLocalizedText(value is LocalizedText l ? l : default); break;
            case BuiltInType.ExtensionObject: WriteExtensionObject((ExtensionObject?)value); break;
            case BuiltInType.DataValue: WriteDataValue(value is DataValue dv ? dv : default); break;
            case BuiltInType.Variant: WriteVariant(value is Variant v ? v : default); break;
            case BuiltInType.DiagnosticInfo: WriteDiagnosticInfo((DiagnosticInfo?)value); break;
            default:
                throw new ServiceResultException(StatusCodes.BadEncodingError, $"cannot write a {type}");
        }
    }

    private void Enter()
    {
        if (++_depth > Limits.MaxNestingDepth)
        {
            _depth = 0;
            throw new ServiceResultException(StatusCodes.BadEncodingLimitsExceeded,
                $"nesting deeper than {Limits.MaxNestingDepth}");
        }
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        _position = 0;
        _end = 0;
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
