using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Transport;

namespace TwinGateway.OpcUa.Channel;

/// <summary>The asymmetric security header of an OPN chunk (OPC 10000-6 §6.7.2.3).</summary>
public sealed record AsymmetricSecurityHeader(string? SecurityPolicyUri, byte[]? SenderCertificate, byte[]? ReceiverCertificateThumbprint);

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
    /// <summary>Parses the headers after the 8-byte message header (SecurityPolicy None: no signature, no padding).</summary>
    public static SecureChunk Parse(RawChunk raw)
    {
        var span = raw.Bytes.Span;
        var reader = new UaReader(span[ChunkHeader.Size..], EncodingLimits.Default with { MaxByteStringLength = 1 << 16, MaxStringLength = 4096 });
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

        var sequenceNumber = reader.ReadUInt32();
        var requestId = reader.ReadUInt32();
        var offset = ChunkHeader.Size + reader.Position;
        return new SecureChunk(raw.Header, channelId, tokenId, asymmetric, sequenceNumber, requestId, raw.Bytes[offset..]);
    }
}
