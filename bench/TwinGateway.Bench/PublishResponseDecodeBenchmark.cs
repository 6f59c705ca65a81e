using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.Bench;

/// <summary>
/// Decoding one PublishResponse that carries 1,000 data changes, the hot path of a subscription (issue 2's target:
/// at least 20 million DataValues/s on one core, and no allocation per DataValue beyond the
/// MonitoredItemNotification handed out).
/// </summary>
/// <remarks>
/// The bytes are exactly what <c>ClientSecureChannel</c> hands its decoder: the NodeId of PublishResponse's binary
/// encoding (i=829), then the encoded PublishResponse. Each notification is the realistic shape of a sampled Double:
/// value, status Good (omitted from the mask), source and server timestamps (20 bytes of DataValue, 24 with the client
/// handle). <see cref="BenchmarkDotNet.Attributes.BenchmarkAttribute.OperationsPerInvoke"/> is 1,000, so the Mean
/// column reads as ns per DataValue and the Allocated column as bytes per DataValue.
/// </remarks>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 8)]
[Config(typeof(Config))]
public class PublishResponseDecodeBenchmark
{
    public const int Notifications = 1000;

    private byte[] _publishResponseBody = [];
    private byte[] _dataValues = [];

    [GlobalSetup]
    public void Setup()
    {
        _publishResponseBody = BuildPublishResponseBody(Notifications);
        _dataValues = BuildConcatenatedDataValues(Notifications);

        // Fail fast if the bytes are not what the benchmark claims to decode.
        var decoded = (PublishResponse)DecodeResponse();
        var change = (DataChangeNotification)decoded.NotificationMessage.NotificationData![0].Body!;
        if (change.MonitoredItems!.Length != Notifications || ReadDataValues() == 0)
        {
            throw new InvalidOperationException("the benchmark's PublishResponse did not decode to 1,000 notifications");
        }
    }

    /// <summary>The whole response, the way <c>ClientSecureChannel.Dispatch</c> decodes it.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Notifications)]
    public object DecodePublishResponse() => DecodeResponse();

    /// <summary>Lower bound: only the 1,000 DataValues, back to back, with nothing allocated.</summary>
    [Benchmark(OperationsPerInvoke = Notifications)]
    public long ReadDataValues()
    {
        var reader = new UaReader(_dataValues);
        long checksum = 0;
        for (var i = 0; i < Notifications; i++)
        {
            var value = reader.ReadDataValue();
            checksum += value.SourceTimestamp.Ticks + value.ServerTimestamp.Ticks + (long)value.Value.Type;
        }

        return checksum;
    }

    private IEncodeable DecodeResponse()
    {
        var reader = new UaReader(_publishResponseBody, EncodingLimits.Default);
        var typeId = reader.ReadNodeId();
        var response = reader.Factory.Create(typeId)
            ?? throw new InvalidOperationException($"unknown response type {typeId}");
        response.Decode(ref reader);
        return response;
    }

    /// <summary>NodeId i=829 then a PublishResponse with one NotificationMessage holding one DataChangeNotification.</summary>
    internal static byte[] BuildPublishResponseBody(int notifications)
    {
        var start = new DateTime(2025, 6, 1, 8, 0, 0, DateTimeKind.Utc);
        var items = new MonitoredItemNotification[notifications];
        for (var i = 0; i < notifications; i++)
        {
            items[i] = new MonitoredItemNotification { ClientHandle = (uint)(i + 1), Value = Sample(i, start) };
        }

        var response = new PublishResponse
        {
            ResponseHeader = new ResponseHeader { Timestamp = start.AddMilliseconds(2), RequestHandle = 4711, ServiceResult = StatusCodes.Good },
            SubscriptionId = 7,
            AvailableSequenceNumbers = [42],
            MoreNotifications = false,
            NotificationMessage = new NotificationMessage
            {
                SequenceNumber = 42,
                PublishTime = start.AddMilliseconds(1),
                NotificationData = [new ExtensionObject(new DataChangeNotification { MonitoredItems = items })],
            },
            Results = [new StatusCode(StatusCodes.Good)],
        };

        using var writer = new UaWriter(64 * 1024);
        writer.WriteNodeId(PublishResponse.BinaryEncodingNodeId);
        response.Encode(writer);
        return writer.ToArray();
    }

    internal static byte[] BuildConcatenatedDataValues(int count)
    {
        var start = new DateTime(2025, 6, 1, 8, 0, 0, DateTimeKind.Utc);
        using var writer = new UaWriter(32 * count);
        for (var i = 0; i < count; i++)
        {
            writer.WriteDataValue(Sample(i, start));
        }

        return writer.ToArray();
    }

    /// <summary>Value, status Good (not on the wire), source timestamp, server timestamp a little later.</summary>
    private static DataValue Sample(int i, DateTime start) =>
        new(new Variant(i + 0.25), StatusCodes.Good, start.AddTicks(i * 10), start.AddTicks((i * 10) + 5_000));

    /// <summary>Adds a DataValues/s column: 1e9 / (ns per DataValue).</summary>
    private sealed class Config : ManualConfig
    {
        public Config() => AddColumn(new DataValuesPerSecondColumn());
    }

    private sealed class DataValuesPerSecondColumn : IColumn
    {
        public string Id => nameof(DataValuesPerSecondColumn);

        public string ColumnName => "DataValues/s";

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => 0;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => "DataValues decoded per second on one core: 1e9 / Mean (Mean is ns per DataValue)";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
            return mean is > 0 ? $"{1e9 / mean.Value / 1e6:N1} M" : "?";
        }

        public bool IsAvailable(Summary summary) => true;

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    }
}
