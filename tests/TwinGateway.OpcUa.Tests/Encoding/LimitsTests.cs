using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Tests.Encoding;

/// <summary>
/// Hostile input must fail with a ServiceResultException carrying BadDecodingError or BadEncodingLimitsExceeded,
/// never with OutOfMemoryException, IndexOutOfRangeException, a stack overflow, or a large allocation.
/// </summary>
public sealed class LimitsTests
{
    private static readonly EncodingLimits Unlimited = new()
    {
        MaxStringLength = 0,
        MaxByteStringLength = 0,
        MaxArrayLength = 0,
        MaxMessageSize = 0,
    };

    // ---- lengths ----

    [Fact]
    public void String_length_of_int_MaxValue_with_4_bytes_following_is_over_the_limit()
    {
        var bytes = Wire.Bytes("FF FF FF 7F 41 42 43 44");
        AssertLimitExceeded(Wire.DecodeFails(bytes, static (ref UaReader r) => r.ReadString()));
    }

    [Fact]
    public void String_length_of_int_MaxValue_without_a_limit_is_a_truncated_message()
    {
        var bytes = Wire.Bytes("FF FF FF 7F 41 42 43 44");
        AssertDecodingError(Wire.DecodeFails(bytes, static (ref UaReader r) => r.ReadString(), Unlimited));
    }

    [Fact]
    public void ByteString_longer_than_MaxByteStringLength_is_refused()
    {
        var limits = new EncodingLimits { MaxByteStringLength = 16 };
        var ok = new byte[4 + 16];
        ok[0] = 16;
        Assert.Equal(16, Wire.Decode(ok, static (ref UaReader r) => r.ReadByteString(), limits)!.Length);

        var tooLong = new byte[4 + 17];
        tooLong[0] = 17;
        AssertLimitExceeded(Wire.DecodeFails(tooLong, static (ref UaReader r) => r.ReadByteString(), limits));

        // The same limit bounds ExtensionObject bodies and opaque NodeIds.
        AssertLimitExceeded(Wire.DecodeFails(Wire.Bytes("01 01 88 13 01 11 00 00 00").Concat(new byte[17]).ToArray(),
            static (ref UaReader r) => r.ReadExtensionObject(), limits));
        AssertLimitExceeded(Wire.DecodeFails(Wire.Bytes("05 01 00 11 00 00 00").Concat(new byte[17]).ToArray(),
            static (ref UaReader r) => r.ReadNodeId(), limits));
    }

    [Fact]
    public void ExtensionObject_length_of_int_MaxValue_fails()
    {
        var bytes = Wire.Bytes("01 01 88 13 01 FF FF FF 7F 00");
        AssertLimitExceeded(Wire.DecodeFails(bytes, static (ref UaReader r) => r.ReadExtensionObject()));
        AssertDecodingError(Wire.DecodeFails(bytes, static (ref UaReader r) => r.ReadExtensionObject(), Unlimited));
    }

    [Fact]
    public void Array_length_of_100_million_with_few_bytes_fails_for_every_element_type()
    {
        for (var type = 0; type <= 31; type++)
        {
            // Variant array mask, then 100 000 000 (0x05F5E100), then a few bytes.
            var bytes = Wire.Bytes($"{type | 0x80:X2} 00 E1 F5 05 01 02 03 04");
            AssertRejected(Wire.DecodeFails(bytes, static (ref UaReader r) => r.ReadVariant()));
            AssertRejected(Wire.DecodeFails(bytes, static (ref UaReader r) => r.ReadVariant(), Unlimited));
        }
    }

    [Fact]
    public void Array_length_over_MaxArrayLength_is_a_limit_and_one_that_cannot_fit_is_a_decoding_error()
    {
        var bytes = Wire.Bytes("86 00 E1 F5 05 01 02 03 04");
        AssertLimitExceeded(Wire.DecodeFails(bytes, static (ref UaReader r) => r.ReadVariant()));
        AssertDecodingError(Wire.DecodeFails(bytes, static (ref UaReader r) => r.ReadVariant(), Unlimited));

        // Arrays outside Variants (generated structures) go through the same checks.
        AssertLimitExceeded(Wire.DecodeFails(Wire.Bytes("00 E1 F5 05 01 02 03 04"),
            static (ref UaReader r) => r.ReadArray(static (ref UaReader x) => x.ReadInt32(), 4)));
        AssertDecodingError(Wire.DecodeFails(Wire.Bytes("00 E1 F5 05 01 02 03 04"),
            static (ref UaReader r) => r.ReadArray(static (ref UaReader x) => x.ReadInt32(), 4), Unlimited));
        AssertDecodingError(Wire.DecodeFails(Wire.Bytes("FF FF FF 7F 01 02 03 04"),
            static (ref UaReader r) => r.ReadEncodeableArray<TestPoint>(), Unlimited));
    }

    [Fact]
    public void Decoding_a_hostile_array_length_does_not_allocate()
    {
        byte[][] inputs =
        [
            Wire.Bytes("86 00 E1 F5 05 01 02 03 04"), // Int32[100 000 000]
            Wire.Bytes("8B FF FF FF 7F 01 02 03 04"), // Double[int.MaxValue]
            Wire.Bytes("98 FF FF FF 7F 00 00 00 00"), // Variant[int.MaxValue]
            Wire.Bytes("8C 00 E1 F5 05 FF FF FF FF"), // String[100 000 000]
            Wire.Bytes("83 FF FF FF 7F 01 02 03 04"), // Byte[int.MaxValue]
        ];

        foreach (var limits in new[] { EncodingLimits.Default, Unlimited })
        {
            foreach (var input in inputs)
            {
                Wire.DecodeFails(input, static (ref UaReader r) => r.ReadVariant(), limits); // warm up (JIT, first-chance paths)
                var before = GC.GetAllocatedBytesForCurrentThread();
                var e = Wire.DecodeFails(input, static (ref UaReader r) => r.ReadVariant(), limits);
                var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                AssertRejected(e);
                Assert.True(allocated < 64 * 1024, $"decoding {Wire.Spaced(input)} allocated {allocated} bytes");
            }
        }
    }

    [Fact]
    public void Hostile_string_length_does_not_allocate()
    {
        var input = Wire.Bytes("FF FF FF 7F 41 42 43 44");
        Wire.DecodeFails(input, static (ref UaReader r) => r.ReadString(), Unlimited);
        var before = GC.GetAllocatedBytesForCurrentThread();
        Wire.DecodeFails(input, static (ref UaReader r) => r.ReadString(), Unlimited);
        Wire.DecodeFails(input, static (ref UaReader r) => r.ReadByteString(), Unlimited);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 64 * 1024, $"allocated {allocated} bytes");
    }

    // ---- nesting ----

    [Fact]
    public void Variant_arrays_nested_deeper_than_MaxNestingDepth_fail()
    {
        var limit = EncodingLimits.Default.MaxNestingDepth;
        Assert.Equal(limit, Depth(Wire.Decode(NestedVariantArrays(limit), static (ref UaReader r) => r.ReadVariant())));
        AssertLimitExceeded(Wire.DecodeFails(NestedVariantArrays(limit + 1), static (ref UaReader r) => r.ReadVariant()));
        AssertLimitExceeded(Wire.DecodeFails(NestedVariantArrays(100_000), static (ref UaReader r) => r.ReadVariant()));

        var small = new EncodingLimits { MaxNestingDepth = 5 };
        Assert.Equal(5, Depth(Wire.Decode(NestedVariantArrays(5), static (ref UaReader r) => r.ReadVariant(), small)));
        AssertLimitExceeded(Wire.DecodeFails(NestedVariantArrays(6), static (ref UaReader r) => r.ReadVariant(), small));

        static int Depth(Variant v) => v.ArrayValue is Variant[] { Length: 1 } inner ? 1 + Depth(inner[0]) : 0;
    }

    [Fact]
    public void DataValues_nested_in_Variants_deeper_than_MaxNestingDepth_fail()
    {
        // Variant(DataValue(Variant(DataValue(...)))): 17 01 17 01 ... 00
        var deep = Enumerable.Repeat(Wire.Bytes("17 01"), 100_000).SelectMany(static b => b).Append((byte)0).ToArray();
        AssertLimitExceeded(Wire.DecodeFails(deep, static (ref UaReader r) => r.ReadVariant()));
        AssertLimitExceeded(Wire.DecodeFails(deep[1..], static (ref UaReader r) => r.ReadDataValue()));
    }

    [Fact]
    public void DiagnosticInfo_inner_chain_deeper_than_MaxNestingDepth_fails()
    {
        var limit = EncodingLimits.Default.MaxNestingDepth;
        var ok = Wire.Decode(DiagnosticChain(limit), static (ref UaReader r) => r.ReadDiagnosticInfo());
        Assert.NotNull(ok);
        AssertLimitExceeded(Wire.DecodeFails(DiagnosticChain(limit + 1), static (ref UaReader r) => r.ReadDiagnosticInfo()));
        AssertLimitExceeded(Wire.DecodeFails(DiagnosticChain(100_000), static (ref UaReader r) => r.ReadDiagnosticInfo()));

        // The writer refuses to produce what the reader would refuse.
        DiagnosticInfo? chain = null;
        for (var i = 0; i < limit + 1; i++)
        {
            chain = new DiagnosticInfo { SymbolicId = i, InnerDiagnosticInfo = chain };
        }

        AssertLimitExceeded(Assert.Throws<ServiceResultException>(() => Wire.Encode(w => w.WriteDiagnosticInfo(chain))));
    }

    [Fact]
    public void ExtensionObject_chain_deeper_than_MaxNestingDepth_fails()
    {
        var limit = EncodingLimits.Default.MaxNestingDepth;
        var deepLimits = new EncodingLimits { MaxNestingDepth = 1_000 };

        var within = Wire.Encode(w => w.WriteExtensionObject(ExtensionChain(limit - 1)), deepLimits);
        Assert.NotNull(Wire.Decode(within, static (ref UaReader r) => r.ReadExtensionObject(), factory: Wrapper.Factory).Body);

        var tooDeep = Wire.Encode(w => w.WriteExtensionObject(ExtensionChain(200)), deepLimits);
        AssertLimitExceeded(Wire.DecodeFails(tooDeep, static (ref UaReader r) => r.ReadExtensionObject(), factory: Wrapper.Factory));

        // Unknown to the factory, the same bytes are one opaque body: nothing to recurse into.
        Assert.IsType<byte[]>(Wire.Decode(tooDeep, static (ref UaReader r) => r.ReadExtensionObject()).Body);

        // And the writer with default limits refuses to encode the chain.
        AssertLimitExceeded(Assert.Throws<ServiceResultException>(() => Wire.Encode(w => w.WriteExtensionObject(ExtensionChain(200)))));
    }

    [Fact]
    public void Default_nesting_limit_meets_the_specification_minimum_of_100()
    {
        Assert.True(EncodingLimits.Default.MaxNestingDepth >= 100);
        Wire.Decode(NestedVariantArrays(100), static (ref UaReader r) => r.ReadVariant());
        Wire.Decode(DiagnosticChain(100), static (ref UaReader r) => r.ReadDiagnosticInfo());
    }

    [Fact]
    public void A_configured_limit_of_100_decodes_100_levels()
    {
        var limits = new EncodingLimits { MaxNestingDepth = 100 };
        Wire.Decode(NestedVariantArrays(100), static (ref UaReader r) => r.ReadVariant(), limits);
        Wire.Decode(DiagnosticChain(100), static (ref UaReader r) => r.ReadDiagnosticInfo(), limits);
    }

    // ---- truncation ----

    [Fact]
    public void Every_prefix_of_a_DataValue_fails_cleanly()
    {
        var value = new DataValue(
            SampleVariant(),
            new StatusCode(StatusCodes.BadDecodingError),
            new DateTime(2020, 5, 6, 7, 8, 9, DateTimeKind.Utc),
            new DateTime(2021, 5, 6, 7, 8, 9, DateTimeKind.Utc),
            12,
            34);
        var bytes = Wire.Encode(w => w.WriteDataValue(value));
        Assert.Equal(value, Wire.Decode(bytes, static (ref UaReader r) => r.ReadDataValue(), factory: TestPoint.Factory));
        for (var length = 0; length < bytes.Length; length++)
        {
            AssertDecodingError(Wire.DecodeFails(bytes[..length], static (ref UaReader r) => r.ReadDataValue(), factory: TestPoint.Factory));
        }
    }

    [Fact]
    public void Every_prefix_of_a_Variant_fails_cleanly()
    {
        var value = SampleVariant();
        var bytes = Wire.Encode(w => w.WriteVariant(value));
        Assert.True(bytes.Length > 200);
        for (var length = 0; length < bytes.Length; length++)
        {
            AssertDecodingError(Wire.DecodeFails(bytes[..length], static (ref UaReader r) => r.ReadVariant(), factory: TestPoint.Factory));
            AssertDecodingError(Wire.DecodeFails(bytes[..length], static (ref UaReader r) => r.ReadVariant()));
        }
    }

    [Fact]
    public void Every_prefix_of_each_built_in_type_fails_cleanly()
    {
        var samples = new Variant[]
        {
            new(true), new((sbyte)-1), new((byte)1), new((short)-2), new((ushort)2), new(3), new(3u), new(4L), new(4UL),
            new(1.5f), new(2.5), new("水Boy"), new(new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc)), new(Guid.NewGuid()),
            Variant.FromByteString([1, 2, 3]), new(new XmlElement("<a/>")), new(new NodeId("Line.Speed", 2)),
            new(new ExpandedNodeId(new NodeId(7), "urn:x", 3)), new(new StatusCode(StatusCodes.BadDecodingError)),
            new(new QualifiedName(2, "Speed")), new(new LocalizedText("en", "Hi")),
            new(new ExtensionObject(new NodeId(5000, 1), new byte[] { 1, 2 })),
            new(new DataValue(new Variant(1), StatusCode.Good, new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc))),
            new(new DiagnosticInfo { SymbolicId = 1, AdditionalInfo = "x", InnerDiagnosticInfo = new DiagnosticInfo { Locale = 2 } }),
        };

        foreach (var sample in samples)
        {
            var bytes = Wire.Encode(w => w.WriteVariant(sample));
            for (var length = 0; length < bytes.Length; length++)
            {
                AssertDecodingError(Wire.DecodeFails(bytes[..length], static (ref UaReader r) => r.ReadVariant()));
            }
        }
    }

    // ---- invalid encodings ----

    [Fact]
    public void Invalid_NodeId_encoding_bytes_are_decoding_errors()
    {
        for (var encoding = 6; encoding <= 0x3F; encoding++)
        {
            var bytes = new byte[] { (byte)encoding, 0, 0, 0, 0, 0, 0, 0 };
            AssertDecodingError(Wire.DecodeFails(bytes, static (ref UaReader r) => r.ReadNodeId()));
            bytes[0] = (byte)(encoding | 0xC0);
            AssertDecodingError(Wire.DecodeFails(bytes, static (ref UaReader r) => r.ReadExpandedNodeId()));
        }
    }

    [Fact]
    public void Variant_type_ids_32_to_63_are_decoding_errors()
    {
        // 26..31 are reserved and read as ByteStrings (see GoldenBytesTests); 32..63 cannot be decoded at all.
        for (var id = 32; id <= 63; id++)
        {
            var bytes = new byte[] { (byte)id, 1, 0, 0, 0, 0, 0, 0, 0 };
            AssertDecodingError(Wire.DecodeFails(bytes, static (ref UaReader r) => r.ReadVariant()));
            bytes[0] = (byte)(id | 0x80);
            AssertDecodingError(Wire.DecodeFails(bytes, static (ref UaReader r) => r.ReadVariant()));
            bytes[0] = (byte)(id | 0xC0);
            AssertDecodingError(Wire.DecodeFails(bytes, static (ref UaReader r) => r.ReadVariant()));
        }
    }

    [Fact]
    public void Invalid_Variant_shapes_are_decoding_errors()
    {
        AssertDecodingError(Wire.DecodeFails(Wire.Bytes("18 00"), static (ref UaReader r) => r.ReadVariant()));          // scalar Variant in a Variant
        AssertDecodingError(Wire.DecodeFails(Wire.Bytes("80 00 00 00 00"), static (ref UaReader r) => r.ReadVariant())); // array of Null
        AssertDecodingError(Wire.DecodeFails(Wire.Bytes("46 01 00 00 00"), static (ref UaReader r) => r.ReadVariant())); // dimensions without array
        AssertDecodingError(Wire.DecodeFails(Wire.Bytes("01 01 88 13 03"), static (ref UaReader r) => r.ReadExtensionObject())); // encoding 3
    }

    [Fact]
    public void Matrix_whose_dimensions_do_not_multiply_to_the_element_count_fails()
    {
        const string threeInts = "C6 03 00 00 00 01 00 00 00 02 00 00 00 03 00 00 00";
        AssertDecodingError(Wire.DecodeFails(Wire.Bytes(threeInts + " 02 00 00 00 02 00 00 00 02 00 00 00"), static (ref UaReader r) => r.ReadVariant()));
        AssertDecodingError(Wire.DecodeFails(Wire.Bytes(threeInts + " 02 00 00 00 03 00 00 00 FF FF FF FF"), static (ref UaReader r) => r.ReadVariant())); // negative
        AssertDecodingError(Wire.DecodeFails(Wire.Bytes(threeInts + " 00 00 00 00"), static (ref UaReader r) => r.ReadVariant()));                     // rank 0
        AssertDecodingError(Wire.DecodeFails(Wire.Bytes(threeInts + " FF FF FF FF"), static (ref UaReader r) => r.ReadVariant()));                     // null dims
        AssertRejected(Wire.DecodeFails(Wire.Bytes(threeInts + " FF FF FF 7F 03 00 00 00"), static (ref UaReader r) => r.ReadVariant()));              // rank int.MaxValue

        // Dimensions whose product wraps around 2^64 to the element count: 2^30 x 2^30 x 2^30 = 2^90, which is 0
        // modulo 2^64, with no elements; and dimensions whose product overflows a long with three elements.
        AssertDecodingError(Wire.DecodeFails(Wire.Bytes("C6 00 00 00 00 03 00 00 00 00 00 00 40 00 00 00 40 00 00 00 40"), static (ref UaReader r) => r.ReadVariant()));
        AssertDecodingError(Wire.DecodeFails(Wire.Bytes(threeInts + " 03 00 00 00 FF FF FF 7F FF FF FF 7F FF FF FF 7F"), static (ref UaReader r) => r.ReadVariant()));

        // A zero dimension with no elements is a valid (empty) matrix.
        var empty = Wire.Decode(Wire.Bytes("C6 00 00 00 00 02 00 00 00 00 00 00 40 00 00 00 00"), static (ref UaReader r) => r.ReadVariant());
        Assert.Equal(new[] { 0x40000000, 0 }, empty.ArrayDimensions);
    }

    [Fact]
    public void Variant_FromMatrix_rejects_dimensions_that_overflow_to_the_element_count()
    {
        Assert.Throws<ArgumentException>(() => Variant.FromMatrix(BuiltInType.Int32, Array.Empty<int>(), [0x40000000, 0x40000000, 0x40000000]));
        Assert.Throws<ArgumentException>(() => Variant.FromMatrix(BuiltInType.Int32, new[] { 1, 2, 3 }, [2, 2]));
        Assert.Throws<ArgumentException>(() => Variant.FromMatrix(BuiltInType.Int32, new[] { 1, 2, 3 }, [-1, -3]));
        Assert.NotNull(Variant.FromMatrix(BuiltInType.Int32, Array.Empty<int>(), [0x40000000, 0x40000000, 0]).ArrayDimensions);
    }

    // ---- the writer ----

    [Fact]
    public void Writer_refuses_a_string_over_MaxStringLength()
    {
        var limits = new EncodingLimits { MaxStringLength = 8 };
        Assert.Equal(12, Wire.Encode(w => w.WriteString("12345678"), limits).Length);
        AssertLimitExceeded(Assert.Throws<ServiceResultException>(() => Wire.Encode(w => w.WriteString("123456789"), limits)));

        // The limit counts UTF-8 bytes, not characters: three CJK characters are nine bytes.
        AssertLimitExceeded(Assert.Throws<ServiceResultException>(() => Wire.Encode(w => w.WriteString("水水水"), limits)));

        // Inside a Variant, and inside a NodeId.
        AssertLimitExceeded(Assert.Throws<ServiceResultException>(() => Wire.Encode(w => w.WriteVariant(new Variant("123456789")), limits)));
        AssertLimitExceeded(Assert.Throws<ServiceResultException>(() => Wire.Encode(w => w.WriteNodeId(new NodeId("123456789", 1)), limits)));
    }

    [Fact]
    public void Writer_refuses_byte_strings_arrays_and_messages_over_their_limits()
    {
        var limits = new EncodingLimits { MaxByteStringLength = 4, MaxArrayLength = 3, MaxMessageSize = 1024 };
        AssertLimitExceeded(Assert.Throws<ServiceResultException>(() => Wire.Encode(w => w.WriteByteString(new byte[5]), limits)));
        AssertLimitExceeded(Assert.Throws<ServiceResultException>(() => Wire.Encode(w => w.WriteVariant(Variant.FromArray(BuiltInType.Int32, new int[4])), limits)));
        AssertLimitExceeded(Assert.Throws<ServiceResultException>(() => Wire.Encode(w => w.WriteArrayLength(4), limits)));
        AssertLimitExceeded(Assert.Throws<ServiceResultException>(() => Wire.Encode(w => w.WriteBytes(new byte[2048]), limits)));
    }

    [Fact]
    public void Writer_enforces_MaxMessageSize_even_when_its_buffer_is_larger()
    {
        // The pooled buffer (4096 bytes here) is larger than the limit; the limit must still hold.
        var limits = new EncodingLimits { MaxMessageSize = 1024 };
        using var writer = new UaWriter(4096, limits);
        writer.WriteBytes(new byte[1000]);
        writer.WriteInt32(1);
        writer.WriteBytes(new byte[20]);
        Assert.Equal(1024, writer.Position);
        AssertLimitExceeded(Assert.Throws<ServiceResultException>(() => writer.WriteByte(0)));
        AssertLimitExceeded(Assert.Throws<ServiceResultException>(() => Wire.Encode(w => w.WriteBytes(new byte[2048]), limits)));
        AssertLimitExceeded(Assert.Throws<ServiceResultException>(() => Wire.Encode(w => w.WriteString(new string('x', 1021)), limits)));
    }

    [Fact]
    public void Writer_nesting_depth_is_reset_by_Reset_after_a_failed_write()
    {
        var limits = new EncodingLimits { MaxStringLength = 4, MaxNestingDepth = 4 };
        using var writer = new UaWriter(64, limits);

        // Fails three levels down, leaving the nesting count raised.
        var failing = Variant.FromArray(BuiltInType.Variant, new[] { Variant.FromArray(BuiltInType.Variant, new[] { Variant.FromArray(BuiltInType.String, new[] { "too long" }) }) });
        Assert.Throws<ServiceResultException>(() => writer.WriteVariant(failing));

        writer.Reset();
        var fourDeep = Nest(Nest(Nest(Variant.FromArray(BuiltInType.Int32, new[] { 1 }))));
        writer.WriteVariant(fourDeep);
        Assert.Equal(fourDeep, Wire.Decode(writer.ToArray(), static (ref UaReader r) => r.ReadVariant(), limits));

        static Variant Nest(Variant v) => Variant.FromArray(BuiltInType.Variant, new[] { v });
    }

    // ---- helpers ----

    private static void AssertDecodingError(ServiceResultException e) =>
        Assert.True(e.StatusCode.Code == StatusCodes.BadDecodingError, $"expected BadDecodingError, got {e.StatusCode}: {e.Message}");

    private static void AssertLimitExceeded(ServiceResultException e) =>
        Assert.True(e.StatusCode.Code == StatusCodes.BadEncodingLimitsExceeded, $"expected BadEncodingLimitsExceeded, got {e.StatusCode}: {e.Message}");

    private static void AssertRejected(ServiceResultException e) =>
        Assert.True(
            e.StatusCode.Code is StatusCodes.BadDecodingError or StatusCodes.BadEncodingLimitsExceeded,
            $"expected BadDecodingError or BadEncodingLimitsExceeded, got {e.StatusCode}: {e.Message}");

    /// <summary>An array of one Variant holding an array of one Variant ... <paramref name="depth"/> arrays deep, ending in Null.</summary>
    private static byte[] NestedVariantArrays(int depth) =>
        Enumerable.Repeat(Wire.Bytes("98 01 00 00 00"), depth).SelectMany(static b => b).Append((byte)0).ToArray();

    /// <summary><paramref name="depth"/> DiagnosticInfos each holding only an inner one, ending in a null (mask 0).</summary>
    private static byte[] DiagnosticChain(int depth) =>
        Enumerable.Repeat((byte)0x40, depth).Append((byte)0).ToArray();

    private static ExtensionObject ExtensionChain(int depth)
    {
        var eo = ExtensionObject.Null;
        for (var i = 0; i < depth; i++)
        {
            eo = new ExtensionObject(new Wrapper { Inner = eo });
        }

        return eo;
    }

    /// <summary>A Variant that touches every kind of length, mask and nesting the decoder handles.</summary>
    private static Variant SampleVariant() => Variant.FromArray(BuiltInType.Variant, new[]
    {
        new Variant("水Boy"),
        Variant.FromMatrix(BuiltInType.Double, new[] { 1.0, 2.0, 3.0, 4.0, 5.0, 6.0 }, new[] { 2, 3 }),
        Variant.FromArray(BuiltInType.String, new[] { "a", null, "" }),
        new Variant(new ExpandedNodeId(new NodeId(new Guid("72962B91-FA75-4AE6-8D28-B404DC7DAF63"), 0), "urn:x", 7)),
        new Variant(new ExtensionObject(new NodeId(5000, 1), new byte[] { 1, 2, 3 })),
        new Variant(new ExtensionObject(new TestPoint { X = 1, Y = 2 })),
        new Variant(new LocalizedText("en", "text")),
        new Variant(new DiagnosticInfo { SymbolicId = 1, Locale = 2, AdditionalInfo = "info", InnerStatusCode = new StatusCode(1), InnerDiagnosticInfo = new DiagnosticInfo { LocalizedText = 3 } }),
        new Variant(new DataValue(new Variant(1.5), StatusCode.Good, new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc))),
        Variant.FromArray(BuiltInType.Variant, new[] { new Variant(new NodeId(new byte[] { 9, 8 }, 3)), new Variant(new QualifiedName(1, "q")) }),
    });
}

/// <summary>A structure (ns=1;i=5100) that holds another ExtensionObject, to build ExtensionObject chains.</summary>
internal sealed class Wrapper : IEncodeable
{
    public static readonly NodeId EncodingId = new(5100, 1);

    public static readonly EncodeableFactory Factory = CreateFactory();

    public ExtensionObject? Inner { get; set; }

    public NodeId BinaryEncodingId => EncodingId;

    public void Encode(UaWriter writer) => writer.WriteExtensionObject(Inner);

    public void Decode(ref UaReader reader) => Inner = reader.ReadExtensionObject();

    private static EncodeableFactory CreateFactory()
    {
        var factory = new EncodeableFactory();
        factory.Register(EncodingId, static () => new Wrapper());
        return factory;
    }
}
