using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TwinGateway.Core.Lines;
using TwinGateway.OpcUa.Server;
using TwinGateway.OpcUa.Server.AddressSpace;
using TwinGateway.OpcUa.Types;
using TwinGateway.Simulation;

namespace TwinGateway.PlcSim;

/// <summary>
/// A simulated PLC: a <see cref="LineTwin"/> in <see cref="TwinMode.Real"/> mode playing the line, served by our
/// <see cref="UaServer"/> at exactly the node ids the line definition names. Every signal of the controller is a
/// variable of the signal's data type: controller inputs are writable (a write goes to <see cref="LineTwin.SetInput"/>),
/// outputs are read-only and follow the twin, which steps in real time (<see cref="TimeProvider"/>).
/// </summary>
/// <remarks>
/// Address space (namespace 1 is the server's own, as the line files assume): <c>Objects/&lt;Prefix&gt;</c> with a folder per
/// station holding its signals and the method <c>&lt;Prefix&gt;.&lt;station&gt;.ResetCounters()</c> (zeroes the station's
/// produced, good and rejected counters), a folder <c>positions</c> in a robot's station folder holding each robot
/// position that has a nodeId as a writable Double[axes] variable (a write teaches the pose; one of the wrong length or
/// outside the axis limits is refused with BadOutOfRange and changes nothing), the line-wide signals directly in it, and
/// the object <c>&lt;Prefix&gt;.Faults</c> with
/// the methods InjectToolWear(String station, Double secondsPerHour), InjectSensorOffset(String signal, Double offset),
/// InjectBearingHeat(String station, Double degreesPerHour), InjectJam(String station), InjectGainChange(String signal,
/// Double factor), InjectNoiseIncrease(String signal, Double factor), InjectStuckSensor(String signal),
/// InjectSlowLeak(String signal, Double unitsPerHour) and ClearFaults(), and the
/// variables Active (String[]: the active faults) and LastResult (String: what the last call did, or why it was refused).
/// The prefix is the part before the first '.' that the signals' string node ids share (<c>DemoLine</c> for the demo
/// line), else the line id. A refused fault call returns BadInvalidArgument; LastResult and the log name the unknown
/// station or signal, or say why the signal's type or the number does not fit the fault. Writes to controller inputs take any finite value, also one outside the signal's nominal range:
/// a PLC knows its data types, not the plant's operating ranges.
/// </remarks>
public sealed partial class SimulatedPlc : IAsyncDisposable
{
    /// <summary>Steps one timer tick may catch up (1 minute of a 100 ms step); beyond that the PLC's time falls behind instead of spinning.</summary>
    private const int MaxCatchUpSteps = 600;

    private readonly Lock _gate = new();
    private readonly LineTwin _twin;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SimulatedPlcOptions _options;
    private readonly PublishedSignal[] _signals;
    private readonly double[] _snapshot;
    private readonly string[] _texts;
    private readonly CancellationTokenSource _stopping = new();
    private VariableNode? _activeFaults;
    private VariableNode? _lastResult;
    private Task? _loop;

    private sealed record PublishedSignal(int Index, SignalDefinition Definition, VariableNode Node)
    {
        public long PublishedBits { get; set; }

        public string? PublishedText { get; set; }
    }

    public SimulatedPlc(LineDefinition line, SimulatedPlcOptions? options = null, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(line);
        _options = options ?? new SimulatedPlcOptions();
        var problems = Check(line, _options);
        if (problems.Count > 0)
        {
            throw new ArgumentException($"cannot simulate line '{line.Id}': " + string.Join("; ", problems), nameof(line));
        }

        Line = line;
        Controller = ResolveController(line, _options)!;
        _time = timeProvider ?? TimeProvider.System;
        var factory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = factory.CreateLogger("TwinGateway.PlcSim");
        _twin = new LineTwin(line, new TwinOptions
        {
            Seed = _options.Seed,
            Step = _options.Step,
            Mode = TwinMode.Real,
            Start = _time.GetUtcNow().UtcDateTime,
        });
        foreach (var fault in _options.Faults)
        {
            _twin.InjectFault(fault);
        }

        var serverOptions = new UaServerOptions
        {
            ListenAddress = _options.ListenAddress,
            Port = _options.Port ?? PortOf(Controller.EndpointUrl),
            ApplicationUri = $"urn:twingateway:plc-sim:{line.Id}:{Controller.Id}",
            ApplicationName = $"TwinGateway simulated PLC {Controller.Id} of line {line.Id}",
            Authenticator = _options.Users,
            AllowAnonymous = _options.Users is null,
        };
        if (_options.PkiFolder is { } pki)
        {
            serverOptions = serverOptions with
            {
                Certificate = ServerCertificates.LoadOrCreate(pki, serverOptions.ApplicationUri, serverOptions.ApplicationName, ["localhost", _options.ListenAddress.ToString()]),
                ClientCertificateValidator = ServerCertificates.TrustedFolder(pki),
            };
        }

        Server = new UaServer(serverOptions, _time, factory);
        Prefix = PrefixOf(line, Controller.Id);
        _signals = BuildAddressSpace();
        _snapshot = new double[line.Signals.Length];
        _texts = new string[line.Signals.Length];
    }

    public LineDefinition Line { get; }

    public ControllerDefinition Controller { get; }

    public UaServer Server { get; }

    /// <summary>The first part of the node ids (<c>DemoLine</c>): the line folder is <c>ns=1;s=&lt;Prefix&gt;</c>.</summary>
    public string Prefix { get; }

    public NodeId LineFolderId => new(Prefix, 1);

    public NodeId FaultsObjectId => new(Prefix + ".Faults", 1);

    public string EndpointUrl => Server.EndpointUrl;

    public int Port => Server.Port;

    /// <summary>Signals served (those of <see cref="Controller"/>).</summary>
    public int SignalCount => _signals.Length;

    /// <summary>Reads the twin under the PLC's lock (tests and diagnostics).</summary>
    public T Inspect<T>(Func<LineTwin, T> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        lock (_gate)
        {
            return read(_twin);
        }
    }

    /// <summary>Every problem that would keep <paramref name="line"/> from being simulated with <paramref name="options"/>, each on its own.</summary>
    public static IReadOnlyList<string> Check(LineDefinition line, SimulatedPlcOptions options)
    {
        ArgumentNullException.ThrowIfNull(line);
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        var controller = ResolveController(line, options);
        if (controller is null)
        {
            problems.Add(line.Controllers.IsDefaultOrEmpty
                ? $"line '{line.Id}' has no controller"
                : $"line '{line.Id}' has no controller '{options.ControllerId}' (it has {string.Join(", ", line.Controllers.Select(c => c.Id))})");
        }
        else if (options.Port is null && PortOf(controller.EndpointUrl) < 0)
        {
            problems.Add($"controller '{controller.Id}' endpoint '{controller.EndpointUrl}' has no usable port; give one");
        }

        if (options.Port is < 0 or > 65535)
        {
            problems.Add($"port {options.Port} is not 0..65535");
        }

        foreach (var signal in line.Signals)
        {
            if ((controller is null || signal.ControllerId == controller.Id) && !NodeId.TryParse(signal.NodeId, out _, out var error))
            {
                problems.Add($"signal '{signal.Id}': node id '{signal.NodeId}' is not valid: {error}");
            }
        }

        if (options.Faults.Count > 0)
        {
            try
            {
                var twin = new LineTwin(line, new TwinOptions { Mode = TwinMode.Real });
                problems.AddRange(options.Faults.Select(f => twin.CheckFault(f) is { } p ? $"fault {FaultSpec.Format(f)}: {p}" : null).OfType<string>());
            }
            catch (ArgumentException ex)
            {
                problems.Add(ex.Message);
            }
        }

        return problems;
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await Server.StartAsync(cancellationToken).ConfigureAwait(false);
        _loop = Task.Run(RunAsync, CancellationToken.None);
        Log.Started(_logger, Line.Id, Controller.Id, EndpointUrl, _signals.Length, _options.Seed,
            _options.Faults.Count == 0 ? "none" : string.Join(", ", _options.Faults.Select(FaultSpec.Format)));
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        await Server.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private static ControllerDefinition? ResolveController(LineDefinition line, SimulatedPlcOptions options) =>
        options.ControllerId is null
            ? (line.Controllers.IsDefaultOrEmpty ? null : line.Controllers[0])
            : line.FindController(options.ControllerId);

    private static int PortOf(string endpointUrl) =>
        Uri.TryCreate(endpointUrl, UriKind.Absolute, out var uri) ? (uri.IsDefaultPort || uri.Port < 0 ? 4840 : uri.Port) : -1;

    private static string PrefixOf(LineDefinition line, string controllerId)
    {
        string? prefix = null;
        foreach (var signal in line.Signals)
        {
            if (signal.ControllerId != controllerId)
            {
                continue;
            }

            if (!NodeId.TryParse(signal.NodeId, out var id) || id.IdType != IdType.String)
            {
                return line.Id;
            }

            var dot = id.StringId!.IndexOf('.', StringComparison.Ordinal);
            var first = dot > 0 ? id.StringId[..dot] : null;
            if (first is null || (prefix is not null && prefix != first))
            {
                return line.Id;
            }

            prefix = first;
        }

        return prefix ?? line.Id;
    }

    private UaAddressSpace Space => Server.AddressSpace;

    private PublishedSignal[] BuildAddressSpace()
    {
        var taken = new HashSet<NodeId>();
        var mine = Line.Signals.Select((s, i) => (Signal: s, Index: i)).Where(x => x.Signal.ControllerId == Controller.Id).ToList();
        foreach (var (signal, _) in mine)
        {
            taken.Add(NodeId.Parse(signal.NodeId));
        }

        var robots = Line.Robots.Where(Serves).ToList();
        foreach (var position in robots.SelectMany(r => r.Positions))
        {
            if (position.NodeId is { } poseId)
            {
                taken.Add(NodeId.Parse(poseId));
            }
        }

        var lineFolder = Space.AddFolder(new NodeId(ObjectIds.ObjectsFolder), FreeId(Prefix, taken), Prefix, Line.Name);
        var stationFolders = new Dictionary<string, NodeId>(StringComparer.Ordinal);
        foreach (var station in Line.Stations)
        {
            // A station whose signals no controller holds still has a PLC: the first controller's.
            var hasSignals = Line.Signals.Any(s => s.StationId == station.Id);
            if (mine.Any(x => x.Signal.StationId == station.Id) || (!hasSignals && Controller == Line.Controllers[0]))
            {
                var folder = Space.AddFolder(lineFolder.NodeId, FreeId($"{Prefix}.{station.Id}", taken), station.Id, station.Name).NodeId;
                stationFolders[station.Id] = folder;
                AddResetCounters(folder, station.Id, taken);
            }
        }

        var published = new List<PublishedSignal>();
        foreach (var (signal, index) in mine)
        {
            var nodeId = NodeId.Parse(signal.NodeId);
            while (Space.Namespaces.Count <= nodeId.NamespaceIndex)
            {
                Space.RegisterNamespace($"urn:twingateway:plc-sim:{Line.Id}:ns{Space.Namespaces.Count}");
            }

            var parent = signal.StationId is { } station && stationFolders.TryGetValue(station, out var folder) ? folder : lineFolder.NodeId;
            var isInput = signal.Direction == SignalDirection.ControllerInput;
            var node = Space.AddVariable(
                parent,
                nodeId,
                signal.Name,
                new NodeId((uint)signal.DataType),
                SignalVariants.ToVariant(signal.DataType, _twin.GetValue(index), _twin.GetText(index)),
                -1,
                isInput ? AccessLevels.CurrentRead | AccessLevels.CurrentWrite : AccessLevels.CurrentRead);
            node.MinimumSamplingInterval = _options.Step.TotalMilliseconds;
            if (signal.NominalRange is { } range)
            {
                node.EURange = (range.Low, range.High);
            }

            if (isInput)
            {
                node.WriteHandler = value => Write(signal, node, value);
            }

            published.Add(new PublishedSignal(index, signal, node)
            {
                PublishedBits = BitConverter.DoubleToInt64Bits(_twin.GetValue(index)),
                PublishedText = _twin.GetText(index),
            });
        }

        foreach (var robot in robots)
        {
            AddPositions(robot, stationFolders.TryGetValue(robot.StationId, out var folder) ? folder : lineFolder.NodeId, taken);
        }

        AddFaultMethods(lineFolder.NodeId);
        return [.. published];
    }

    /// <summary>
    /// The PLC serves a robot's poses when the robot's signals are on its controller, or, for a robot that publishes
    /// no signal, when it is the line's first controller.
    /// </summary>
    private bool Serves(RobotDefinition robot)
    {
        var signals = robot.Axes.Select(a => a.PositionSignal).Append(robot.ProgramSignal).OfType<string>().Select(Line.FindSignal).OfType<SignalDefinition>().ToList();
        return signals.Count == 0 ? Controller == Line.Controllers[0] : signals.Any(s => s.ControllerId == Controller.Id);
    }

    private void AddResetCounters(NodeId station, string stationId, HashSet<NodeId> taken) =>
        Space.AddMethod(station, FreeId(station.StringId + ".ResetCounters", taken), "ResetCounters", [], [], _ =>
        {
            lock (_gate)
            {
                _twin.ResetCounters(stationId);
            }

            Log.CountersReset(_logger, Line.Id, stationId);
            return ValueTask.FromResult(MethodResult.Ok());
        });

    private void AddPositions(RobotDefinition robot, NodeId stationFolder, HashSet<NodeId> taken)
    {
        var withNodes = robot.Positions.Where(p => p.NodeId is not null).ToList();
        if (withNodes.Count == 0)
        {
            return;
        }

        var baseId = stationFolder.IdType == IdType.String ? stationFolder.StringId! : $"{Prefix}.{robot.StationId}";
        var folder = Space.AddFolder(stationFolder, FreeId(baseId + ".positions", taken), "positions", $"Positions of {robot.Id}").NodeId;
        foreach (var position in withNodes)
        {
            var nodeId = NodeId.Parse(position.NodeId!);
            while (Space.Namespaces.Count <= nodeId.NamespaceIndex)
            {
                Space.RegisterNamespace($"urn:twingateway:plc-sim:{Line.Id}:ns{Space.Namespaces.Count}");
            }

            var node = Space.AddVariable(
                folder,
                nodeId,
                position.Name,
                new NodeId(DataTypeIds.Double),
                Variant.FromArray(BuiltInType.Double, position.Joints.ToArray()),
                1,
                AccessLevels.CurrentRead | AccessLevels.CurrentWrite);
            node.ArrayDimensions = [(uint)robot.Axes.Length];
            node.WriteHandler = value => WritePosition(robot, position.Name, node, value);
        }
    }

    /// <summary>Teaches a pose: the server has checked the type and rank (Double, one dimension); the twin checks length and limits.</summary>
    private StatusCode WritePosition(RobotDefinition robot, string position, VariableNode node, Variant value)
    {
        if (value.ArrayValue is not double[] joints)
        {
            return StatusCodes.BadTypeMismatch;
        }

        string? problem = null;
        lock (_gate)
        {
            try
            {
                _twin.SetRobotPosition(robot.Id, position, joints);
            }
            catch (ArgumentException ex)
            {
                problem = ex.Message;
            }
        }

        var text = "[" + string.Join(", ", joints.Select(j => j.ToString("R", CultureInfo.InvariantCulture))) + "]";
        if (problem is not null)
        {
            Log.PositionRefused(_logger, robot.Id, position, text, problem);
            return StatusCodes.BadOutOfRange;
        }

        node.SetValue(value, _time.GetUtcNow().UtcDateTime);
        Log.PositionWritten(_logger, robot.Id, position, text);
        return StatusCodes.Good;
    }

    private static NodeId FreeId(string name, HashSet<NodeId> taken)
    {
        var id = new NodeId(name, 1);
        while (!taken.Add(id))
        {
            id = new NodeId(id.StringId + "_", 1);
        }

        return id;
    }

    private StatusCode Write(SignalDefinition signal, VariableNode node, Variant value)
    {
        if (SignalVariants.ToTwin(value) is { } number)
        {
            if (!double.IsFinite(number))
            {
                return StatusCodes.BadOutOfRange;
            }

            lock (_gate)
            {
                _twin.SetInput(signal.Id, number);
            }
        }

        node.SetValue(value, _time.GetUtcNow().UtcDateTime);
        Log.InputWritten(_logger, signal.Id, value.ToString());
        return StatusCodes.Good;
    }

    private void AddFaultMethods(NodeId lineFolder)
    {
        var faults = Space.AddObject(lineFolder, FaultsObjectId, "Faults");
        var prefix = FaultsObjectId.StringId + ".";
        _activeFaults = Space.AddVariable(faults.NodeId, new NodeId(prefix + "Active", 1), "Active", new NodeId(DataTypeIds.String),
            Variant.FromArray(BuiltInType.String, Array.Empty<string>()), 1);
        _lastResult = Space.AddVariable(faults.NodeId, new NodeId(prefix + "LastResult", 1), "LastResult", new NodeId(DataTypeIds.String), new Variant(""));
        PublishFaults(_options.Faults.Count == 0 ? "" : "started with " + string.Join(", ", _options.Faults.Select(FaultSpec.Format)));

        AddMethod("InjectToolWear", [UaAddressSpace.Arg("station", DataTypeIds.String), UaAddressSpace.Arg("secondsPerHour", DataTypeIds.Double)],
            args => new ToolWear((string)args[0].Value!, args[1].ToDouble()));
        AddMethod("InjectSensorOffset", [UaAddressSpace.Arg("signal", DataTypeIds.String), UaAddressSpace.Arg("offset", DataTypeIds.Double)],
            args => new SensorOffset((string)args[0].Value!, args[1].ToDouble()));
        AddMethod("InjectBearingHeat", [UaAddressSpace.Arg("station", DataTypeIds.String), UaAddressSpace.Arg("degreesPerHour", DataTypeIds.Double)],
            args => new BearingHeat((string)args[0].Value!, args[1].ToDouble()));
        AddMethod("InjectJam", [UaAddressSpace.Arg("station", DataTypeIds.String)], args => new Jam((string)args[0].Value!));
        AddMethod("InjectGainChange", [UaAddressSpace.Arg("signal", DataTypeIds.String), UaAddressSpace.Arg("factor", DataTypeIds.Double)],
            args => new GainChange((string)args[0].Value!, args[1].ToDouble()));
        AddMethod("InjectNoiseIncrease", [UaAddressSpace.Arg("signal", DataTypeIds.String), UaAddressSpace.Arg("factor", DataTypeIds.Double)],
            args => new NoiseIncrease((string)args[0].Value!, args[1].ToDouble()));
        AddMethod("InjectStuckSensor", [UaAddressSpace.Arg("signal", DataTypeIds.String)], args => new StuckSensor((string)args[0].Value!));
        AddMethod("InjectSlowLeak", [UaAddressSpace.Arg("signal", DataTypeIds.String), UaAddressSpace.Arg("unitsPerHour", DataTypeIds.Double)],
            args => new SlowLeak((string)args[0].Value!, args[1].ToDouble()));
        Space.AddMethod(faults.NodeId, new NodeId(prefix + "ClearFaults", 1), "ClearFaults", [], [], _ =>
        {
            lock (_gate)
            {
                _twin.ClearFaults();
            }

            PublishFaults("all faults cleared");
            Log.FaultsCleared(_logger, Line.Id);
            return ValueTask.FromResult(MethodResult.Ok());
        });

        void AddMethod(string name, IReadOnlyList<Argument> inputs, Func<Variant[], TwinFault> create) =>
            Space.AddMethod(faults.NodeId, new NodeId(prefix + name, 1), name, inputs, [], call => ValueTask.FromResult(Inject(create(call.InputArguments))));
    }

    private MethodResult Inject(TwinFault fault)
    {
        string? problem;
        lock (_gate)
        {
            problem = _twin.CheckFault(fault);
            if (problem is null)
            {
                _twin.InjectFault(fault);
            }
        }

        if (problem is not null)
        {
            PublishFaults($"refused {FaultSpec.Format(fault)}: {problem}");
            Log.FaultRefused(_logger, Line.Id, FaultSpec.Format(fault), problem);
            return MethodResult.Fail(StatusCodes.BadInvalidArgument);
        }

        PublishFaults($"injected {FaultSpec.Format(fault)}");
        Log.FaultInjected(_logger, Line.Id, FaultSpec.Format(fault));
        return MethodResult.Ok();
    }

    private void PublishFaults(string lastResult)
    {
        string[] active;
        lock (_gate)
        {
            active = [.. _twin.ActiveFaults.Select(FaultSpec.Format)];
        }

        var now = _time.GetUtcNow().UtcDateTime;
        _activeFaults?.SetValue(Variant.FromArray(BuiltInType.String, active), now);
        _lastResult?.SetValue(new Variant(lastResult), now);
    }

    /// <summary>Steps the twin to the clock every <see cref="SimulatedPlcOptions.Step"/> and pushes the outputs that changed.</summary>
    private async Task RunAsync()
    {
        using var timer = new PeriodicTimer(_options.Step, _time);
        var behindLogged = false;
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                var now = _time.GetUtcNow().UtcDateTime;
                lock (_gate)
                {
                    var due = (now - _twin.SimTime).Ticks / _options.Step.Ticks;
                    if (due <= 0)
                    {
                        continue;
                    }

                    if (due > MaxCatchUpSteps && !behindLogged)
                    {
                        behindLogged = true;
                        Log.FallingBehind(_logger, Line.Id, TimeSpan.FromTicks(due * _options.Step.Ticks));
                    }

                    for (var i = Math.Min(due, MaxCatchUpSteps); i > 0; i--)
                    {
                        _twin.Step();
                    }

                    _twin.CopyValues(_snapshot);
                    foreach (var signal in _signals)
                    {
                        if (signal.Definition.DataType == SignalDataType.String)
                        {
                            _texts[signal.Index] = _twin.GetText(signal.Index);
                        }
                    }
                }

                Publish(now);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private void Publish(DateTime now)
    {
        foreach (var signal in _signals)
        {
            var definition = signal.Definition;
            if (definition.Direction == SignalDirection.ControllerInput)
            {
                continue; // inputs hold what was written
            }

            var value = _snapshot[signal.Index];
            var bits = BitConverter.DoubleToInt64Bits(value);
            var text = _texts[signal.Index];
            if (bits == signal.PublishedBits && (definition.DataType != SignalDataType.String || text == signal.PublishedText))
            {
                continue;
            }

            signal.PublishedBits = bits;
            signal.PublishedText = text;
            signal.Node.SetValue(SignalVariants.ToVariant(definition.DataType, value, text ?? ""), now);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4100, Level = LogLevel.Information, Message = "Simulated PLC {Controller} of line {LineId} listening on {Endpoint}: {Signals} signals, seed {Seed}, faults: {Faults}")]
        public static partial void Started(ILogger logger, string lineId, string controller, string endpoint, int signals, ulong seed, string faults);

        [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "Line {LineId}: fault injected: {Fault}")]
        public static partial void FaultInjected(ILogger logger, string lineId, string fault);

        [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "Line {LineId}: fault {Fault} refused (BadInvalidArgument): {Reason}")]
        public static partial void FaultRefused(ILogger logger, string lineId, string fault, string reason);

        [LoggerMessage(EventId = 4103, Level = LogLevel.Information, Message = "Line {LineId}: all faults cleared")]
        public static partial void FaultsCleared(ILogger logger, string lineId);

        [LoggerMessage(EventId = 4104, Level = LogLevel.Debug, Message = "Input {Signal} written: {Value}")]
        public static partial void InputWritten(ILogger logger, string signal, string value);

        [LoggerMessage(EventId = 4106, Level = LogLevel.Information, Message = "Robot {Robot} position {Position} taught: {Joints}")]
        public static partial void PositionWritten(ILogger logger, string robot, string position, string joints);

        [LoggerMessage(EventId = 4107, Level = LogLevel.Warning, Message = "Robot {Robot} position {Position}: write {Joints} refused (BadOutOfRange): {Reason}")]
        public static partial void PositionRefused(ILogger logger, string robot, string position, string joints, string reason);

        [LoggerMessage(EventId = 4108, Level = LogLevel.Information, Message = "Line {LineId}: counters of station {Station} reset")]
        public static partial void CountersReset(ILogger logger, string lineId, string station);

        [LoggerMessage(EventId = 4105, Level = LogLevel.Warning, Message = "Simulated PLC of line {LineId} is {Behind} behind real time (the machine is busy); it catches up {MaxSteps} steps per tick")]
        private static partial void FallingBehind(ILogger logger, string lineId, TimeSpan behind, int maxSteps);

        public static void FallingBehind(ILogger logger, string lineId, TimeSpan behind) => FallingBehind(logger, lineId, behind, MaxCatchUpSteps);
    }
}
