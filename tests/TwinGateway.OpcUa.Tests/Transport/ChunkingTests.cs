using System.Buffers.Binary;
using TwinGateway.OpcUa.Channel;
using TwinGateway.OpcUa.Transport;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Tests.Transport;

/// <summary>
/// MessageChunker and MessageAssembler round trips through ChunkReader and SecureChunk.Parse, at the exact
/// boundaries of the receive buffer size, MaxChunkCount and MaxMessageSize (OPC 10000-6 §6.7.2).
/// </summary>
public sealed class ChunkingTests
{
    private const uint ChannelId = 5;
    private const uint TokenId = 3;
    private const uint RequestId = 77;

    /// <summary>Message header (8), channel id (4), token id (4), sequence header (8): a MSG chunk's overhead.</summary>
    private const int MsgOverhead = 24;

    private const uint BufferSize = 8192;
    private const int MaxBodyPerChunk = (int)BufferSize - MsgOverhead;

    public static TheoryData<int, int> BodySizesAndChunkCounts() => new()
    {
        { 0, 1 },
        { 1, 1 },
        { MaxBodyPerChunk - 1, 1 },
        { MaxBodyPerChunk, 1 },
        { MaxBodyPerChunk + 1, 2 },
        { 2 * MaxBodyPerChunk, 2 },
        { (2 * MaxBodyPerChunk) + 1, 3 },
        { 7 * MaxBodyPerChunk, 7 },
        { (7 * MaxBodyPerChunk) + 13, 8 },
    };

    [Theory]
    [MemberData(nameof(BodySizesAndChunkCounts))]
    public void Message_round_trips_in_the_expected_number_of_chunks(int bodySize, int expectedChunks)
    {
        var body = Pattern(bodySize);
        var sequence = 100u;
        using var message = MessageChunker.Chunk(UaMessageType.Message, ChannelId, TokenId, null, () => sequence++, RequestId, body, Limits(), isRequest: true);

        Assert.Equal(expectedChunks, message.Chunks.Count);
        Assert.Equal(message.Chunks.Sum(c => c.Length), message.Length);
        for (var i = 0; i < message.Chunks.Count; i++)
        {
            var chunk = message.Chunks[i].Span;
            var header = ChunkHeader.Parse(chunk, BufferSize);
            Assert.Equal((uint)chunk.Length, header.MessageSize);
            Assert.True(chunk.Length <= BufferSize);
            Assert.Equal(i == message.Chunks.Count - 1 ? ChunkType.Final : ChunkType.Intermediate, header.ChunkType);
            if (i < message.Chunks.Count - 1)
            {
                // Every chunk but the last fills the peer's buffer exactly.
                Assert.Equal(BufferSize, header.MessageSize);
            }
        }

        var assembled = Assemble(message.All.ToArray(), Limits(), out var sequenceNumbers);
        Assert.Equal(body, assembled);
        Assert.Equal(Enumerable.Range(100, expectedChunks).Select(i => (uint)i), sequenceNumbers);
    }

    [Fact]
    public void Open_chunk_carries_the_asymmetric_header_and_round_trips()
    {
        var body = Pattern(20_000);
        var asymmetric = new AsymmetricSecurityHeader(SecurityPolicies.None, null, null);
        var sequence = 1u;
        using var message = MessageChunker.Chunk(UaMessageType.OpenSecureChannel, 0, 0, asymmetric, () => sequence++, RequestId, body, Limits(), isRequest: true);

        // 8 + 4 + (4 + 47-byte URI) + 4 + 4 + 8 bytes of headers per chunk.
        var overhead = 8 + 4 + 4 + SecurityPolicies.None.Length + 4 + 4 + 8;
        Assert.Equal((int)Math.Ceiling(body.Length / (double)(BufferSize - overhead)), message.Chunks.Count);
        var first = SecureChunk.Parse(new RawChunk(ChunkHeader.Parse(message.Chunks[0].Span, BufferSize), message.Chunks[0]));
        Assert.Equal(SecurityPolicies.None, first.AsymmetricHeader!.SecurityPolicyUri);
        Assert.Null(first.AsymmetricHeader.SenderCertificate);
        Assert.Null(first.AsymmetricHeader.ReceiverCertificateThumbprint);
        Assert.Equal(1u, first.SequenceNumber);
        Assert.Equal(RequestId, first.RequestId);
        Assert.Equal(body, Assemble(message.All.ToArray(), Limits(), out _));
    }

    [Fact]
    public void Exactly_MaxChunkCount_chunks_are_sent_and_accepted_and_one_byte_more_is_refused()
    {
        var limits = Limits() with { MaxChunkCount = 3, MaxMessageSize = 0 };
        var fits = Pattern(3 * MaxBodyPerChunk);
        using (var message = Chunk(fits, limits))
        {
            Assert.Equal(3, message.Chunks.Count);
            Assert.Equal(fits, Assemble(message.All.ToArray(), limits, out _));
        }

        var request = Assert.Throws<ServiceResultException>(() => Chunk(Pattern((3 * MaxBodyPerChunk) + 1), limits));
        Assert.Equal(StatusCodes.BadRequestTooLarge, request.StatusCode.Code);
        var response = Assert.Throws<ServiceResultException>(() => Chunk(Pattern((3 * MaxBodyPerChunk) + 1), limits, isRequest: false));
        Assert.Equal(StatusCodes.BadResponseTooLarge, response.StatusCode.Code);

        // A peer that ignores the limit: the assembler refuses the fourth chunk.
        using var tooMany = Chunk(Pattern((3 * MaxBodyPerChunk) + 1), limits with { MaxChunkCount = 0 });
        Assert.Equal(4, tooMany.Chunks.Count);
        var ex = Assert.Throws<ServiceResultException>(() => Assemble(tooMany.All.ToArray(), limits, out _));
        Assert.Equal(StatusCodes.BadTcpMessageTooLarge, ex.StatusCode.Code);
        Assert.Contains("MaxChunkCount", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(MaxBodyPerChunk)]
    [InlineData(20_000)]
    public void A_message_of_exactly_MaxMessageSize_is_sent_and_accepted_and_one_byte_more_is_refused(int maxMessageSize)
    {
        var limits = Limits() with { MaxMessageSize = (uint)maxMessageSize, MaxChunkCount = 0 };
        var fits = Pattern(maxMessageSize);
        using (var message = Chunk(fits, limits))
        {
            Assert.Equal(fits, Assemble(message.All.ToArray(), limits, out _));
        }

        var refused = Assert.Throws<ServiceResultException>(() => Chunk(Pattern(maxMessageSize + 1), limits));
        Assert.Equal(StatusCodes.BadRequestTooLarge, refused.StatusCode.Code);

        // A peer that ignores the limit, in one chunk or several.
        using var tooLarge = Chunk(Pattern(maxMessageSize + 1), limits with { MaxMessageSize = 0 });
        var ex = Assert.Throws<ServiceResultException>(() => Assemble(tooLarge.All.ToArray(), limits, out _));
        Assert.Equal(StatusCodes.BadTcpMessageTooLarge, ex.StatusCode.Code);
        Assert.Contains("MaxMessageSize", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Interleaved_messages_are_assembled_by_request_id()
    {
        var a = Pattern(3 * MaxBodyPerChunk, seed: 1);
        var b = Pattern(2 * MaxBodyPerChunk, seed: 2);
        var sequence = 1u;
        using var first = MessageChunker.Chunk(UaMessageType.Message, ChannelId, TokenId, null, () => sequence++, 1, a, Limits(), isRequest: false);
        using var second = MessageChunker.Chunk(UaMessageType.Message, ChannelId, TokenId, null, () => sequence++, 2, b, Limits(), isRequest: false);
        using var assembler = new MessageAssembler(Limits());
        var chunks = new[] { first.Chunks[0], second.Chunks[0], first.Chunks[1], second.Chunks[1], first.Chunks[2] };
        var done = new Dictionary<uint, byte[]>();
        foreach (var chunk in chunks)
        {
            using var message = assembler.Add(Parse(chunk));
            if (message is not null)
            {
                done[message.RequestId] = message.Body.ToArray();
            }
        }

        Assert.Equal(b, done[2]);
        Assert.Equal(a, done[1]);
        Assert.Equal(0, assembler.PartialCount);
    }

    [Fact]
    public void Abort_chunk_drops_the_partial_message_and_reports_status_and_reason()
    {
        using var message = Chunk(Pattern(2 * MaxBodyPerChunk), Limits());
        using var assembler = new MessageAssembler(Limits());
        Assert.Null(assembler.Add(Parse(message.Chunks[0])));
        Assert.Equal(1, assembler.PartialCount);

        var abort = MessageChunker.Abort(UaMessageType.Message, ChannelId, TokenId, 9, RequestId, StatusCodes.BadResponseTooLarge, "too big to finish");
        using var aborted = assembler.Add(Parse(abort));

        Assert.NotNull(aborted);
        Assert.Equal(StatusCodes.BadResponseTooLarge, aborted.AbortStatus?.Code);
        Assert.Equal("too big to finish", aborted.AbortReason);
        Assert.Equal(RequestId, aborted.RequestId);
        Assert.Equal(0, aborted.Length);
        Assert.Equal(0, assembler.PartialCount);
    }

    [Fact]
    public void Too_many_messages_in_progress_are_refused_with_BadTcpNotEnoughResources()
    {
        using var assembler = new MessageAssembler(Limits(), maxPartialMessages: 3);
        for (uint id = 1; id <= 3; id++)
        {
            Assert.Null(assembler.Add(Parse(Intermediate(id))));
        }

        var ex = Assert.Throws<ServiceResultException>(() => assembler.Add(Parse(Intermediate(4))));
        Assert.Equal(StatusCodes.BadTcpNotEnoughResources, ex.StatusCode.Code);

        // More chunks for messages already in progress are still fine.
        Assert.Null(assembler.Add(Parse(Intermediate(2))));
    }

    [Fact]
    public void Messages_in_progress_together_buffer_no_more_than_MaxMessageSize()
    {
        // Each message stays under the limit on its own; a flood of them must not multiply it.
        var limits = Limits() with { MaxMessageSize = 4 * MaxBodyPerChunk, MaxChunkCount = 0 };
        using var assembler = new MessageAssembler(limits, maxPartialMessages: 64);
        for (uint id = 1; id <= 4; id++)
        {
            Assert.Null(assembler.Add(Parse(Intermediate(id, MaxBodyPerChunk))));
        }

        var ex = Assert.Throws<ServiceResultException>(() => assembler.Add(Parse(Intermediate(5, 1))));
        Assert.Equal(StatusCodes.BadTcpNotEnoughResources, ex.StatusCode.Code);
        Assert.Contains("MaxMessageSize", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Finished_and_aborted_messages_release_their_share_of_the_buffer_budget()
    {
        var limits = Limits() with { MaxMessageSize = 2 * MaxBodyPerChunk, MaxChunkCount = 0 };
        using var assembler = new MessageAssembler(limits);
        for (var round = 0; round < 10; round++)
        {
            Assert.Null(assembler.Add(Parse(Intermediate(1, MaxBodyPerChunk))));
            Assert.Null(assembler.Add(Parse(Intermediate(2, MaxBodyPerChunk))));
            using (var finished = assembler.Add(Parse(Final(1, 0))))
            {
                Assert.Equal(MaxBodyPerChunk, finished!.Length);
            }

            using var aborted = assembler.Add(Parse(MessageChunker.Abort(UaMessageType.Message, ChannelId, TokenId, 1, 2, StatusCodes.BadResponseTooLarge, "stop")));
            Assert.NotNull(aborted!.AbortStatus);
            Assert.Equal(0, assembler.PartialCount);
        }
    }

    [Fact]
    public void Peer_buffer_too_small_for_the_headers_is_refused()
    {
        var ex = Assert.Throws<ServiceResultException>(() => Chunk(Pattern(10), Limits() with { ReceiveBufferSize = MsgOverhead }));
        Assert.Equal(StatusCodes.BadTcpInternalError, ex.StatusCode.Code);
    }

    [Fact]
    public async Task ChunkReader_reassembles_chunks_delivered_one_byte_at_a_time()
    {
        var body = Pattern((2 * MaxBodyPerChunk) + 5);
        using var message = Chunk(body, Limits());
        var bytes = message.All.ToArray();
        using var reader = new ChunkReader(new TrickleStream(bytes, 1), BufferSize);
        using var assembler = new MessageAssembler(Limits());
        byte[]? result = null;
        while (await reader.ReadChunkAsync(CancellationToken.None) is { } raw)
        {
            using var assembled = assembler.Add(SecureChunk.Parse(raw));
            result = assembled?.Body.ToArray() ?? result;
        }

        Assert.Equal(body, result);
        Assert.Equal(bytes.Length, reader.BytesReceived);
    }

    [Fact]
    public async Task ChunkReader_accepts_a_chunk_of_exactly_MaxChunkSize_and_refuses_one_byte_more()
    {
        using var full = Chunk(Pattern(MaxBodyPerChunk), Limits());
        Assert.Equal((int)BufferSize, full.Length);
        using (var reader = new ChunkReader(new MemoryStream(full.All.ToArray()), BufferSize))
        {
            var raw = await reader.ReadChunkAsync(CancellationToken.None);
            Assert.Equal((int)BufferSize, raw!.Value.Bytes.Length);
            Assert.Null(await reader.ReadChunkAsync(CancellationToken.None));
        }

        using var over = Chunk(Pattern(MaxBodyPerChunk + 1), Limits() with { ReceiveBufferSize = BufferSize + 1 });
        using var strict = new ChunkReader(new MemoryStream(over.All.ToArray()), BufferSize);
        var ex = await Assert.ThrowsAsync<ServiceResultException>(async () => await strict.ReadChunkAsync(CancellationToken.None));
        Assert.Equal(StatusCodes.BadTcpMessageTooLarge, ex.StatusCode.Code);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(8)]
    [InlineData(30)]
    public async Task ChunkReader_reports_a_stream_that_ends_inside_a_chunk_as_BadConnectionClosed(int keep)
    {
        using var message = Chunk(Pattern(100), Limits());
        using var reader = new ChunkReader(new MemoryStream(message.All[..keep].ToArray()), BufferSize);

        var ex = await Assert.ThrowsAsync<ServiceResultException>(async () => await reader.ReadChunkAsync(CancellationToken.None));

        Assert.Equal(StatusCodes.BadConnectionClosed, ex.StatusCode.Code);
    }

    [Fact]
    public void Chunk_header_smaller_than_itself_is_refused()
    {
        var header = new byte[ChunkHeader.Size];
        ChunkHeader.Write(header, UaMessageType.Message, ChunkType.Final, 7);
        var ex = Assert.Throws<ServiceResultException>(() => ChunkHeader.Parse(header, BufferSize));
        Assert.Equal(StatusCodes.BadTcpMessageTypeInvalid, ex.StatusCode.Code);
    }

    [Fact]
    public void Truncated_secure_headers_are_a_decoding_error()
    {
        using var message = Chunk(Pattern(0), Limits());
        var bytes = message.All[..(ChunkHeader.Size + 10)].ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), (uint)bytes.Length);

        var ex = Assert.Throws<ServiceResultException>(() => Parse(bytes));

        Assert.Equal(StatusCodes.BadDecodingError, ex.StatusCode.Code);
    }

    private static TransportLimits Limits() => new() { ReceiveBufferSize = BufferSize, SendBufferSize = BufferSize, MaxChunkCount = 0, MaxMessageSize = 0 };

    private static OutgoingMessage Chunk(byte[] body, TransportLimits limits, bool isRequest = true)
    {
        var sequence = 1u;
        return MessageChunker.Chunk(UaMessageType.Message, ChannelId, TokenId, null, () => sequence++, RequestId, body, limits, isRequest);
    }

    private static byte[] Intermediate(uint requestId, int bodySize = 10)
    {
        var bytes = Final(requestId, bodySize);
        bytes[3] = (byte)ChunkType.Intermediate;
        return bytes;
    }

    private static byte[] Final(uint requestId, int bodySize)
    {
        var sequence = 1u;
        using var message = MessageChunker.Chunk(UaMessageType.Message, ChannelId, TokenId, null, () => sequence++, requestId, Pattern(bodySize), Limits(), isRequest: false);
        Assert.Single(message.Chunks);
        return message.All.ToArray();
    }

    private static SecureChunk Parse(ReadOnlyMemory<byte> chunk) => SecureChunk.Parse(new RawChunk(ChunkHeader.Parse(chunk.Span, BufferSize), chunk));

    /// <summary>Reads every chunk of <paramref name="stream"/> and returns the one assembled message's body.</summary>
    private static byte[] Assemble(byte[] stream, TransportLimits limits, out List<uint> sequenceNumbers)
    {
        sequenceNumbers = [];
        using var assembler = new MessageAssembler(limits);
        byte[]? result = null;
        for (var offset = 0; offset < stream.Length;)
        {
            var size = (int)BinaryPrimitives.ReadUInt32LittleEndian(stream.AsSpan(offset + 4));
            var chunk = Parse(stream.AsMemory(offset, size));
            sequenceNumbers.Add(chunk.SequenceNumber);
            using var message = assembler.Add(chunk);
            if (message is not null)
            {
                Assert.Null(result);
                Assert.Equal(RequestId, message.RequestId);
                result = message.Body.ToArray();
            }

            offset += size;
        }

        Assert.Equal(0, assembler.PartialCount);
        return result ?? throw new InvalidOperationException("no final chunk");
    }

    private static byte[] Pattern(int length, int seed = 0)
    {
        var bytes = new byte[length];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)((i * 31) + seed);
        }

        return bytes;
    }

    /// <summary>Returns at most <c>step</c> bytes per read, as a slow network would.</summary>
    private sealed class TrickleStream(byte[] data, int step) : MemoryStream(data, writable: false)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, step)], cancellationToken);
    }
}
