using System.Collections.Immutable;
using YamlDotNet.RepresentationModel;

namespace TwinGateway.Core.Lines.Parsing;

/// <summary>A signal's <c>model</c>: the kind, the fields each kind takes, and whether it suits the signal.</summary>
internal sealed partial class LineDefinitionParser
{
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
}
