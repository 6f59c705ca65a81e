using TwinGateway.Commissioning.Audit;
using TwinGateway.Core;

namespace TwinGateway.Commissioning.Tests.Audit;

public sealed class AuditEncodingTests
{
    private static readonly AuditEntry Fixed = new(
        1, new DateTimeOffset(2026, 12, 3, 8, 0, 0, TimeSpan.Zero), "demo-line", "c-1", AuditEventKind.Submitted, "alice",
        Authority.Human, """{"title":"x"}""", new byte[32], ReadOnlyMemory<byte>.Empty, ReadOnlyMemory<byte>.Empty);

    [Fact]
    public void Canonical_encoding_of_a_fixed_entry_is_the_documented_bytes()
    {
        // Written by hand from AuditEncoding's table (and checked with Python's struct and hashlib), not from our encoder:
        // a change of the format fails here instead of silently breaking every verifier of existing chains.
        var expected = string.Concat(
            "5447415544495431",                         // "TGAUDIT1"
            "0000000000000001",                         // sequence 1
            "003fd11d7631c000",                         // 2026-12-03T08:00:00Z as 100 ns ticks since 1970
            "01",                                       // kind: submitted
            "03",                                       // authority: human
            "00000009", "64656d6f2d6c696e65",           // "demo-line"
            "01", "00000003", "632d31",                 // change id present, "c-1"
            "00000005", "616c696365",                   // "alice"
            "0000000d", "7b227469746c65223a2278227d",   // {"title":"x"}
            new string('0', 64));                       // previous hash: zeros (first entry)

        Assert.Equal(expected, Convert.ToHexStringLower(AuditEncoding.Encode(Fixed)));
        Assert.Equal("468adc776f0596140fbcdb1b2f1e8d950aef28abd908c24c25cec14a5f110d1b", Convert.ToHexStringLower(AuditEncoding.ComputeHash(Fixed)));
    }

    [Fact]
    public void An_absent_change_id_is_one_zero_byte_and_changes_the_hash()
    {
        var withoutChange = Fixed with { ChangeId = null };
        var bytes = AuditEncoding.Encode(withoutChange);

        Assert.Equal(AuditEncoding.Encode(Fixed).Length - 7, bytes.Length);
        Assert.Equal(0, bytes[8 + 8 + 8 + 2 + 4 + 9]);
        Assert.NotEqual(AuditEncoding.ComputeHash(Fixed), AuditEncoding.ComputeHash(withoutChange));

        // An empty change id is not the same as none.
        Assert.NotEqual(AuditEncoding.ComputeHash(Fixed with { ChangeId = string.Empty }), AuditEncoding.ComputeHash(withoutChange));
    }

    [Fact]
    public void Moving_bytes_between_adjacent_texts_changes_the_hash()
    {
        // Length prefixes: "alice" + "{...}" must not hash like "alic" + "e{...}".
        var shifted = Fixed with { LineId = "demo-lin", ChangeId = null, Actor = "ealice" };
        var original = Fixed with { ChangeId = null };
        Assert.NotEqual(AuditEncoding.ComputeHash(original), AuditEncoding.ComputeHash(shifted));
    }
}
