using System.CommandLine;
using Microsoft.Extensions.Logging;
using TwinGateway.Core.Lines;
using TwinGateway.Host.Cli;
using TwinGateway.PlcSim;
using TwinGateway.Interop.Tests.Fixtures;
using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Server.AddressSpace;
using TwinGateway.OpcUa.Types;
using TwinGateway.Simulation;

namespace TwinGateway.Interop.Tests.PlcSim;

/// <summary>The demo line's simulated PLC on a free loopback port, seen through our OPC UA client.</summary>
public sealed class SimulatedPlcTests(SimulatedPlcFixture fixture) : IClassFixture<SimulatedPlcFixture>, IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private readonly TestLog _clientLog = new();
    private OpcUaClient _client = null!;

    private SimulatedPlc Plc => fixture.Plc;

    private static LineDefinition Line => SimulatedPlcFixture.Line;

    private static NodeId Node(string signalId) => NodeId.Parse(Line.FindSignal(signalId)!.NodeId);

    private NodeId Method(string name) => new(Plc.FaultsObjectId.StringId + "." + name, 1);

    public async Task InitializeAsync() => _client = await OpcUaClient.ConnectAsync(Plc.EndpointUrl, logger: _clientLog);

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        _clientLog.Dispose();
        fixture.Log.AssertNoErrors();
    }

    [Fact]
    public async Task Every_signal_is_served_at_its_node_id_with_its_data_type()
    {
        Assert.Equal(191, Plc.SignalCount);
        var requests = Line.Signals.SelectMany(s => new[]
        {
            new ReadValueId { NodeId = NodeId.Parse(s.NodeId), AttributeId = Attributes.Value },
            new ReadValueId { NodeId = NodeId.Parse(s.NodeId), AttributeId = Attributes.DataType },
            new ReadValueId { NodeId = NodeId.Parse(s.NodeId), AttributeId = Attributes.AccessLevel },
        }).ToList();

        var results = await _client.ReadAsync(requests);

        for (var i = 0; i < Line.Signals.Length; i++)
        {
            var signal = Line.Signals[i];
            var (value, dataType, access) = (results[3 * i], results[(3 * i) + 1], results[(3 * i) + 2]);
            Assert.True(value.StatusCode.IsGood, $"{signal.Id}: {value.StatusCode}");
            Assert.Equal((BuiltInType)(int)signal.DataType, value.Value.Type);
            Assert.Equal(new NodeId((uint)signal.DataType), (NodeId)dataType.Value.Value!);
            var writable = ((byte)access.Value.Value! & (byte)AccessLevels.CurrentWrite) != 0;
            Assert.True(writable == (signal.Direction == SignalDirection.ControllerInput), $"{signal.Id} writable: {writable}");
        }

        // Namespace 1 is the server's own (the line file's ns=1), and the station folders hold the signals.
        var namespaces = (await _client.ReadValuesAsync([new NodeId(VariableIds.Server_NamespaceArray)]))[0].Value.ArrayValue!;
        Assert.Equal(Plc.Server.Options.ApplicationUri, namespaces.GetValue(1));
        var paths = await _client.TranslateBrowsePathsAsync(
            [OpcUaClient.MakeBrowsePath(new NodeId(ObjectIds.ObjectsFolder), new QualifiedName(1, "DemoLine"), new QualifiedName(1, "cnc1"), new QualifiedName(1, "spindleSpeed"))]);
        Assert.Equal(Node("cnc1.spindleSpeed"), Assert.Single(paths[0].Targets!).TargetId.NodeId);
    }

    [Fact]
    public async Task Subscribed_outputs_change_as_the_line_runs()
    {
        var subscription = await _client.CreateSubscriptionAsync(new SubscriptionOptions { PublishingInterval = TimeSpan.FromMilliseconds(100), KeepAliveCount = 10 });
        var watched = new[] { "line.ambientTemperature", "line.airPressure", "cnc1.coolantLevel", "infeed.motorCurrent" };
        var items = await subscription.AddItemsAsync(watched.Select(id => new MonitoredItemOptions(Node(id)) { SamplingInterval = TimeSpan.FromMilliseconds(100), QueueSize = 10 }));
        Assert.All(items, i => Assert.True(i.IsCreated, i.Status.Name));

        var seen = watched.ToDictionary(id => Node(id), _ => new HashSet<double>());
        using var cts = new CancellationTokenSource(Wait);
        await foreach (var e in subscription.Events.ReadAllAsync(cts.Token))
        {
            if (e is DataChangeBatch batch)
            {
                foreach (var v in batch.Values)
                {
                    Assert.True(v.Value.StatusCode.IsGood);
                    seen[v.Item.NodeId].Add(v.Value.Value.ToDouble());
                }
            }

            if (seen.Values.All(s => s.Count >= 5))
            {
                break;
            }
        }

        Assert.All(seen, s => Assert.True(s.Value.Count >= 5, $"{s.Key}: {s.Value.Count} values"));
        Assert.All(seen[Node("line.airPressure")], v => Assert.InRange(v, 5.5, 7));
    }

    [Fact]
    public async Task A_setpoint_write_reaches_the_twin_and_outputs_refuse_writes()
    {
        var setpoint = await _client.WriteValueAsync(Node("cnc2.spindleSpeedSetpoint"), new Variant(9100.0));
        var output = await _client.WriteValueAsync(Node("cnc2.spindleSpeed"), new Variant(1.0));
        var wrongType = await _client.WriteValueAsync(Node("cnc2.spindleSpeedSetpoint"), new Variant(9100));
        var boolean = await _client.WriteValueAsync(Node("cnc2.cycleStart"), new Variant(true));

        Assert.True(setpoint.IsGood, setpoint.Name);
        Assert.Equal("BadNotWritable", output.Name);
        Assert.Equal("BadTypeMismatch", wrongType.Name);
        Assert.True(boolean.IsGood, boolean.Name);
        Assert.Equal(9100.0, (await _client.ReadValuesAsync([Node("cnc2.spindleSpeedSetpoint")]))[0].Value.ToDouble());
        Assert.Equal(9100.0, Plc.Inspect(t => t.GetValue("cnc2.spindleSpeedSetpoint")));
        Assert.Equal(1.0, Plc.Inspect(t => t.GetValue("cnc2.cycleStart")));

        await _client.WriteValueAsync(Node("cnc2.spindleSpeedSetpoint"), new Variant(7500.0));

        // The infeed conveyor's speed follows its setpoint (0.8 s lag) while it runs, which is nearly always.
        Assert.True((await _client.WriteValueAsync(Node("infeed.speedSetpoint"), new Variant(20.0))).IsGood);
        await WaitFor(async () =>
        {
            var values = await _client.ReadValuesAsync([Node("infeed.speed"), Node("infeed.motorFrequency")]);
            return values[0].Value.ToDouble() > 19.5 && values[1].Value.ToDouble() > 80;
        }, TimeSpan.FromSeconds(15), "infeed.speed never approached the 20 m/min setpoint");
        await _client.WriteValueAsync(Node("infeed.speedSetpoint"), new Variant(12.0));
    }

    [Fact]
    public async Task InjectJam_fails_the_station_and_ClearFaults_releases_it()
    {
        var jam = await _client.CallMethodAsync(Plc.FaultsObjectId, Method("InjectJam"), new Variant("assembly"));

        Assert.True(jam.StatusCode.IsGood, jam.StatusCode.Name);
        await WaitFor(async () =>
        {
            var values = await _client.ReadValuesAsync([Node("assembly.state"), Node("assembly.faulted")]);
            return values[0].Value.ToDouble() == (int)StationState.Failed && (bool)values[1].Value.Value!;
        }, TimeSpan.FromSeconds(5), "assembly.state never went to Failed (3)");
        var active = (string[])(await _client.ReadValuesAsync([new NodeId(Plc.FaultsObjectId.StringId + ".Active", 1)]))[0].Value.ArrayValue!;
        Assert.Contains("jam:assembly", active);

        var clear = await _client.CallMethodAsync(Plc.FaultsObjectId, Method("ClearFaults"));
        Assert.True(clear.StatusCode.IsGood, clear.StatusCode.Name);
        await WaitFor(async () => (await _client.ReadValuesAsync([Node("assembly.state")]))[0].Value.ToDouble() != (int)StationState.Failed
            || Plc.Inspect(t => t.GetStationState("assembly")) != StationState.Failed, TimeSpan.FromSeconds(5), "assembly stayed Failed after ClearFaults");
        Assert.Empty(Plc.Inspect(t => t.ActiveFaults));
    }

    [Fact]
    public async Task Fault_methods_refuse_unknown_stations_and_signals_and_say_which()
    {
        var station = await _client.CallMethodAsync(Plc.FaultsObjectId, Method("InjectJam"), new Variant("cnc9"));
        var lastStation = await LastResult();
        var signal = await _client.CallMethodAsync(Plc.FaultsObjectId, Method("InjectSensorOffset"), new Variant("cnc1.spindleTemp"), new Variant(5.0));
        var lastSignal = await LastResult();
        var wear = await _client.CallMethodAsync(Plc.FaultsObjectId, Method("InjectToolWear"), new Variant("nowhere"), new Variant(0.5));
        var heat = await _client.CallMethodAsync(Plc.FaultsObjectId, Method("InjectBearingHeat"), new Variant("nowhere"), new Variant(3.0));

        Assert.Equal("BadInvalidArgument", station.StatusCode.Name);
        Assert.Contains("'cnc9'", lastStation, StringComparison.Ordinal);
        Assert.Equal("BadInvalidArgument", signal.StatusCode.Name);
        Assert.Contains("'cnc1.spindleTemp'", lastSignal, StringComparison.Ordinal);
        Assert.Equal("BadInvalidArgument", wear.StatusCode.Name);
        Assert.Equal("BadInvalidArgument", heat.StatusCode.Name);
        Assert.True(fixture.Log.Contains("'cnc9'"));
        Assert.Empty(Plc.Inspect(t => t.ActiveFaults));

        async Task<string> LastResult() =>
            (string)(await _client.ReadValuesAsync([new NodeId(Plc.FaultsObjectId.StringId + ".LastResult", 1)]))[0].Value.Value!;
    }

    [Fact]
    public async Task The_other_fault_methods_take_effect_in_the_twin()
    {
        var offset = await _client.CallMethodAsync(Plc.FaultsObjectId, Method("InjectSensorOffset"), new Variant("line.airPressure"), new Variant(50.0));
        Assert.True(offset.StatusCode.IsGood, offset.StatusCode.Name);
        await WaitFor(async () => (await _client.ReadValuesAsync([Node("line.airPressure")]))[0].Value.ToDouble() > 50, TimeSpan.FromSeconds(5),
            "line.airPressure never read the 50 bar offset");
        var wear = await _client.CallMethodAsync(Plc.FaultsObjectId, Method("InjectToolWear"), new Variant("cnc1"), new Variant(0.5));
        var heat = await _client.CallMethodAsync(Plc.FaultsObjectId, Method("InjectBearingHeat"), new Variant("cnc2"), new Variant(3.0));
        Assert.True(wear.StatusCode.IsGood && heat.StatusCode.IsGood);
        Assert.Equal(3, Plc.Inspect(t => t.ActiveFaults.Count));

        Assert.True((await _client.CallMethodAsync(Plc.FaultsObjectId, Method("ClearFaults"))).StatusCode.IsGood);
        await WaitFor(async () => (await _client.ReadValuesAsync([Node("line.airPressure")]))[0].Value.ToDouble() < 7, TimeSpan.FromSeconds(5),
            "line.airPressure kept its offset after ClearFaults");
    }

    [Fact]
    public async Task The_sensor_fault_methods_take_effect_in_the_twin_and_refuse_bad_arguments()
    {
        try
        {
            var gain = await _client.CallMethodAsync(Plc.FaultsObjectId, Method("InjectGainChange"), new Variant("line.cabinetTemperature"), new Variant(2.0));
            var noise = await _client.CallMethodAsync(Plc.FaultsObjectId, Method("InjectNoiseIncrease"), new Variant("cnc1.spindleCurrent"), new Variant(3.0));
            var stuck = await _client.CallMethodAsync(Plc.FaultsObjectId, Method("InjectStuckSensor"), new Variant("cnc2.doorOpen"));
            var leak = await _client.CallMethodAsync(Plc.FaultsObjectId, Method("InjectSlowLeak"), new Variant("line.airPressure"), new Variant(-0.5));
            Assert.True(gain.StatusCode.IsGood && noise.StatusCode.IsGood && stuck.StatusCode.IsGood && leak.StatusCode.IsGood);
            Assert.Equal(4, Plc.Inspect(t => t.ActiveFaults.Count));
            var active = (string[])(await _client.ReadValuesAsync([new NodeId(Plc.FaultsObjectId.StringId + ".Active", 1)]))[0].Value.ArrayValue!;
            Assert.Equal(["gain:line.cabinetTemperature:2", "noise:cnc1.spindleCurrent:3", "stuck:cnc2.doorOpen", "leak:line.airPressure:-0.5"], active);
            await WaitFor(async () => (await _client.ReadValuesAsync([Node("line.cabinetTemperature")]))[0].Value.ToDouble() > 55, TimeSpan.FromSeconds(5),
                "line.cabinetTemperature never read twice its 31 degrees");

            var type = await _client.CallMethodAsync(Plc.FaultsObjectId, Method("InjectGainChange"), new Variant("cnc1.doorOpen"), new Variant(2.0));
            Assert.Equal("BadInvalidArgument", type.StatusCode.Name);
            Assert.Contains("not numeric", await LastResult(), StringComparison.Ordinal);
            var factor = await _client.CallMethodAsync(Plc.FaultsObjectId, Method("InjectNoiseIncrease"), new Variant("line.airPressure"), new Variant(0.5));
            Assert.Equal("BadInvalidArgument", factor.StatusCode.Name);
            Assert.Contains("noise factor", await LastResult(), StringComparison.Ordinal);
            var unknown = await _client.CallMethodAsync(Plc.FaultsObjectId, Method("InjectStuckSensor"), new Variant("cnc1.spindleTemp"));
            Assert.Equal("BadInvalidArgument", unknown.StatusCode.Name);
            Assert.Contains("'cnc1.spindleTemp'", await LastResult(), StringComparison.Ordinal);
            var rate = await _client.CallMethodAsync(Plc.FaultsObjectId, Method("InjectSlowLeak"), new Variant("line.airPressure"), new Variant(double.PositiveInfinity));
            Assert.Equal("BadInvalidArgument", rate.StatusCode.Name);
            Assert.Contains("slow leak", await LastResult(), StringComparison.Ordinal);
            Assert.Equal(4, Plc.Inspect(t => t.ActiveFaults.Count));
        }
        finally
        {
            Assert.True((await _client.CallMethodAsync(Plc.FaultsObjectId, Method("ClearFaults"))).StatusCode.IsGood);
        }

        await WaitFor(async () => (await _client.ReadValuesAsync([Node("line.cabinetTemperature")]))[0].Value.ToDouble() < 40, TimeSpan.FromSeconds(5),
            "line.cabinetTemperature kept its gain after ClearFaults");

        async Task<string> LastResult() =>
            (string)(await _client.ReadValuesAsync([new NodeId(Plc.FaultsObjectId.StringId + ".LastResult", 1)]))[0].Value.Value!;
    }

    [Fact]
    public async Task Faults_given_at_start_are_active_and_bad_ones_are_refused_before_starting()
    {
        var port = FreePort.Next();
        await using var plc = new SimulatedPlc(Line, new SimulatedPlcOptions { Port = port, Seed = 5, Faults = [new Jam("cnc1"), new BearingHeat("cnc2", 3)] });
        await plc.StartAsync();
        Assert.Equal($"opc.tcp://127.0.0.1:{port}", plc.EndpointUrl);
        Assert.Equal(StationState.Failed, plc.Inspect(t => t.GetStationState("cnc1")));
        Assert.Equal(2, plc.Inspect(t => t.ActiveFaults.Count));

        var problems = SimulatedPlc.Check(Line, new SimulatedPlcOptions { Faults = [new Jam("cnc9"), new SensorOffset("cnc1.spindleTemp", 5)], ControllerId = "plc7" });
        Assert.Equal(3, problems.Count);
        Assert.Contains(problems, p => p.Contains("'plc7'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("'cnc9'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("'cnc1.spindleTemp'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_command_prints_every_problem_of_a_bad_line_file_and_exits_2()
    {
        var file = Path.Combine(Path.GetTempPath(), $"bad-line-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, """
            id: bad-line
            name: Bad
            controllers:
              - { id: plc1, endpointUrl: opc.tcp://127.0.0.1:4841 }
            stations:
              - { id: a, kind: robotarm, cycleTime: 5 }
              - { id: b, kind: machine }
            signals: []
            topology:
              - { from: a, to: b }
            """);
        try
        {
            var (code, output, error) = await RunCommand("plc-sim", "--line", file);

            Assert.Equal(2, code);
            Assert.Equal("", output);
            var expected = LineDefinitionLoader.LoadFile(file).Errors;
            Assert.True(expected.Length >= 2);
            foreach (var problem in expected)
            {
                Assert.Contains(problem.ToString(), error, StringComparison.Ordinal);
            }

            var (faultCode, _, faultError) = await RunCommand("plc-sim", "--line", SimulatedPlcFixture.DemoLinePath, "--fault", "jam:cnc9", "--fault", "melt:cnc1", "--port", "0");
            Assert.Equal(2, faultCode);
            Assert.Contains("'cnc9'", faultError, StringComparison.Ordinal);
            Assert.Contains("unknown fault 'melt'", faultError, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task The_command_serves_the_line_with_its_faults_until_cancelled()
    {
        var port = FreePort.Next();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var run = RunCommand(stop.Token, "plc-sim", "--line", SimulatedPlcFixture.DemoLinePath, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--seed", "9", "--fault", "jam:cnc1", "--fault", "sensor-offset:cnc1.spindleTemperature:5", "--fault", "tool-wear:cnc1:0.5", "--fault", "bearing-heat:cnc2:3");

        OpcUaClient? client = null;
        for (var attempt = 0; client is null; attempt++)
        {
            Assert.False(run.IsCompleted, "the command ended early: " + (run.IsCompleted ? (await run).Error : ""));
            try
            {
                client = await OpcUaClient.ConnectAsync($"opc.tcp://127.0.0.1:{port}");
            }
            catch (ServiceResultException) when (attempt < 100)
            {
                await Task.Delay(100);
            }
        }

        await using (client)
        {
            var values = await client.ReadValuesAsync([Node("cnc1.state"), new NodeId("DemoLine.Faults.Active", 1)]);
            Assert.Equal((int)StationState.Failed, values[0].Value.ToDouble());
            Assert.Equal(4, ((string[])values[1].Value.ArrayValue!).Length);
        }

        await stop.CancelAsync();
        var (code, output, error) = await run;
        Assert.Equal(0, code);
        Assert.Contains($"listening on opc.tcp://127.0.0.1:{port}", output, StringComparison.Ordinal);
        Assert.Equal("", error);
    }

    private static Task<(int Code, string Output, string Error)> RunCommand(params string[] args) => RunCommand(CancellationToken.None, args);

    private static async Task<(int Code, string Output, string Error)> RunCommand(CancellationToken cancellationToken, params string[] args)
    {
        var root = new RootCommand { PlcSimCommand.Create() };
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken);
        return (code, output.ToString(), error.ToString());
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
}

/// <summary>One simulated PLC of the demo line for the tests of <see cref="SimulatedPlcTests"/>; everything it logs lands in <see cref="Log"/>.</summary>
public sealed class SimulatedPlcFixture : IAsyncLifetime
{
    public static string DemoLinePath { get; } = RepositoryPaths.DemoLine;

    public static LineDefinition Line { get; } = LineDefinitionLoader.LoadFile(DemoLinePath).GetDefinitionOrThrow();

    public TestLog Log { get; } = new();

    internal SimulatedPlc Plc { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Plc = new SimulatedPlc(Line, new SimulatedPlcOptions { Port = 0, Seed = 3 }, loggerFactory: Log);
        await Plc.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Plc.DisposeAsync();
        Log.Dispose();
    }
}
