using CsCheck;
using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Tests.Encoding;

/// <summary>
/// Property-based round trips for every built-in type: decode(encode(x)) == x and encode(decode(encode(x))) == encode(x).
/// The generators produce canonical values (the ones the encoding keeps exactly); the few inputs the specification
/// makes lossy (empty LocalizedText fields, empty namespace URIs, NaN payloads, dates outside 1601..9999) are
/// covered by <see cref="Lossy_inputs_normalise_and_then_round_trip_exactly"/>.
/// </summary>
public sealed class RoundTripPropertyTests
{
    private const long Few = 200;
    private const long Some = 500;
    private const long Many = 1500;

    [Fact]
    public void Boolean_round_trips() => RoundTrips(Gen.Bool, static (w, v) => w.WriteBoolean(v), static (ref UaReader r) => r.ReadBoolean(), Few);

    [Fact]
    public void SByte_round_trips() => RoundTrips(Gen.SByte, static (w, v) => w.WriteSByte(v), static (ref UaReader r) => r.ReadSByte(), Few);

    [Fact]
    public void Byte_round_trips() => RoundTrips(Gen.Byte, static (w, v) => w.WriteByte(v), static (ref UaReader r) => r.ReadByte(), Few);

    [Fact]
    public void Int16_round_trips() => RoundTrips(Gen.Short, static (w, v) => w.WriteInt16(v), static (ref UaReader r) => r.ReadInt16(), Few);

    [Fact]
    public void UInt16_round_trips() => RoundTrips(Gen.UShort, static (w, v) => w.WriteUInt16(v), static (ref UaReader r) => r.ReadUInt16(), Few);

    [Fact]
    public void Int32_round_trips() => RoundTrips(Gen.Int, static (w, v) => w.WriteInt32(v), static (ref UaReader r) => r.ReadInt32(), Few);

    [Fact]
    public void UInt32_round_trips() => RoundTrips(Gen.UInt, static (w, v) => w.WriteUInt32(v), static (ref UaReader r) => r.ReadUInt32(), Few);

    [Fact]
    public void Int64_round_trips() => RoundTrips(Gen.Long, static (w, v) => w.WriteInt64(v), static (ref UaReader r) => r.ReadInt64(), Few);

    [Fact]
    public void UInt64_round_trips() => RoundTrips(Gen.ULong, static (w, v) => w.WriteUInt64(v), static (ref UaReader r) => r.ReadUInt64(), Few);

    [Fact]
    public void Float_round_trips() => RoundTrips(UaGen.Floats, static (w, v) => w.WriteFloat(v), static (ref UaReader r) => r.ReadFloat(), Some,
        static (a, b) => BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b));

    [Fact]
    public void Double_round_trips() => RoundTrips(UaGen.Doubles, static (w, v) => w.WriteDouble(v), static (ref UaReader r) => r.ReadDouble(), Some,
        static (a, b) => BitConverter.DoubleToInt64Bits(a) == BitConverter.DoubleToInt64Bits(b));

    [Fact]
    public void String_round_trips() => RoundTrips(UaGen.NullableTexts, static (w, v) => w.WriteString(v), static (ref UaReader r) => r.ReadString(), Some);

    [Fact]
    public void DateTime_round_trips() => RoundTrips(UaGen.DateTimes, static (w, v) => w.WriteDateTime(v), static (ref UaReader r) => r.ReadDateTime(), Some);

    [Fact]
    public void Guid_round_trips() => RoundTrips(Gen.Guid, static (w, v) => w.WriteGuid(v), static (ref UaReader r) => r.ReadGuid(), Few);

    [Fact]
    public void ByteString_round_trips() => RoundTrips(UaGen.NullableByteArrays, static (w, v) => w.WriteByteString(v), static (ref UaReader r) => r.ReadByteString(), Some,
        static (a, b) => a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b));

    [Fact]
    public void XmlElement_round_trips() => RoundTrips(UaGen.Xmls, static (w, v) => w.WriteXmlElement(v), static (ref UaReader r) => r.ReadXmlElement(), Few);

    [Fact]
    public void NodeId_round_trips() => RoundTrips(UaGen.NodeIds, static (w, v) => w.WriteNodeId(v), static (ref UaReader r) => r.ReadNodeId(), Many);

    [Fact]
    public void ExpandedNodeId_round_trips() => RoundTrips(UaGen.ExpandedNodeIds, static (w, v) => w.WriteExpandedNodeId(v), static (ref UaReader r) => r.ReadExpandedNodeId(), Many);

    [Fact]
    public void StatusCode_round_trips() => RoundTrips(UaGen.Statuses, static (w, v) => w.WriteStatusCode(v), static (ref UaReader r) => r.ReadStatusCode(), Few);

    [Fact]
    public void QualifiedName_round_trips() => RoundTrips(UaGen.QualifiedNames, static (w, v) => w.WriteQualifiedName(v), static (ref UaReader r) => r.ReadQualifiedName(), Some);

    [Fact]
    public void LocalizedText_round_trips() => RoundTrips(UaGen.LocalizedTexts, static (w, v) => w.WriteLocalizedText(v), static (ref UaReader r) => r.ReadLocalizedText(), Some);

    [Fact]
    public void ExtensionObject_round_trips() => RoundTrips(UaGen.ExtensionObjects, static (w, v) => w.WriteExtensionObject(v), static (ref UaReader r) => r.ReadExtensionObject(), Many, factory: TestPoint.Factory);

    [Fact]
    public void DataValue_round_trips() => RoundTrips(UaGen.DataValues, static (w, v) => w.WriteDataValue(v), static (ref UaReader r) => r.ReadDataValue(), Many, factory: TestPoint.Factory);

    [Fact]
    public void Variant_round_trips() => RoundTrips(UaGen.Variants, static (w, v) => w.WriteVariant(v), static (ref UaReader r) => r.ReadVariant(), Many * 2, factory: TestPoint.Factory);

    [Fact]
    public void DiagnosticInfo_round_trips() => RoundTrips(UaGen.DiagnosticInfos, static (w, v) => w.WriteDiagnosticInfo(v), static (ref UaReader r) => r.ReadDiagnosticInfo(), Many);

    [Fact]
    public void Variant_generator_reaches_every_shape()
    {
        // Guards the generator itself: every built-in type appears as a scalar and as an array, and matrices,
        // nested Variant arrays and DataValues with every mask bit are produced.
        var scalars = new HashSet<BuiltInType>();
        var arrays = new HashSet<BuiltInType>();
        var matrices = 0;
        var nestedArrays = 0;
        var masks = 0;
        UaGen.Variants.Sample(v =>
        {
            (v.IsArray ? arrays : scalars).Add(v.Type);
            if (v.ArrayDimensions is not null)
            {
                matrices++;
            }

            if (v.Type == BuiltInType.Variant && v.ArrayValue is Variant[] inner && Array.Exists(inner, static e => e.IsArray))
            {
                nestedArrays++;
            }
        }, iter: 20_000, threads: 1);

        UaGen.DataValues.Sample(dv => masks |= Wire.Encode(w => w.WriteDataValue(dv))[0], iter: 2_000, threads: 1);

        for (var t = BuiltInType.Null; t <= BuiltInType.DiagnosticInfo; t++)
        {
            if (t != BuiltInType.Variant)
            {
                Assert.Contains(t, scalars);
            }

            if (t != BuiltInType.Null)
            {
                Assert.Contains(t, arrays);
            }
        }

        Assert.True(matrices > 0, "no matrices generated");
        Assert.True(nestedArrays > 0, "no Variant arrays holding arrays generated");
        Assert.Equal(0x3F, masks);
    }

    [Fact]
    public void Lossy_inputs_normalise_and_then_round_trip_exactly()
    {
        // NaN payloads become the canonical quiet NaN.
        var payloadNaN = BitConverter.Int64BitsToDouble(0x7FF8000000000123);
        Assert.Equal(unchecked((long)0xFFF8000000000000),
            BitConverter.DoubleToInt64Bits(Wire.RoundTrip(payloadNaN, static (w, v) => w.WriteDouble(v), static (ref UaReader r) => r.ReadDouble())));

        // Dates before 1601 become MinValue; dates at or after 9999-12-31 23:59:59 become MaxValue.
        Assert.Equal(System.DateTime.MinValue, Wire.RoundTrip(new System.DateTime(1500, 1, 1, 0, 0, 0, DateTimeKind.Utc), static (w, v) => w.WriteDateTime(v), static (ref UaReader r) => r.ReadDateTime()));
        Assert.Equal(System.DateTime.MaxValue, Wire.RoundTrip(new System.DateTime(9999, 12, 31, 23, 59, 59, 999, DateTimeKind.Utc), static (w, v) => w.WriteDateTime(v), static (ref UaReader r) => r.ReadDateTime()));

        // Empty LocalizedText fields and empty namespace URIs are not present on the wire.
        Assert.Equal(new LocalizedText(null, "a"), Wire.RoundTrip(new LocalizedText("", "a"), static (w, v) => w.WriteLocalizedText(v), static (ref UaReader r) => r.ReadLocalizedText()));
        Assert.Equal(new ExpandedNodeId(new NodeId(7, 3)), Wire.RoundTrip(new ExpandedNodeId(new NodeId(7, 3), ""), static (w, v) => w.WriteExpandedNodeId(v), static (ref UaReader r) => r.ReadExpandedNodeId()));

        // With a namespace URI the index is written as 0.
        Assert.Equal(new ExpandedNodeId(new NodeId(7), "urn:x", 4), Wire.RoundTrip(new ExpandedNodeId(new NodeId(7, 3), "urn:x", 4), static (w, v) => w.WriteExpandedNodeId(v), static (ref UaReader r) => r.ReadExpandedNodeId()));

        // A matrix of rank 1 or with a zero dimension travels as a plain array.
        Assert.Equal(Variant_(BuiltInType.Int32, new[] { 1, 2 }), Wire.RoundTrip(Types.Variant.FromMatrix(BuiltInType.Int32, new[] { 1, 2 }, new[] { 2 }), static (w, v) => w.WriteVariant(v), static (ref UaReader r) => r.ReadVariant()));

        // For any input, lossy or not, a second encoding equals the first.
        UaGen.LossyVariants.Sample(static value =>
        {
            var first = Wire.Encode(w => w.WriteVariant(value));
            var decoded = Wire.Decode(first, static (ref UaReader r) => r.ReadVariant());
            var second = Wire.Encode(w => w.WriteVariant(decoded));
            Assert.Equal(Wire.Spaced(first), Wire.Spaced(second));
            Assert.Equal(decoded, Wire.Decode(second, static (ref UaReader r) => r.ReadVariant()));
        }, iter: Some);

        static Variant Variant_(BuiltInType type, Array elements) => Types.Variant.FromArray(type, elements);
    }

    private static void RoundTrips<T>(Gen<T> gen, Action<UaWriter, T> write, ArrayElementReader<T> read, long iter,
        Func<T, T, bool>? equal = null, IEncodeableFactory? factory = null)
    {
        gen.Sample(value =>
        {
            var bytes = Wire.Encode(w => write(w, value));
            var decoded = Wire.Decode(bytes, read, factory: factory);
            if (equal is null)
            {
                Assert.Equal(value, decoded);
            }
            else
            {
                Assert.True(equal(value, decoded), $"decoded {decoded} differs from {value}");
            }

            var again = Wire.Encode(w => write(w, decoded));
            Assert.Equal(Wire.Spaced(bytes), Wire.Spaced(again));
        }, iter: iter, threads: 1, print: static v => v switch
        {
            null => "null",
            byte[] b => Wire.Spaced(b),
            _ => v.ToString() ?? "",
        });
    }
}

/// <summary>CsCheck generators of canonical OPC UA values (the values the binary encoding keeps exactly).</summary>
internal static class UaGen
{
    private const long TicksAt1601 = 504911232000000000L;
    private const long TicksAtLatest = 3155378975990000000L; // 9999-12-31 23:59:59, encoded as Int64.MaxValue

    /// <summary>Strings of ASCII, white space, separators, 2- and 3-byte UTF-8 characters and surrogate pairs (never a lone surrogate).</summary>
    public static readonly Gen<string> Texts = Gen.OneOf(
            Gen.Char['a', 'z'].Select(static c => c.ToString()),
            Gen.Char[' ', '~'].Select(static c => c.ToString()),
            Gen.OneOf(" ", "\t", "\u00A0", "\u3000", ";", "=", "%"),
            Gen.Char['\u0080', '\u07FF'].Select(static c => c.ToString()),
            Gen.Char['\u0800', '\uD7FF'].Select(static c => c.ToString()),
            Gen.Char['\uE000', '\uFFFF'].Select(static c => c.ToString()),
            Gen.Int[0x10000, 0x10FFFF].Select(char.ConvertFromUtf32))
        .Array[0, 10]
        .Select(static parts => string.Concat(parts));

    public static readonly Gen<string> NonEmptyTexts = Texts.Where(static s => s.Length > 0);

    public static readonly Gen<string?> NullableTexts = Gen.Frequency(
        (1, Gen.Const((string?)null)),
        (1, Gen.Const<string?>("")),
        (6, Texts.Select(static s => (string?)s)));

    public static readonly Gen<string?> NullOrNonEmptyTexts = Gen.Frequency(
        (1, Gen.Const((string?)null)),
        (3, NonEmptyTexts.Select(static s => (string?)s)));

    public static readonly Gen<byte[]> ByteArrays = Gen.Byte.Array[0, 16];

    public static readonly Gen<byte[]?> NullableByteArrays = Gen.Frequency(
        (1, Gen.Const((byte[]?)null)),
        (1, Gen.Const<byte[]?>([])),
        (6, ByteArrays.Select(static b => (byte[]?)b)));

    /// <summary>Any double, with NaN (canonical), infinities, signed zeros, subnormals and the extremes well represented.</summary>
    public static readonly Gen<double> Doubles = Gen.Frequency(
            (6, Gen.Double),
            (2, Gen.OneOf(double.NaN, double.PositiveInfinity, double.NegativeInfinity, 0.0, -0.0, double.Epsilon, -double.Epsilon,
                double.MaxValue, double.MinValue, 1.5, -6.5)))
        .Select(static d => double.IsNaN(d) ? BitConverter.Int64BitsToDouble(unchecked((long)0xFFF8000000000000)) : d);

    public static readonly Gen<float> Floats = Gen.Frequency(
            (6, Gen.Single),
            (2, Gen.OneOf(float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, float.Epsilon, float.MaxValue, float.MinValue, -6.5f)))
        .Select(static f => float.IsNaN(f) ? BitConverter.Int32BitsToSingle(unchecked((int)0xFFC00000)) : f);

    /// <summary>UTC dates from just after 1601 to just before 9999-12-31 23:59:59, plus MinValue and MaxValue.</summary>
    public static readonly Gen<DateTime> DateTimes = Gen.Frequency(
        (6, Gen.Long[TicksAt1601 + 1, TicksAtLatest - 1].Select(static t => new DateTime(t, DateTimeKind.Utc))),
        (2, Gen.OneOf(
            System.DateTime.MinValue,
            System.DateTime.MaxValue,
            new DateTime(TicksAt1601 + 1, DateTimeKind.Utc),
            new DateTime(TicksAtLatest - 1, DateTimeKind.Utc),
            new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc))));

    /// <summary>A timestamp of a DataValue: absent (default) or a valid date.</summary>
    public static readonly Gen<DateTime> Timestamps = Gen.Frequency(
        (1, Gen.Const(default(DateTime))),
        (2, DateTimes));

    public static readonly Gen<XmlElement> Xmls = NullableTexts.Select(static s => new XmlElement(s));

    public static readonly Gen<StatusCode> Statuses = Gen.Frequency(
        (1, Gen.Const(Types.StatusCode.Good)),
        (1, Gen.OneOf(StatusCodes.BadDecodingError, StatusCodes.BadEncodingLimitsExceeded, 0x40000000u, 0x80070480u).Select(static c => new StatusCode(c))),
        (2, Gen.UInt.Select(static c => new StatusCode(c))));

    /// <summary>Namespace indexes on each side of the TwoByte / FourByte / Numeric boundaries.</summary>
    public static readonly Gen<ushort> Namespace = Gen.Frequency(
        (3, Gen.Const((ushort)0)),
        (2, Gen.UShort[1, 255]),
        (1, Gen.OneOf((ushort)255, (ushort)256, ushort.MaxValue)),
        (2, Gen.UShort[256, ushort.MaxValue]));

    public static readonly Gen<uint> NumericId = Gen.Frequency(
        (2, Gen.UInt[0, 255]),
        (2, Gen.UInt[256, 65535]),
        (1, Gen.OneOf(0u, 255u, 256u, 65535u, 65536u, uint.MaxValue)),
        (2, Gen.UInt[65536, uint.MaxValue]));

    public static readonly Gen<NodeId> NodeIds = NodeIdIn(Namespace);

    public static readonly Gen<ExpandedNodeId> ExpandedNodeIds = Gen.Frequency(
        (2, Gen.Select(NodeIds, ServerIndex(), static (id, server) => new ExpandedNodeId(id, null, server))),
        (1, Gen.Select(NodeIdIn(Gen.Const((ushort)0)), NonEmptyTexts, ServerIndex(), static (id, uri, server) => new ExpandedNodeId(id, uri, server))));

    public static readonly Gen<QualifiedName> QualifiedNames = Gen.Select(Gen.UShort, NullableTexts, static (ns, name) => new QualifiedName(ns, name));

    public static readonly Gen<LocalizedText> LocalizedTexts = Gen.Select(NullOrNonEmptyTexts, NullOrNonEmptyTexts, static (l, t) => new LocalizedText(l, t));

    public static readonly Gen<DiagnosticInfo?> DiagnosticInfos = DiagnosticInfoChain(4);

    /// <summary>Null, type-only, opaque binary, XML, and a known structure (decode with <see cref="TestPoint.Factory"/>).</summary>
    public static readonly Gen<ExtensionObject> ExtensionObjects = Gen.Frequency(
        (1, Gen.Const(Types.ExtensionObject.Null)),
        (1, NodeIds.Where(static id => !id.IsNull && id != TestPoint.EncodingId).Select(static id => new ExtensionObject(id, null))),
        (3, Gen.Select(NodeIds.Where(static id => id != TestPoint.EncodingId), ByteArrays, static (id, body) => new ExtensionObject(id, body))),
        (1, Gen.Select(NodeIds.Where(static id => !id.IsNull && id != TestPoint.EncodingId), Texts, static (id, xml) => new ExtensionObject(id, xml, ExtensionObjectEncoding.Xml))),
        (1, Gen.Select(Gen.Int, Gen.Int, static (x, y) => new ExtensionObject(new TestPoint { X = x, Y = y }))));

    public static readonly Gen<Variant> Variants = VariantOfDepth(3, lossy: false);

    public static readonly Gen<DataValue> DataValues = DataValueOf(VariantOfDepth(2, lossy: false));

    /// <summary>Variants that include values the encoding normalises (NaN payloads, out-of-range dates, flat matrices).</summary>
    public static readonly Gen<Variant> LossyVariants = VariantOfDepth(2, lossy: true);

    private static Gen<uint> ServerIndex() => Gen.Frequency((2, Gen.Const(0u)), (1, Gen.UInt[1, 3]), (1, Gen.UInt));

    private static Gen<NodeId> NodeIdIn(Gen<ushort> ns) => Gen.Frequency(
        (4, Gen.Select(NumericId, ns, static (id, n) => new NodeId(id, n))),
        (2, Gen.Select(Texts, ns, static (s, n) => new NodeId(s, n))),
        (1, Gen.Select(Gen.Guid, ns, static (g, n) => new NodeId(g, n))),
        (1, Gen.Select(ByteArrays, ns, static (b, n) => new NodeId(b, n))));

    private static Gen<T?> Optional<T>(Gen<T> gen)
        where T : struct => Gen.Frequency((1, Gen.Const((T?)null)), (1, gen.Select(static v => (T?)v)));

    private static Gen<DiagnosticInfo?> DiagnosticInfoChain(int depth)
    {
        var inner = depth == 0 ? Gen.Const((DiagnosticInfo?)null) : DiagnosticInfoChain(depth - 1);
        return Gen.Select(
            Optional(Gen.Int), Optional(Gen.Int), Optional(Gen.Int), Optional(Gen.Int), NullableTexts, Optional(Statuses),
            Gen.Frequency((1, Gen.Const((DiagnosticInfo?)null)), (2, inner)),
            static (symbolicId, namespaceUri, locale, localizedText, info, status, innerInfo) =>
            {
                var value = new DiagnosticInfo
                {
                    SymbolicId = symbolicId,
                    NamespaceUri = namespaceUri,
                    Locale = locale,
                    LocalizedText = localizedText,
                    AdditionalInfo = info,
                    InnerStatusCode = status,
                    InnerDiagnosticInfo = innerInfo,
                };

                // A DiagnosticInfo with no field set is encoded as mask 0, which is null.
                return value == new DiagnosticInfo() ? null : value;
            });
    }

    private static Gen<DataValue> DataValueOf(Gen<Variant> value) => Gen.Select(
        Gen.Frequency((1, Gen.Const(Types.Variant.Null)), (3, value)),
        Gen.Frequency((2, Gen.Const(Types.StatusCode.Good)), (1, Statuses)),
        Timestamps,
        Timestamps,
        Gen.Frequency((2, Gen.Const((ushort)0)), (1, Gen.UShort)),
        Gen.Frequency((2, Gen.Const((ushort)0)), (1, Gen.UShort)),
        static (v, status, source, server, sourcePs, serverPs) => new DataValue(v, status, source, server, sourcePs, serverPs));

    private static Gen<Variant> VariantOfDepth(int depth, bool lossy)
    {
        var doubles = lossy ? Gen.Frequency((3, Doubles), (1, Gen.Long.Select(BitConverter.Int64BitsToDouble))) : Doubles;
        var floats = lossy ? Gen.Frequency((3, Floats), (1, Gen.Int.Select(BitConverter.Int32BitsToSingle))) : Floats;
        var dates = lossy ? Gen.Frequency((3, DateTimes), (1, Gen.Long[0, System.DateTime.MaxValue.Ticks].Select(static t => new DateTime(t, DateTimeKind.Utc)))) : DateTimes;
        var localized = lossy ? Gen.Select(NullableTexts, NullableTexts, static (l, t) => new LocalizedText(l, t)) : LocalizedTexts;
        var expanded = lossy ? Gen.Select(NodeIds, NullableTexts, Gen.UInt, static (id, uri, s) => new ExpandedNodeId(id, uri, s)) : ExpandedNodeIds;

        var elementGens = new List<(BuiltInType Type, Gen<object?> Element)>
        {
            (BuiltInType.Boolean, Gen.Bool.Select(static v => (object?)v)),
            (BuiltInType.SByte, Gen.SByte.Select(static v => (object?)v)),
            (BuiltInType.Byte, Gen.Byte.Select(static v => (object?)v)),
            (BuiltInType.Int16, Gen.Short.Select(static v => (object?)v)),
            (BuiltInType.UInt16, Gen.UShort.Select(static v => (object?)v)),
            (BuiltInType.Int32, Gen.Int.Select(static v => (object?)v)),
            (BuiltInType.UInt32, Gen.UInt.Select(static v => (object?)v)),
            (BuiltInType.Int64, Gen.Long.Select(static v => (object?)v)),
            (BuiltInType.UInt64, Gen.ULong.Select(static v => (object?)v)),
            (BuiltInType.Float, floats.Select(static v => (object?)v)),
            (BuiltInType.Double, doubles.Select(static v => (object?)v)),
            (BuiltInType.String, NullableTexts.Select(static v => (object?)v)),
            (BuiltInType.DateTime, dates.Select(static v => (object?)v)),
            (BuiltInType.Guid, Gen.Guid.Select(static v => (object?)v)),
            (BuiltInType.ByteString, NullableByteArrays.Select(static v => (object?)v)),
            (BuiltInType.XmlElement, Xmls.Select(static v => (object?)v)),
            (BuiltInType.NodeId, NodeIds.Select(static v => (object?)v)),
            (BuiltInType.ExpandedNodeId, expanded.Select(static v => (object?)v)),
            (BuiltInType.StatusCode, Statuses.Select(static v => (object?)v)),
            (BuiltInType.QualifiedName, QualifiedNames.Select(static v => (object?)v)),
            (BuiltInType.LocalizedText, localized.Select(static v => (object?)v)),
            (BuiltInType.ExtensionObject, ExtensionObjects.Select(static v => (object?)v)),
            (BuiltInType.DiagnosticInfo, DiagnosticInfos.Select(static v => (object?)v)),
        };

        if (depth > 0)
        {
            var inner = VariantOfDepth(depth - 1, lossy);
            elementGens.Add((BuiltInType.Variant, inner.Select(static v => (object?)v)));
            elementGens.Add((BuiltInType.DataValue, DataValueOf(inner).Select(static v => (object?)v)));
        }

        var shapes = new List<(int Weight, IGen<Variant> Gen)> { (2, Gen.Const(Types.Variant.Null)) };
        foreach (var (type, element) in elementGens)
        {
            if (type != BuiltInType.Variant)
            {
                shapes.Add((4, element.Select(e => Scalar(type, e))));
            }

            shapes.Add((1, Gen.Const(Types.Variant.FromArray(type, null))));
            shapes.Add((3, element.Array[0, 5].Select(e => Types.Variant.FromArray(type, Typed(type, e)))));

            var dims = lossy ? Gen.Int[0, 3].Array[1, 3] : Gen.Int[1, 3].Array[2, 3];
            shapes.Add((1, dims.SelectMany(d => element.Array[Product(d)].Select(e => Types.Variant.FromMatrix(type, Typed(type, e), d)))));
        }

        return Gen.Frequency(shapes.ToArray());
    }

    private static int Product(int[] dims)
    {
        var p = 1;
        foreach (var d in dims)
        {
            p *= d;
        }

        return p;
    }

    /// <summary>Copies boxed elements into the element type's CLR array (string[], NodeId[], Variant[] ...).</summary>
    private static Array Typed(BuiltInType type, object?[] elements)
    {
        var array = Array.CreateInstance(Types.Variant.ArrayTypeOf(type).GetElementType()!, elements.Length);
        for (var i = 0; i < elements.Length; i++)
        {
            array.SetValue(elements[i], i);
        }

        return array;
    }

    private static Variant Scalar(BuiltInType type, object? value) => type switch
    {
        BuiltInType.ByteString => Types.Variant.FromByteString((byte[]?)value),
        BuiltInType.String => new Variant((string?)value),
        BuiltInType.DiagnosticInfo => new Variant((DiagnosticInfo)value!),
        _ => Types.Variant.FromObject(value),
    };
}
