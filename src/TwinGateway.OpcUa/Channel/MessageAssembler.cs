using System.Buffers;
using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Transport;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Channel;

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
