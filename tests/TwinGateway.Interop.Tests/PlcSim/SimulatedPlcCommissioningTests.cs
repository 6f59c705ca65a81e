using TwinGateway.Core.Lines;
using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Server.AddressSpace;
using TwinGateway.OpcUa.Types;
using TwinGateway.PlcSim;
using TwinGateway.Simulation;

namespace TwinGateway.Interop.Tests.PlcSim;

/// <summary>
/// What the commissioning gate does to the simulated PLC over OPC UA: teach a robot pose, reset a station's counters,
/// write setpoints (also outside their nominal range), through our client against the real server on a free port.
/// </summary>
public sealed class SimulatedPlcCommissioningTests(SimulatedPlcFixture fixture) : IClassFixture<SimulatedPlcFixture>, IAsyncLifetime
{
    private static readonly double[] PickBuffer = [-60, -45, 70, 0, 65, -60];
    private readonly TestLog _clientLog = new();
    private OpcUaClient _client = null!;

    private SimulatedPlc Plc => fixture.Plc;

    private static LineDefinition Line => SimulatedPlcFixture.Line;

    private static NodeId Node(string signalId) => NodeId.Parse(Line.FindSignal(signalId)!.NodeId);

    private static NodeId Pose(string robot, string position) => NodeId.Parse(Line.FindRobot(robot)!.Positions.Single(p => p.Name == position).NodeId!);

    public async Task InitializeAsync() => _client = await OpcUaClient.ConnectAsync(Plc.EndpointUrl, logger: _clientLog);

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        _clientLog.Dispose();
        fixture.Log.AssertNoErrors();
    }

    [Fact]
    public async Task Every_robot_position_is_a_writable_double_array_of_its_joints()
    {
        var positions = Line.Robots.SelectMany(r => r.Positions.Select(p => (Robot: r, Position: p))).ToList();
        var requests = positions.SelectMany(x => new[] { Attributes.Value, Attributes.DataType, Attributes.ValueRank, Attributes.ArrayDimensions, Attributes.AccessLevel }
            .Select(a => new ReadValueId { NodeId = NodeId.Parse(x.Position.NodeId!), AttributeId = a })).ToList();

        var results = await _client.ReadAsync(requests);

        for (var i = 0; i < positions.Count; i++)
        {
            var (robot, position) = positions[i];
            var (value, dataType, rank, dimensions, access) = (results[5 * i], results[(5 * i) + 1], results[(5 * i) + 2], results[(5 * i) + 3], results[(5 * i) + 4]);
            Assert.True(value.StatusCode.IsGood, $"{position.NodeId}: {value.StatusCode}");
            Assert.Equal(position.Joints.ToArray(), (double[])value.Value.ArrayValue!);
            Assert.Equal(new NodeId(DataTypeIds.Double), (NodeId)dataType.Value.Value!);
            Assert.Equal(1, rank.Value.ToDouble());
            Assert.Equal([(uint)robot.Axes.Length], (uint[])dimensions.Value.ArrayValue!);
            Assert.NotEqual(0, (byte)access.Value.Value! & (byte)AccessLevels.CurrentWrite);
        }

        var paths = await _client.TranslateBrowsePathsAsync([OpcUaClient.MakeBrowsePath(new NodeId(ObjectIds.ObjectsFolder),
            new QualifiedName(1, "DemoLine"), new QualifiedName(1, "robot1"), new QualifiedName(1, "positions"), new QualifiedName(1, "pickBuffer"))]);
        Assert.Equal(Pose("robot1", "pickBuffer"), Assert.Single(paths[0].Targets!).TargetId.NodeId);
    }

    [Fact]
    public async Task A_pose_write_within_the_limits_teaches_the_twin()
    {
        var node = Pose("robot1", "pickBuffer");
        double[] taught = [-70, -50, 75, 5, 60, -65];
        try
        {
            var status = await _client.WriteValueAsync(node, Variant.FromArray(BuiltInType.Double, taught));

            Assert.True(status.IsGood, status.Name);
            Assert.Equal(taught, (double[])(await _client.ReadValuesAsync([node]))[0].Value.ArrayValue!);
            Assert.Equal(taught, Plc.Inspect(t => t.Line.FindRobot("robot1")!.Positions[1].Joints.ToArray()));
            Assert.True(fixture.Log.Contains("pickBuffer taught"));
        }
        finally
        {
            Assert.True((await _client.WriteValueAsync(node, Variant.FromArray(BuiltInType.Double, PickBuffer))).IsGood);
        }
    }

    [Fact]
    public async Task A_pose_of_the_wrong_length_type_or_outside_the_limits_is_refused_and_changes_nothing()
    {
        var node = Pose("robot1", "pickBuffer");

        var tooShort = await _client.WriteValueAsync(node, Variant.FromArray(BuiltInType.Double, new double[] { -60, -45, 70 }));
        var tooLong = await _client.WriteValueAsync(node, Variant.FromArray(BuiltInType.Double, new double[] { -60, -45, 70, 0, 65, -60, 0 }));
        var outside = await _client.WriteValueAsync(node, Variant.FromArray(BuiltInType.Double, new double[] { -60, 25, 70, 0, 65, -60 }));
        var floats = await _client.WriteValueAsync(node, Variant.FromArray(BuiltInType.Float, new float[] { -60, -45, 70, 0, 65, -60 }));
        var scalar = await _client.WriteValueAsync(node, new Variant(-60.0));

        Assert.Equal("BadOutOfRange", tooShort.Name);
        Assert.Equal("BadOutOfRange", tooLong.Name);
        Assert.Equal("BadOutOfRange", outside.Name);
        Assert.Equal("BadTypeMismatch", floats.Name);
        Assert.Equal("BadTypeMismatch", scalar.Name);
        Assert.Equal(PickBuffer, (double[])(await _client.ReadValuesAsync([node]))[0].Value.ArrayValue!);
        Assert.Equal(PickBuffer, Plc.Inspect(t => t.Line.FindRobot("robot1")!.Positions[1].Joints.ToArray()));
        Assert.True(fixture.Log.Contains("outside axis 'a2' limits -130 to 20"));
        Assert.True(fixture.Log.Contains("takes 6 joint values, one per axis; 3 given"));
    }

    [Fact]
    public async Task Setpoints_take_values_outside_their_nominal_range_and_outputs_refuse_writes()
    {
        try
        {
            // line.speedOverride's nominal range is 0 to 100 %; the PLC takes 120 and the twin scales by it.
            var above = await _client.WriteValueAsync(Node("line.speedOverride"), new Variant(120.0));
            var output = await _client.WriteValueAsync(Node("cnc1.partsProduced"), new Variant(0));
            var state = await _client.WriteValueAsync(Node("robot1.a1Position"), new Variant(0.0));

            Assert.True(above.IsGood, above.Name);
            Assert.Equal("BadNotWritable", output.Name);
            Assert.Equal("BadNotWritable", state.Name);
            Assert.Equal(120.0, (await _client.ReadValuesAsync([Node("line.speedOverride")]))[0].Value.ToDouble());
            Assert.Equal(120.0, Plc.Inspect(t => t.GetValue("line.speedOverride")));
            Assert.Equal(100.0 / 120, Plc.Inspect(t => t.GetCycleTimeFactor("assembly")), 12);
        }
        finally
        {
            Assert.True((await _client.WriteValueAsync(Node("line.speedOverride"), new Variant(100.0))).IsGood);
        }

        Assert.Equal(1.0, Plc.Inspect(t => t.GetCycleTimeFactor("assembly")));
    }

    [Fact]
    public async Task Every_station_is_an_object_with_a_ResetCounters_method()
    {
        foreach (var station in Line.Stations)
        {
            var stationId = new NodeId($"DemoLine.{station.Id}", 1);
            var nodeClass = await _client.ReadAttributeAsync(stationId, Attributes.NodeClass);
            Assert.Equal((int)NodeClass.Object, (int)nodeClass.Value.ToDouble());

            var components = await _client.BrowseAsync(stationId, BrowseDirection.Forward, new NodeId(ReferenceTypeIds.HasComponent));
            var method = Assert.Single(components, r => r.NodeClass == NodeClass.Method);
            Assert.Equal(new NodeId($"DemoLine.{station.Id}.ResetCounters", 1), method.NodeId.NodeId);
            Assert.Equal("ResetCounters", method.BrowseName.Name);
        }

        // A method is called on the object it belongs to.
        var wrongObject = await _client.CallMethodAsync(new NodeId("DemoLine.cnc2", 1), new NodeId("DemoLine.cnc1.ResetCounters", 1));
        Assert.Equal("BadMethodInvalid", wrongObject.StatusCode.Name);
    }

    [Fact]
    public async Task ResetCounters_zeroes_the_stations_counters_in_the_plc()
    {
        // Started 30 simulated minutes in the past, the PLC catches up a minute a tick, so parts have passed inspection within seconds.
        var port = FreePort.Next();
        using var log = new TestLog();
        await using var plc = new SimulatedPlc(Line, new SimulatedPlcOptions { Port = port, Seed = 21 }, new BackdatedStart(TimeSpan.FromMinutes(30)), log);
        await plc.StartAsync();
        await using var client = await OpcUaClient.ConnectAsync(plc.EndpointUrl);
        var counters = new[] { Node("inspection.partsProduced"), Node("inspection.partsGood"), Node("cnc1.partsProduced") };
        await WaitFor(async () => (await client.ReadValuesAsync(counters))[0].Value.ToDouble() > 10, TimeSpan.FromSeconds(20), "inspection never passed 10 parts");
        await WaitFor(() => Task.FromResult(plc.Inspect(t => t.SimTime) > DateTime.UtcNow.AddSeconds(-30)), TimeSpan.FromSeconds(20), "the PLC never caught up with the clock");
        var cnc1 = plc.Inspect(t => t.GetStationProduced("cnc1"));
        var parts = plc.Inspect(t => t.PartsProduced);

        var reset = await client.CallMethodAsync(new NodeId("DemoLine.inspection", 1), new NodeId("DemoLine.inspection.ResetCounters", 1));

        Assert.True(reset.StatusCode.IsGood, reset.StatusCode.Name);
        Assert.Empty(reset.OutputArguments ?? []);
        Assert.InRange(plc.Inspect(t => t.GetStationProduced("inspection")), 0, 1);
        await WaitFor(async () => (await client.ReadValuesAsync(counters))[0].Value.ToDouble() <= 1, TimeSpan.FromSeconds(5), "inspection.partsProduced kept its count");
        var values = await client.ReadValuesAsync(counters);
        Assert.InRange(values[1].Value.ToDouble(), 0, 1);
        Assert.True(values[2].Value.ToDouble() >= cnc1, "cnc1's counter was reset with inspection's");
        Assert.True(plc.Inspect(t => t.PartsProduced) >= parts, "the line's throughput counter went back");
        Assert.True(log.Contains("counters of station inspection reset"));
        log.AssertNoErrors();
    }

    private static async Task WaitFor(Func<Task<bool>> condition, TimeSpan timeout, string message)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, message);
            await Task.Delay(50);
        }
    }

    /// <summary>The system clock, but its first reading (the PLC twin's start) lies <paramref name="back"/> in the past.</summary>
    private sealed class BackdatedStart(TimeSpan back) : TimeProvider
    {
        private int _readings;

        public override DateTimeOffset GetUtcNow() =>
            Interlocked.Increment(ref _readings) == 1 ? base.GetUtcNow() - back : base.GetUtcNow();
    }
}
