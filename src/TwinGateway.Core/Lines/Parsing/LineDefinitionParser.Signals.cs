using System.Collections.Immutable;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace TwinGateway.Core.Lines.Parsing;

internal sealed partial class LineDefinitionParser
{
    private static readonly string[] SignalFields =
        ["id", "description", "dataType", "unit", "direction", "nominalRange", "nodeId", "controller", "model"];

    private static readonly (string Name, SignalDirection Value)[] Directions =
    [
        ("controllerInput", SignalDirection.ControllerInput),
        ("controllerOutput", SignalDirection.ControllerOutput),
    ];

    /// <summary>The OPC UA built-in types (Part 6, 5.1.2) that are not plain values, so no signal carries them.</summary>
    private static readonly string[] NonSignalBuiltInTypes =
    [
        "Guid", "ByteString", "XmlElement", "NodeId", "ExpandedNodeId", "StatusCode", "QualifiedName", "LocalizedText",
        "ExtensionObject", "DataValue", "Variant", "DiagnosticInfo",
    ];

    /// <summary>Names from other type systems that people write for an OPC UA type.</summary>
    private static readonly Dictionary<string, string> DataTypeAliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["bool"] = "Boolean", ["int"] = "Int32", ["integer"] = "Int32", ["long"] = "Int64", ["short"] = "Int16",
        ["float32"] = "Float", ["single"] = "Float", ["real"] = "Float", ["float64"] = "Double", ["lreal"] = "Double",
        ["int8"] = "SByte", ["uint8"] = "Byte", ["word"] = "UInt16", ["dword"] = "UInt32", ["dint"] = "Int32",
        ["str"] = "String", ["text"] = "String", ["timestamp"] = "DateTime",
    };

    private static readonly string[] SignalDataTypeNames = Enum.GetNames<SignalDataType>();

    private static readonly string[] ModelKinds =
        ["constant", "setpoint", "follow", "motorCurrent", "temperature", "axisPosition", "robotProgram", "robotZone", "partCount", "cycleTime", "state"];

    private static readonly (string Name, PartCounter Value)[] PartCounters =
    [
        ("produced", PartCounter.Produced),
        ("good", PartCounter.Good),
        ("rejected", PartCounter.Rejected),
        ("level", PartCounter.Level),
    ];

    private static readonly (string Name, StationState Value)[] StationStates =
    [
        ("idle", StationState.Idle),
        ("processing", StationState.Processing),
        ("blocked", StationState.Blocked),
        ("failed", StationState.Failed),
    ];

    private readonly List<SignalEntry> _signalList = [];
    private readonly Dictionary<string, SignalEntry> _signals = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Controller, string NodeId), SignalEntry> _nodeIds = [];

    /// <summary>Checks of references that may point forward in the file; run once every section is read.</summary>
    private readonly List<Action> _deferred = [];

    private void ParseSignals(FieldSet top)
    {
        if (top.Require("signals") is not { } section)
        {
            return;
        }

        foreach (var (item, path) in Items(section, "signals", "signals"))
        {
            if (FieldSet.Open(this, item, path, "a signal", SignalFields) is { } fields)
            {
                ParseSignal(fields, item);
            }
        }
    }

    private void ParseSignal(FieldSet fields, YamlNode item)
    {
        var entry = new SignalEntry(fields.Path, Location(item));
        if (fields.Require("id") is { } idNode && SignalId(idNode, fields.PathOf("id"), entry))
        {
            entry.IdNode = idNode;
            if (Register(_signals, entry.Id, idNode, fields.PathOf("id"), "signal id", static s => s.IdNode!, entry))
            {
                _signalList.Add(entry);
            }
        }

        entry.Description = fields.OptionalText("description");
        entry.DataType = fields.Require("dataType") is { } typeNode ? DataType(typeNode, fields.PathOf("dataType")) : null;
        entry.Unit = fields.OptionalText("unit") ?? "";
        entry.Direction = fields.Require("direction") is { } directionNode
            ? Choice(directionNode, fields.PathOf("direction"), "direction", Directions)
            : null;

        if (fields.Get("nominalRange") is { } rangeNode)
        {
            if (entry.DataType is { } type && !type.IsNumeric())
            {
                Error(fields.KeyNode("nominalRange"), fields.PathOf("nominalRange"), $"nominalRange applies only to numeric signals; this one is {type}");
            }
            else
            {
                entry.Range = NominalRange(rangeNode, fields.PathOf("nominalRange"));
            }
        }

        entry.ControllerId = SignalController(fields);
        if (fields.RequiredText("nodeId") is { } nodeId)
        {
            if (NodeIdText.Validate(nodeId) is { } problem)
            {
                Error(fields.Get("nodeId")!, fields.PathOf("nodeId"), $"nodeId '{nodeId}' is not a valid node id: {problem}");
            }
            else
            {
                entry.NodeId = nodeId;
                if (entry.ControllerId is not null && !_nodeIds.TryAdd((entry.ControllerId, nodeId), entry))
                {
                    var first = _nodeIds[(entry.ControllerId, nodeId)];
                    Error(fields.Get("nodeId")!, fields.PathOf("nodeId"),
                        $"duplicate nodeId '{nodeId}' on controller '{entry.ControllerId}' (first used by signal '{first.Id}' at line {first.Source.Line})");
                }
            }
        }

        if (fields.Get("model") is { } modelNode)
        {
            entry.Model = ParseModel(modelNode, fields.PathOf("model"), entry);
        }
    }

    /// <summary>Reads <c>station.name</c> (or <c>line.name</c>) and checks that the station exists.</summary>
    private bool SignalId(YamlNode node, string path, SignalEntry entry)
    {
        if (Text(node, path) is not { } id)
        {
            return false;
        }

        if (!SignalIdPattern().IsMatch(id))
        {
            Error(node, path, $"signal id '{id}' must be 'station.name' (for example cnc1.spindleSpeed), or '{LineWidePrefix}.name' for a line-wide signal");
            return false;
        }

        var dot = id.IndexOf('.', StringComparison.Ordinal);
        var station = id[..dot];
        entry.Id = id;
        entry.Name = id[(dot + 1)..];
        if (string.Equals(station, LineWidePrefix, StringComparison.Ordinal))
        {
            entry.IsLineWide = true;
            return true;
        }

        if (!_stations.ContainsKey(station))
        {
            Error(node, path, $"signal id '{id}' names unknown station '{station}'{Suggestions.DidYouMean(station, _stations.Keys.Append(LineWidePrefix))}");
            return false;
        }

        entry.StationId = station;
        return true;
    }

    private SignalDataType? DataType(YamlNode node, string path)
    {
        if (Text(node, path) is not { } name)
        {
            return null;
        }

        if (Enum.TryParse<SignalDataType>(name, ignoreCase: false, out var type) && SignalDataTypeNames.Contains(name, StringComparer.Ordinal))
        {
            return type;
        }

        var expected = string.Join(", ", SignalDataTypeNames);
        if (NonSignalBuiltInTypes.Contains(name, StringComparer.Ordinal))
        {
            Error(node, path, $"dataType '{name}' is an OPC UA built-in type, but not one a signal carries (expected {expected})");
            return null;
        }

        var suggestion = DataTypeAliases.TryGetValue(name, out var alias) ? alias : Suggestions.Closest(name, SignalDataTypeNames);
        Error(node, path, suggestion is null
            ? $"dataType '{name}' is not an OPC UA built-in type (expected {expected})"
            : $"dataType '{name}' is not an OPC UA built-in type (did you mean '{suggestion}'?)");
        return null;
    }

    private NominalRange? NominalRange(YamlNode node, string path)
    {
        if (FieldSet.Open(this, node, path, "a nominal range", ["low", "high"]) is not { } fields)
        {
            return null;
        }

        var low = fields.RequiredNumber("low");
        var high = fields.RequiredNumber("high");
        if (low is not { } lo || high is not { } hi)
        {
            return null;
        }

        if (lo > hi)
        {
            Error(node, path, $"nominalRange low {Format(lo)} is above high {Format(hi)}");
            return null;
        }

        return new NominalRange(lo, hi);
    }

    private string? SignalController(FieldSet fields)
    {
        if (fields.Get("controller") is not { } node)
        {
            // One controller is the common case; naming it on every signal would only add noise.
            if (_controllers.Count == 1)
            {
                return _controllers.Keys.First();
            }

            if (_controllers.Count > 1)
            {
                fields.Require("controller");
            }

            return null;
        }

        if (Text(node, fields.PathOf("controller")) is not { } id)
        {
            return null;
        }

        if (_controllers.ContainsKey(id))
        {
            return id;
        }

        Error(node, fields.PathOf("controller"), $"signal references unknown controller '{id}' (expected {string.Join(", ", _controllers.Keys)})");
        return null;
    }

    private SignalModel? ParseModel(YamlNode node, string path, SignalEntry signal)
    {
        if (node is not YamlMappingNode mapping)
        {
            Error(node, path, $"expected a model as a mapping such as {{ kind: temperature, ambient: 22, running: 55, timeConstant: 900 }}, found {Describe(node)}");
            return null;
        }

        var kindNode = mapping.Children.FirstOrDefault(c => c.Key is YamlScalarNode { Value: "kind" }).Value;
        var kind = kindNode is null || IsNull(kindNode) ? null : ChoiceName(kindNode, $"{path}.kind", "model kind", ModelKinds);
        string[] known = kind switch
        {
            "constant" => ["kind", "value", "noise"],
            "setpoint" => ["kind", "initial"],
            "follow" => ["kind", "source", "gain", "offset", "timeConstant", "noise", "onlyWhileProcessing"],
            "motorCurrent" => ["kind", "idle", "load", "timeConstant", "noise"],
            "temperature" => ["kind", "ambient", "running", "timeConstant", "noise"],
            "axisPosition" => ["kind", "noise"],
            "robotZone" => ["kind", "robot", "positions"],
            "partCount" => ["kind", "counter"],
            "state" => ["kind", "is"],
            "robotProgram" or "cycleTime" => ["kind"],
            _ => AllModelFields,
        };
        var fields = FieldSet.Open(this, mapping, path, "a signal model", known);
        if (fields is null || kind is null)
        {
            fields?.Require("kind");
            return null;
        }

        signal.ModelKind = kind;
        signal.ModelKindNode = kindNode;
        CheckModelFits(kind, kindNode!, fields.PathOf("kind"), signal);
        return kind switch
        {
            "constant" => ConstantModel(fields, signal),
            "setpoint" => SetpointModel(fields, signal),
            "follow" => FollowModel(fields, signal),
            "motorCurrent" => MotorCurrentModel(fields),
            "temperature" => TemperatureModel(fields),
            // Robot and axis come from the robot that names this signal (see ClaimSignal).
            "axisPosition" => new AxisPositionModel("", "", NumberField(fields, "noise", Bound.NotNegative) ?? 0),
            "robotProgram" => new RobotProgramModel(""),
            "robotZone" => RobotZoneModel(fields, signal),
            "partCount" => PartCountModel(fields, signal),
            "cycleTime" => new CycleTimeModel(),
            "state" => StateModel(fields, signal),
            _ => null,
        };
    }

    private static readonly string[] AllModelFields =
    [
        "kind", "value", "noise", "initial", "source", "gain", "offset", "timeConstant", "onlyWhileProcessing", "idle", "load",
        "ambient", "running", "robot", "positions", "counter", "is",
    ];

    /// <summary>Checks that a model kind suits the signal's direction, data type and station.</summary>
    private void CheckModelFits(string kind, YamlNode kindNode, string path, SignalEntry signal)
    {
        var isSetpoint = kind == "setpoint";
        if (signal.Direction == SignalDirection.ControllerInput && !isSetpoint)
        {
            Error(kindNode, path, $"a controllerInput signal is written by the gateway, so its model must be setpoint, not '{kind}'");
        }
        else if (signal.Direction == SignalDirection.ControllerOutput && isSetpoint)
        {
            Error(kindNode, path, "model kind 'setpoint' is for controllerInput signals; this signal is a controllerOutput");
        }

        if (signal.DataType is { } type)
        {
            var needs = kind switch
            {
                "constant" or "setpoint" => type.IsNumeric() || type == SignalDataType.Boolean ? null : "a numeric or Boolean dataType",
                "follow" or "motorCurrent" or "temperature" or "axisPosition" or "cycleTime" => type.IsNumeric() ? null : "a numeric dataType",
                "robotProgram" => type.IsInteger() || type == SignalDataType.String ? null : "an integer or String dataType",
                "robotZone" => type == SignalDataType.Boolean ? null : "dataType Boolean",
                "partCount" => type.IsInteger() ? null : "an integer dataType",
                _ => null,
            };
            if (needs is not null)
            {
                Error(kindNode, path, $"model kind '{kind}' needs {needs}, not {type}");
            }
        }

        var usesStation = kind is "motorCurrent" or "temperature" or "partCount" or "cycleTime" or "state";
        if (usesStation && signal.IsLineWide)
        {
            Error(kindNode, path, $"model kind '{kind}' follows the signal's station, and a line-wide signal has none");
        }
    }

    private double? ValueFor(FieldSet fields, string key, SignalEntry signal, bool required)
    {
        var node = required ? fields.Require(key) : fields.Get(key);
        if (node is null)
        {
            return null;
        }

        if (signal.DataType == SignalDataType.Boolean || (signal.DataType is null && TryBoolean(node) is not null))
        {
            return Boolean(node, fields.PathOf(key)) is { } flag ? (flag ? 1 : 0) : null;
        }

        var value = Number(node, fields.PathOf(key));
        if (value is { } number && signal.DataType is { } type && type.IsInteger() && number != Math.Round(number))
        {
            Error(node, fields.PathOf(key), $"{key} must be a whole number for an integer signal ({type}), found {Format(number)}");
            return null;
        }

        if (value is { } inRange && signal.Range is { } range && !range.Contains(inRange))
        {
            Error(node, fields.PathOf(key), $"{key} {Format(inRange)} is outside the nominalRange {Format(range.Low)} to {Format(range.High)}");
        }

        return value;
    }

    private ConstantModel? ConstantModel(FieldSet fields, SignalEntry signal)
    {
        var value = ValueFor(fields, "value", signal, required: true);
        var noise = NumberField(fields, "noise", Bound.NotNegative);
        return value is { } v ? new ConstantModel(v, noise ?? 0) : null;
    }

    private SetpointModel SetpointModel(FieldSet fields, SignalEntry signal)
    {
        // Without an initial value a setpoint starts at 0, or at the nearest end of its nominal range.
        var initial = ValueFor(fields, "initial", signal, required: false)
            ?? (signal.Range is { } range ? Math.Clamp(0, range.Low, range.High) : 0);
        return new SetpointModel(initial);
    }

    private FollowModel? FollowModel(FieldSet fields, SignalEntry signal)
    {
        var sourceNode = fields.Require("source");
        var source = sourceNode is null ? null : Text(sourceNode, fields.PathOf("source"));
        var gain = fields.OptionalNumber("gain") ?? 1;
        var offset = fields.OptionalNumber("offset") ?? 0;
        var timeConstant = NumberField(fields, "timeConstant", Bound.Positive) ?? 1;
        var noise = NumberField(fields, "noise", Bound.NotNegative) ?? 0;
        var gated = fields.OptionalBoolean("onlyWhileProcessing") ?? false;
        if (gated && signal.IsLineWide)
        {
            Error(fields.KeyNode("onlyWhileProcessing"), fields.PathOf("onlyWhileProcessing"), "onlyWhileProcessing follows the signal's station, and a line-wide signal has none");
        }

        if (source is null)
        {
            return null;
        }

        var sourcePath = fields.PathOf("source");
        _deferred.Add(() =>
        {
            if (!_signals.TryGetValue(source, out var target))
            {
                Error(sourceNode!, sourcePath, $"follow source references unknown signal '{source}'{Suggestions.DidYouMean(source, _signals.Keys)}");
            }
            else if (ReferenceEquals(target, signal))
            {
                Error(sourceNode!, sourcePath, "a signal cannot follow itself");
            }
            else if (target.DataType is { } type && !type.IsNumeric())
            {
                Error(sourceNode!, sourcePath, $"follow source '{source}' is {type}; a signal can follow only a numeric signal");
            }
        });
        return new FollowModel(source, gain, offset, timeConstant, noise, gated);
    }

    private MotorCurrentModel? MotorCurrentModel(FieldSet fields)
    {
        var idle = NumberField(fields, "idle", Bound.NotNegative, required: true);
        var load = NumberField(fields, "load", Bound.NotNegative, required: true);
        var timeConstant = NumberField(fields, "timeConstant", Bound.Positive) ?? 0.5;
        var noise = NumberField(fields, "noise", Bound.NotNegative) ?? 0;
        return idle is { } i && load is { } l ? new MotorCurrentModel(i, l, timeConstant, noise) : null;
    }

    private TemperatureModel? TemperatureModel(FieldSet fields)
    {
        var ambient = fields.RequiredNumber("ambient");
        var running = fields.RequiredNumber("running");
        var timeConstant = NumberField(fields, "timeConstant", Bound.Positive, required: true);
        var noise = NumberField(fields, "noise", Bound.NotNegative) ?? 0;
        return ambient is { } a && running is { } r && timeConstant is { } t ? new TemperatureModel(a, r, t, noise) : null;
    }

    private RobotZoneModel? RobotZoneModel(FieldSet fields, SignalEntry signal)
    {
        var robotNode = fields.Get("robot");
        var robot = robotNode is null ? null : Text(robotNode, fields.PathOf("robot"));
        var positions = new List<(string Name, YamlNode Node, string Path)>();
        if (fields.Require("positions") is { } positionsNode)
        {
            foreach (var (item, itemPath) in Items(positionsNode, fields.PathOf("positions"), "positions"))
            {
                if (Text(item, itemPath) is { } name)
                {
                    positions.Add((name, item, itemPath));
                }
            }

            if (positionsNode is YamlSequenceNode { Children.Count: 0 })
            {
                Error(positionsNode, fields.PathOf("positions"), "a robot zone needs at least one position");
            }
        }

        var model = new RobotZoneModel(robot ?? "", [.. positions.Select(p => p.Name)]);
        _deferred.Add(() =>
        {
            if (_robotsMisspelt)
            {
                return;
            }

            // Without an explicit robot, the zone belongs to the robot that works at the signal's station.
            RobotEntry? owner = null;
            if (robot is not null)
            {
                if (!_robots.TryGetValue(robot, out owner))
                {
                    Error(robotNode!, fields.PathOf("robot"), $"robot zone references unknown robot '{robot}'{Suggestions.DidYouMean(robot, _robots.Keys)}");
                }
            }
            else if (signal.StationId is not null && _stations.TryGetValue(signal.StationId, out var station) && station.Robot is not null)
            {
                owner = _robots[station.Robot];
            }
            else if ((signal.StationId is not null || signal.IsLineWide) && !HasErrorInRobots())
            {
                Error(fields.Node, fields.Path, $"missing required field 'robot' (no robot works at the signal's station '{signal.StationId ?? LineWidePrefix}')");
            }

            if (owner is null)
            {
                return;
            }

            foreach (var (name, node, itemPath) in positions)
            {
                if (!owner.PositionNames.Contains(name))
                {
                    Error(node, itemPath, $"robot '{owner.Id}' has no position '{name}'{Suggestions.DidYouMean(name, owner.PositionNames)}");
                }
            }

            signal.Model = model with { Robot = owner.Id };
        });
        return model;
    }

    private PartCountModel? PartCountModel(FieldSet fields, SignalEntry signal)
    {
        var counter = fields.Get("counter") is { } node
            ? Choice(node, fields.PathOf("counter"), "part counter", PartCounters)
            : PartCounter.Produced;
        if (counter is PartCounter.Good or PartCounter.Rejected && signal.StationId is { } stationId
            && _stations.TryGetValue(stationId, out var station) && station.Kind is { } kind and not StationKind.Inspection)
        {
            Error(fields.Get("counter")!, fields.PathOf("counter"),
                $"counter '{PartCounters.First(c => c.Value == counter).Name}' applies only to inspection stations; '{stationId}' is a {Name(kind)}");
        }

        return counter is { } c ? new PartCountModel(c) : null;
    }

    private StationStateModel? StateModel(FieldSet fields, SignalEntry signal)
    {
        var states = ImmutableArray.CreateBuilder<StationState>();
        var valid = true;
        if (fields.Get("is") is { } node)
        {
            var items = node is YamlSequenceNode ? Items(node, fields.PathOf("is"), "states") : [(node, fields.PathOf("is"))];
            foreach (var (item, itemPath) in items)
            {
                if (TryBoolean(item) is null && item is YamlScalarNode { Value: "running" or "Running" })
                {
                    Error(item, itemPath, "unknown station state 'running' (expected idle, processing, blocked, failed; a running station is 'processing')");
                    valid = false;
                }
                else if (Choice(item, itemPath, "station state", StationStates) is { } state)
                {
                    states.Add(state);
                }
                else
                {
                    valid = false;
                }
            }
        }

        if (signal.DataType is { } type && signal.ModelKindNode is { } kindNode)
        {
            if (states.Count > 0 && type != SignalDataType.Boolean)
            {
                Error(kindNode, fields.PathOf("kind"), $"a state model with 'is' gives a Boolean flag, so it needs dataType Boolean, not {type}");
            }
            else if (states.Count == 0 && valid && !type.IsInteger())
            {
                Error(kindNode, fields.PathOf("kind"), $"a state model without 'is' gives the state code (0 idle, 1 processing, 2 blocked, 3 failed), so it needs an integer dataType, not {type}");
            }
        }

        return valid ? new StationStateModel(states.ToImmutable()) : null;
    }

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z][A-Za-z0-9_-]*)+$", RegexOptions.CultureInvariant)]
    private static partial Regex SignalIdPattern();

    /// <summary>A signal as read so far; built into a <see cref="SignalDefinition"/> only when the file has no error.</summary>
    private sealed class SignalEntry(string path, SourceLocation source)
    {
        public string Path { get; } = path;

        public SourceLocation Source { get; } = source;

        public string Id { get; set; } = "";

        public YamlNode? IdNode { get; set; }

        public string? StationId { get; set; }

        /// <summary>A <c>line.</c> signal: it has no station, so station-driven models do not apply.</summary>
        public bool IsLineWide { get; set; }

        public string Name { get; set; } = "";

        public string? Description { get; set; }

        public SignalDataType? DataType { get; set; }

        public string Unit { get; set; } = "";

        public SignalDirection? Direction { get; set; }

        public NominalRange? Range { get; set; }

        public string NodeId { get; set; } = "";

        public string? ControllerId { get; set; }

        public SignalModel? Model { get; set; }

        public string? ModelKind { get; set; }

        public YamlNode? ModelKindNode { get; set; }

        /// <summary>What a robot uses this signal for ("robot1 axis a1 position"), once the robots are read.</summary>
        public string? UsedBy { get; set; }

        public SignalDefinition Build() => new()
        {
            Id = Id,
            StationId = StationId,
            Name = Name,
            Description = Description,
            DataType = DataType ?? throw new InvalidOperationException($"Signal '{Id}' has no data type."),
            Unit = Unit,
            Direction = Direction ?? throw new InvalidOperationException($"Signal '{Id}' has no direction."),
            NominalRange = Range,
            NodeId = NodeId,
            ControllerId = ControllerId ?? throw new InvalidOperationException($"Signal '{Id}' has no controller."),
            Model = Model,
            Source = Source,
        };
    }
}
