using System.Runtime.ExceptionServices;
using TwinGateway.OpcUa.Channel;
using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Transport;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Fuzzing;

/// <summary>
/// Entry points for fuzzing the code that reads bytes from the network: the SharpFuzz harness in
/// <c>fuzz/TwinGateway.Fuzz</c> runs them under libFuzzer or AFL++, and the in-test mutation run calls them directly.
/// Contract: for any input a target returns or throws <see cref="ServiceResultException"/>; any other exception is a
/// bug. Both are deterministic (no clock, no randomness, no I/O) and allocate at most a small multiple of the input
/// and of <see cref="ChunkLimits"/> / <see cref="MessageLimits"/>.
/// </summary>
public static class FuzzTargets
{
    /// <summary>Small transport limits so chunk floods hit MaxChunkCount and MaxMessageSize quickly.</summary>
    public static TransportLimits ChunkLimits { get; } = new()
    {
        ReceiveBufferSize = TransportLimits.MinBufferSize,
        SendBufferSize = TransportLimits.MinBufferSize,
        MaxChunkCount = 4,
        MaxMessageSize = 32 * 1024,
    };

    /// <summary>Chunked messages the assembler may hold at once in <see cref="ChunkStream"/>.</summary>
    public const int MaxPartialMessages = 4;

    /// <summary>Tight decoder limits; <see cref="EncodingLimits.MaxMessageSize"/> also caps the input of <see cref="MessageDecoder"/>.</summary>
    public static EncodingLimits MessageLimits { get; } = new()
    {
        MaxStringLength = 1024,
        MaxByteStringLength = 4096,
        MaxArrayLength = 1024,
        MaxMessageSize = 4096,
        MaxNestingDepth = 16,
    };

    /// <summary>
    /// Feeds <paramref name="data"/> as the byte stream a peer sends: <see cref="ChunkReader"/> frames it (reads are
    /// cut into uneven pieces so partial frames and buffer compaction are exercised), HEL/ACK/ERR bodies are decoded,
    /// and OPN/MSG/CLO chunks go through <see cref="SecureChunk.Parse"/> into a <see cref="MessageAssembler"/>;
    /// each assembled message's type id is read and the message disposed.
    /// </summary>
    public static void ChunkStream(ReadOnlySpan<byte> data)
    {
        using var stream = new UnevenReadStream(data.ToArray());
        using var reader = new ChunkReader(stream, ChunkLimits.ReceiveBufferSize);
        using var assembler = new MessageAssembler(ChunkLimits, MaxPartialMessages);
        while (ReadNext(reader) is { } raw)
        {
            var body = raw.Bytes.Span[ChunkHeader.Size..];
            switch (raw.Header.MessageType)
            {
                case UaMessageType.Hello:
                    _ = HelloMessage.Decode(body);
                    break;
                case UaMessageType.Acknowledge:
                    _ = AcknowledgeMessage.Decode(body);
                    break;
                case UaMessageType.Error:
                    _ = ErrorMessage.Decode(body);
                    break;
                case UaMessageType.ReverseHello:
                    break;
                default:
                    var chunk = SecureChunk.Parse(raw);
                    using (var message = assembler.Add(chunk))
                    {
                        if (message is { AbortStatus: null })
                        {
                            var typeReader = new UaReader(message.Body, MessageLimits);
                            _ = typeReader.ReadNodeId();
                        }
                    }

                    break;
            }
        }
    }

    /// <summary>
    /// Decodes <paramref name="data"/> as a service message body (type id, then the structure the factory makes for
    /// it) and, independently, as a Variant, a DataValue, an ExtensionObject and a DiagnosticInfo. Whatever decodes is
    /// encoded again, which must also fail only with <see cref="ServiceResultException"/>. Every decoder sees every
    /// input; when none of them accepts it, the first one's error is rethrown.
    /// </summary>
    public static void MessageDecoder(ReadOnlySpan<byte> data)
    {
        if (data.Length > MessageLimits.MaxMessageSize)
        {
            // What the channel's assembler does before any decoder sees the body.
            throw new ServiceResultException(StatusCodes.BadEncodingLimitsExceeded,
                $"message of {data.Length} bytes exceeds MaxMessageSize of {MessageLimits.MaxMessageSize}");
        }

        ServiceResultException? first = null;
        var accepted = 0;
        try
        {
            var reader = new UaReader(data, MessageLimits);
            var typeId = reader.ReadNodeId();
            var message = reader.Factory.Create(typeId)
                ?? throw new ServiceResultException(StatusCodes.BadUnknownResponse, $"unknown message type {typeId}");
            message.Decode(ref reader);
            using var writer = new UaWriter(256, MessageLimits);
            writer.WriteNodeId(message.BinaryEncodingId);
            message.Encode(writer);
            accepted++;
        }
        catch (ServiceResultException ex)
        {
            first ??= ex;
        }

        try
        {
            var reader = new UaReader(data, MessageLimits);
            var variant = reader.ReadVariant();
            using var writer = new UaWriter(256, MessageLimits);
            writer.WriteVariant(variant);
            accepted++;
        }
        catch (ServiceResultException ex)
        {
            first ??= ex;
        }

        try
        {
            var reader = new UaReader(data, MessageLimits);
            var value = reader.ReadDataValue();
            using var writer = new UaWriter(256, MessageLimits);
            writer.WriteDataValue(value);
            accepted++;
        }
        catch (ServiceResultException ex)
        {
            first ??= ex;
        }

        try
        {
            var reader = new UaReader(data, MessageLimits);
            var extensionObject = reader.ReadExtensionObject();
            using var writer = new UaWriter(256, MessageLimits);
            writer.WriteExtensionObject(extensionObject);
            accepted++;
        }
        catch (ServiceResultException ex)
        {
            first ??= ex;
        }

        try
        {
            var reader = new UaReader(data, MessageLimits);
            var diagnostics = reader.ReadDiagnosticInfo();
            using var writer = new UaWriter(256, MessageLimits);
            writer.WriteDiagnosticInfo(diagnostics);
            accepted++;
        }
        catch (ServiceResultException ex)
        {
            first ??= ex;
        }

        if (accepted == 0 && first is not null)
        {
            ExceptionDispatchInfo.Throw(first);
        }
    }

    private static RawChunk? ReadNext(ChunkReader reader)
    {
        // Over a MemoryStream every read completes synchronously; GetResult rethrows the reader's own exception.
        var next = reader.ReadChunkAsync(CancellationToken.None);
        return next.IsCompletedSuccessfully ? next.Result : next.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>
    /// A MemoryStream whose reads return at most a few bytes, then a few thousand, in a fixed cycle, as TCP segments
    /// do: the chunk reader must cope with a header or body arriving in pieces.
    /// </summary>
    private sealed class UnevenReadStream(byte[] data) : MemoryStream(data, writable: false)
    {
        private static readonly int[] s_readSizes = [3, 8, 1, 4096, 13, 64, 29, 8192, 2];
        private uint _reads;

        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, NextReadSize())]);

        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, NextReadSize()));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            new(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer, offset, count));

        private int NextReadSize() => s_readSizes[_reads++ % (uint)s_readSizes.Length];
    }
}
