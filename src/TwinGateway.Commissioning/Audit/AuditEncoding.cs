using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace TwinGateway.Commissioning.Audit;

/// <summary>
/// The canonical byte encoding an entry's hash is computed over (version 1). Every integer big-endian; every text
/// strict UTF-8 (an unpaired surrogate is refused at append, never replaced), prefixed by its byte length:
/// <code>
/// bytes  field
/// 8      magic and version: ASCII "TGAUDIT1"
/// 8      sequence, unsigned
/// 8      time: signed count of 100 ns ticks since 1970-01-01T00:00:00Z
/// 1      event kind (AuditEventKind's number)
/// 1      authority (Authority's number: 1 physics, 2 statistical, 3 human)
/// 4+n    line id: u32 length, UTF-8 bytes
/// 1[+4+n] change id: 0 when absent; 1, then u32 length and UTF-8 bytes
/// 4+n    actor
/// 4+n    payload: the JSON text exactly as stored
/// 32     previous entry's hash (32 zero bytes for sequence 1)
/// </code>
/// hash = SHA-256(those bytes); signature = ECDSA P-256 over the hash, IEEE P1363 (r || s). Nothing of a serializer's
/// formatting is in it, so another language can verify the chain from this table alone.
/// </summary>
public static class AuditEncoding
{
    public const int HashLength = 32;

    /// <summary>Magic and version; a new encoding takes a new version and verifiers pick it by this prefix.</summary>
    public static ReadOnlySpan<byte> Magic => "TGAUDIT1"u8;

    internal static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // magic, sequence, time, kind, authority, four text lengths, the change id flag, the previous hash.
    private const int FixedLength = 8 + 8 + 8 + 1 + 1 + (4 * 4) + 1 + HashLength;

    /// <summary>The canonical bytes of <paramref name="entry"/> (its <see cref="AuditEntry.Hash"/> and signature are not part of them).</summary>
    public static byte[] Encode(AuditEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var bytes = new byte[GetLength(entry)];
        Write(entry, bytes);
        return bytes;
    }

    /// <summary>SHA-256 of the canonical bytes.</summary>
    public static byte[] ComputeHash(AuditEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var length = GetLength(entry);
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            Write(entry, buffer.AsSpan(0, length));
            return SHA256.HashData(buffer.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static int GetLength(AuditEntry entry)
    {
        if (entry.PreviousHash.Length != HashLength)
        {
            throw new ArgumentException($"entry {entry.Sequence}: the previous hash is {entry.PreviousHash.Length} bytes, not {HashLength}", nameof(entry));
        }

        return FixedLength
            + StrictUtf8.GetByteCount(entry.LineId)
            + (entry.ChangeId is null ? -4 : StrictUtf8.GetByteCount(entry.ChangeId))
            + StrictUtf8.GetByteCount(entry.Actor)
            + StrictUtf8.GetByteCount(entry.Payload);
    }

    private static void Write(AuditEntry entry, Span<byte> span)
    {
        Magic.CopyTo(span);
        var offset = Magic.Length;
        BinaryPrimitives.WriteUInt64BigEndian(span[offset..], checked((ulong)entry.Sequence));
        offset += 8;
        BinaryPrimitives.WriteInt64BigEndian(span[offset..], ToUnixTicks(entry.Time));
        offset += 8;
        span[offset++] = checked((byte)entry.Kind);
        span[offset++] = checked((byte)entry.Authority);
        offset += WriteText(entry.LineId, span[offset..]);
        if (entry.ChangeId is null)
        {
            span[offset++] = 0;
        }
        else
        {
            span[offset++] = 1;
            offset += WriteText(entry.ChangeId, span[offset..]);
        }

        offset += WriteText(entry.Actor, span[offset..]);
        offset += WriteText(entry.Payload, span[offset..]);
        entry.PreviousHash.Span.CopyTo(span[offset..]);
        offset += HashLength;
        if (offset != span.Length)
        {
            throw new InvalidOperationException($"audit encoding wrote {offset} bytes, expected {span.Length}");
        }
    }

    private static int WriteText(string text, Span<byte> span)
    {
        var written = StrictUtf8.GetBytes(text, span[4..]);
        BinaryPrimitives.WriteUInt32BigEndian(span, checked((uint)written));
        return 4 + written;
    }

    /// <summary>The encoding's time: 100 ns ticks since the Unix epoch, UTC (the store keeps the same number).</summary>
    public static long ToUnixTicks(DateTimeOffset time) => time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;

    public static DateTimeOffset FromUnixTicks(long ticks) => new(DateTimeOffset.UnixEpoch.UtcTicks + ticks, TimeSpan.Zero);
}
