using System.Buffers.Binary;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using TwinGateway.OpcUa.Channel;
using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Server;
using TwinGateway.OpcUa.Server.Demo;
using TwinGateway.OpcUa.Transport;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Tests.Server;

/// <summary>Hostile-client tests measure timeouts: they run alone, not next to the CPU-bound fuzz runs.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
[SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "xunit collection definitions are named after the collection they define.")]
public sealed class HostileClientCollection
{
    public const string Name = "hostile-clients";
}

/// <summary>
/// Our server against raw TCP clients on loopback that break the protocol on purpose: garbage instead of Hello, an
/// oversized or stingy Hello, chunk floods past MaxChunkCount, connections that go silent at every stage, and a burst
/// of connections past MaxConnections. Each must get the status code OPC 10000-6 names (in an Error message, or an
/// abort chunk where only one request is at fault), its connection must be freed, and a real <see cref="OpcUaClient"/>
/// session reading a value all along must be served without a single failure.
/// </summary>
[Collection(HostileClientCollection.Name)]
public sealed class HostileClientTests : IAsyncLifetime
{
    private const int MaxConnections = 20;
    private const uint BufferSize = 8192;
    private const uint MaxChunkCount = 4;
    private const uint MaxMessageSize = 64 * 1024;
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan IdleChannelTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Upper bound for any one wait; a hang fails the test instead of holding the run up.</summary>
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(5);

    private static readonly NodeId Counter = new("Test.Counter", 1);

    private readonly CancellationTokenSource _stopReading = new();
    private UaServer _server = null!;
    private DemoNodes _nodes = null!;
    private OpcUaClient? _client;
    private Task _reader = Task.CompletedTask;
    private int _reads;
    private int _readFailures;
    private string? _firstReadFailure;

    public async Task InitializeAsync()
    {
        _server = new UaServer(new UaServerOptions
        {
            Port = 0,
            Limits = new TransportLimits { ReceiveBufferSize = BufferSize, SendBufferSize = BufferSize, MaxChunkCount = MaxChunkCount, MaxMessageSize = MaxMessageSize },
            HandshakeTimeout = HandshakeTimeout,
            IdleChannelTimeout = IdleChannelTimeout,
            MaxConnections = MaxConnections,
            Authenticator = new StaticUserAuthenticator(new Dictionary<string, string> { ["operator"] = "secret1" }),
        });
        _nodes = DemoNodes.Add(_server, scaleCount: 0, interopTestFolder: true);
        await _server.StartAsync();
        _client = await OpcUaClient.ConnectAsync(_server.EndpointUrl, new OpcUaClientOptions { RequestTimeout = StepTimeout }).WaitAsync(StepTimeout);
        _reader = Task.Run(() => ReadLoopAsync(_client, _stopReading.Token));
        await AssertServedAsync();
    }

    public async Task DisposeAsync()
    {
        await StopReadingAsync();
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }

        await _nodes.DisposeAsync();
        await _server.DisposeAsync();
        _stopReading.Dispose();
    }

    private async Task ReadLoopAsync(OpcUaClient client, CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            try
            {
                var values = await client.ReadValuesAsync([Counter], token);
                if (values[0].StatusCode.IsGood)
                {
                    Interlocked.Increment(ref _reads);
                }
                else
                {
                    Fail(values[0].StatusCode.ToString());
                }

                await Task.Delay(20, token);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (ServiceResultException ex)
            {
                Fail(ex.Message);
            }
        }

        void Fail(string why)
        {
            Interlocked.CompareExchange(ref _firstReadFailure, why, null);
            Interlocked.Increment(ref _readFailures);
        }
    }

    private async Task StopReadingAsync()
    {
        await _stopReading.CancelAsync();
        await _reader.WaitAsync(StepTimeout);
    }

    /// <summary>The background session was never refused and has read again since this was called.</summary>
    private async Task AssertServedAsync()
    {
        var before = Volatile.Read(ref _reads);
        var waited = Stopwatch.StartNew();
        while (Volatile.Read(ref _reads) < before + 3 && waited.Elapsed < StepTimeout)
        {
            await Task.Delay(20);
        }

        Assert.True(Volatile.Read(ref _readFailures) == 0, $"the background session failed {_readFailures} reads, first: {_firstReadFailure}");
        Assert.True(Volatile.Read(ref _reads) >= before + 3, "the background session was not served during the attack");
    }

    /// <summary>Waits until only <paramref name="expected"/> connections remain (the attackers' were freed).</summary>
    private async Task AssertConnectionCountAsync(int expected)
    {
        var waited = Stopwatch.StartNew();
        while (_server.ConnectionCount != expected && waited.Elapsed < StepTimeout)
        {
            await Task.Delay(20);
        }

        Assert.Equal(expected, _server.ConnectionCount);
    }

    /// <summary>The Error message with <paramref name="status"/> and a reason, then the connection closed; returns the reason.</summary>
    private static async Task<string> AssertErrorThenClosedAsync(RawConnection raw, uint status)
    {
        var error = await raw.ExpectErrorAsync();
        Assert.True(error.Error.Code == status, $"expected {new StatusCode(status)}, got {error.Error}: {error.Reason}");
        Assert.False(string.IsNullOrEmpty(error.Reason), "the Error message names no reason");
        await raw.ExpectClosedAsync();
        return error.Reason!;
    }

    /// <summary>
    /// The server did not close before its timeout: it cannot have waited less than the timeout since the clock started
    /// before the connection (a loaded machine only makes this longer). How much longer it took is not a timing the test
    /// decides on; a hang fails the bounded waits of <see cref="RawConnection"/>, and the reason names the timer that fired.
    /// </summary>
    private static void AssertNotBefore(Stopwatch waited, TimeSpan timeout) =>
        Assert.True(waited.Elapsed >= timeout * 0.8, $"closed after {waited.Elapsed.TotalMilliseconds:0} ms, before the {timeout.TotalMilliseconds:0} ms timeout");

    // ---- Before and in Hello ----

    public static TheoryData<string, byte[]> GarbageInputs() => new()
    {
        { "an HTTP request", System.Text.Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") },
        { "zero bytes", new byte[64] },
        { "random bytes", RandomBytes(256) },
        { "a TLS ClientHello", [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03, .. new byte[32]] },
        { "HEL with chunk type C", Header(UaMessageType.Hello, ChunkType.Intermediate, 32, 24) },
        { "a header declaring fewer bytes than itself", Header(UaMessageType.Hello, ChunkType.Final, 4, 0) },
        { "a MSG chunk before Hello", Header(UaMessageType.Message, ChunkType.Final, 32, 24) },
        { "an Acknowledge from the client", new AcknowledgeMessage(0, 8192, 8192, 0, 0).Encode() },
    };

    [Theory]
    [MemberData(nameof(GarbageInputs))]
    public async Task Garbage_instead_of_Hello_gets_BadTcpMessageTypeInvalid_and_the_connection_closed(string what, byte[] bytes)
    {
        _ = what;
        await using (var raw = await RawConnection.ConnectAsync(_server.Port))
        {
            await raw.SendAsync(bytes);
            await AssertErrorThenClosedAsync(raw, StatusCodes.BadTcpMessageTypeInvalid);
        }

        await AssertConnectionCountAsync(1);
        await AssertServedAsync();
    }

    [Fact]
    public async Task Connections_refused_at_once_are_all_freed_and_do_not_use_up_MaxConnections()
    {
        // The bytes are there before the server accepts, so it can read, refuse and close without ever waiting: such a
        // connection must still leave the server's table, or 20 of them would lock everyone out (MaxConnections 20).
        var garbage = System.Text.Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\n\r\n");
        for (var i = 0; i < 3 * MaxConnections; i++)
        {
            await using var raw = await RawConnection.ConnectAsync(_server.Port);
            await raw.SendAsync(garbage);
            await AssertErrorThenClosedAsync(raw, StatusCodes.BadTcpMessageTypeInvalid);
        }

        await AssertConnectionCountAsync(1);
        await using var fresh = await RawConnection.ConnectAsync(_server.Port);
        await fresh.HelloAsync(_server.EndpointUrl);
        await AssertServedAsync();
    }

    [Fact]
    public async Task Hello_declaring_more_than_the_receive_buffer_gets_BadTcpMessageTooLarge()
    {
        await using (var raw = await RawConnection.ConnectAsync(_server.Port))
        {
            // Only the header: the server must refuse on the declared size, without waiting for (or buffering) the body.
            await raw.SendAsync(Header(UaMessageType.Hello, ChunkType.Final, 1_000_000, 0));
            await AssertErrorThenClosedAsync(raw, StatusCodes.BadTcpMessageTooLarge);
        }

        await AssertConnectionCountAsync(1);
        await AssertServedAsync();
    }

    [Fact]
    public async Task Hello_one_byte_over_the_receive_buffer_gets_BadTcpMessageTooLarge()
    {
        await using (var raw = await RawConnection.ConnectAsync(_server.Port))
        {
            // Header (8), five UInt32 (20), the URL's length (4) and the URL: 8193 bytes in all.
            var url = _server.EndpointUrl + "/" + new string('x', (int)BufferSize + 1 - 32 - _server.EndpointUrl.Length - 1);
            var hello = new HelloMessage(0, 65535, 65535, 0, 0, url).Encode();
            Assert.Equal(BufferSize + 1, (uint)hello.Length);
            await raw.SendAsync(hello);
            await AssertErrorThenClosedAsync(raw, StatusCodes.BadTcpMessageTooLarge);
        }

        await AssertConnectionCountAsync(1);
    }

    [Theory]
    [InlineData(1024u, 65535u)]
    [InlineData(65535u, 1024u)]
    [InlineData(8191u, 8191u)]
    [InlineData(0u, 0u)]
    public async Task Hello_with_buffers_below_8192_gets_BadTcpNotEnoughResources(uint receiveBufferSize, uint sendBufferSize)
    {
        await using (var raw = await RawConnection.ConnectAsync(_server.Port))
        {
            await raw.SendAsync(new HelloMessage(0, receiveBufferSize, sendBufferSize, 0, 0, _server.EndpointUrl).Encode());
            await AssertErrorThenClosedAsync(raw, StatusCodes.BadTcpNotEnoughResources);
        }

        await AssertConnectionCountAsync(1);
        await AssertServedAsync();
    }

    [Fact]
    public async Task Hello_with_an_endpoint_url_that_is_not_opc_tcp_gets_BadTcpEndpointUrlInvalid()
    {
        await using (var raw = await RawConnection.ConnectAsync(_server.Port))
        {
            await raw.SendAsync(new HelloMessage(0, 65535, 65535, 0, 0, "http://127.0.0.1/").Encode());
            await AssertErrorThenClosedAsync(raw, StatusCodes.BadTcpEndpointUrlInvalid);
        }

        await AssertConnectionCountAsync(1);
    }

    [Fact]
    public async Task Hello_is_acknowledged_with_our_limits()
    {
        await using var raw = await RawConnection.ConnectAsync(_server.Port);

        var ack = await raw.HelloAsync(_server.EndpointUrl, receiveBufferSize: 65535);

        Assert.Equal(BufferSize, ack.ReceiveBufferSize);
        Assert.Equal(BufferSize, ack.SendBufferSize);
        Assert.Equal(MaxChunkCount, ack.MaxChunkCount);
        Assert.Equal(MaxMessageSize, ack.MaxMessageSize);
    }

    // ---- Chunk floods ----

    [Fact]
    public async Task Chunk_flood_past_MaxChunkCount_aborts_that_request_only_and_the_channel_serves_the_next()
    {
        await using var raw = await RawConnection.ConnectAsync(_server.Port);
        await raw.HelloAsync(_server.EndpointUrl);
        await raw.OpenAsync();

        // Ten full intermediate chunks and a final one for request 77: MaxChunkCount is 4.
        const uint flooded = 77;
        var filler = new byte[BufferSize - RawConnection.MessageHeaderSize];
        Array.Fill(filler, (byte)0x41);
        for (var i = 0; i < 10; i++)
        {
            await raw.SendAsync(raw.MessageChunk(ChunkType.Intermediate, flooded, filler));
        }

        await raw.SendAsync(raw.MessageChunk(ChunkType.Final, flooded, filler.AsSpan(0, 100)));

        // Then a request that is fine, on the same channel.
        const uint next = 78;
        await raw.SendAsync(raw.Request(next, new GetEndpointsRequest { RequestHeader = new RequestHeader { RequestHandle = 5, Timestamp = DateTime.UtcNow }, EndpointUrl = _server.EndpointUrl }));

        // What the server does (OPC 10000-6 §6.7.3): one abort chunk for request 77 with BadRequestTooLarge as soon as
        // the fifth chunk arrives, the rest of request 77 discarded up to its final chunk, the channel kept open.
        var replies = new List<RawConnection.Reply>();
        while (replies.Count == 0 || replies[^1].RequestId != next)
        {
            replies.Add(await raw.ReceiveReplyAsync());
        }

        var forFlooded = replies.Where(r => r.RequestId == flooded).ToList();
        var abort = Assert.Single(forFlooded);
        Assert.Equal(ChunkType.Abort, abort.ChunkType);
        Assert.Equal(StatusCodes.BadRequestTooLarge, abort.AbortStatus?.Code);
        Assert.Contains("MaxChunkCount", abort.AbortReason, StringComparison.Ordinal);

        var response = Assert.IsType<GetEndpointsResponse>(replies[^1].Body);
        Assert.Equal(5u, response.ResponseHeader.RequestHandle);
        Assert.True(response.ResponseHeader.ServiceResult.IsGood, response.ResponseHeader.ServiceResult.ToString());
        Assert.NotEmpty(response.Endpoints ?? []);
        Assert.Equal(2, _server.ConnectionCount);
        await AssertServedAsync();
    }

    [Fact]
    public async Task Chunk_floods_that_never_send_their_final_chunk_are_aborted_16_times_then_the_connection_closed()
    {
        await using (var raw = await RawConnection.ConnectAsync(_server.Port))
        {
            await raw.HelloAsync(_server.EndpointUrl);
            await raw.OpenAsync();

            // Each request goes one chunk past MaxChunkCount and is aborted; the server discards the rest of each up to
            // its final chunk, which never comes. It waits on at most 16 such requests at once.
            var filler = new byte[1024];
            var aborted = new List<uint>();
            ErrorMessage? error = null;
            for (uint id = 200; id < 220 && error is null; id++)
            {
                try
                {
                    for (var i = 0; i <= MaxChunkCount; i++)
                    {
                        await raw.SendAsync(raw.MessageChunk(ChunkType.Intermediate, id, filler));
                    }
                }
                catch (Exception ex) when (ex is IOException or SocketException)
                {
                }

                var reply = await raw.ReceiveAsync() ?? throw new IOException("closed without an Error message");
                if (reply.Header.MessageType == UaMessageType.Error)
                {
                    error = ErrorMessage.Decode(reply.Bytes.AsSpan(ChunkHeader.Size));
                    break;
                }

                Assert.Equal(ChunkType.Abort, reply.Header.ChunkType);
                aborted.Add(SecureChunk.Parse(new RawChunk(reply.Header, reply.Bytes)).RequestId);
            }

            Assert.Equal(Enumerable.Range(200, 16).Select(i => (uint)i), aborted);
            Assert.NotNull(error);
            Assert.Equal(StatusCodes.BadTcpMessageTooLarge, error.Error.Code);
            await raw.ExpectClosedAsync();
        }

        await AssertConnectionCountAsync(1);
        await AssertServedAsync();
    }

    [Fact]
    public async Task Chunk_flood_of_many_requests_at_once_gets_BadTcpNotEnoughResources_and_the_connection_closed()
    {
        await using (var raw = await RawConnection.ConnectAsync(_server.Port))
        {
            await raw.HelloAsync(_server.EndpointUrl);
            await raw.OpenAsync();

            // One intermediate chunk each for 40 requests: within MaxChunkCount per request, but together far past
            // MaxMessageSize (64 KiB). The server must not buffer them all.
            var filler = new byte[BufferSize - RawConnection.MessageHeaderSize];
            try
            {
                for (uint id = 100; id < 140; id++)
                {
                    await raw.SendAsync(raw.MessageChunk(ChunkType.Intermediate, id, filler));
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException)
            {
                // The server closed the connection while we were still sending: also fine.
            }

            await AssertErrorThenClosedAsync(raw, StatusCodes.BadTcpNotEnoughResources);
        }

        await AssertConnectionCountAsync(1);
        await AssertServedAsync();
    }

    [Fact]
    public async Task Chunk_larger_than_the_negotiated_buffer_after_Hello_gets_BadTcpMessageTooLarge()
    {
        await using (var raw = await RawConnection.ConnectAsync(_server.Port))
        {
            await raw.HelloAsync(_server.EndpointUrl);
            await raw.OpenAsync();
            await raw.SendAsync(Header(UaMessageType.Message, ChunkType.Final, BufferSize + 1, 0));
            await AssertErrorThenClosedAsync(raw, StatusCodes.BadTcpMessageTooLarge);
        }

        await AssertConnectionCountAsync(1);
        await AssertServedAsync();
    }

    [Fact]
    public async Task Undecodable_request_body_gets_a_ServiceFault_and_the_channel_stays_open()
    {
        await using var raw = await RawConnection.ConnectAsync(_server.Port);
        await raw.HelloAsync(_server.EndpointUrl);
        await raw.OpenAsync();

        // A type id the decoder does not know, a response type id, and a ReadRequest cut short.
        await raw.SendAsync(raw.MessageChunk(ChunkType.Final, 10, [0x01, 0x00, 0xFF, 0xFF, 0x00, 0x00]));
        await raw.SendAsync(raw.Request(11, new ReadResponse()));
        var read = RawConnection.Body(new ReadRequest { NodesToRead = [new ReadValueId { NodeId = Counter, AttributeId = Attributes.Value }] });
        await raw.SendAsync(raw.MessageChunk(ChunkType.Final, 12, read.AsSpan(0, read.Length - 6)));
        await raw.SendAsync(raw.Request(13, new FindServersRequest { RequestHeader = new RequestHeader { RequestHandle = 9 } }));

        var replies = new Dictionary<uint, IEncodeable?>();
        for (var i = 0; i < 4; i++)
        {
            var reply = await raw.ReceiveReplyAsync();
            replies[reply.RequestId] = reply.Body;
        }

        // An unknown type id is not a service this server has.
        Assert.Equal(StatusCodes.BadServiceUnsupported, Assert.IsType<ServiceFault>(replies[10]).ResponseHeader.ServiceResult.Code);
        Assert.Equal(StatusCodes.BadServiceUnsupported, Assert.IsType<ServiceFault>(replies[11]).ResponseHeader.ServiceResult.Code);
        Assert.Equal(StatusCodes.BadDecodingError, Assert.IsType<ServiceFault>(replies[12]).ResponseHeader.ServiceResult.Code);
        var servers = Assert.IsType<FindServersResponse>(replies[13]);
        Assert.Equal(9u, servers.ResponseHeader.RequestHandle);
        Assert.Equal(2, _server.ConnectionCount);
        await AssertServedAsync();
    }

    // ---- Silent connections ----

    public static TheoryData<string, byte[]> HalfOpenInputs() => new()
    {
        { "nothing at all", [] },
        { "half a header", [(byte)'H', (byte)'E', (byte)'L', (byte)'F'] },
        { "a header without its body", Header(UaMessageType.Hello, ChunkType.Final, 64, 0) },
    };

    [Theory]
    [MemberData(nameof(HalfOpenInputs))]
    public async Task Half_open_connection_is_closed_after_HandshakeTimeout_with_BadTimeout(string what, byte[] bytes)
    {
        _ = what;
        var waited = Stopwatch.StartNew();
        await using (var raw = await RawConnection.ConnectAsync(_server.Port))
        {
            await raw.SendAsync(bytes);
            Assert.Equal("no Hello within 1 s", await AssertErrorThenClosedAsync(raw, StatusCodes.BadTimeout));
        }

        AssertNotBefore(waited, HandshakeTimeout);
        await AssertConnectionCountAsync(1);
        await AssertServedAsync();
    }

    [Fact]
    public async Task Connection_idle_after_Hello_without_OpenSecureChannel_is_closed_with_BadTimeout()
    {
        await using (var raw = await RawConnection.ConnectAsync(_server.Port))
        {
            await raw.HelloAsync(_server.EndpointUrl);
            var waited = Stopwatch.StartNew();
            Assert.Equal("no OpenSecureChannel after Hello", await AssertErrorThenClosedAsync(raw, StatusCodes.BadTimeout));
            AssertNotBefore(waited, HandshakeTimeout);
        }

        await AssertConnectionCountAsync(1);
        await AssertServedAsync();
    }

    [Fact]
    public async Task Channel_idle_without_a_session_is_closed_after_IdleChannelTimeout_with_BadTimeout()
    {
        await using (var raw = await RawConnection.ConnectAsync(_server.Port))
        {
            await raw.HelloAsync(_server.EndpointUrl);
            await raw.OpenAsync();
            var waited = Stopwatch.StartNew();
            Assert.Equal("channel idle for 2 s without a session", await AssertErrorThenClosedAsync(raw, StatusCodes.BadTimeout));
            AssertNotBefore(waited, IdleChannelTimeout);
        }

        await AssertConnectionCountAsync(1);
        await AssertServedAsync();
    }

    // ---- Connection bursts ----

    [Fact]
    public async Task Burst_of_50_connections_past_MaxConnections_gets_BadTcpServerTooBusy_and_every_connection_is_freed()
    {
        const int burst = 50;
        var refusedBefore = _server.Diagnostics.ConnectionsRefused;
        var connections = await Task.WhenAll(Enumerable.Range(0, burst).Select(async _ =>
        {
            var raw = await RawConnection.ConnectAsync(_server.Port);
            try
            {
                // A refused connection may be closed before the Hello is out.
                await raw.SendAsync(new HelloMessage(0, 65535, 65535, 0, 0, _server.EndpointUrl).Encode());
            }
            catch (Exception ex) when (ex is IOException or SocketException)
            {
            }

            return raw;
        }));

        var accepted = 0;
        var refused = 0;
        try
        {
            var first = await Task.WhenAll(connections.Select(c => c.ReceiveAsync()));

            // Every slot is taken (the accepted ones have a second left before their handshake times out).
            Assert.Equal(MaxConnections, _server.ConnectionCount);
            foreach (var (connection, message) in connections.Zip(first))
            {
                Assert.NotNull(message);
                switch (message.Value.Header.MessageType)
                {
                    case UaMessageType.Acknowledge:
                        accepted++;
                        break;
                    case UaMessageType.Error:
                        var error = ErrorMessage.Decode(message.Value.Bytes.AsSpan(ChunkHeader.Size));
                        Assert.Equal(StatusCodes.BadTcpServerTooBusy, error.Error.Code);
                        Assert.Contains("MaxConnections", error.Reason, StringComparison.Ordinal);
                        await connection.ExpectClosedAsync();
                        refused++;
                        break;
                    default:
                        Assert.Fail($"unexpected {message.Value.Header.MessageType}");
                        break;
                }
            }

            // The background session holds one of the MaxConnections.
            Assert.Equal(MaxConnections - 1, accepted);
            Assert.Equal(burst - accepted, refused);
            Assert.Equal(refusedBefore + refused, _server.Diagnostics.ConnectionsRefused);
            await AssertServedAsync();
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }

        await AssertConnectionCountAsync(1);
        await AssertServedAsync();

        // The last connection goes with the client's session: nothing is left.
        await StopReadingAsync();
        await _client!.DisposeAsync();
        _client = null;
        await AssertConnectionCountAsync(0);
        Assert.Equal(0, _server.SessionCount);

        // And the server accepts again.
        await using var again = await RawConnection.ConnectAsync(_server.Port);
        await again.HelloAsync(_server.EndpointUrl);
    }

    // ---- Subscriptions of other users ----

    [Fact]
    public async Task Subscription_left_by_a_closed_session_can_be_transferred_by_its_user_only()
    {
        var options = new OpcUaClientOptions { RequestTimeout = StepTimeout, Identity = UserIdentity.ForUser("operator", "secret1") };
        uint subscriptionId;
        await using (var owner = await OpcUaClient.ConnectAsync(_server.EndpointUrl, options).WaitAsync(StepTimeout))
        {
            var created = await owner.CallAsync<CreateSubscriptionResponse>(new CreateSubscriptionRequest
            {
                RequestedPublishingInterval = 100,
                RequestedLifetimeCount = 6000,
                RequestedMaxKeepAliveCount = 10,
                PublishingEnabled = true,
            });
            subscriptionId = created.SubscriptionId;

            // The session goes as a timed-out one does: its subscription stays for a transfer (OPC 10000-4 §5.13.7).
            var session = _server.Sessions.All.Single(s => s.UserName == "operator");
            _server.Sessions.Close(session, deleteSubscriptions: false, "closed by the test, as on a timeout");
        }

        Assert.Equal(1, _server.SubscriptionCount);

        // Another user (the anonymous background session) may not take it over.
        var stolen = await _client!.CallAsync<TransferSubscriptionsResponse>(new TransferSubscriptionsRequest { SubscriptionIds = [subscriptionId], SendInitialValues = true });
        Assert.Equal(StatusCodes.BadUserAccessDenied, Assert.Single(stolen.Results ?? []).StatusCode.Code);

        // Its own user may.
        await using (var again = await OpcUaClient.ConnectAsync(_server.EndpointUrl, options).WaitAsync(StepTimeout))
        {
            var transferred = await again.CallAsync<TransferSubscriptionsResponse>(new TransferSubscriptionsRequest { SubscriptionIds = [subscriptionId], SendInitialValues = true });
            Assert.Equal(StatusCodes.Good, Assert.Single(transferred.Results ?? []).StatusCode.Code);
        }

        // Closing that session deleted it.
        Assert.Equal(0, _server.SubscriptionCount);
        await AssertServedAsync();
    }

    private static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        new Random(4840).NextBytes(bytes);
        bytes[0] = 0xA5;
        return bytes;
    }

    /// <summary>A message header declaring <paramref name="size"/> bytes, followed by <paramref name="bodyBytes"/> zero bytes.</summary>
    private static byte[] Header(UaMessageType type, ChunkType chunkType, uint size, int bodyBytes)
    {
        var bytes = new byte[ChunkHeader.Size + bodyBytes];
        ChunkHeader.Write(bytes, type, chunkType, size);
        return bytes;
    }

    /// <summary>A UA-TCP client that speaks only what each test scripts, built from the stack's own transport types.</summary>
    private sealed class RawConnection : IAsyncDisposable
    {
        /// <summary>Message header, channel id, token id, sequence number, request id.</summary>
        public const int MessageHeaderSize = ChunkHeader.Size + 16;

        private readonly Socket _socket;
        private readonly NetworkStream _stream;
        private uint _sequence;
        private uint _channelId;
        private uint _tokenId;

        private RawConnection(Socket socket)
        {
            _socket = socket;
            _stream = new NetworkStream(socket, ownsSocket: true);
        }

        public static async Task<RawConnection> ConnectAsync(int port)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                using var timeout = new CancellationTokenSource(StepTimeout);
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), timeout.Token);
                return new RawConnection(socket);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        public async Task SendAsync(ReadOnlyMemory<byte> bytes)
        {
            if (bytes.Length == 0)
            {
                return;
            }

            using var timeout = new CancellationTokenSource(StepTimeout);
            await _stream.WriteAsync(bytes, timeout.Token);
        }

        /// <summary>The next message or chunk the server sends; null when it closed the connection cleanly first.</summary>
        public async Task<(ChunkHeader Header, byte[] Bytes)?> ReceiveAsync()
        {
            using var timeout = new CancellationTokenSource(StepTimeout);
            var header = new byte[ChunkHeader.Size];
            try
            {
                if (!await FillAsync(header, timeout.Token))
                {
                    return null;
                }
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"the server sent nothing within {StepTimeout.TotalSeconds:0} s");
            }

            var parsed = ChunkHeader.Parse(header, 1 << 20);
            var bytes = new byte[parsed.MessageSize];
            header.CopyTo(bytes, 0);
            if (!await FillAsync(bytes.AsMemory(ChunkHeader.Size), timeout.Token))
            {
                throw new IOException("the server closed the connection in the middle of a message");
            }

            return (parsed, bytes);
        }

        private async Task<bool> FillAsync(Memory<byte> buffer, CancellationToken token)
        {
            for (var read = 0; read < buffer.Length;)
            {
                var n = await _stream.ReadAsync(buffer[read..], token);
                if (n == 0)
                {
                    return false;
                }

                read += n;
            }

            return true;
        }

        public async Task<ErrorMessage> ExpectErrorAsync()
        {
            var message = await ReceiveAsync() ?? throw new IOException("the server closed the connection without an Error message");
            Assert.Equal(UaMessageType.Error, message.Header.MessageType);
            return ErrorMessage.Decode(message.Bytes.AsSpan(ChunkHeader.Size));
        }

        /// <summary>The server closes (FIN or RST) within the step timeout and sends nothing more.</summary>
        public async Task ExpectClosedAsync()
        {
            using var timeout = new CancellationTokenSource(StepTimeout);
            var buffer = new byte[256];
            try
            {
                var n = await _stream.ReadAsync(buffer, timeout.Token);
                Assert.True(n == 0, $"the server sent {n} more bytes instead of closing");
            }
            catch (IOException)
            {
                // Reset: closed too.
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"the server did not close the connection within {StepTimeout.TotalSeconds:0} s");
            }
        }

        public async Task<AcknowledgeMessage> HelloAsync(string endpointUrl, uint receiveBufferSize = BufferSize)
        {
            await SendAsync(new HelloMessage(0, receiveBufferSize, BufferSize, 0, 0, endpointUrl).Encode());
            var message = await ReceiveAsync() ?? throw new IOException("closed instead of Acknowledge");
            if (message.Header.MessageType == UaMessageType.Error)
            {
                var error = ErrorMessage.Decode(message.Bytes.AsSpan(ChunkHeader.Size));
                Assert.Fail($"Hello refused: {error.Error}: {error.Reason}");
            }

            Assert.Equal(UaMessageType.Acknowledge, message.Header.MessageType);
            return AcknowledgeMessage.Decode(message.Bytes.AsSpan(ChunkHeader.Size));
        }

        public async Task OpenAsync()
        {
            var request = new OpenSecureChannelRequest
            {
                RequestHeader = new RequestHeader { Timestamp = DateTime.UtcNow, RequestHandle = 1 },
                RequestType = SecurityTokenRequestType.Issue,
                SecurityMode = MessageSecurityMode.None,
                ClientNonce = [],
                RequestedLifetime = 600_000,
            };
            var limits = new TransportLimits { ReceiveBufferSize = BufferSize, MaxChunkCount = 0, MaxMessageSize = 0 };
            using (var open = MessageChunker.Chunk(UaMessageType.OpenSecureChannel, 0, 0, new AsymmetricSecurityHeader(SecurityPolicies.None, null, null), () => ++_sequence, 1, Body(request), limits, isRequest: true))
            {
                await SendAsync(open.All.ToArray());
            }

            var reply = await ReceiveAsync() ?? throw new IOException("closed instead of answering OpenSecureChannel");
            Assert.Equal(UaMessageType.OpenSecureChannel, reply.Header.MessageType);
            var chunk = SecureChunk.Parse(new RawChunk(reply.Header, reply.Bytes));
            var response = Decode(chunk.Body.Span);
            var opened = Assert.IsType<OpenSecureChannelResponse>(response);
            _channelId = opened.SecurityToken.ChannelId;
            _tokenId = opened.SecurityToken.TokenId;
            Assert.NotEqual(0u, _channelId);
        }

        /// <summary>One MSG chunk on the open channel, built by hand so a test can send what no well-behaved client would.</summary>
        public byte[] MessageChunk(ChunkType chunkType, uint requestId, ReadOnlySpan<byte> body)
        {
            var bytes = new byte[MessageHeaderSize + body.Length];
            ChunkHeader.Write(bytes, UaMessageType.Message, chunkType, (uint)bytes.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), _channelId);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), _tokenId);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), ++_sequence);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(20), requestId);
            body.CopyTo(bytes.AsSpan(MessageHeaderSize));
            return bytes;
        }

        /// <summary>A whole request in one final chunk.</summary>
        public byte[] Request(uint requestId, IEncodeable request) => MessageChunk(ChunkType.Final, requestId, Body(request));

        /// <summary>The next MSG reply: a response (decoded) or an abort chunk.</summary>
        public async Task<Reply> ReceiveReplyAsync()
        {
            var message = await ReceiveAsync() ?? throw new IOException("the server closed the channel");
            if (message.Header.MessageType == UaMessageType.Error)
            {
                var error = ErrorMessage.Decode(message.Bytes.AsSpan(ChunkHeader.Size));
                Assert.Fail($"the server closed the channel with {error.Error}: {error.Reason}");
            }

            Assert.Equal(UaMessageType.Message, message.Header.MessageType);
            var chunk = SecureChunk.Parse(new RawChunk(message.Header, message.Bytes));
            Assert.Equal(_channelId, chunk.SecureChannelId);
            if (message.Header.ChunkType == ChunkType.Abort)
            {
                var reader = new UaReader(chunk.Body.Span);
                return new Reply(chunk.RequestId, ChunkType.Abort, null, reader.ReadStatusCode(), reader.ReadString());
            }

            // Our replies here are small: one final chunk each.
            Assert.Equal(ChunkType.Final, message.Header.ChunkType);
            return new Reply(chunk.RequestId, ChunkType.Final, Decode(chunk.Body.Span), null, null);
        }

        public static byte[] Body(IEncodeable message)
        {
            using var writer = new UaWriter(256);
            writer.WriteNodeId(message.BinaryEncodingId);
            message.Encode(writer);
            return writer.ToArray();
        }

        private static IEncodeable Decode(ReadOnlySpan<byte> body)
        {
            var reader = new UaReader(body);
            var typeId = reader.ReadNodeId();
            var message = reader.Factory.Create(typeId) ?? throw new InvalidOperationException($"unknown type {typeId}");
            message.Decode(ref reader);
            return message;
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                _socket.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException)
            {
            }

            await _stream.DisposeAsync();
        }

        public sealed record Reply(uint RequestId, ChunkType ChunkType, IEncodeable? Body, StatusCode? AbortStatus, string? AbortReason);
    }
}
