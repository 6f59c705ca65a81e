using System.Buffers;
using System.Buffers.Binary;
using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Security;
using TwinGateway.OpcUa.Transport;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Channel;

/// <summary>
/// Splits an encoded message body into chunks that respect the peer's receive buffer size, MaxChunkCount and
/// MaxMessageSize (OPC 10000-6 §6.7.2), each chunk padded, signed and encrypted as <see cref="ChunkCrypto"/> says
/// (None by default). The caller owns the returned buffers' lifetime through <see cref="OutgoingMessage.Dispose"/>.
/// </summary>
public static class MessageChunker
{
    public static OutgoingMessage Chunk(
        UaMessageType messageType,
        uint secureChannelId,
        uint tokenId,
        AsymmetricSecurityHeader? asymmetric,
        Func<uint> nextSequenceNumber,
        uint requestId,
        ReadOnlySpan<byte> body,
        TransportLimits remote,
        bool isRequest,
        ChunkCrypto? crypto = null)
    {
        crypto ??= ChunkCrypto.None;
        ArgumentNullException.ThrowIfNull(nextSequenceNumber);
        ArgumentNullException.ThrowIfNull(remote);
        var tooLarge = isRequest ? StatusCodes.BadRequestTooLarge : StatusCodes.BadResponseTooLarge;
        if (remote.MaxMessageSize > 0 && body.Length > remote.MaxMessageSize)
        {
            throw new ServiceResultException(tooLarge,
                $"{messageType} message of {body.Length} bytes exceeds the peer's MaxMessageSize of {remote.MaxMessageSize}");
        }

        using var headerWriter = new UaWriter(128);
        headerWriter.Reserve(ChunkHeader.Size);
        headerWriter.WriteUInt32(secureChannelId);
        if (asymmetric is not null)
        {
            headerWriter.WriteString(asymmetric.SecurityPolicyUri);
            headerWriter.WriteByteString(asymmetric.SenderCertificate);
            headerWriter.WriteByteString(asymmetric.ReceiverCertificateThumbprint);
        }
        else
        {
            headerWriter.WriteUInt32(tokenId);
        }

        var securityHeaderEnd = headerWriter.Position;
        var maxBodyPerChunk = ChunkSecurity.MaxBodySize(crypto, securityHeaderEnd, (int)Math.Min(remote.ReceiveBufferSize, int.MaxValue));
        if (maxBodyPerChunk <= 0)
        {
            throw new ServiceResultException(StatusCodes.BadTcpInternalError, $"peer's buffer of {remote.ReceiveBufferSize} bytes cannot hold a chunk header");
        }

        var chunkCount = Math.Max(1, (body.Length + maxBodyPerChunk - 1) / maxBodyPerChunk);
        if (remote.MaxChunkCount > 0 && chunkCount > remote.MaxChunkCount)
        {
            throw new ServiceResultException(tooLarge,
                $"{messageType} message of {body.Length} bytes needs {chunkCount} chunks, more than the peer's MaxChunkCount of {remote.MaxChunkCount}");
        }

        var fullChunk = ChunkSecurity.ChunkSize(crypto, securityHeaderEnd, maxBodyPerChunk);
        var lastBody = body.Length - ((chunkCount - 1) * maxBodyPerChunk);
        var totalSize = ((chunkCount - 1) * fullChunk) + ChunkSecurity.ChunkSize(crypto, securityHeaderEnd, lastBody);
        var buffer = ArrayPool<byte>.Shared.Rent(totalSize);
        var chunks = new List<ReadOnlyMemory<byte>>(chunkCount);
        var position = 0;
        var remaining = body;
        for (var i = 0; i < chunkCount; i++)
        {
            var part = remaining[..Math.Min(remaining.Length, maxBodyPerChunk)];
            remaining = remaining[part.Length..];
            var size = ChunkSecurity.ChunkSize(crypto, securityHeaderEnd, part.Length);
            var chunk = buffer.AsSpan(position, size);
            headerWriter.WrittenSpan.CopyTo(chunk);
            ChunkHeader.Write(chunk, messageType, i == chunkCount - 1 ? ChunkType.Final : ChunkType.Intermediate, (uint)size);
            BinaryPrimitives.WriteUInt32LittleEndian(chunk[securityHeaderEnd..], nextSequenceNumber());
            BinaryPrimitives.WriteUInt32LittleEndian(chunk[(securityHeaderEnd + 4)..], requestId);
            part.CopyTo(chunk[(securityHeaderEnd + ChunkSecurity.SequenceHeaderSize)..]);
            ChunkSecurity.Protect(crypto, chunk, securityHeaderEnd, part.Length);
            chunks.Add(buffer.AsMemory(position, size));
            position += size;
        }

        return new OutgoingMessage(buffer, position, chunks);
    }

    /// <summary>An abort chunk: the sender gives up a message it has partly sent (OPC 10000-6 §6.7.3).</summary>
    public static byte[] Abort(UaMessageType messageType, uint secureChannelId, uint tokenId, uint sequenceNumber, uint requestId, StatusCode error, string reason,
        ChunkCrypto? crypto = null)
    {
        crypto ??= ChunkCrypto.None;
        using var writer = new UaWriter(128);
        writer.Reserve(ChunkHeader.Size);
        writer.WriteUInt32(secureChannelId);
        writer.WriteUInt32(tokenId);
        const int securityHeaderEnd = ChunkHeader.Size + 8;
        writer.WriteUInt32(sequenceNumber);
        writer.WriteUInt32(requestId);
        writer.WriteStatusCode(error);
        writer.WriteString(reason);
        var bodyLength = writer.Position - securityHeaderEnd - ChunkSecurity.SequenceHeaderSize;
        var bytes = new byte[ChunkSecurity.ChunkSize(crypto, securityHeaderEnd, bodyLength)];
        writer.WrittenSpan.CopyTo(bytes);
        ChunkHeader.Write(bytes, messageType, ChunkType.Abort, (uint)bytes.Length);
        ChunkSecurity.Protect(crypto, bytes, securityHeaderEnd, bodyLength);
        return bytes;
    }
}

/// <summary>The chunks of one message in one pooled buffer, returned on dispose.</summary>
public sealed class OutgoingMessage : IDisposable
{
    private byte[]? _buffer;

    internal OutgoingMessage(byte[] buffer, int length, IReadOnlyList<ReadOnlyMemory<byte>> chunks)
    {
        _buffer = buffer;
        Length = length;
        Chunks = chunks;
    }

    public IReadOnlyList<ReadOnlyMemory<byte>> Chunks { get; }

    /// <summary>All chunks back to back, for a single write.</summary>
    public ReadOnlyMemory<byte> All => _buffer is null ? ReadOnlyMemory<byte>.Empty : _buffer.AsMemory(0, Length);

    public int Length { get; }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
