using System.Buffers.Binary;
using System.Runtime.InteropServices;
using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Security;
using TwinGateway.OpcUa.Transport;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Channel;

/// <summary>The asymmetric security header of an OPN chunk (OPC 10000-6 §6.7.2.3).</summary>
public sealed record AsymmetricSecurityHeader(string? SecurityPolicyUri, byte[]? SenderCertificate, byte[]? ReceiverCertificateThumbprint);

/// <summary>
/// The headers of an OPN/MSG/CLO chunk in front of its (possibly encrypted) sequence header: what a receiver reads to
/// choose the keys that check the rest (<see cref="SecureChunk.ParseSecured"/>).
/// </summary>
public readonly record struct SecureChunkHeaders(uint SecureChannelId, uint TokenId, AsymmetricSecurityHeader? AsymmetricHeader, int SecurityHeaderEnd);

/// <summary>A parsed OPN/MSG/CLO chunk. <see cref="Body"/> aliases the reader's buffer: copy before the next read.</summary>
public readonly record struct SecureChunk(
    ChunkHeader Header,
    uint SecureChannelId,
    uint TokenId,
    AsymmetricSecurityHeader? AsymmetricHeader,
    uint SequenceNumber,
    uint RequestId,
    ReadOnlyMemory<byte> Body)
{
    /// <summary>An OPN's sender certificate may be a chain; more than this is refused before it is read.</summary>
    private const int MaxCertificateLength = 1 << 16;

    /// <summary>Parses the headers after the 8-byte message header (SecurityPolicy None: no signature, no padding).</summary>
    public static SecureChunk Parse(RawChunk raw) => ParseSecured(raw, ReadHeaders(raw), ChunkCrypto.None);

    /// <summary>Reads the channel id and the security header (asymmetric for OPN, the token id otherwise).</summary>
    public static SecureChunkHeaders ReadHeaders(RawChunk raw)
    {
        var span = raw.Bytes.Span;
        var reader = new UaReader(span[ChunkHeader.Size..], EncodingLimits.Default with { MaxByteStringLength = MaxCertificateLength, MaxStringLength = 4096 });
        var channelId = reader.ReadUInt32();
        AsymmetricSecurityHeader? asymmetric = null;
        uint tokenId = 0;
        if (raw.Header.MessageType == UaMessageType.OpenSecureChannel)
        {
            asymmetric = new AsymmetricSecurityHeader(reader.ReadString(), reader.ReadByteString(), reader.ReadByteString());
        }
        else
        {
            tokenId = reader.ReadUInt32();
        }

        return new SecureChunkHeaders(channelId, tokenId, asymmetric, ChunkHeader.Size + reader.Position);
    }

    /// <summary>
    /// Checks and decrypts the chunk in place with <paramref name="crypto"/> (the reader's buffer is ours until the next
    /// read), then reads the sequence header. Throws BadSecurityChecksFailed for a chunk that does not verify.
    /// </summary>
    public static SecureChunk ParseSecured(RawChunk raw, SecureChunkHeaders headers, ChunkCrypto crypto)
    {
        ArgumentNullException.ThrowIfNull(crypto);
        var bytes = MemoryMarshal.AsMemory(raw.Bytes);
        var plain = ChunkSecurity.Unprotect(crypto, bytes.Span, headers.SecurityHeaderEnd);
        if (plain < ChunkSecurity.SequenceHeaderSize)
        {
            throw new ServiceResultException(StatusCodes.BadDecodingError,
                $"{raw.Header.MessageType} chunk ends {plain} bytes after its security header, before its sequence header");
        }

        var sequence = bytes.Span[headers.SecurityHeaderEnd..];
        var offset = headers.SecurityHeaderEnd + ChunkSecurity.SequenceHeaderSize;
        return new SecureChunk(raw.Header, headers.SecureChannelId, headers.TokenId, headers.AsymmetricHeader,
            BinaryPrimitives.ReadUInt32LittleEndian(sequence), BinaryPrimitives.ReadUInt32LittleEndian(sequence[4..]),
            raw.Bytes.Slice(offset, plain - ChunkSecurity.SequenceHeaderSize));
    }
}
