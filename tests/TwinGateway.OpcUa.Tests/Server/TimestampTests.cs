using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Server;
using TwinGateway.OpcUa.Server.Demo;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Tests.Server;

/// <summary>
/// A value's SourceTimestamp is never later than its ServerTimestamp (found by open62541 1.5: CurrentTime and
/// ServerStatus came back with a source time a few microseconds after the server time). The server runs on a clock
/// that moves one microsecond at every reading and stands years behind the wall clock, so a second reading, or a
/// value stamped by the wall clock, shows as a later source time on every run.
/// </summary>
public sealed class TimestampTests : IAsyncLifetime
{
    private readonly SteppingClock _clock = new(new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private UaServer _server = null!;
    private DemoNodes _nodes = null!;
    private OpcUaClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = new UaServer(new UaServerOptions { Port = 0 }, _clock);
        _nodes = DemoNodes.Add(_server, scaleCount: 0, interopTestFolder: true);
        await _server.StartAsync();
        _client = await OpcUaClient.ConnectAsync(_server.EndpointUrl);
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _nodes.DisposeAsync();
        await _server.DisposeAsync();
    }

    private static void AssertOrdered(NodeId node, DataValue value)
    {
        Assert.True(value.StatusCode.IsGood, $"{node}: {value.StatusCode.Name}");
        Assert.NotEqual(default, value.ServerTimestamp);
        Assert.True(value.SourceTimestamp <= value.ServerTimestamp,
            $"{node}: source {value.SourceTimestamp:O} is after server {value.ServerTimestamp:O}");
    }

    [Fact]
    public async Task CurrentTime_is_one_clock_reading_used_for_its_value_and_both_timestamps()
    {
        var value = (await _client.ReadValuesAsync([new NodeId(2258)]))[0];

        AssertOrdered(new NodeId(2258), value);
        Assert.Equal(value.ServerTimestamp, value.SourceTimestamp);
        Assert.Equal(value.ServerTimestamp, (DateTime)value.Value.Value!);
    }

    [Fact]
    public async Task ServerStatus_carries_the_read_time_as_its_CurrentTime_and_source_time()
    {
        var value = (await _client.ReadValuesAsync([new NodeId(2256)]))[0];

        AssertOrdered(new NodeId(2256), value);
        var status = Assert.IsType<ServerStatusDataType>(Assert.IsType<ExtensionObject>(value.Value.Value).Body);
        Assert.Equal(value.ServerTimestamp, status.CurrentTime);
        Assert.Equal(value.ServerTimestamp, value.SourceTimestamp);
    }

    [Fact]
    public async Task Every_variable_of_the_Server_object_and_the_test_folder_has_its_source_time_at_or_before_the_server_time()
    {
        var nodes = (await _client.BrowseTreeAsync(new NodeId(ObjectIds.Server), 4))
            .Concat(await _client.BrowseTreeAsync(new NodeId("Test", 1), 1))
            .Where(r => r.Reference.NodeClass == NodeClass.Variable)
            .Select(r => r.Reference.NodeId.NodeId)
            .Distinct()
            .ToArray();

        var values = await _client.ReadValuesAsync(nodes);

        Assert.True(nodes.Length > 20, $"only {nodes.Length} variables found");
        for (var i = 0; i < nodes.Length; i++)
        {
            AssertOrdered(nodes[i], values[i]);
        }
    }

    [Fact]
    public async Task A_value_written_with_a_source_time_ahead_of_the_server_is_read_back_no_later_than_the_server_time()
    {
        var node = new NodeId("Test.Writable.Double", 1);
        var ahead = _clock.GetUtcNow().UtcDateTime.AddHours(1);
        var status = await _client.WriteAsync([new WriteValue { NodeId = node, AttributeId = Attributes.Value, Value = new DataValue(new Variant(7.0), StatusCodes.Good, ahead) }]);

        var value = (await _client.ReadValuesAsync([node]))[0];

        Assert.True(status[0].IsGood, status[0].Name);
        Assert.Equal(7.0, value.Value.ToDouble());
        AssertOrdered(node, value);
    }

    [Fact]
    public async Task Sampled_values_of_CurrentTime_carry_the_sample_time_as_both_timestamps()
    {
        var subscription = await _client.CreateSubscriptionAsync(new SubscriptionOptions { PublishingInterval = TimeSpan.FromMilliseconds(50) });
        await subscription.AddItemsAsync([new MonitoredItemOptions(new NodeId(2258)) { SamplingInterval = TimeSpan.FromMilliseconds(50) }]);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        var received = new List<DataValue>();
        await foreach (var e in subscription.Events.ReadAllAsync(cts.Token))
        {
            if (e is DataChangeBatch batch)
            {
                received.AddRange(batch.Values.Select(v => v.Value));
                if (received.Count >= 3)
                {
                    break;
                }
            }
        }

        Assert.All(received, v => AssertOrdered(new NodeId(2258), v));
    }

    /// <summary>A wall clock that starts at a fixed instant and moves one microsecond at every reading; timers run on real time.</summary>
    private sealed class SteppingClock(DateTimeOffset start) : TimeProvider
    {
        private readonly Lock _sync = new();
        private DateTimeOffset _now = start;

        public override DateTimeOffset GetUtcNow()
        {
            lock (_sync)
            {
                _now = _now.AddTicks(10);
                return _now;
            }
        }
    }
}
