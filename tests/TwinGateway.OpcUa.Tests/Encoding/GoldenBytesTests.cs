using System.Globalization;
using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Tests.Encoding;

/// <summary>
/// Exact byte sequences from OPC 10000-6 §5.2 (its tables and figures) and from other stacks' published test vectors.
/// Every test encodes the value and compares the bytes, then decodes the bytes and compares the value.
/// </summary>
public sealed class GoldenBytesTests
{
    private static readonly DateTime Y2000 = new(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private const string Y2000Wire = "00 40 6D 25 EB 53 BF 01"; // 125911584000000000 ticks since 1601
    private const string Y2000PlusOneSecondWire = "80 D6 05 26 EB 53 BF 01"; // 125911584010000000
    private static readonly Guid SpecGuid = new("72962B91-FA75-4AE6-8D28-B404DC7DAF63");
    private const string SpecGuidWire = "91 2B 96 72 75 FA E6 4A 8D 28 B4 04 DC 7D AF 63";

    // ---- Boolean and numbers (§5.2.2.1 - §5.2.2.3) ----

    [Fact]
    public void Boolean_true_is_01_and_false_is_00()
    {
        Wire.AssertGolden("01", true, static (w, v) => w.WriteBoolean(v), static (ref UaReader r) => r.ReadBoolean());
        Wire.AssertGolden("00", false, static (w, v) => w.WriteBoolean(v), static (ref UaReader r) => r.ReadBoolean());
    }

    [Fact]
    public void Boolean_decoders_treat_any_non_zero_byte_as_true()
    {
        Assert.True(Wire.Decode(Wire.Bytes("02"), static (ref UaReader r) => r.ReadBoolean()));
        var variant = Wire.Decode(Wire.Bytes("01 FF"), static (ref UaReader r) => r.ReadVariant());
        Assert.Equal(new Variant(true), variant);
        Assert.Equal("01 01", Wire.Spaced(Wire.Encode(w => w.WriteVariant(variant))));
    }

    [Fact]
    public void Integers_are_little_endian()
    {
        // §5.2.2.2 Figure 2: 1 000 000 000 (0x3B9ACA00).
        Wire.AssertGolden("00 CA 9A 3B", 1_000_000_000, static (w, v) => w.WriteInt32(v), static (ref UaReader r) => r.ReadInt32());
        Wire.AssertGolden("FE FF", (short)-2, static (w, v) => w.WriteInt16(v), static (ref UaReader r) => r.ReadInt16());
        Wire.AssertGolden("34 12", (ushort)0x1234, static (w, v) => w.WriteUInt16(v), static (ref UaReader r) => r.ReadUInt16());
        Wire.AssertGolden("FF FF FF FF", uint.MaxValue, static (w, v) => w.WriteUInt32(v), static (ref UaReader r) => r.ReadUInt32());
        Wire.AssertGolden("08 07 06 05 04 03 02 01", 0x0102030405060708L, static (w, v) => w.WriteInt64(v), static (ref UaReader r) => r.ReadInt64());
        Wire.AssertGolden("FF FF FF FF FF FF FF FF", ulong.MaxValue, static (w, v) => w.WriteUInt64(v), static (ref UaReader r) => r.ReadUInt64());
        Wire.AssertGolden("80", (sbyte)-128, static (w, v) => w.WriteSByte(v), static (ref UaReader r) => r.ReadSByte());
    }

    [Fact]
    public void Float_minus_6_5_is_00_00_D0_C0()
    {
        // §5.2.2.3 Figure 3 and open62541's vector.
        Wire.AssertGolden("00 00 D0 C0", -6.5f, static (w, v) => w.WriteFloat(v), static (ref UaReader r) => r.ReadFloat());
        Wire.AssertGolden("00 00 00 00 00 00 1A C0", -6.5, static (w, v) => w.WriteDouble(v), static (ref UaReader r) => r.ReadDouble());
        Wire.AssertGolden("0A 00 00 D0 C0", new Variant(-6.5f), static (w, v) => w.WriteVariant(v), static (ref UaReader r) => r.ReadVariant());
    }

    [Fact]
    public void Infinities_keep_their_IEEE_bits()
    {
        Wire.AssertGolden("00 00 80 7F", float.PositiveInfinity, static (w, v) => w.WriteFloat(v), static (ref UaReader r) => r.ReadFloat());
        Wire.AssertGolden("00 00 00 00 00 00 F0 FF", double.NegativeInfinity, static (w, v) => w.WriteDouble(v), static (ref UaReader r) => r.ReadDouble());
    }

    [Fact]
    public void NaN_is_always_encoded_as_the_quiet_NaN_of_the_specification()
    {
        // §5.2.2.3: "Encoders shall encode a NaN value as an IEEE quiet-NAN (Hex: 000000000000F8FF) or (Hex: 0000C0FF)".
        var otherDoubleNaN = BitConverter.Int64BitsToDouble(0x7FF8000000000001);
        var otherFloatNaN = BitConverter.Int32BitsToSingle(0x7FC00001);
        Assert.True(double.IsNaN(otherDoubleNaN));
        Assert.True(float.IsNaN(otherFloatNaN));

        Assert.Equal("00 00 00 00 00 00 F8 FF", Wire.Spaced(Wire.Encode(w => w.WriteDouble(double.NaN))));
        Assert.Equal("00 00 00 00 00 00 F8 FF", Wire.Spaced(Wire.Encode(w => w.WriteDouble(otherDoubleNaN))));
        Assert.Equal("00 00 C0 FF", Wire.Spaced(Wire.Encode(w => w.WriteFloat(float.NaN))));
        Assert.Equal("00 00 C0 FF", Wire.Spaced(Wire.Encode(w => w.WriteFloat(otherFloatNaN))));

        // The Variant scalar path stores the bits inline; it must canonicalise too, and so must arrays.
        Assert.Equal("0B 00 00 00 00 00 00 F8 FF", Wire.Spaced(Wire.Encode(w => w.WriteVariant(new Variant(otherDoubleNaN)))));
        Assert.Equal("0A 00 00 C0 FF", Wire.Spaced(Wire.Encode(w => w.WriteVariant(new Variant(otherFloatNaN)))));
        Assert.Equal("8B 01 00 00 00 00 00 00 00 00 00 F8 FF",
            Wire.Spaced(Wire.Encode(w => w.WriteVariant(Variant.FromArray(BuiltInType.Double, new[] { otherDoubleNaN })))));
        Assert.Equal("8A 01 00 00 00 00 00 C0 FF",
            Wire.Spaced(Wire.Encode(w => w.WriteVariant(Variant.FromArray(BuiltInType.Float, new[] { otherFloatNaN })))));

        // Decoders keep whatever NaN they are given.
        Assert.True(double.IsNaN(Wire.Decode(Wire.Bytes("01 00 00 00 00 00 F8 7F"), static (ref UaReader r) => r.ReadDouble())));
    }

    [Fact]
    public void Negative_zero_keeps_its_sign()
    {
        Assert.Equal("00 00 00 00 00 00 00 80", Wire.Spaced(Wire.Encode(w => w.WriteDouble(-0.0))));
        var decoded = Wire.Decode(Wire.Bytes("0B 00 00 00 00 00 00 00 80"), static (ref UaReader r) => r.ReadVariant());
        Assert.Equal(new Variant(-0.0), decoded);
        Assert.NotEqual(new Variant(0.0), decoded);
    }

    // ---- String, ByteString, XmlElement (§5.2.2.4, §5.2.2.7, §5.2.2.8) ----

    [Fact]
    public void String_is_the_UTF8_byte_count_then_the_bytes()
    {
        // §5.2.2.4 Figure 4: "水Boy" is 6 UTF-8 bytes.
        Wire.AssertGolden("06 00 00 00 E6 B0 B4 42 6F 79", "水Boy", static (w, v) => w.WriteString(v), static (ref UaReader r) => r.ReadString());
    }

    [Fact]
    public void Null_string_is_minus_one_and_empty_string_is_zero()
    {
        Wire.AssertGolden("FF FF FF FF", (string?)null, static (w, v) => w.WriteString(v), static (ref UaReader r) => r.ReadString());
        Wire.AssertGolden("00 00 00 00", "", static (w, v) => w.WriteString(v), static (ref UaReader r) => r.ReadString());
        Assert.Null(Wire.Decode(Wire.Bytes("FF FF FF FF"), static (ref UaReader r) => r.ReadString()));
        Assert.Equal("", Wire.Decode(Wire.Bytes("00 00 00 00"), static (ref UaReader r) => r.ReadString()));
    }

    [Fact]
    public void ByteString_null_empty_and_content()
    {
        Assert.Equal("FF FF FF FF", Wire.Spaced(Wire.Encode(w => w.WriteByteString((byte[]?)null))));
        Assert.Equal("00 00 00 00", Wire.Spaced(Wire.Encode(w => w.WriteByteString(Array.Empty<byte>()))));
        Assert.Equal("03 00 00 00 01 02 03", Wire.Spaced(Wire.Encode(w => w.WriteByteString(new byte[] { 1, 2, 3 }))));

        Assert.Null(Wire.Decode(Wire.Bytes("FF FF FF FF"), static (ref UaReader r) => r.ReadByteString()));
        Assert.Empty(Wire.Decode(Wire.Bytes("00 00 00 00"), static (ref UaReader r) => r.ReadByteString())!);
        Assert.Equal(new byte[] { 1, 2, 3 }, Wire.Decode(Wire.Bytes("03 00 00 00 01 02 03"), static (ref UaReader r) => r.ReadByteString()));
    }

    [Fact]
    public void XmlElement_is_encoded_as_a_UTF8_string()
    {
        Wire.AssertGolden("04 00 00 00 3C 61 2F 3E", new XmlElement("<a/>"), static (w, v) => w.WriteXmlElement(v), static (ref UaReader r) => r.ReadXmlElement());
        Wire.AssertGolden("FF FF FF FF", new XmlElement(null), static (w, v) => w.WriteXmlElement(v), static (ref UaReader r) => r.ReadXmlElement());
    }

    // ---- DateTime (§5.2.2.5) ----

    [Fact]
    public void DateTime_is_100ns_ticks_since_1601()
    {
        // Cross-check of the constant: 399 years with 96 leap days = 145 731 days.
        Assert.Equal(125_911_584_000_000_000L, (Y2000 - new DateTime(1601, 1, 1, 0, 0, 0, DateTimeKind.Utc)).Ticks);
        Assert.Equal(145_731L * 86_400 * 10_000_000, 125_911_584_000_000_000L);

        Wire.AssertGolden(Y2000Wire, Y2000, static (w, v) => w.WriteDateTime(v), static (ref UaReader r) => r.ReadDateTime());
        Wire.AssertGolden(Y2000PlusOneSecondWire, Y2000.AddSeconds(1), static (w, v) => w.WriteDateTime(v), static (ref UaReader r) => r.ReadDateTime());
        Wire.AssertGolden("01 00 00 00 00 00 00 00", new DateTime(1601, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddTicks(1),
            static (w, v) => w.WriteDateTime(v), static (ref UaReader r) => r.ReadDateTime());
        Assert.Equal(DateTimeKind.Utc, Wire.Decode(Wire.Bytes(Y2000Wire), static (ref UaReader r) => r.ReadDateTime()).Kind);
    }

    [Fact]
    public void DateTime_at_or_before_1601_and_MinValue_encode_as_zero()
    {
        const string zero = "00 00 00 00 00 00 00 00";
        Assert.Equal(zero, Wire.Spaced(Wire.Encode(w => w.WriteDateTime(new DateTime(1601, 1, 1, 0, 0, 0, DateTimeKind.Utc)))));
        Assert.Equal(zero, Wire.Spaced(Wire.Encode(w => w.WriteDateTime(new DateTime(1600, 12, 31, 0, 0, 0, DateTimeKind.Utc)))));
        Assert.Equal(zero, Wire.Spaced(Wire.Encode(w => w.WriteDateTime(DateTime.MinValue))));
        Assert.Equal(zero, Wire.Spaced(Wire.Encode(w => w.WriteDateTime(default))));
    }

    [Fact]
    public void DateTime_at_or_after_9999_12_31_23_59_59_and_MaxValue_encode_as_Int64_MaxValue()
    {
        const string max = "FF FF FF FF FF FF FF 7F";
        Assert.Equal(max, Wire.Spaced(Wire.Encode(w => w.WriteDateTime(DateTime.MaxValue))));
        Assert.Equal(max, Wire.Spaced(Wire.Encode(w => w.WriteDateTime(new DateTime(9999, 12, 31, 23, 59, 59, DateTimeKind.Utc)))));
        Assert.Equal(max, Wire.Spaced(Wire.Encode(w => w.WriteDateTime(new DateTime(9999, 12, 31, 23, 59, 59, 500, DateTimeKind.Utc)))));

        // One tick before the threshold is still an ordinary date.
        var justBefore = new DateTime(9999, 12, 31, 23, 59, 59, DateTimeKind.Utc).AddTicks(-1);
        Assert.NotEqual(max, Wire.Spaced(Wire.Encode(w => w.WriteDateTime(justBefore))));
        Assert.Equal(justBefore, Wire.RoundTrip(justBefore, static (w, v) => w.WriteDateTime(v), static (ref UaReader r) => r.ReadDateTime()));
    }

    [Fact]
    public void DateTime_zero_decodes_as_MinValue_and_Int64_MaxValue_as_MaxValue()
    {
        Assert.Equal(DateTime.MinValue, Wire.Decode(Wire.Bytes("00 00 00 00 00 00 00 00"), static (ref UaReader r) => r.ReadDateTime()));
        Assert.Equal(DateTime.MinValue, Wire.Decode(Wire.Bytes("FF FF FF FF FF FF FF FF"), static (ref UaReader r) => r.ReadDateTime()));
        Assert.Equal(DateTime.MaxValue, Wire.Decode(Wire.Bytes("FF FF FF FF FF FF FF 7F"), static (ref UaReader r) => r.ReadDateTime()));
    }

    // ---- Guid (§5.2.2.6) ----

    [Fact]
    public void Guid_is_Data1_Data2_Data3_little_endian_then_Data4_bytes()
    {
        // §5.2.2.6 Figure 5.
        Wire.AssertGolden(SpecGuidWire, SpecGuid, static (w, v) => w.WriteGuid(v), static (ref UaReader r) => r.ReadGuid());
    }

    // ---- NodeId (§5.2.2.9) ----

    [Fact]
    public void TwoByte_NodeId_i72_is_00_48()
    {
        // §5.2.2.9 Figure: a Two Byte NodeId.
        AssertNodeId("00 48", new NodeId(72));
    }

    [Fact]
    public void FourByte_NodeId_ns5_i1025_is_01_05_01_04()
    {
        // §5.2.2.9 Figure: a Four Byte NodeId with Namespace 5 and Identifier 1025.
        AssertNodeId("01 05 01 04", new NodeId(1025, 5));
    }

    [Fact]
    public void FourByte_NodeId_ns1_i256_matches_open62541()
    {
        AssertNodeId("01 01 00 01", new NodeId(256, 1));
    }

    [Theory]
    [InlineData(0u, (ushort)0, "00 00")]
    [InlineData(255u, (ushort)0, "00 FF")]
    [InlineData(256u, (ushort)0, "01 00 00 01")]
    [InlineData(0u, (ushort)1, "01 01 00 00")]
    [InlineData(65535u, (ushort)255, "01 FF FF FF")]
    [InlineData(65536u, (ushort)0, "02 00 00 00 00 01 00")]
    [InlineData(1u, (ushort)256, "02 00 01 01 00 00 00")]
    [InlineData(70000u, (ushort)5, "02 05 00 70 11 01 00")]
    [InlineData(uint.MaxValue, (ushort)65535, "02 FF FF FF FF FF FF")]
    public void Numeric_NodeId_uses_the_smallest_form(uint id, ushort ns, string hex) => AssertNodeId(hex, new NodeId(id, ns));

    [Theory]
    [InlineData("02 05 00 01 04 00 00", 1025u, (ushort)5)]
    [InlineData("02 00 00 48 00 00 00", 72u, (ushort)0)]
    [InlineData("01 00 48 00", 72u, (ushort)0)]
    public void Decoders_accept_a_numeric_NodeId_in_a_larger_form_than_needed(string hex, uint id, ushort ns)
    {
        var decoded = Wire.Decode(Wire.Bytes(hex), static (ref UaReader r) => r.ReadNodeId());
        Assert.Equal(new NodeId(id, ns), decoded);
    }

    [Fact]
    public void String_NodeId_matches_the_specification_and_open62541()
    {
        // §5.2.2.9 Figure: a String NodeId with Namespace 1 and Identifier "Hot水".
        AssertNodeId("03 01 00 06 00 00 00 48 6F 74 E6 B0 B4", new NodeId("Hot水", 1));
        AssertNodeId("03 01 00 03 00 00 00 50 4C 54", new NodeId("PLT", 1));
    }

    [Fact]
    public void Guid_NodeId_is_namespace_then_the_Guid_encoding()
    {
        AssertNodeId("04 04 00 " + SpecGuidWire, new NodeId(SpecGuid, 4));
    }

    [Fact]
    public void Opaque_NodeId_is_namespace_then_a_ByteString()
    {
        AssertNodeId("05 01 00 04 00 00 00 DE AD BE EF", new NodeId(new byte[] { 0xDE, 0xAD, 0xBE, 0xEF }, 1));
    }

    // ---- ExpandedNodeId (§5.2.2.10) ----

    [Fact]
    public void Local_ExpandedNodeId_is_a_plain_NodeId()
    {
        AssertExpanded("00 48", new ExpandedNodeId(new NodeId(72)));
        AssertExpanded("01 05 01 04", new ExpandedNodeId(new NodeId(1025, 5)));
    }

    [Fact]
    public void ExpandedNodeId_NamespaceUri_sets_flag_0x80_and_follows_the_NodeId()
    {
        AssertExpanded("80 48 05 00 00 00 75 72 6E 3A 61", new ExpandedNodeId(new NodeId(72), "urn:a"));
    }

    [Fact]
    public void ExpandedNodeId_ServerIndex_sets_flag_0x40_and_comes_last()
    {
        AssertExpanded("40 48 02 00 00 00", new ExpandedNodeId(new NodeId(72), null, 2));
        AssertExpanded("C3 00 00 01 00 00 00 58 01 00 00 00 75 01 00 00 00",
            new ExpandedNodeId(new NodeId("X", 0), "u", 1));
    }

    [Fact]
    public void ExpandedNodeId_with_a_NamespaceUri_writes_NamespaceIndex_zero()
    {
        // §5.2.2.10: "If the NamespaceUri is present, then the encoder shall encode the NamespaceIndex as 0".
        var value = new ExpandedNodeId(new NodeId(1025, 5), "urn:a");
        Assert.Equal("81 00 01 04 05 00 00 00 75 72 6E 3A 61", Wire.Spaced(Wire.Encode(w => w.WriteExpandedNodeId(value))));
        var decoded = Wire.Decode(Wire.Bytes("81 00 01 04 05 00 00 00 75 72 6E 3A 61"), static (ref UaReader r) => r.ReadExpandedNodeId());
        Assert.Equal(new ExpandedNodeId(new NodeId(1025), "urn:a"), decoded);
    }

    [Fact]
    public void ExpandedNodeId_with_an_empty_NamespaceUri_omits_it()
    {
        // §5.2.2.10 table: NamespaceUri "Not present if null or Empty"; ServerIndex "Not present if 0".
        Assert.Equal("00 48", Wire.Spaced(Wire.Encode(w => w.WriteExpandedNodeId(new ExpandedNodeId(new NodeId(72), "", 0)))));
    }

    // ---- StatusCode, QualifiedName, LocalizedText (§5.2.2.11, §5.2.2.13, §5.2.2.14) ----

    [Fact]
    public void StatusCode_is_a_UInt32()
    {
        Wire.AssertGolden("00 00 07 80", new StatusCode(StatusCodes.BadDecodingError), static (w, v) => w.WriteStatusCode(v), static (ref UaReader r) => r.ReadStatusCode());
        Wire.AssertGolden("00 00 00 00", StatusCode.Good, static (w, v) => w.WriteStatusCode(v), static (ref UaReader r) => r.ReadStatusCode());
    }

    [Fact]
    public void QualifiedName_is_namespace_then_name()
    {
        Wire.AssertGolden("02 00 05 00 00 00 53 70 65 65 64", new QualifiedName(2, "Speed"), static (w, v) => w.WriteQualifiedName(v), static (ref UaReader r) => r.ReadQualifiedName());
        Wire.AssertGolden("00 00 FF FF FF FF", new QualifiedName(0, null), static (w, v) => w.WriteQualifiedName(v), static (ref UaReader r) => r.ReadQualifiedName());
    }

    [Theory]
    [InlineData("en", "Hi", "03 02 00 00 00 65 6E 02 00 00 00 48 69")]
    [InlineData(null, "Hi", "02 02 00 00 00 48 69")]
    [InlineData("en", null, "01 02 00 00 00 65 6E")]
    [InlineData(null, null, "00")]
    public void LocalizedText_mask_0x01_locale_0x02_text(string? locale, string? text, string hex) =>
        Wire.AssertGolden(hex, new LocalizedText(locale, text), static (w, v) => w.WriteLocalizedText(v), static (ref UaReader r) => r.ReadLocalizedText());

    [Fact]
    public void LocalizedText_omits_empty_locale_and_text()
    {
        // §5.2.2.14: Locale and Text are each "Omitted if null or empty".
        Assert.Equal("00", Wire.Spaced(Wire.Encode(w => w.WriteLocalizedText(new LocalizedText("", "")))));
        Assert.Equal("02 02 00 00 00 48 69", Wire.Spaced(Wire.Encode(w => w.WriteLocalizedText(new LocalizedText("", "Hi")))));
    }

    // ---- DiagnosticInfo (§5.2.2.12) ----

    [Fact]
    public void Null_DiagnosticInfo_is_a_zero_mask()
    {
        Wire.AssertGolden("00", (DiagnosticInfo?)null, static (w, v) => w.WriteDiagnosticInfo(v), static (ref UaReader r) => r.ReadDiagnosticInfo());
    }

    [Fact]
    public void DiagnosticInfo_fields_follow_the_table_order_with_Locale_before_LocalizedText()
    {
        // §5.2.2.12: mask bits SymbolicId 0x01, NamespaceUri 0x02, LocalizedText 0x04, Locale 0x08, AdditionalInfo 0x10,
        // InnerStatusCode 0x20, InnerDiagnosticInfo 0x40; but on the wire Locale (0x08) comes BEFORE LocalizedText (0x04).
        var value = new DiagnosticInfo
        {
            SymbolicId = 1,
            NamespaceUri = 2,
            LocalizedText = 3,
            Locale = 4,
            AdditionalInfo = "x",
            InnerStatusCode = new StatusCode(StatusCodes.BadDecodingError),
            InnerDiagnosticInfo = new DiagnosticInfo { SymbolicId = 5 },
        };
        Wire.AssertGolden(
            "7F 01 00 00 00 02 00 00 00 04 00 00 00 03 00 00 00 01 00 00 00 78 00 00 07 80 01 05 00 00 00",
            value, static (w, v) => w.WriteDiagnosticInfo(v), static (ref UaReader r) => r.ReadDiagnosticInfo());
    }

    [Fact]
    public void DiagnosticInfo_with_locale_and_localized_text_reads_locale_first()
    {
        var decoded = Wire.Decode(Wire.Bytes("0C 07 00 00 00 09 00 00 00"), static (ref UaReader r) => r.ReadDiagnosticInfo());
        Assert.Equal(new DiagnosticInfo { Locale = 7, LocalizedText = 9 }, decoded);
    }

    [Theory]
    [InlineData(0x01, "01 2A 00 00 00")]
    [InlineData(0x02, "02 2A 00 00 00")]
    [InlineData(0x04, "04 2A 00 00 00")]
    [InlineData(0x08, "08 2A 00 00 00")]
    [InlineData(0x10, "10 02 00 00 00 34 32")]
    [InlineData(0x20, "20 2A 00 00 00")]
    [InlineData(0x40, "40 01 2A 00 00 00")]
    public void DiagnosticInfo_each_mask_bit(int bit, string hex)
    {
        var value = bit switch
        {
            0x01 => new DiagnosticInfo { SymbolicId = 42 },
            0x02 => new DiagnosticInfo { NamespaceUri = 42 },
            0x04 => new DiagnosticInfo { LocalizedText = 42 },
            0x08 => new DiagnosticInfo { Locale = 42 },
            0x10 => new DiagnosticInfo { AdditionalInfo = "42" },
            0x20 => new DiagnosticInfo { InnerStatusCode = new StatusCode(42) },
            _ => new DiagnosticInfo { InnerDiagnosticInfo = new DiagnosticInfo { SymbolicId = 42 } },
        };
        Wire.AssertGolden(hex, value, static (w, v) => w.WriteDiagnosticInfo(v), static (ref UaReader r) => r.ReadDiagnosticInfo());
    }

    // ---- ExtensionObject (§5.2.2.15) ----

    [Fact]
    public void Null_ExtensionObject_is_a_null_NodeId_and_encoding_0x00()
    {
        Assert.Equal("00 00 00", Wire.Spaced(Wire.Encode(w => w.WriteExtensionObject(null))));
        Wire.AssertGolden("00 00 00", ExtensionObject.Null, static (w, v) => w.WriteExtensionObject(v), static (ref UaReader r) => r.ReadExtensionObject());
    }

    [Fact]
    public void ExtensionObject_with_a_type_and_no_body()
    {
        Wire.AssertGolden("01 01 88 13 00", new ExtensionObject(new NodeId(5000, 1), null),
            static (w, v) => w.WriteExtensionObject(v), static (ref UaReader r) => r.ReadExtensionObject());
    }

    [Fact]
    public void ExtensionObject_binary_body_is_encoding_0x01_Int32_length_and_bytes()
    {
        var value = new ExtensionObject(new NodeId(5000, 1), new byte[] { 0xAA, 0xBB, 0xCC });
        Wire.AssertGolden("01 01 88 13 01 03 00 00 00 AA BB CC", value,
            static (w, v) => w.WriteExtensionObject(v), static (ref UaReader r) => r.ReadExtensionObject());
    }

    [Fact]
    public void ExtensionObject_of_unknown_type_is_kept_opaque_and_reencoded_byte_for_byte()
    {
        var bytes = Wire.Bytes("16 01 01 88 13 01 05 00 00 00 01 02 03 04 05");
        var variant = Wire.Decode(bytes, static (ref UaReader r) => r.ReadVariant());
        var eo = Assert.IsType<ExtensionObject>(variant.Value);
        Assert.False(eo.IsDecoded);
        Assert.Equal(ExtensionObjectEncoding.Binary, eo.Encoding);
        Assert.Equal(new NodeId(5000, 1), eo.TypeId);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, Assert.IsType<byte[]>(eo.Body));
        Assert.Equal(Wire.Spaced(bytes), Wire.Spaced(Wire.Encode(w => w.WriteVariant(variant))));
    }

    [Fact]
    public void ExtensionObject_xml_body_is_encoding_0x02_and_a_string()
    {
        var value = new ExtensionObject(new NodeId(5002, 1), "<a/>", ExtensionObjectEncoding.Xml);
        Wire.AssertGolden("01 01 8A 13 02 04 00 00 00 3C 61 2F 3E", value,
            static (w, v) => w.WriteExtensionObject(v), static (ref UaReader r) => r.ReadExtensionObject());
    }

    [Fact]
    public void ExtensionObject_of_a_known_type_writes_its_length_and_decodes_the_structure()
    {
        var value = new ExtensionObject(new TestPoint { X = 1, Y = -1 });
        var bytes = Wire.Encode(w => w.WriteExtensionObject(value));
        Assert.Equal("01 01 89 13 01 08 00 00 00 01 00 00 00 FF FF FF FF", Wire.Spaced(bytes));

        var decoded = Wire.Decode(bytes, static (ref UaReader r) => r.ReadExtensionObject(), factory: TestPoint.Factory);
        Assert.True(decoded.IsDecoded);
        Assert.Equal(new TestPoint { X = 1, Y = -1 }, decoded.Body);
        Assert.Equal(value, decoded);

        // Without the type registered the same bytes stay opaque.
        var opaque = Wire.Decode(bytes, static (ref UaReader r) => r.ReadExtensionObject());
        Assert.Equal(new byte[] { 1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF }, opaque.Body);
    }

    // ---- Variant (§5.2.2.16) ----

    [Fact]
    public void Null_Variant_is_00() => AssertVariant("00", Variant.Null);

    [Fact]
    public void Variant_Int32_255_matches_open62541() => AssertVariant("06 FF 00 00 00", new Variant(255));

    [Fact]
    public void Variant_Int32_array_matches_open62541() =>
        AssertVariant("86 02 00 00 00 FF 00 00 00 FF FF FF FF", Variant.FromArray(BuiltInType.Int32, new[] { 255, -1 }));

    [Fact]
    public void Variant_scalars_of_each_shape()
    {
        AssertVariant("01 01", new Variant(true));
        AssertVariant("0C 06 00 00 00 E6 B0 B4 42 6F 79", new Variant("水Boy"));
        AssertVariant("0C FF FF FF FF", new Variant((string?)null));
        AssertVariant("0D " + Y2000Wire, new Variant(Y2000));
        AssertVariant("0E " + SpecGuidWire, new Variant(SpecGuid));
        AssertVariant("0F 03 00 00 00 01 02 03", Variant.FromByteString(new byte[] { 1, 2, 3 }));
        AssertVariant("11 00 48", new Variant(new NodeId(72)));
        AssertVariant("13 00 00 07 80", new Variant(new StatusCode(StatusCodes.BadDecodingError)));
        AssertVariant("09 FF FF FF FF FF FF FF FF", new Variant(ulong.MaxValue));
        AssertVariant("17 01 06 FF 00 00 00", new Variant(new DataValue(new Variant(255))));
        AssertVariant("19 01 05 00 00 00", new Variant(new DiagnosticInfo { SymbolicId = 5 }));
    }

    [Fact]
    public void Variant_null_and_empty_arrays_differ()
    {
        AssertVariant("86 FF FF FF FF", Variant.FromArray(BuiltInType.Int32, null));
        AssertVariant("86 00 00 00 00", Variant.FromArray(BuiltInType.Int32, Array.Empty<int>()));
        AssertVariant("8C 02 00 00 00 FF FF FF FF 00 00 00 00", Variant.FromArray(BuiltInType.String, new string?[] { null, "" }));
    }

    [Fact]
    public void Byte_array_and_ByteString_have_different_type_ids()
    {
        AssertVariant("83 03 00 00 00 01 02 03", Variant.FromArray(BuiltInType.Byte, new byte[] { 1, 2, 3 }));
        AssertVariant("0F 03 00 00 00 01 02 03", Variant.FromByteString(new byte[] { 1, 2, 3 }));
    }

    [Fact]
    public void Variant_matrix_sets_0xC0_and_appends_the_dimensions()
    {
        // 2 x 3 Int32, row-major (higher rank dimension first): mask 0xC6, ArrayLength 6, values, rank 2, dims.
        AssertVariant(
            "C6 06 00 00 00 01 00 00 00 02 00 00 00 03 00 00 00 04 00 00 00 05 00 00 00 06 00 00 00 02 00 00 00 02 00 00 00 03 00 00 00",
            Variant.FromMatrix(BuiltInType.Int32, new[] { 1, 2, 3, 4, 5, 6 }, new[] { 2, 3 }));
    }

    [Fact]
    public void Matrices_of_rank_one_or_with_a_zero_dimension_are_written_as_plain_arrays()
    {
        // §5.2.2.16 (1.05): "The ArrayDimensions field shall only be present if the number of dimensions is 2 or greater
        // and all dimensions have a length greater than 0."
        Assert.Equal("86 02 00 00 00 01 00 00 00 02 00 00 00",
            Wire.Spaced(Wire.Encode(w => w.WriteVariant(Variant.FromMatrix(BuiltInType.Int32, new[] { 1, 2 }, new[] { 2 })))));
        Assert.Equal("86 00 00 00 00",
            Wire.Spaced(Wire.Encode(w => w.WriteVariant(Variant.FromMatrix(BuiltInType.Int32, Array.Empty<int>(), new[] { 0, 3 })))));
    }

    [Fact]
    public void Variant_array_of_Variants_holds_mixed_and_nested_values()
    {
        AssertVariant("98 02 00 00 00 06 FF 00 00 00 01 01",
            Variant.FromArray(BuiltInType.Variant, new[] { new Variant(255), new Variant(true) }));
        AssertVariant("98 01 00 00 00 86 01 00 00 00 01 00 00 00",
            Variant.FromArray(BuiltInType.Variant, new[] { Variant.FromArray(BuiltInType.Int32, new[] { 1 }) }));
    }

    [Fact]
    public void Variant_reserved_type_ids_26_to_31_are_read_as_ByteStrings()
    {
        // §5.2.2.16: "Decoders shall accept these IDs, assume the Value contains a ByteString or an array of
        // ByteStrings and pass both onto the application. Encoders shall not use these IDs."
        for (var id = 26; id <= 31; id++)
        {
            var scalar = Wire.Decode(Wire.Bytes($"{id:X2} 02 00 00 00 AB CD"), static (ref UaReader r) => r.ReadVariant());
            Assert.Equal((BuiltInType)id, scalar.Type);
            Assert.False(scalar.IsArray);
            Assert.Equal(new byte[] { 0xAB, 0xCD }, Assert.IsType<byte[]>(scalar.Value));

            var array = Wire.Decode(Wire.Bytes($"{id | 0x80:X2} 02 00 00 00 01 00 00 00 EE FF FF FF FF"), static (ref UaReader r) => r.ReadVariant());
            Assert.Equal((BuiltInType)id, array.Type);
            Assert.True(array.IsArray);
            var elements = Assert.IsType<byte[][]>(array.Value);
            Assert.Equal(new byte[] { 0xEE }, elements[0]);
            Assert.Null(elements[1]);

            Assert.Throws<ServiceResultException>(() => Wire.Encode(w => w.WriteVariant(scalar)));
        }
    }

    // ---- DataValue (§5.2.2.17) ----

    [Fact]
    public void Empty_DataValue_is_a_zero_mask() => AssertDataValue("00", default);

    [Fact]
    public void DataValue_double_with_both_timestamps_is_26_bytes_with_mask_0x0D()
    {
        var value = new DataValue(new Variant(1.5), StatusCodes.Good, Y2000, Y2000.AddSeconds(1));
        var bytes = Wire.Encode(w => w.WriteDataValue(value));
        Assert.Equal(26, bytes.Length);
        Assert.Equal("0D 0B 00 00 00 00 00 00 F8 3F " + Y2000Wire + " " + Y2000PlusOneSecondWire, Wire.Spaced(bytes));
        AssertDataValue(Wire.Spaced(bytes), value);
    }

    [Fact]
    public void DataValue_omits_a_Good_status()
    {
        AssertDataValue("01 06 01 00 00 00", new DataValue(new Variant(1), StatusCode.Good));
        AssertDataValue("02 00 00 07 80", new DataValue(Variant.Null, new StatusCode(StatusCodes.BadDecodingError)));
    }

    [Fact]
    public void DataValue_all_fields_in_wire_order_value_status_source_sourcePs_server_serverPs()
    {
        var value = new DataValue(new Variant(1), new StatusCode(StatusCodes.BadDecodingError), Y2000, Y2000.AddSeconds(1), 1, 2);
        AssertDataValue(
            "3F 06 01 00 00 00 00 00 07 80 " + Y2000Wire + " 01 00 " + Y2000PlusOneSecondWire + " 02 00",
            value);
    }

    [Theory]
    [InlineData(0x01, "01 06 07 00 00 00")]
    [InlineData(0x02, "02 00 00 07 80")]
    [InlineData(0x04, "04 " + Y2000Wire)]
    [InlineData(0x08, "08 " + Y2000Wire)]
    [InlineData(0x10, "10 07 00")]
    [InlineData(0x20, "20 07 00")]
    public void DataValue_each_mask_bit(int bit, string hex)
    {
        var value = bit switch
        {
            0x01 => new DataValue(new Variant(7)),
            0x02 => new DataValue(Variant.Null, new StatusCode(StatusCodes.BadDecodingError)),
            0x04 => new DataValue(Variant.Null, SourceTimestamp: Y2000),
            0x08 => new DataValue(Variant.Null, ServerTimestamp: Y2000),
            0x10 => new DataValue(Variant.Null, SourcePicoseconds: 7),
            _ => new DataValue(Variant.Null, ServerPicoseconds: 7),
        };
        AssertDataValue(hex, value);
    }

    // ---- helpers ----

    private static void AssertNodeId(string hex, NodeId value) =>
        Wire.AssertGolden(hex, value, static (w, v) => w.WriteNodeId(v), static (ref UaReader r) => r.ReadNodeId());

    private static void AssertExpanded(string hex, ExpandedNodeId value) =>
        Wire.AssertGolden(hex, value, static (w, v) => w.WriteExpandedNodeId(v), static (ref UaReader r) => r.ReadExpandedNodeId());

    private static void AssertVariant(string hex, Variant value) =>
        Wire.AssertGolden(hex, value, static (w, v) => w.WriteVariant(v), static (ref UaReader r) => r.ReadVariant());

    private static void AssertDataValue(string hex, DataValue value) =>
        Wire.AssertGolden(hex, value, static (w, v) => w.WriteDataValue(v), static (ref UaReader r) => r.ReadDataValue());
}

/// <summary>Encoding helpers shared by the codec tests in this folder.</summary>
internal static class Wire
{
    /// <summary>A factory that knows no structures, so ExtensionObject bodies stay opaque whatever gets generated.</summary>
    public static readonly EncodeableFactory EmptyFactory = new();

    public static byte[] Encode(Action<UaWriter> write, EncodingLimits? limits = null)
    {
        using var writer = new UaWriter(64, limits);
        write(writer);
        return writer.ToArray();
    }

    /// <summary>Parses "01 01 00 01".</summary>
    public static byte[] Bytes(string spacedHex) =>
        Convert.FromHexString(spacedHex.Replace(" ", "", StringComparison.Ordinal));

    /// <summary>Formats bytes as "01 01 00 01", the way the specification prints them.</summary>
    public static string Spaced(ReadOnlySpan<byte> bytes)
    {
        var parts = new string[bytes.Length];
        for (var i = 0; i < bytes.Length; i++)
        {
            parts[i] = bytes[i].ToString("X2", CultureInfo.InvariantCulture);
        }

        return string.Join(' ', parts);
    }

    /// <summary>Decodes the whole buffer (it must all be consumed) with the given factory, or none.</summary>
    public static T Decode<T>(byte[] bytes, ArrayElementReader<T> read, EncodingLimits? limits = null, IEncodeableFactory? factory = null)
    {
        var reader = new UaReader(bytes, limits, factory ?? EmptyFactory);
        var value = read(ref reader);
        Assert.True(reader.Remaining == 0, $"{reader.Remaining} bytes left after decoding {typeof(T).Name}");
        return value;
    }

    /// <summary>Decoding must fail with a ServiceResultException (never another exception type).</summary>
    public static ServiceResultException DecodeFails<T>(byte[] bytes, ArrayElementReader<T> read, EncodingLimits? limits = null, IEncodeableFactory? factory = null)
    {
        try
        {
            var reader = new UaReader(bytes, limits, factory ?? EmptyFactory);
            read(ref reader);
        }
        catch (ServiceResultException e)
        {
            return e;
        }
        catch (Exception e)
        {
            Assert.Fail($"decoding {Spaced(bytes.AsSpan(0, Math.Min(bytes.Length, 64)))} threw {e.GetType().Name} instead of a ServiceResultException: {e.Message}");
        }

        Assert.Fail($"decoding {Spaced(bytes.AsSpan(0, Math.Min(bytes.Length, 64)))} did not fail");
        return null!;
    }

    public static T RoundTrip<T>(T value, Action<UaWriter, T> write, ArrayElementReader<T> read, IEncodeableFactory? factory = null) =>
        Decode(Encode(w => write(w, value)), read, factory: factory);

    /// <summary>Encodes to exactly <paramref name="hex"/>, decodes back to an equal value and re-encodes identically.</summary>
    public static void AssertGolden<T>(string hex, T value, Action<UaWriter, T> write, ArrayElementReader<T> read)
    {
        var bytes = Encode(w => write(w, value));
        Assert.Equal(hex, Spaced(bytes));
        var decoded = Decode(Bytes(hex), read);
        Assert.Equal(value, decoded);
        Assert.Equal(hex, Spaced(Encode(w => write(w, decoded))));
    }
}

/// <summary>A small known structure (ns=1;i=5001) for ExtensionObject tests.</summary>
internal sealed record TestPoint : IEncodeable
{
    public static readonly NodeId EncodingId = new(5001, 1);

    public static readonly EncodeableFactory Factory = CreateFactory();

    public int X { get; set; }

    public int Y { get; set; }

    public NodeId BinaryEncodingId => EncodingId;

    public void Encode(UaWriter writer)
    {
        writer.WriteInt32(X);
        writer.WriteInt32(Y);
    }

    public void Decode(ref UaReader reader)
    {
        X = reader.ReadInt32();
        Y = reader.ReadInt32();
    }

    private static EncodeableFactory CreateFactory()
    {
        var factory = new EncodeableFactory();
        factory.Register(EncodingId, static () => new TestPoint());
        return factory;
    }
}
