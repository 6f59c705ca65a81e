using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Server.AddressSpace;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Server.Demo;

/// <summary>
/// The demo address space of <c>twingw opcua serve</c> (node ids in the README), and the interop test folder that
/// mirrors the node-opcua test peer, so one client test suite runs against both servers.
/// All nodes live in the server's own namespace (index 1).
/// </summary>
public sealed class DemoNodes : IAsyncDisposable
{
    private readonly UaServer _server;
    private readonly List<VariableNode> _scale = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _loops = [];
    private VariableNode? _sine;
    private VariableNode? _ramp;
    private VariableNode? _random;
    private VariableNode? _counter;
    private VariableNode? _testSine;

    private DemoNodes(UaServer server) => _server = server;

    private const ushort Ns = 1;

    private static NodeId Id(string name) => new(name, Ns);

    /// <summary>Adds the Demo folder (and Scale with <paramref name="scaleCount"/> variables, and Test when asked) and starts their updates.</summary>
    public static DemoNodes Add(UaServer server, int scaleCount = 10_000, bool interopTestFolder = false)
    {
        ArgumentNullException.ThrowIfNull(server);
        var demo = new DemoNodes(server);
        demo.AddDemoFolder();
        if (scaleCount > 0)
        {
            demo.AddScaleFolder(scaleCount);
        }

        if (interopTestFolder)
        {
            demo.AddTestFolder();
        }

        demo.Start();
        return demo;
    }

    private UaAddressSpace Space => _server.AddressSpace;

    private static readonly (BuiltInType Type, Variant Scalar, Variant Array)[] s_scalarTypes =
    [
        (BuiltInType.Boolean, new Variant(true), Variant.FromArray(BuiltInType.Boolean, new[] { true, false })),
        (BuiltInType.SByte, new Variant((sbyte)-8), Variant.FromArray(BuiltInType.SByte, new sbyte[] { -1, 2 })),
        (BuiltInType.Byte, new Variant((byte)8), Variant.FromArray(BuiltInType.Byte, new byte[] { 1, 2 })),
        (BuiltInType.Int16, new Variant((short)-16), Variant.FromArray(BuiltInType.Int16, new short[] { -1, 2 })),
        (BuiltInType.UInt16, new Variant((ushort)16), Variant.FromArray(BuiltInType.UInt16, new ushort[] { 1, 2 })),
        (BuiltInType.Int32, new Variant(-32), Variant.FromArray(BuiltInType.Int32, new[] { -1, 2 })),
        (BuiltInType.UInt32, new Variant(32u), Variant.FromArray(BuiltInType.UInt32, new uint[] { 1, 2 })),
        (BuiltInType.Int64, new Variant(-64L), Variant.FromArray(BuiltInType.Int64, new long[] { -1, 2 })),
        (BuiltInType.UInt64, new Variant(64UL), Variant.FromArray(BuiltInType.UInt64, new ulong[] { 1, 2 })),
        (BuiltInType.Float, new Variant(1.5f), Variant.FromArray(BuiltInType.Float, new[] { 1.5f, -2.5f })),
        (BuiltInType.Double, new Variant(3.25), Variant.FromArray(BuiltInType.Double, new[] { 3.25, -1.0 })),
        (BuiltInType.String, new Variant("hello"), Variant.FromArray(BuiltInType.String, new[] { "a", "b" })),
        (BuiltInType.DateTime, new Variant(new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc)), Variant.FromArray(BuiltInType.DateTime, new[] { new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc) })),
        (BuiltInType.Guid, new Variant(new Guid("72962b91-fa75-4ae6-8d28-b404dc7daf63")), Variant.FromArray(BuiltInType.Guid, new[] { new Guid("72962b91-fa75-4ae6-8d28-b404dc7daf63") })),
        (BuiltInType.ByteString, Variant.FromByteString([1, 2, 3]), Variant.FromArray(BuiltInType.ByteString, new[] { new byte[] { 1 }, new byte[] { 2, 3 } })),
        (BuiltInType.XmlElement, new Variant(new XmlElement("<a/>")), Variant.FromArray(BuiltInType.XmlElement, new[] { new XmlElement("<a/>") })),
        (BuiltInType.NodeId, new Variant(new NodeId(2253)), Variant.FromArray(BuiltInType.NodeId, new[] { new NodeId(2253), new NodeId("x", 1) })),
        (BuiltInType.ExpandedNodeId, new Variant(new ExpandedNodeId(new NodeId(2253))), Variant.FromArray(BuiltInType.ExpandedNodeId, new[] { new ExpandedNodeId(new NodeId(2253)) })),
        (BuiltInType.StatusCode, new Variant(new StatusCode(StatusCodes.Good)), Variant.FromArray(BuiltInType.StatusCode, new[] { new StatusCode(StatusCodes.Good), new StatusCode(StatusCodes.BadNodeIdUnknown) })),
        (BuiltInType.QualifiedName, new Variant(new QualifiedName(1, "name")), Variant.FromArray(BuiltInType.QualifiedName, new[] { new QualifiedName(1, "name") })),
        (BuiltInType.LocalizedText, new Variant(new LocalizedText("en", "text")), Variant.FromArray(BuiltInType.LocalizedText, new[] { new LocalizedText("en", "text") })),
    ];

    private void AddDemoFolder()
    {
        var objects = new NodeId(ObjectIds.ObjectsFolder);
        var demo = Space.AddFolder(objects, Id("Demo"), "Demo");
        var scalar = Space.AddFolder(demo.NodeId, Id("Demo.Scalar"), "Scalar");
        var array = Space.AddFolder(demo.NodeId, Id("Demo.Array"), "Array");
        foreach (var (type, scalarValue, arrayValue) in s_scalarTypes)
        {
            Space.AddVariable(scalar.NodeId, Id("Demo.Scalar." + type), type.ToString(), new NodeId((uint)type), scalarValue, -1, AccessLevels.ReadWrite);
            Space.AddVariable(array.NodeId, Id("Demo.Array." + type), type.ToString(), new NodeId((uint)type), arrayValue, 1, AccessLevels.ReadWrite);
        }

        var dynamic = Space.AddFolder(demo.NodeId, Id("Demo.Dynamic"), "Dynamic");
        _sine = Space.AddVariable(dynamic.NodeId, Id("Demo.Dynamic.Sine"), "Sine", new NodeId(DataTypeIds.Double), new Variant(0.0));
        _sine.EURange = (-1, 1);
        _ramp = Space.AddVariable(dynamic.NodeId, Id("Demo.Dynamic.Ramp"), "Ramp", new NodeId(DataTypeIds.Double), new Variant(0.0));
        _ramp.EURange = (0, 100);
        _random = Space.AddVariable(dynamic.NodeId, Id("Demo.Dynamic.Random"), "Random", new NodeId(DataTypeIds.Double), new Variant(0.0));
        _random.EURange = (0, 1);
        foreach (var v in new[] { _sine, _ramp, _random })
        {
            v.MinimumSamplingInterval = 10;
        }

        var methods = Space.AddObject(demo.NodeId, Id("Demo.Methods"), "Methods");
        Space.AddMethod(methods.NodeId, Id("Demo.Methods.Add"), "Add",
            [UaAddressSpace.Arg("a", DataTypeIds.Double), UaAddressSpace.Arg("b", DataTypeIds.Double)],
            [UaAddressSpace.Arg("sum", DataTypeIds.Double)],
            call => ValueTask.FromResult(MethodResult.Ok(new Variant(call.InputArguments[0].ToDouble() + call.InputArguments[1].ToDouble()))));
        Space.AddMethod(methods.NodeId, Id("Demo.Methods.Echo"), "Echo",
            [UaAddressSpace.Arg("text", DataTypeIds.String)],
            [UaAddressSpace.Arg("echo", DataTypeIds.String)],
            call => ValueTask.FromResult(MethodResult.Ok(call.InputArguments[0])));
    }

    private void AddScaleFolder(int count)
    {
        var scale = Space.AddFolder(new NodeId(ObjectIds.ObjectsFolder), Id("Scale"), "Scale");
        var digits = Math.Max(5, (count - 1).ToString(System.Globalization.CultureInfo.InvariantCulture).Length);
        for (var i = 0; i < count; i++)
        {
            var name = i.ToString("D" + digits, System.Globalization.CultureInfo.InvariantCulture);
            var variable = Space.AddVariable(scale.NodeId, Id("Scale." + name), "V" + name, new NodeId(DataTypeIds.Double), new Variant((double)i));
            variable.MinimumSamplingInterval = 100;
            _scale.Add(variable);
        }
    }

    /// <summary>
    /// A structure no client knows in advance, described by its DataTypeDefinition only (as tests/node/server.js's
    /// TestPointType): Point { X: Double, Y: Double, Label: String }, and a writable variable of it.
    /// </summary>
    private void AddPointType(NodeId folder)
    {
        var type = Id("Test.PointType");
        var encoding = Id("Test.PointType.DefaultBinary");
        Space.AddStructureDataType(type, "TestPointType", encoding, new StructureDefinition
        {
            StructureType = StructureType.Structure,
            Fields =
            [
                new StructureField { Name = "X", DataType = new NodeId(DataTypeIds.Double), ValueRank = -1 },
                new StructureField { Name = "Y", DataType = new NodeId(DataTypeIds.Double), ValueRank = -1 },
                new StructureField { Name = "Label", DataType = new NodeId(DataTypeIds.String), ValueRank = -1 },
            ],
        });
        using var body = new UaWriter(32);
        body.WriteDouble(0);
        body.WriteDouble(0);
        body.WriteString("origin");
        Space.AddVariable(folder, Id("Test.Writable.Point"), "WritablePoint", type, new Variant(new ExtensionObject(encoding, body.ToArray())), -1, AccessLevels.ReadWrite);
    }

    /// <summary>The same nodes as tests/node/server.js's Test folder.</summary>
    private void AddTestFolder()
    {
        var test = Space.AddFolder(new NodeId(ObjectIds.ObjectsFolder), Id("Test"), "Test");
        _counter = Space.AddVariable(test.NodeId, Id("Test.Counter"), "Counter", new NodeId(DataTypeIds.Int32), new Variant(0));
        _testSine = Space.AddVariable(test.NodeId, Id("Test.Sine"), "Sine", new NodeId(DataTypeIds.Double), new Variant(0.0));
        _counter.MinimumSamplingInterval = 10;
        _testSine.MinimumSamplingInterval = 10;
        Space.AddVariable(test.NodeId, Id("Test.Writable.Double"), "WritableDouble", new NodeId(DataTypeIds.Double), new Variant(0.0), -1, AccessLevels.ReadWrite);
        Space.AddVariable(test.NodeId, Id("Test.Writable.String"), "WritableString", new NodeId(DataTypeIds.String), new Variant(""), -1, AccessLevels.ReadWrite);
        Space.AddVariable(test.NodeId, Id("Test.Writable.Int32Array"), "WritableInt32Array", new NodeId(DataTypeIds.Int32), Variant.FromArray(BuiltInType.Int32, new[] { 1, 2, 3 }), 1, AccessLevels.ReadWrite);
        Space.AddVariable(test.NodeId, Id("Test.ReadOnly"), "ReadOnly", new NodeId(DataTypeIds.Double), new Variant(42.5));
        var matrix = Space.AddVariable(test.NodeId, Id("Test.Writable.Matrix"), "WritableMatrix", new NodeId(DataTypeIds.Int32),
            Variant.FromMatrix(BuiltInType.Int32, new int[6], [2, 3]), 2, AccessLevels.ReadWrite);
        matrix.ArrayDimensions = [2, 3];
        AddPointType(test.NodeId);
        var methods = Space.AddObject(test.NodeId, Id("Test.Methods"), "Methods");
        Space.AddMethod(methods.NodeId, Id("Test.Methods.Add"), "Add",
            [UaAddressSpace.Arg("a", DataTypeIds.Double), UaAddressSpace.Arg("b", DataTypeIds.Double)],
            [UaAddressSpace.Arg("sum", DataTypeIds.Double)],
            call => ValueTask.FromResult(MethodResult.Ok(new Variant(call.InputArguments[0].ToDouble() + call.InputArguments[1].ToDouble()))));
        Space.AddMethod(methods.NodeId, Id("Test.Methods.Fail"), "Fail", [], [],
            _ => ValueTask.FromResult(MethodResult.Fail(StatusCodes.BadInvalidArgument)));
        var big = Space.AddFolder(test.NodeId, Id("Test.Big"), "Big");
        for (var i = 0; i < 1500; i++)
        {
            var suffix = i.ToString("D4", System.Globalization.CultureInfo.InvariantCulture);
            Space.AddVariable(big.NodeId, Id("Test.Big." + suffix), "V" + suffix, new NodeId(DataTypeIds.Double), new Variant((double)i));
        }
    }

    private void Start()
    {
        var time = _server.Time;
        _loops.Add(Run(TimeSpan.FromMilliseconds(10), tick =>
        {
            var now = time.GetUtcNow().UtcDateTime;
            var t = tick * 0.01;
            _sine?.SetValue(new Variant(Math.Sin(t)), now);
            _ramp?.SetValue(new Variant(tick % 10_000 / 100.0), now);
            _random?.SetValue(new Variant(Random.Shared.NextDouble()), now);
            _counter?.SetValue(new Variant((int)tick), now);
            _testSine?.SetValue(new Variant(Math.Sin(t)), now);
        }));
        if (_scale.Count > 0)
        {
            _loops.Add(Run(TimeSpan.FromMilliseconds(100), tick =>
            {
                var now = time.GetUtcNow().UtcDateTime;
                for (var i = 0; i < _scale.Count; i++)
                {
                    _scale[i].SetValue(new Variant(tick + (i * 0.001)), now);
                }
            }));
        }
    }

    private Task Run(TimeSpan period, Action<long> update) => Task.Run(async () =>
    {
        using var timer = new PeriodicTimer(period, _server.Time);
        long tick = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                update(++tick);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    });

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_loops).ConfigureAwait(false);
        _stopping.Dispose();
    }
}
