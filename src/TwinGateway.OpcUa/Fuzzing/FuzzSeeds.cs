using TwinGateway.OpcUa.Channel;
using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Transport;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Fuzzing;

/// <summary>One seed input: a file name for the corpus folder and its bytes.</summary>
internal sealed record FuzzSeed(string Name, byte[] Bytes);

/// <summary>
/// Valid encodings the fuzzers start from. The same seeds are written to <c>fuzz/corpus/</c> (the harness's
/// <c>seed</c> command) and built in code by the in-test mutation run, so neither depends on the other's files.
/// Everything is fixed (timestamps included), so the corpus files are reproducible byte for byte.
/// </summary>
internal static class FuzzSeeds
{
    private static readonly DateTime Timestamp = new(2024, 5, 17, 8, 30, 0, DateTimeKind.Utc);

    /// <summary>UA-TCP byte streams for <see cref="FuzzTargets.ChunkStream"/>.</summary>
    public static IReadOnlyList<FuzzSeed> Chunks()
    {
        var readResponse = Body(ReadResponse());
        var hello = new HelloMessage(0, 65535, 65535, 0, 0, "opc.tcp://localhost:4840/twin").Encode();
        var acknowledge = new AcknowledgeMessage(0, 8192, 8192, 32 * 1024, 4).Encode();
        var openResponse = Chunk(UaMessageType.OpenSecureChannel, 7, 0, 1, 1, Body(OpenResponse()));
        var read = Chunk(UaMessageType.Message, 7, 1, 2, 2, readResponse);
        var publish = Chunk(UaMessageType.Message, 7, 1, 3, 3, Body(PublishResponse()));
        return
        [
            new("hello.bin", hello),
            new("acknowledge.bin", acknowledge),
            new("error.bin", new ErrorMessage(StatusCodes.BadTcpEndpointUrlInvalid, "no endpoint at /twin").Encode()),
            new("open-request.bin", Chunk(UaMessageType.OpenSecureChannel, 0, 0, 1, 1, Body(OpenRequest()))),
            new("open-response.bin", openResponse),
            new("read-response.bin", read),
            // Three chunks: 24 bytes of headers per chunk, so a receive buffer of a third of the body plus 25 splits it.
            new("read-response-3-chunks.bin", Chunk(UaMessageType.Message, 7, 1, 2, 2, readResponse, (uint)((readResponse.Length / 3) + 25))),
            new("publish-response.bin", publish),
            new("abort.bin", MessageChunker.Abort(UaMessageType.Message, 7, 1, 4, 4, StatusCodes.BadResponseTooLarge, "response exceeds MaxMessageSize")),
            new("close.bin", Chunk(UaMessageType.CloseSecureChannel, 7, 1, 5, 5, Body(new CloseSecureChannelRequest { RequestHeader = new RequestHeader { Timestamp = Timestamp } }))),
            new("conversation.bin", [.. acknowledge, .. openResponse, .. read, .. publish]),
        ];
    }

    /// <summary>Service message bodies and bare built-in values for <see cref="FuzzTargets.MessageDecoder"/>.</summary>
    public static IReadOnlyList<FuzzSeed> Messages() =>
    [
        new("read-response.bin", Body(ReadResponse())),
        new("publish-response.bin", Body(PublishResponse())),
        new("open-response.bin", Body(OpenResponse())),
        new("open-request.bin", Body(OpenRequest())),
        new("service-fault.bin", Body(new ServiceFault
        {
            ResponseHeader = new ResponseHeader
            {
                Timestamp = Timestamp,
                RequestHandle = 9,
                ServiceResult = StatusCodes.BadNodeIdUnknown,
                ServiceDiagnostics = new DiagnosticInfo { SymbolicId = 0, AdditionalInfo = "ns=2;s=Line1 is not in the address space" },
                StringTable = ["BadNodeIdUnknown"],
            },
        })),
        new("variant-matrix.bin", Encode(w => w.WriteVariant(Variant.FromMatrix(BuiltInType.Int32, MatrixCells(), [2, 3])))),
        // open62541's vector: Int32 array [255, -1].
        new("variant-int32-array.bin", [0x86, 0x02, 0x00, 0x00, 0x00, 0xFF, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF]),
        new("variant-string-array.bin", Encode(w => w.WriteVariant(Variant.FromArray(BuiltInType.String, new string?[] { "PLT", null, "" })))),
        new("variant-mixed-array.bin", Encode(w => w.WriteVariant(Variant.FromArray(BuiltInType.Variant, new Variant[]
        {
            new(new DataValue(21.5, Timestamp)),
            new(new LocalizedText("en", "Line 1")),
            new(new QualifiedName(2, "Speed")),
            new(new ExpandedNodeId(new NodeId("PLT", 1), "urn:twin", 1)),
            new(new Guid("72962B91-FA75-4AE6-8D28-B404DC7DAF63")),
            new(new ExtensionObject(ReadValueId())),
            Variant.FromByteString([1, 2, 3]),
        })))),
        new("datavalue.bin", Encode(w => w.WriteDataValue(new DataValue(new Variant(-6.5), StatusCodes.UncertainLastUsableValue, Timestamp, Timestamp, 10, 20)))),
        new("extension-object.bin", Encode(w => w.WriteExtensionObject(new ExtensionObject(ReadValueId())))),
        new("diagnostic-info.bin", Encode(w => w.WriteDiagnosticInfo(new DiagnosticInfo
        {
            SymbolicId = 1,
            NamespaceUri = 2,
            Locale = 3,
            LocalizedText = 4,
            AdditionalInfo = "outer",
            InnerStatusCode = StatusCodes.BadTimeout,
            InnerDiagnosticInfo = new DiagnosticInfo { AdditionalInfo = "inner", InnerStatusCode = StatusCodes.BadInternalError },
        }))),
    ];

    private static int[] MatrixCells() => [1, 2, 3, 4, 5, 6];

    private static double[] Doubles() => [1.0, 2.0, 3.0];

    private static ReadValueId ReadValueId() => new()
    {
        NodeId = new NodeId("Line1.Speed", 2),
        AttributeId = 13,
        IndexRange = "1:2",
        DataEncoding = new QualifiedName(0, "Default Binary"),
    };

    private static ReadResponse ReadResponse() => new()
    {
        ResponseHeader = new ResponseHeader { Timestamp = Timestamp, RequestHandle = 2 },
        Results =
        [
            new DataValue(new Variant(21.5), StatusCodes.Good, Timestamp, Timestamp),
            new DataValue(new Variant("running")),
            new DataValue(default, StatusCodes.BadNodeIdUnknown),
            new DataValue(Variant.FromArray(BuiltInType.Double, Doubles()), StatusCodes.Good, Timestamp),
        ],
        DiagnosticInfos = [],
    };

    private static PublishResponse PublishResponse() => new()
    {
        ResponseHeader = new ResponseHeader { Timestamp = Timestamp, RequestHandle = 3 },
        SubscriptionId = 1,
        AvailableSequenceNumbers = [41, 42],
        MoreNotifications = false,
        NotificationMessage = new NotificationMessage
        {
            SequenceNumber = 42,
            PublishTime = Timestamp,
            NotificationData =
            [
                new ExtensionObject(new DataChangeNotification
                {
                    MonitoredItems =
                    [
                        new MonitoredItemNotification { ClientHandle = 1, Value = new DataValue(21.5, Timestamp) },
                        new MonitoredItemNotification { ClientHandle = 2, Value = new DataValue(new Variant(7), StatusCodes.Good, Timestamp) },
                    ],
                    DiagnosticInfos = [],
                }),
                new ExtensionObject(new EventNotificationList
                {
                    Events = [new EventFieldList { ClientHandle = 3, EventFields = [new Variant("overheat"), new Variant(500)] }],
                }),
                new ExtensionObject(new StatusChangeNotification { Status = StatusCodes.GoodShutdownEvent }),
            ],
        },
        Results = [StatusCodes.Good, StatusCodes.BadSequenceNumberUnknown],
        DiagnosticInfos = [],
    };

    private static OpenSecureChannelRequest OpenRequest() => new()
    {
        RequestHeader = new RequestHeader { Timestamp = Timestamp, TimeoutHint = 10_000 },
        ClientProtocolVersion = 0,
        RequestType = SecurityTokenRequestType.Issue,
        SecurityMode = MessageSecurityMode.None,
        ClientNonce = [],
        RequestedLifetime = 600_000,
    };

    private static OpenSecureChannelResponse OpenResponse() => new()
    {
        ResponseHeader = new ResponseHeader { Timestamp = Timestamp, RequestHandle = 1 },
        ServerProtocolVersion = 0,
        SecurityToken = new ChannelSecurityToken { ChannelId = 7, TokenId = 1, CreatedAt = Timestamp, RevisedLifetime = 600_000 },
        ServerNonce = [],
    };

    /// <summary>A message body as it travels: the type's binary encoding id, then the structure.</summary>
    public static byte[] Body(IEncodeable message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return Encode(w =>
        {
            w.WriteNodeId(message.BinaryEncodingId);
            message.Encode(w);
        });
    }

    /// <summary>The chunks of one message, back to back, with SecurityPolicy None headers.</summary>
    public static byte[] Chunk(UaMessageType type, uint channelId, uint tokenId, uint firstSequenceNumber, uint requestId, byte[] body, uint receiveBufferSize = 65535)
    {
        var sequence = firstSequenceNumber;
        var asymmetric = type == UaMessageType.OpenSecureChannel ? new AsymmetricSecurityHeader(SecurityPolicies.None, null, null) : null;
        var limits = new TransportLimits { ReceiveBufferSize = receiveBufferSize, MaxChunkCount = 0, MaxMessageSize = 0 };
        using var message = MessageChunker.Chunk(type, channelId, tokenId, asymmetric, () => sequence++, requestId, body, limits, isRequest: false);
        return message.All.ToArray();
    }

    private static byte[] Encode(Action<UaWriter> write)
    {
        using var writer = new UaWriter(256);
        write(writer);
        return writer.ToArray();
    }
}
