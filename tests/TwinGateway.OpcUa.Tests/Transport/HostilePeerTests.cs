using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using TwinGateway.OpcUa.Channel;
using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Fuzzing;
using TwinGateway.OpcUa.Transport;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Tests.Transport;

/// <summary>
/// The client channel against a server that misbehaves on purpose: a TcpListener on loopback plays each script byte
/// by byte. Every case must end in a clear <see cref="ServiceResultException"/> within seconds; protocol violations
/// close the channel (its <see cref="ClientSecureChannel.Closed"/> task carries the reason), while a bad response body
/// or an abort fails only its own request.
/// </summary>
public sealed class HostilePeerTests
{
    private const uint ChannelId = 7;
    private const uint TokenId = 1;

    /// <summary>Upper bound for any one step; a hang fails the test instead of holding the run up.</summary>
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(10);

    private static readonly ClientChannelOptions Options = new()
    {
        Limits = new TransportLimits
        {
            ReceiveBufferSize = 8192,
            SendBufferSize = 8192,
            MaxMessageSize = 64 * 1024,
            MaxChunkCount = 4,
        },
        ConnectTimeout = TimeSpan.FromSeconds(5),
        RequestTimeout = TimeSpan.FromSeconds(5),
    };

    // ---- Hello / Acknowledge ----

    [Fact]
    public async Task Garbage_instead_of_Acknowledge_fails_with_BadTcpMessageTypeInvalid()
    {
        await using var server = HostileServer.Start(async peer =>
        {
            await peer.ReadHelloAsync();
            await peer.SendAsync(System.Text.Encoding.ASCII.GetBytes("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"));
            await peer.ExpectClosedAsync();
        });

        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => ClientSecureChannel.OpenAsync(server.EndpointUrl, Options).WaitAsync(StepTimeout));

        Assert.Equal(StatusCodes.BadTcpMessageTypeInvalid, ex.StatusCode.Code);
        Assert.Contains("HTT", ex.Message, StringComparison.Ordinal);
        await server.ScriptCompleted.WaitAsync(StepTimeout);
    }

    [Fact]
    public async Task Acknowledge_with_buffers_below_8192_fails_with_BadTcpInternalError()
    {
        await using var server = HostileServer.Start(async peer =>
        {
            await peer.ReadHelloAsync();
            await peer.SendAsync(new AcknowledgeMessage(0, 1024, 1024, 0, 0).Encode());
            await peer.ExpectClosedAsync();
        });

        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => ClientSecureChannel.OpenAsync(server.EndpointUrl, Options).WaitAsync(StepTimeout));

        Assert.Equal(StatusCodes.BadTcpInternalError, ex.StatusCode.Code);
        Assert.Contains("8192", ex.Message, StringComparison.Ordinal);
        await server.ScriptCompleted.WaitAsync(StepTimeout);
    }

    [Fact]
    public async Task Acknowledge_that_may_send_more_than_we_receive_fails_with_BadTcpInternalError()
    {
        await using var server = HostileServer.Start(async peer =>
        {
            await peer.ReadHelloAsync();
            await peer.SendAsync(new AcknowledgeMessage(0, 8192, 65535, 0, 0).Encode());
            await peer.ExpectClosedAsync();
        });

        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => ClientSecureChannel.OpenAsync(server.EndpointUrl, Options).WaitAsync(StepTimeout));

        Assert.Equal(StatusCodes.BadTcpInternalError, ex.StatusCode.Code);
        await server.ScriptCompleted.WaitAsync(StepTimeout);
    }

    [Fact]
    public async Task Error_instead_of_Acknowledge_fails_with_its_status_and_reason()
    {
        await using var server = HostileServer.Start(async peer =>
        {
            await peer.ReadHelloAsync();
            await peer.SendAsync(new ErrorMessage(StatusCodes.BadTcpEndpointUrlInvalid, "no endpoint named /hostile here").Encode());
            await peer.ExpectClosedAsync();
        });

        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => ClientSecureChannel.OpenAsync(server.EndpointUrl, Options).WaitAsync(StepTimeout));

        Assert.Equal(StatusCodes.BadTcpEndpointUrlInvalid, ex.StatusCode.Code);
        Assert.Contains("no endpoint named /hostile here", ex.Message, StringComparison.Ordinal);
        await server.ScriptCompleted.WaitAsync(StepTimeout);
    }

    [Theory]
    [InlineData(0u)] // Good
    [InlineData(0x40000000u)] // Uncertain
    public async Task Error_with_a_status_that_is_not_Bad_still_fails_with_a_Bad_code(uint status)
    {
        await using var server = HostileServer.Start(async peer =>
        {
            await peer.ReadHelloAsync();
            await peer.SendAsync(new ErrorMessage(status, "nothing is wrong").Encode());
            await peer.ExpectClosedAsync();
        });

        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => ClientSecureChannel.OpenAsync(server.EndpointUrl, Options).WaitAsync(StepTimeout));

        Assert.True(ex.StatusCode.IsBad, $"{ex.StatusCode} is not Bad");
        Assert.Equal(StatusCodes.BadTcpInternalError, ex.StatusCode.Code);
        Assert.Contains("nothing is wrong", ex.Message, StringComparison.Ordinal);
        await server.ScriptCompleted.WaitAsync(StepTimeout);
    }

    [Fact]
    public async Task Error_with_a_Good_status_on_an_open_channel_closes_it_with_a_Bad_code()
    {
        await using var server = HostileServer.Start(async peer =>
        {
            await peer.OpenAsync();
            _ = await peer.ReadRequestAsync();
            await peer.SendAsync(new ErrorMessage(StatusCodes.Good, "bye").Encode());
            await peer.ExpectClosedAsync();
        });
        await using var channel = await ClientSecureChannel.OpenAsync(server.EndpointUrl, Options).WaitAsync(StepTimeout);

        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => channel.SendRequestAsync(Read()).WaitAsync(StepTimeout));

        Assert.Equal(StatusCodes.BadTcpInternalError, ex.StatusCode.Code);
        await AssertClosedAsync(channel, StatusCodes.BadTcpInternalError, "bye");
        await server.ScriptCompleted.WaitAsync(StepTimeout);
    }

    [Fact]
    public async Task Acknowledge_header_larger_than_our_receive_buffer_fails_with_BadTcpMessageTooLarge()
    {
        await using var server = HostileServer.Start(async peer =>
        {
            await peer.ReadHelloAsync();
            var header = new byte[ChunkHeader.Size];
            ChunkHeader.Write(header, UaMessageType.Acknowledge, ChunkType.Final, 1_000_000);
            await peer.SendAsync(header);
            await peer.ExpectClosedAsync();
        });

        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => ClientSecureChannel.OpenAsync(server.EndpointUrl, Options).WaitAsync(StepTimeout));

        Assert.Equal(StatusCodes.BadTcpMessageTooLarge, ex.StatusCode.Code);
        await server.ScriptCompleted.WaitAsync(StepTimeout);
    }

    // ---- On an open channel ----

    [Fact]
    public async Task Error_message_on_an_open_channel_fails_pending_requests_with_its_status_and_reason()
    {
        await using var server = HostileServer.Start(async peer =>
        {
            await peer.OpenAsync();
            _ = await peer.ReadRequestAsync();
            await peer.SendAsync(new ErrorMessage(StatusCodes.BadTooManySessions, "session table is full").Encode());
            await peer.ExpectClosedAsync();
        });
        await using var channel = await ClientSecureChannel.OpenAsync(server.EndpointUrl, Options).WaitAsync(StepTimeout);

        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => channel.SendRequestAsync(Read()).WaitAsync(StepTimeout));

        Assert.Equal(StatusCodes.BadTooManySessions, ex.StatusCode.Code);
        Assert.Contains("session table is full", ex.Message, StringComparison.Ordinal);
        await AssertClosedAsync(channel, StatusCodes.BadTooManySessions, "session table is full");
        await server.ScriptCompleted.WaitAsync(StepTimeout);
    }

    [Fact]
    public async Task Chunk_header_larger_than_the_negotiated_buffer_fails_with_BadTcpMessageTooLarge_and_closes_the_channel()
    {
        await using var server = HostileServer.Start(async peer =>
        {
            await peer.OpenAsync();
            _ = await peer.ReadRequestAsync();
            var header = new byte[ChunkHeader.Size];
            ChunkHeader.Write(header, UaMessageType.Message, ChunkType.Final, 8193);
            await peer.SendAsync(header);
            await peer.ExpectClosedAsync();
        });
        await using var channel = await ClientSecureChannel.OpenAsync(server.EndpointUrl, Options).WaitAsync(StepTimeout);

        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => channel.SendRequestAsync(Read()).WaitAsync(StepTimeout));

        Assert.Equal(StatusCodes.BadTcpMessageTooLarge, ex.StatusCode.Code);
        await AssertClosedAsync(channel, StatusCodes.BadTcpMessageTooLarge, "8193");
        await server.ScriptCompleted.WaitAsync(StepTimeout);
    }

    [Fact]
    public async Task Truncated_chunk_then_close_fails_with_BadConnectionClosed()
    {
        await using var server = HostileServer.Start(async peer =>
        {
            await peer.OpenAsync();
            var request = await peer.ReadRequestAsync();
            var chunk = peer.Chunk(UaMessageType.Message, request.RequestId, FuzzSeeds.Body(ReadResponse()));
            await peer.SendAsync(chunk[..(chunk.Length / 2)]);
            peer.Close();
        });
        await using var channel = await ClientSecureChannel.OpenAsync(server.EndpointUrl, Options).WaitAsync(StepTimeout);

        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => channel.SendRequestAsync(Read()).WaitAsync(StepTimeout));

        Assert.Equal(StatusCodes.BadConnectionClosed, ex.StatusCode.Code);
        await AssertClosedAsync(channel, StatusCodes.BadConnectionClosed, "connection");
        await server.ScriptCompleted.WaitAsync(StepTimeout);
    }

    [Fact]
    public async Task Response_in_more_chunks_than_our_MaxChunkCount_fails_with_BadTcpMessageTooLarge_and_closes_the_channel()
    {
        var options = Options with { Limits = Options.Limits with { MaxChunkCount = 2 } };
        await using var server = HostileServer.Start(async peer =>
        {
            var hello = await peer.OpenAsync();
            Assert.Equal(2u, hello.MaxChunkCount);
            var request = await peer.ReadRequestAsync();
            var body = FuzzSeeds.Body(ReadResponse());

            // A receive buffer just over a third of the body (plus 24 bytes of headers per chunk) splits it in three.
            await peer.SendAsync(peer.Chunk(UaMessageType.Message, request.RequestId, body, receiveBufferSize: (uint)((body.Length / 3) + 25), expectedChunks: 3));
            await peer.ExpectClosedAsync();
        });
        await using var channel = await ClientSecureChannel.OpenAsync(server.EndpointUrl, options).WaitAsync(StepTimeout);

        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => channel.SendRequestAsync(Read()).WaitAsync(StepTimeout));

        Assert.Equal(StatusCodes.BadTcpMessageTooLarge, ex.StatusCode.Code);
        await AssertClosedAsync(channel, StatusCodes.BadTcpMessageTooLarge, "MaxChunkCount");
        await server.ScriptCompleted.WaitAsync(StepTimeout);
    }

    [Fact]
    public async Task Response_larger_than_our_MaxMessageSize_fails_with_BadTcpMessageTooLarge_and_closes_the_channel()
    {
        var options = Options with { Limits = Options.Limits with { MaxMessageSize = 9000, MaxChunkCount = 0 } };
        await using var server = HostileServer.Start(async peer =>
        {
            await peer.OpenAsync();
            var request = await peer.ReadRequestAsync();
            var response = ReadResponse();
            response.Results = [new DataValue(new Variant(new string('x', 12_000)))];
            await peer.SendAsync(peer.Chunk(UaMessageType.Message, request.RequestId, FuzzSeeds.Body(response), receiveBufferSize: 8192, expectedChunks: 2));
            await peer.ExpectClosedAsync();
        });
        await using var channel = await ClientSecureChannel.OpenAsync(server.EndpointUrl, options).WaitAsync(StepTimeout);

        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => channel.SendRequestAsync(Read()).WaitAsync(StepTimeout));

        Assert.Equal(StatusCodes.BadTcpMessageTooLarge, ex.StatusCode.Code);
        await AssertClosedAsync(channel, StatusCodes.BadTcpMessageTooLarge, "MaxMessageSize");
        await server.ScriptCompleted.WaitAsync(StepTimeout);
    }

    [Fact]
    public async Task Single_chunk_response_larger_than_our_MaxMessageSize_fails_with_BadTcpMessageTooLarge_and_closes_the_channel()
    {
        // MaxMessageSize may be below the receive buffer; a message in one chunk must respect it too.
        var options = Options with { Limits = Options.Limits with { MaxMessageSize = 4096 } };
        await using var server = HostileServer.Start(async peer =>
        {
            await peer.OpenAsync();
            var request = await peer.ReadRequestAsync();
            var response = ReadResponse();
            response.Results = [new DataValue(new Variant(new string('x', 6000)))];
            await peer.SendAsync(peer.Chunk(UaMessageType.Message, request.RequestId, FuzzSeeds.Body(response)));
            await peer.ExpectClosedAsync();
        });
        await using var channel = await ClientSecureChannel.OpenAsync(server.EndpointUrl, options).WaitAsync(StepTimeout);

        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => channel.SendRequestAsync(Read()).WaitAsync(StepTimeout));

        Assert.Equal(StatusCodes.BadTcpMessageTooLarge, ex.StatusCode.Code);
        await AssertClosedAsync(channel, StatusCodes.BadTcpMessageTooLarge, "MaxMessageSize");
        await server.ScriptCompleted.WaitAsync(StepTimeout);
    }

    [Fact]
    public async Task Flood_of_unfinished_chunked_messages_fails_with_BadTcpNotEnoughResources_and_closes_the_channel()
    {
        await using var server = HostileServer.Start(async peer =>
        {
            await peer.OpenAsync();
            _ = await peer.ReadRequestAsync();

            // One intermediate chunk each for 1,000 different request ids: the assembler must refuse, not buffer them.
            using var flood = new MemoryStream();
            for (uint id = 1000; id < 2000; id++)
            {
                var chunk = peer.Chunk(UaMessageType.Message, id, new byte[100]);
                chunk[3] = (byte)ChunkType.Intermediate;
                flood.Write(chunk);
            }

            await peer.SendAsync(flood.ToArray(), ignoreReset: true);
            await peer.ExpectClosedAsync();
        });
        await using var channel = await ClientSecureChannel.OpenAsync(server.EndpointUrl, Options).WaitAsync(StepTimeout);

        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => channel.SendRequestAsync(Read()).WaitAsync(StepTimeout));

        Assert.Equal(StatusCodes.BadTcpNotEnoughResources, ex.StatusCode.Code);
        await AssertClosedAsync(channel, StatusCodes.BadTcpNotEnoughResources, "in progress");
        await server.ScriptCompleted.WaitAsync(StepTimeout);
    }

    [Fact]
    public async Task Undecodable_response_body_fails_that_request_with_BadDecodingError_and_the_channel_stays_usable()
    {
        await using var server = HostileServer.Start(async peer =>
        {
            await peer.OpenAsync();
            var first = await peer.ReadRequestAsync();
            var body = FuzzSeeds.Body(ReadResponse());

            // The framing is intact; the body stops in the middle of the first DataValue.
            await peer.SendAsync(peer.Chunk(UaMessageType.Message, first.RequestId, body[..(body.Length - 40)]));
            var second = await peer.ReadRequestAsync();
            await peer.SendAsync(peer.Chunk(UaMessageType.Message, second.RequestId, body));
            await peer.ExpectClosedAsync();
        });
        await using var channel = await ClientSecureChannel.OpenAsync(server.EndpointUrl, Options).WaitAsync(StepTimeout);

        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => channel.SendRequestAsync(Read()).WaitAsync(StepTimeout));
        Assert.Equal(StatusCodes.BadDecodingError, ex.StatusCode.Code);
        Assert.Contains("Read", ex.Message, StringComparison.Ordinal);

        var response = Assert.IsType<ReadResponse>(await channel.SendRequestAsync(Read()).WaitAsync(StepTimeout));
        Assert.Equal(ReadResponse().Results, response.Results);
        Assert.True(channel.IsOpen);
        await channel.CloseAsync();
        await AssertClosedAsync(channel, StatusCodes.BadSecureChannelClosed, "closed by the client");
        await server.ScriptCompleted.WaitAsync(StepTimeout);
    }

    [Fact]
    public async Task Abort_chunk_fails_the_request_with_its_status_and_reason_and_the_channel_stays_usable()
    {
        await using var server = HostileServer.Start(async peer =>
        {
            await peer.OpenAsync();
            var first = await peer.ReadRequestAsync();
            var body = FuzzSeeds.Body(ReadResponse());

            // Part of the response, then the abort: the partial message must be dropped.
            var partial = peer.Chunk(UaMessageType.Message, first.RequestId, body[..50]);
            partial[3] = (byte)ChunkType.Intermediate;
            await peer.SendAsync(partial);
            await peer.SendAsync(MessageChunker.Abort(UaMessageType.Message, ChannelId, TokenId, peer.NextSequenceNumber(), first.RequestId,
                StatusCodes.BadResponseTooLarge, "the response outgrew the server's send limits"));
            var second = await peer.ReadRequestAsync();
            await peer.SendAsync(peer.Chunk(UaMessageType.Message, second.RequestId, body));
            await peer.ExpectClosedAsync();
        });
        await using var channel = await ClientSecureChannel.OpenAsync(server.EndpointUrl, Options).WaitAsync(StepTimeout);

        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => channel.SendRequestAsync(Read()).WaitAsync(StepTimeout));
        Assert.Equal(StatusCodes.BadResponseTooLarge, ex.StatusCode.Code);
        Assert.Contains("the response outgrew the server's send limits", ex.Message, StringComparison.Ordinal);

        Assert.IsType<ReadResponse>(await channel.SendRequestAsync(Read()).WaitAsync(StepTimeout));
        Assert.True(channel.IsOpen);
        await channel.CloseAsync();
        await AssertClosedAsync(channel, StatusCodes.BadSecureChannelClosed, "closed by the client");
        await server.ScriptCompleted.WaitAsync(StepTimeout);
    }

    [Fact]
    public async Task Server_that_never_answers_fails_the_request_with_BadRequestTimeout_and_the_channel_stays_open()
    {
        var silent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = HostileServer.Start(async peer =>
        {
            await peer.OpenAsync();
            _ = await peer.ReadRequestAsync();
            await silent.Task;
        });
        await using var channel = await ClientSecureChannel.OpenAsync(server.EndpointUrl, Options).WaitAsync(StepTimeout);

        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => channel.SendRequestAsync(Read(), TimeSpan.FromMilliseconds(300)).WaitAsync(StepTimeout));

        Assert.Equal(StatusCodes.BadRequestTimeout, ex.StatusCode.Code);
        Assert.Contains("300 ms", ex.Message, StringComparison.Ordinal);
        Assert.True(channel.IsOpen);

        // The client closes first; only then does the silent server's script end (and its socket with it), so the
        // channel's reason is the client's own close, not the peer going away.
        await channel.CloseAsync();
        await AssertClosedAsync(channel, StatusCodes.BadSecureChannelClosed, "closed by the client");
        silent.SetResult();
    }

    [Fact]
    public async Task Wrong_sequence_number_fails_with_BadSequenceNumberInvalid_and_closes_the_channel()
    {
        await using var server = HostileServer.Start(async peer =>
        {
            await peer.OpenAsync();
            var request = await peer.ReadRequestAsync();
            peer.SkipSequenceNumbers(5);
            await peer.SendAsync(peer.Chunk(UaMessageType.Message, request.RequestId, FuzzSeeds.Body(ReadResponse())));
            await peer.ExpectClosedAsync();
        });
        await using var channel = await ClientSecureChannel.OpenAsync(server.EndpointUrl, Options).WaitAsync(StepTimeout);

        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => channel.SendRequestAsync(Read()).WaitAsync(StepTimeout));

        Assert.Equal(StatusCodes.BadSequenceNumberInvalid, ex.StatusCode.Code);
        await AssertClosedAsync(channel, StatusCodes.BadSequenceNumberInvalid, "sequence number 7 after 1");
        await server.ScriptCompleted.WaitAsync(StepTimeout);
    }

    [Fact]
    public async Task Response_for_another_channel_fails_with_BadSecureChannelIdInvalid_and_closes_the_channel()
    {
        await using var server = HostileServer.Start(async peer =>
        {
            await peer.OpenAsync();
            var request = await peer.ReadRequestAsync();
            await peer.SendAsync(FuzzSeeds.Chunk(UaMessageType.Message, ChannelId + 1, TokenId, peer.NextSequenceNumber(), request.RequestId, FuzzSeeds.Body(ReadResponse())));
            await peer.ExpectClosedAsync();
        });
        await using var channel = await ClientSecureChannel.OpenAsync(server.EndpointUrl, Options).WaitAsync(StepTimeout);

        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => channel.SendRequestAsync(Read()).WaitAsync(StepTimeout));

        Assert.Equal(StatusCodes.BadSecureChannelIdInvalid, ex.StatusCode.Code);
        await AssertClosedAsync(channel, StatusCodes.BadSecureChannelIdInvalid, "channel 8");
        await server.ScriptCompleted.WaitAsync(StepTimeout);
    }

    [Fact]
    public async Task Request_larger_than_the_servers_MaxMessageSize_fails_with_BadRequestTooLarge_before_anything_is_sent()
    {
        uint? secondRequestId = null;
        await using var server = HostileServer.Start(async peer =>
        {
            await peer.OpenAsync(new AcknowledgeMessage(0, 8192, 8192, MaxMessageSize: 1024, MaxChunkCount: 0));

            // The next bytes on the wire must be the small request: nothing of the large one was sent.
            var next = await peer.ReadRequestAsync();
            secondRequestId = next.RequestId;
            Assert.Equal(ReadRequest.BinaryEncodingNodeId, next.TypeId);
            await peer.SendAsync(peer.Chunk(UaMessageType.Message, next.RequestId, FuzzSeeds.Body(ReadResponse())));
            await peer.ExpectClosedAsync();
        });
        await using var channel = await ClientSecureChannel.OpenAsync(server.EndpointUrl, Options).WaitAsync(StepTimeout);
        var large = new WriteRequest
        {
            NodesToWrite = [new WriteValue { NodeId = new NodeId("Line1.Recipe", 2), AttributeId = 13, Value = new DataValue(new Variant(new string('r', 4000))) }],
        };

        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => channel.SendRequestAsync(large).WaitAsync(StepTimeout));

        Assert.Equal(StatusCodes.BadRequestTooLarge, ex.StatusCode.Code);
        Assert.Contains("1024", ex.Message, StringComparison.Ordinal);
        Assert.IsType<ReadResponse>(await channel.SendRequestAsync(Read()).WaitAsync(StepTimeout));
        Assert.True(channel.IsOpen);
        await channel.CloseAsync();
        await server.ScriptCompleted.WaitAsync(StepTimeout);
        Assert.NotNull(secondRequestId);
    }

    private static async Task AssertClosedAsync(ClientSecureChannel channel, uint status, string reasonFragment)
    {
        var reason = await channel.Closed.WaitAsync(StepTimeout);
        Assert.Equal(status, reason.StatusCode.Code);
        Assert.Contains(reasonFragment, reason.Message, StringComparison.Ordinal);
        Assert.False(channel.IsOpen);

        // A closed channel answers at once with the reason instead of writing to a dead socket.
        var again = await Assert.ThrowsAsync<ServiceResultException>(() => channel.SendRequestAsync(Read()).WaitAsync(StepTimeout));
        Assert.Equal(status, again.StatusCode.Code);
    }

    private static ReadRequest Read() => new()
    {
        MaxAge = 0,
        TimestampsToReturn = TimestampsToReturn.Both,
        NodesToRead = [new ReadValueId { NodeId = new NodeId("Line1.Speed", 2), AttributeId = 13 }],
    };

    private static ReadResponse ReadResponse() => new()
    {
        Results =
        [
            new DataValue(new Variant(21.5), StatusCodes.Good, new DateTime(2024, 5, 17, 8, 30, 0, DateTimeKind.Utc)),
            new DataValue(new Variant("running")),
            new DataValue(new Variant(42)),
        ],
    };

    /// <summary>A request as the server saw it.</summary>
    private sealed record ReceivedRequest(UaMessageType MessageType, uint RequestId, uint SequenceNumber, NodeId TypeId);

    /// <summary>One accepted connection and the script that plays the server on it.</summary>
    private sealed class HostileServer : IAsyncDisposable
    {
        private readonly TcpListener _listener;

        private HostileServer(TcpListener listener, Func<Peer, Task> script)
        {
            _listener = listener;
            ScriptCompleted = RunAsync(script);
        }

        public string EndpointUrl => $"opc.tcp://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/hostile";

        /// <summary>Completes when the script ends; faults when one of its assertions failed.</summary>
        public Task ScriptCompleted { get; }

        public static HostileServer Start(Func<Peer, Task> script)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return new HostileServer(listener, script);
        }

        private async Task RunAsync(Func<Peer, Task> script)
        {
            using var client = await _listener.AcceptTcpClientAsync().ConfigureAwait(false);
            client.NoDelay = true;
            using var peer = new Peer(client);
            await script(peer).WaitAsync(StepTimeout).ConfigureAwait(false);
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            try
            {
                await ScriptCompleted.WaitAsync(StepTimeout).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException)
            {
                // The test already asserted what it needed; a peer torn down mid-script is fine here.
            }
        }
    }

    /// <summary>The server's end of the connection: reads the client's chunks and writes whatever the script says.</summary>
    private sealed class Peer(TcpClient client) : IDisposable
    {
        private readonly NetworkStream _stream = client.GetStream();
        private readonly ChunkReader _reader = new(client.GetStream(), 65535);
        private uint _sequence;

        public uint NextSequenceNumber() => ++_sequence;

        public void SkipSequenceNumbers(uint count) => _sequence += count;

        public async Task<HelloMessage> ReadHelloAsync()
        {
            var raw = await _reader.ReadChunkAsync(CancellationToken.None) ?? throw new InvalidOperationException("client closed before Hello");
            Assert.Equal(UaMessageType.Hello, raw.Header.MessageType);
            return HelloMessage.Decode(raw.Bytes.Span[ChunkHeader.Size..]);
        }

        /// <summary>Hello/Acknowledge and OpenSecureChannel answered correctly: channel 7, token 1.</summary>
        public async Task<HelloMessage> OpenAsync(AcknowledgeMessage? acknowledge = null)
        {
            var hello = await ReadHelloAsync();
            await SendAsync((acknowledge ?? new AcknowledgeMessage(0, 8192, 8192, 0, 0)).Encode());
            var open = await ReadRequestAsync();
            Assert.Equal(UaMessageType.OpenSecureChannel, open.MessageType);
            Assert.Equal(OpenSecureChannelRequest.BinaryEncodingNodeId, open.TypeId);
            var response = new OpenSecureChannelResponse
            {
                SecurityToken = new ChannelSecurityToken { ChannelId = ChannelId, TokenId = TokenId, CreatedAt = DateTime.UtcNow, RevisedLifetime = 600_000 },
                ServerNonce = [],
            };
            await SendAsync(FuzzSeeds.Chunk(UaMessageType.OpenSecureChannel, ChannelId, 0, NextSequenceNumber(), open.RequestId, FuzzSeeds.Body(response)));
            return hello;
        }

        public async Task<ReceivedRequest> ReadRequestAsync()
        {
            var raw = await _reader.ReadChunkAsync(CancellationToken.None) ?? throw new InvalidOperationException("client closed instead of sending a request");
            var chunk = SecureChunk.Parse(raw);
            Assert.Equal(ChunkType.Final, chunk.Header.ChunkType);
            var reader = new UaReader(chunk.Body.Span);
            return new ReceivedRequest(chunk.Header.MessageType, chunk.RequestId, chunk.SequenceNumber, reader.ReadNodeId());
        }

        /// <summary>The chunks of a response on channel 7, token 1, numbered from the next sequence number.</summary>
        public byte[] Chunk(UaMessageType type, uint requestId, byte[] body, uint receiveBufferSize = 8192, int expectedChunks = 1)
        {
            var bytes = FuzzSeeds.Chunk(type, ChannelId, TokenId, _sequence + 1, requestId, body, receiveBufferSize);
            var count = 0;
            for (var offset = 0; offset < bytes.Length; offset += (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 4)))
            {
                count++;
            }

            Assert.Equal(expectedChunks, count);
            _sequence += (uint)count;
            return bytes;
        }

        public async Task SendAsync(byte[] bytes, bool ignoreReset = false)
        {
            try
            {
                await _stream.WriteAsync(bytes);
            }
            catch (IOException) when (ignoreReset)
            {
                // The client closed the connection part-way through a flood: what the flood was for.
            }
        }

        /// <summary>Waits for the client to close the connection, discarding whatever it still sends (CLO).</summary>
        public async Task ExpectClosedAsync()
        {
            var buffer = new byte[4096];
            try
            {
                while (await _stream.ReadAsync(buffer) > 0)
                {
                }
            }
            catch (IOException)
            {
                // Reset instead of FIN: closed all the same.
            }
        }

        public void Close() => client.Client.Close();

        public void Dispose()
        {
            _reader.Dispose();
            _stream.Dispose();
        }
    }
}
