using System.Buffers;
using System.Buffers.Binary;
using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Transport;
using TwinGateway.OpcUa.Types;

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

/// <summary>
/// Splits an encoded message body into chunks that respect the peer's receive buffer size, MaxChunkCount and
/// MaxMessageSize (OPC 10000-6 §6.7.2), for SecurityPolicy None. The caller owns the returned buffers' lifetime
/// through <see cref="OutgoingMessage.Dispose"/>.
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
        bool isRequest)
    {
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
        var overhead = securityHeaderEnd + 8;
        var maxBodyPerChunk = (int)remote.ReceiveBufferSize - overhead;
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

        var totalSize = (chunkCount * overhead) + body.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(totalSize);
        var chunks = new List<ReadOnlyMemory<byte>>(chunkCount);
        var position = 0;
        var remaining = body;
        for (var i = 0; i < chunkCount; i++)
        {
            var part = remaining[..Math.Min(remaining.Length, maxBodyPerChunk)];
            remaining = remaining[part.Length..];
            var size = overhead + part.Length;
            var chunk = buffer.AsSpan(position, size);
            headerWriter.WrittenSpan.CopyTo(chunk);
            ChunkHeader.Write(chunk, messageType, i == chunkCount - 1 ? ChunkType.Final : ChunkType.Intermediate, (uint)size);
            BinaryPrimitives.WriteUInt32LittleEndian(chunk[securityHeaderEnd..], nextSequenceNumber());
            BinaryPrimitives.WriteUInt32LittleEndian(chunk[(securityHeaderEnd + 4)..], requestId);
            part.CopyTo(chunk[overhead..]);
            chunks.Add(buffer.AsMemory(position, size));
            position += size;
        }

        return new OutgoingMessage(buffer, position, chunks);
    }

    /// <summary>An abort chunk: the sender gives up a message it has partly sent (OPC 10000-6 §6.7.3).</summary>
    public static byte[] Abort(UaMessageType messageType, uint secureChannelId, uint tokenId, uint sequenceNumber, uint requestId, StatusCode error, string reason)
    {
        using var writer = new UaWriter(128);
        writer.Reserve(ChunkHeader.Size);
        writer.WriteUInt32(secureChannelId);
        writer.WriteUInt32(tokenId);
        writer.WriteUInt32(sequenceNumber);
        writer.WriteUInt32(requestId);
        writer.WriteStatusCode(error);
        writer.WriteString(reason);
        var bytes = writer.ToArray();
        ChunkHeader.Write(bytes, messageType, ChunkType.Abort, (uint)bytes.Length);
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

/// <summary>
/// Joins the chunks of incoming messages by request id, enforcing our MaxChunkCount, MaxMessageSize and a bound on
/// messages in progress, so a chunk flood is refused instead of buffered. The messages in progress together hold at
/// most MaxMessageSize bytes: a peer that starts many messages cannot multiply the limit (the reference stack keeps
/// only one message in progress). Not thread-safe: one receive loop owns it.
/// </summary>
public sealed class MessageAssembler : IDisposable
{
    private readonly Dictionary<uint, Partial> _partials = [];
    private readonly TransportLimits _local;
    private readonly int _maxPartialMessages;
    private long _bufferedBytes;

    public MessageAssembler(TransportLimits local, int maxPartialMessages = 64)
    {
        _local = local;
        _maxPartialMessages = maxPartialMessages;
    }

    /// <summary>
    /// Adds a chunk. Returns a complete message when this was its final chunk; null while more are expected.
    /// An abort chunk returns a message with <see cref="AssembledMessage.AbortStatus"/> set.
    /// Throws <c>BadTcpMessageTooLarge</c> when our limits are exceeded (the caller then aborts or closes).
    /// </summary>
    public AssembledMessage? Add(in SecureChunk chunk)
    {
        var requestId = chunk.RequestId;
        if (chunk.Header.ChunkType == ChunkType.Abort)
        {
            Drop(requestId);
            var reader = new UaReader(chunk.Body.Span, EncodingLimits.Default with { MaxStringLength = 4096 });
            var status = reader.ReadStatusCode();
            var reason = reader.ReadString();
            return new AssembledMessage(chunk.Header.MessageType, requestId, null, 0, status, reason);
        }

        _partials.TryGetValue(requestId, out var partial);
        if (partial is null && chunk.Header.ChunkType == ChunkType.Final)
        {
            // The common case: a one-chunk message; copy once into a pooled buffer the consumer returns.
            // MaxMessageSize may be below the receive buffer size, so one chunk can exceed it too.
            if (_local.MaxMessageSize > 0 && chunk.Body.Length > _local.MaxMessageSize)
            {
                throw new ServiceResultException(StatusCodes.BadTcpMessageTooLarge,
                    $"message {requestId} of {chunk.Body.Length} bytes exceeds MaxMessageSize of {_local.MaxMessageSize} bytes");
            }

            var single = ArrayPool<byte>.Shared.Rent(Math.Max(chunk.Body.Length, 1));
            chunk.Body.Span.CopyTo(single);
            return new AssembledMessage(chunk.Header.MessageType, requestId, single, chunk.Body.Length, null, null);
        }

        if (partial is null)
        {
            if (_partials.Count >= _maxPartialMessages)
            {
                throw new ServiceResultException(StatusCodes.BadTcpNotEnoughResources,
                    $"more than {_maxPartialMessages} chunked messages in progress at once");
            }

            partial = new Partial();
            _partials[requestId] = partial;
        }

        partial.Count++;
        if (_local.MaxChunkCount > 0 && partial.Count > _local.MaxChunkCount)
        {
            Drop(requestId);
            throw new ServiceResultException(StatusCodes.BadTcpMessageTooLarge,
                $"message {requestId} has more than {_local.MaxChunkCount} chunks (MaxChunkCount)");
        }

        var newLength = (long)partial.Length + chunk.Body.Length;
        if (_local.MaxMessageSize > 0 && newLength > _local.MaxMessageSize)
        {
            Drop(requestId);
            throw new ServiceResultException(StatusCodes.BadTcpMessageTooLarge,
                $"message {requestId} exceeds MaxMessageSize of {_local.MaxMessageSize} bytes");
        }

        if (_local.MaxMessageSize > 0 && _bufferedBytes + chunk.Body.Length > _local.MaxMessageSize)
        {
            var reason = $"the {_partials.Count} chunked messages in progress would hold {_bufferedBytes + chunk.Body.Length} bytes together, more than MaxMessageSize of {_local.MaxMessageSize}";
            Drop(requestId);
            throw new ServiceResultException(StatusCodes.BadTcpNotEnoughResources, reason);
        }

        partial.Append(chunk.Body.Span);
        _bufferedBytes += chunk.Body.Length;
        if (chunk.Header.ChunkType != ChunkType.Final)
        {
            return null;
        }

        _partials.Remove(requestId);
        _bufferedBytes -= partial.Length;
        return new AssembledMessage(chunk.Header.MessageType, requestId, partial.Buffer, partial.Length, null, null);
    }

    public int PartialCount => _partials.Count;

    private void Drop(uint requestId)
    {
        if (_partials.Remove(requestId, out var partial))
        {
            _bufferedBytes -= partial.Length;
            if (partial.Buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(partial.Buffer);
            }
        }
    }

    public void Dispose()
    {
        foreach (var id in _partials.Keys.ToArray())
        {
            Drop(id);
        }
    }

    private sealed class Partial
    {
        public byte[]? Buffer;
        public int Length;
        public int Count;

        public void Append(ReadOnlySpan<byte> data)
        {
            if (Buffer is null || Buffer.Length - Length < data.Length)
            {
                var next = ArrayPool<byte>.Shared.Rent(Math.Max(Length + data.Length, (Buffer?.Length ?? 0) * 2));
                if (Buffer is not null)
                {
                    Buffer.AsSpan(0, Length).CopyTo(next);
                    ArrayPool<byte>.Shared.Return(Buffer);
                }

                Buffer = next;
            }

            data.CopyTo(Buffer.AsSpan(Length));
            Length += data.Length;
        }
    }
}

/// <summary>A whole message body (type id + encoded structure) in a pooled buffer; <see cref="Dispose"/> returns it.</summary>
public sealed class AssembledMessage : IDisposable
{
    private byte[]? _buffer;

    internal AssembledMessage(UaMessageType messageType, uint requestId, byte[]? buffer, int length, StatusCode? abortStatus, string? abortReason)
    {
        MessageType = messageType;
        RequestId = requestId;
        _buffer = buffer;
        Length = length;
        AbortStatus = abortStatus;
        AbortReason = abortReason;
    }

    public UaMessageType MessageType { get; }
    public uint RequestId { get; }
    public int Length { get; }
    public StatusCode? AbortStatus { get; }
    public string? AbortReason { get; }

    public ReadOnlySpan<byte> Body => _buffer is null ? [] : _buffer.AsSpan(0, Length);

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
