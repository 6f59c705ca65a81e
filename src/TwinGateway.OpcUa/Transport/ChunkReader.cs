using System.Buffers;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Transport;

/// <summary>
/// Reads whole UA-TCP chunks from a byte stream. Each chunk is validated by <see cref="ChunkHeader.Parse"/> before
/// its body is read, so a hostile size never grows the buffer past <see cref="MaxChunkSize"/>.
/// Ownership: the memory returned by <see cref="ReadChunkAsync"/> belongs to this reader and stays valid only until
/// the next call; callers copy what they keep.
/// </summary>
public sealed class ChunkReader : IDisposable
{
    private readonly Stream _stream;
    private byte[] _buffer;
    private int _start;
    private int _end;

    public ChunkReader(Stream stream, uint maxChunkSize)
    {
        _stream = stream;
        MaxChunkSize = maxChunkSize;
        // Reading several chunks per syscall matters at 100k notifications/s; 2 chunks of slack is enough.
        _buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(maxChunkSize * 2L, 1 << 20));
    }

    /// <summary>Largest chunk accepted (the negotiated receive buffer size). Can be lowered after negotiation.</summary>
    public uint MaxChunkSize { get; set; }

    /// <summary>Total bytes received, for diagnostics.</summary>
    public long BytesReceived { get; private set; }

    /// <summary>Reads the next chunk; null when the peer closed the connection cleanly between chunks.</summary>
    public async ValueTask<RawChunk?> ReadChunkAsync(CancellationToken cancellationToken)
    {
        if (!await FillAsync(ChunkHeader.Size, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        var header = ChunkHeader.Parse(_buffer.AsSpan(_start, ChunkHeader.Size), MaxChunkSize);
        var size = (int)header.MessageSize;
        if (!await FillAsync(size, cancellationToken).ConfigureAwait(false))
        {
            throw new ServiceResultException(StatusCodes.BadConnectionClosed,
                $"connection closed in the middle of a {header.MessageType} chunk ({_end - _start} of {size} bytes received)");
        }

        var chunk = new RawChunk(header, _buffer.AsMemory(_start, size));
        _start += size;
        return chunk;
    }

    /// <summary>Ensures <paramref name="count"/> bytes are buffered; false on end of stream before any byte of them.</summary>
    private async ValueTask<bool> FillAsync(int count, CancellationToken cancellationToken)
    {
        if (_end - _start >= count)
        {
            return true;
        }

        if (_buffer.Length - _start < count)
        {
            // Move the partial chunk to the front, growing only up to the validated chunk size.
            var target = _buffer.Length < count ? ArrayPool<byte>.Shared.Rent(count) : _buffer;
            Buffer.BlockCopy(_buffer, _start, target, 0, _end - _start);
            if (!ReferenceEquals(target, _buffer))
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = target;
            }

            _end -= _start;
            _start = 0;
        }

        var startedEmpty = _end == _start;
        while (_end - _start < count)
        {
            var read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                if (startedEmpty && _end == _start)
                {
                    return false;
                }

                throw new ServiceResultException(StatusCodes.BadConnectionClosed,
                    $"connection closed with {_end - _start} bytes of an incomplete chunk buffered");
            }

            _end += read;
            BytesReceived += read;
        }

        return true;
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>One chunk as read: its validated header and all its bytes (header included).</summary>
public readonly record struct RawChunk(ChunkHeader Header, ReadOnlyMemory<byte> Bytes);
