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
internal static class FuzzTargets
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

    /// <summary>
    /// Decodes <paramref name="data"/> as a request body our server received, the way <c>ServerConnection.HandleRequest</c>
    /// does: the type id, the instance <see cref="EncodeableFactory.Default"/> makes for it, which must be a service
    /// request (anything else is refused with BadServiceUnsupported, as the server answers it), then the structure, with
    /// <see cref="MessageLimits"/>. A request that decodes is encoded again; decoding that encoding and encoding once
    /// more must give the same bytes (an encoder that writes what its decoder reads differently is a bug too).
    /// </summary>
    public static void ServerRequest(ReadOnlySpan<byte> data)
    {
        if (data.Length > MessageLimits.MaxMessageSize)
        {
            // What the server's assembler does before any decoder sees the body.
            throw new ServiceResultException(StatusCodes.BadEncodingLimitsExceeded,
                $"request of {data.Length} bytes exceeds MaxMessageSize of {MessageLimits.MaxMessageSize}");
        }

        var request = DecodeRequest(data);
        using var first = new UaWriter(256, MessageLimits);
        first.WriteNodeId(request.BinaryEncodingId);
        request.Encode(first);

        var again = DecodeRequest(first.WrittenSpan);
        using var second = new UaWriter(256, MessageLimits);
        second.WriteNodeId(again.BinaryEncodingId);
        again.Encode(second);
        if (!first.WrittenSpan.SequenceEqual(second.WrittenSpan))
        {
            throw new InvalidOperationException(
                $"{request.GetType().Name} does not survive a round trip: {Convert.ToHexString(first.WrittenSpan)} became {Convert.ToHexString(second.WrittenSpan)}");
        }
    }

    private static IServiceRequest DecodeRequest(ReadOnlySpan<byte> body)
    {
        var reader = new UaReader(body, MessageLimits);
        var typeId = reader.ReadNodeId();
        if (reader.Factory.Create(typeId) is not IServiceRequest request)
        {
            throw new ServiceResultException(StatusCodes.BadServiceUnsupported, $"type {typeId} is not a service request");
        }

        request.Decode(ref reader);
        return request;
    }

    /// <summary>
    /// Seeds for <see cref="ServerRequest"/> (<c>fuzz/corpus/requests</c>): the requests a client sends our server over a
    /// session's life, each with the structures that nest deepest (identity token, filter, variants, browse paths).
    /// </summary>
    public static IReadOnlyList<FuzzSeed> ServerRequestSeeds()
    {
        var timestamp = new DateTime(2024, 5, 17, 8, 30, 0, DateTimeKind.Utc);
        RequestHeader Header(uint handle) => new()
        {
            AuthenticationToken = new NodeId(new byte[] { 1, 2, 3, 4 }, 0),
            Timestamp = timestamp,
            RequestHandle = handle,
            TimeoutHint = 10_000,
        };
        var counter = new NodeId("Test.Counter", 1);
        IEncodeable[] requests =
        [
            new CreateSessionRequest
            {
                RequestHeader = Header(1),
                ClientDescription = new ApplicationDescription { ApplicationUri = "urn:fuzz:client", ApplicationName = new LocalizedText("en", "fuzz"), ApplicationType = ApplicationType.Client },
                EndpointUrl = "opc.tcp://127.0.0.1:4840",
                SessionName = "fuzz",
                ClientNonce = new byte[32],
                RequestedSessionTimeout = 60_000,
                MaxResponseMessageSize = 1 << 20,
            },
            new ActivateSessionRequest
            {
                RequestHeader = Header(2),
                LocaleIds = ["en"],
                UserIdentityToken = new ExtensionObject(new UserNameIdentityToken { PolicyId = "username", UserName = "operator", Password = "secret1"u8.ToArray() }),
            },
            new ReadRequest
            {
                RequestHeader = Header(3),
                TimestampsToReturn = TimestampsToReturn.Both,
                NodesToRead = [new ReadValueId { NodeId = counter, AttributeId = Attributes.Value }, new ReadValueId { NodeId = new NodeId(2258), AttributeId = Attributes.Value, IndexRange = "0:1" }],
            },
            new WriteRequest
            {
                RequestHeader = Header(4),
                NodesToWrite =
                [
                    new WriteValue { NodeId = new NodeId("Test.Writable.Double", 1), AttributeId = Attributes.Value, Value = new DataValue(new Variant(12.5), StatusCodes.Good, timestamp) },
                    new WriteValue { NodeId = new NodeId("Test.Writable.Int32Array", 1), AttributeId = Attributes.Value, Value = new DataValue(Variant.FromArray(BuiltInType.Int32, new[] { 1, 2, 3 })) },
                ],
            },
            new BrowseRequest
            {
                RequestHeader = Header(5),
                RequestedMaxReferencesPerNode = 100,
                NodesToBrowse = [new BrowseDescription { NodeId = new NodeId(85), BrowseDirection = BrowseDirection.Forward, ReferenceTypeId = new NodeId(33), IncludeSubtypes = true, ResultMask = 63 }],
            },
            new BrowseNextRequest { RequestHeader = Header(6), ContinuationPoints = [new byte[16]] },
            new TranslateBrowsePathsToNodeIdsRequest
            {
                RequestHeader = Header(7),
                BrowsePaths =
                [
                    new BrowsePath
                    {
                        StartingNode = new NodeId(85),
                        RelativePath = new RelativePath { Elements = [new RelativePathElement { ReferenceTypeId = new NodeId(33), IncludeSubtypes = true, TargetName = new QualifiedName(1, "Test") }] },
                    },
                ],
            },
            new CallRequest
            {
                RequestHeader = Header(8),
                MethodsToCall = [new CallMethodRequest { ObjectId = new NodeId("Test.Methods", 1), MethodId = new NodeId("Test.Methods.Add", 1), InputArguments = [new Variant(2.0), new Variant("three")] }],
            },
            new CreateSubscriptionRequest { RequestHeader = Header(9), RequestedPublishingInterval = 100, RequestedLifetimeCount = 600, RequestedMaxKeepAliveCount = 10, PublishingEnabled = true },
            new CreateMonitoredItemsRequest
            {
                RequestHeader = Header(10),
                SubscriptionId = 1,
                TimestampsToReturn = TimestampsToReturn.Both,
                ItemsToCreate =
                [
                    new MonitoredItemCreateRequest
                    {
                        ItemToMonitor = new ReadValueId { NodeId = counter, AttributeId = Attributes.Value },
                        MonitoringMode = MonitoringMode.Reporting,
                        RequestedParameters = new MonitoringParameters
                        {
                            ClientHandle = 1,
                            SamplingInterval = 50,
                            QueueSize = 10,
                            DiscardOldest = true,
                            Filter = new ExtensionObject(new DataChangeFilter { Trigger = DataChangeTrigger.StatusValue, DeadbandType = 1, DeadbandValue = 0.5 }),
                        },
                    },
                ],
            },
            new PublishRequest { RequestHeader = Header(11), SubscriptionAcknowledgements = [new SubscriptionAcknowledgement { SubscriptionId = 1, SequenceNumber = 7 }] },
            new RepublishRequest { RequestHeader = Header(12), SubscriptionId = 1, RetransmitSequenceNumber = 6 },
            new TransferSubscriptionsRequest { RequestHeader = Header(13), SubscriptionIds = [1, 2], SendInitialValues = true },
            new DeleteSubscriptionsRequest { RequestHeader = Header(14), SubscriptionIds = [1] },
            new CloseSessionRequest { RequestHeader = Header(15), DeleteSubscriptions = true },
        ];
        return [.. requests.Select(r => new FuzzSeed(SeedName(r), FuzzSeeds.Body(r)))];
    }

    private static string SeedName(IEncodeable request)
    {
        var name = request.GetType().Name.Replace("Request", "", StringComparison.Ordinal);
        var kebab = new System.Text.StringBuilder(name.Length + 8);
        foreach (var c in name)
        {
            if (char.IsUpper(c) && kebab.Length > 0)
            {
                kebab.Append('-');
            }

            kebab.Append(char.ToLowerInvariant(c));
        }

        return kebab.Append(".bin").ToString();
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
