using System.Collections.Immutable;
using YamlDotNet.RepresentationModel;

namespace TwinGateway.Core.Lines.Parsing;

internal sealed partial class LineDefinitionParser
{
    private static readonly string[] RobotFields = ["id", "station", "axes", "positions", "programs", "programSignal"];
    private static readonly string[] AxisFields = ["name", "min", "max", "unit", "positionSignal"];
    private static readonly string[] PositionFields = ["name", "joints", "nodeId"];
    private static readonly string[] ProgramFields = ["name", "number", "path"];

    private readonly Dictionary<string, RobotEntry> _robots = new(StringComparer.Ordinal);

    /// <summary>Node ids of robot positions, with the node of each, for duplicates across robots.</summary>
    private readonly Dictionary<string, YamlNode> _positionNodeIds = new(StringComparer.Ordinal);

    /// <summary>The file has a misspelling of 'robots:'; references to robots are then not checked.</summary>
    private bool _robotsMisspelt;

    private ImmutableArray<RobotDefinition> ParseRobots(FieldSet top)
    {
        var robots = ImmutableArray.CreateBuilder<RobotDefinition>();
        _robotsMisspelt = top.WasSuggested("robots");
        if (top.Get("robots") is not { } section)
        {
            return robots.ToImmutable();
        }

        foreach (var (item, path) in Items(section, "robots", "robots"))
        {
            if (FieldSet.Open(this, item, path, "a robot", RobotFields) is { } fields && ParseRobot(fields, item) is { } robot)
            {
                robots.Add(robot);
            }
        }

        return robots.ToImmutable();
    }

    private RobotDefinition? ParseRobot(FieldSet fields, YamlNode item)
    {
        var idNode = fields.Require("id");
        var id = idNode is null ? null : Identifier(idNode, fields.PathOf("id"), "robot id");
        var entry = new RobotEntry(id ?? "", idNode ?? item);
        if (id is not null && !Register(_robots, id, idNode!, fields.PathOf("id"), "robot id", static r => r.IdNode, entry))
        {
            id = null;
        }

        var stationId = RobotStation(fields, id);
        var axes = RobotAxes(fields, id);
        var positions = RobotPositions(fields, axes, entry.PositionNames);

        var programs = RobotPrograms(fields, entry.PositionNames);
        string? programSignal = null;
        if (fields.Get("programSignal") is { } programNode
            && SignalReference(programNode, fields.PathOf("programSignal"), "programSignal") is { } program)
        {
            programSignal = program.Id;
            ClaimSignal(program, programNode, fields.PathOf("programSignal"), $"robot {id}'s program signal", "robotProgram",
                type => type.IsInteger() || type == SignalDataType.String ? null : "an integer or String dataType (the program number or name)",
                () => new RobotProgramModel(id ?? ""));
        }

        if (id is null || stationId is null || axes is null)
        {
            return null;
        }

        return new RobotDefinition
        {
            Id = id,
            StationId = stationId,
            Axes = axes.Value,
            Positions = positions,
            Programs = programs,
            ProgramSignal = programSignal,
            Source = Location(item),
        };
    }

    private string? RobotStation(FieldSet fields, string? robotId)
    {
        if (fields.Require("station") is not { } node || Text(node, fields.PathOf("station")) is not { } stationId)
        {
            return null;
        }

        if (!_stations.TryGetValue(stationId, out var station))
        {
            Error(node, fields.PathOf("station"), $"robot references unknown station '{stationId}'{Suggestions.DidYouMean(stationId, _stations.Keys)}");
            return null;
        }

        if (station.Kind is { } kind and not StationKind.Robot)
        {
            Error(node, fields.PathOf("station"), $"robot works at station '{stationId}', which is a {Name(kind)}; a robot works at a station of kind robot");
            return null;
        }

        if (station.Robot is not null)
        {
            Error(node, fields.PathOf("station"), $"station '{stationId}' already has robot '{station.Robot}' (line {_robots[station.Robot].IdNode.Start.Line}); a robot station has one robot");
            return null;
        }

        if (robotId is not null)
        {
            station.Robot = robotId;
        }

        return stationId;
    }

    private ImmutableArray<RobotAxis>? RobotAxes(FieldSet fields, string? robotId)
    {
        if (fields.Require("axes") is not { } section)
        {
            return null;
        }

        var axes = ImmutableArray.CreateBuilder<RobotAxis>();
        var names = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        var valid = true;
        foreach (var (item, path) in Items(section, fields.PathOf("axes"), "axes"))
        {
            if (FieldSet.Open(this, item, path, "a robot axis", AxisFields) is not { } axis)
            {
                valid = false;
                continue;
            }

            var nameNode = axis.Require("name");
            var name = nameNode is null ? null : Identifier(nameNode, axis.PathOf("name"), "axis name");
            if (name is not null && !Register(names, name, nameNode!, axis.PathOf("name"), "axis name", static n => n, nameNode!))
            {
                name = null;
            }

            var min = axis.RequiredNumber("min");
            var max = axis.RequiredNumber("max");
            if (min >= max)
            {
                Error(axis.Get("min")!, axis.PathOf("min"), $"axis min {Format(min.Value)} is not below max {Format(max!.Value)}");
                min = null;
            }

            var unit = axis.OptionalText("unit") ?? "deg";
            string? positionSignal = null;
            if (axis.Get("positionSignal") is { } signalNode
                && SignalReference(signalNode, axis.PathOf("positionSignal"), "positionSignal") is { } signal)
            {
                positionSignal = signal.Id;
                var axisName = name ?? "";
                ClaimSignal(signal, signalNode, axis.PathOf("positionSignal"), $"robot {robotId} axis {axisName}'s position signal", "axisPosition",
                    type => type.IsNumeric() ? null : "a numeric dataType",
                    () => new AxisPositionModel(robotId ?? "", axisName, (signal.Model as AxisPositionModel)?.Noise ?? 0));
            }

            if (name is null || min is null || max is null)
            {
                valid = false;
                continue;
            }

            axes.Add(new RobotAxis(name, min.Value, max.Value, unit, positionSignal));
        }

        if (section is YamlSequenceNode { Children.Count: 0 })
        {
            Error(section, fields.PathOf("axes"), "a robot needs at least one axis");
            valid = false;
        }

        return valid ? axes.ToImmutable() : null;
    }

    /// <summary>Reads the poses; <paramref name="names"/> gets every well-formed name, also of poses with bad joints,
    /// so that programs and zones naming them are not reported a second time.</summary>
    private ImmutableArray<RobotPosition> RobotPositions(FieldSet fields, ImmutableArray<RobotAxis>? axes, HashSet<string> names)
    {
        var positions = ImmutableArray.CreateBuilder<RobotPosition>();
        if (fields.Require("positions") is not { } section)
        {
            return positions.ToImmutable();
        }

        var defined = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var (item, path) in Items(section, fields.PathOf("positions"), "positions"))
        {
            if (FieldSet.Open(this, item, path, "a robot position", PositionFields) is not { } position)
            {
                continue;
            }

            var nameNode = position.Require("name");
            var name = nameNode is null ? null : Identifier(nameNode, position.PathOf("name"), "position name");
            if (name is not null && !Register(defined, name, nameNode!, position.PathOf("name"), "position name", static n => n, nameNode!))
            {
                name = null;
            }

            if (name is not null)
            {
                names.Add(name);
            }

            var joints = position.Require("joints") is { } jointsNode ? Joints(jointsNode, position.PathOf("joints"), name ?? "?", axes) : null;
            var nodeId = PositionNodeId(position);
            if (name is not null && joints is not null)
            {
                positions.Add(new RobotPosition(name, joints.Value) { NodeId = nodeId });
            }
        }

        if (section is YamlSequenceNode { Children.Count: 0 })
        {
            Error(section, fields.PathOf("positions"), "a robot needs at least one position (the first is where it starts)");
        }

        return positions.ToImmutable();
    }

    /// <summary>A position's optional node id: valid, and used by no signal and no other position.</summary>
    private string? PositionNodeId(FieldSet position)
    {
        if (position.OptionalText("nodeId") is not { } nodeId)
        {
            return null;
        }

        var node = position.Get("nodeId")!;
        var path = position.PathOf("nodeId");
        if (NodeIdText.Validate(nodeId) is { } problem)
        {
            Error(node, path, $"nodeId '{nodeId}' is not a valid node id: {problem}");
            return null;
        }

        // Poses live on the controller beside the signals; a node id shared with a signal would be two things at once.
        var signal = _nodeIds.FirstOrDefault(n => string.Equals(n.Key.NodeId, nodeId, StringComparison.Ordinal)).Value;
        if (signal is not null)
        {
            Error(node, path, $"duplicate nodeId '{nodeId}' (already the node of signal '{signal.Id}' at line {signal.Source.Line})");
            return null;
        }

        if (!_positionNodeIds.TryAdd(nodeId, node))
        {
            Error(node, path, $"duplicate nodeId '{nodeId}' (first used by a position at line {_positionNodeIds[nodeId].Start.Line})");
            return null;
        }

        return nodeId;
    }

    private ImmutableArray<double>? Joints(YamlNode node, string path, string position, ImmutableArray<RobotAxis>? axes)
    {
        var joints = ImmutableArray.CreateBuilder<double>();
        var valid = true;
        var items = Items(node, path, "joint values").ToList();
        if (node is not YamlSequenceNode)
        {
            return null;
        }

        if (axes is { } known && items.Count != known.Length)
        {
            Error(node, path, $"position '{position}' has {items.Count} joint values, but the robot has {known.Length} axes");
            return null;
        }

        for (var i = 0; i < items.Count; i++)
        {
            var (item, itemPath) = items[i];
            if (Number(item, itemPath) is not { } value)
            {
                valid = false;
                continue;
            }

            if (axes is { } limits && (value < limits[i].Min || value > limits[i].Max))
            {
                Error(item, itemPath,
                    $"joint {i + 1} of position '{position}' is {Format(value)}, outside axis '{limits[i].Name}' limits {Format(limits[i].Min)} to {Format(limits[i].Max)}");
                valid = false;
                continue;
            }

            joints.Add(value);
        }

        return valid ? joints.ToImmutable() : null;
    }

    private ImmutableArray<RobotProgram> RobotPrograms(FieldSet fields, HashSet<string> positionNames)
    {
        var programs = ImmutableArray.CreateBuilder<RobotProgram>();
        if (fields.Require("programs") is not { } section)
        {
            return programs.ToImmutable();
        }

        var names = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        var numbers = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var (item, path) in Items(section, fields.PathOf("programs"), "programs"))
        {
            if (FieldSet.Open(this, item, path, "a robot program", ProgramFields) is not { } program)
            {
                continue;
            }

            var nameNode = program.Require("name");
            var name = nameNode is null ? null : Identifier(nameNode, program.PathOf("name"), "program name");
            if (name is not null && !Register(names, name, nameNode!, program.PathOf("name"), "program name", static n => n, nameNode!))
            {
                name = null;
            }

            int? number = null;
            if (program.Require("number") is { } numberNode && Integer(numberNode, program.PathOf("number")) is { } value)
            {
                if (value is < 1 or > int.MaxValue)
                {
                    Error(numberNode, program.PathOf("number"), $"a program number is from 1 to {int.MaxValue} (0 means no program), found {value}");
                }
                else if (Register(numbers, value.ToString(System.Globalization.CultureInfo.InvariantCulture), numberNode, program.PathOf("number"), "program number", static n => n, numberNode))
                {
                    number = (int)value;
                }
            }

            var steps = ImmutableArray.CreateBuilder<string>();
            if (program.Require("path") is { } pathNode)
            {
                foreach (var (step, stepPath) in Items(pathNode, program.PathOf("path"), "a path of positions"))
                {
                    if (Text(step, stepPath) is not { } stepName)
                    {
                        continue;
                    }

                    if (!positionNames.Contains(stepName))
                    {
                        Error(step, stepPath, $"program '{name}' moves to unknown position '{stepName}'{Suggestions.DidYouMean(stepName, positionNames)}");
                        continue;
                    }

                    steps.Add(stepName);
                }

                if (pathNode is YamlSequenceNode { Children.Count: 0 })
                {
                    Error(pathNode, program.PathOf("path"), "a program moves through at least one position");
                }
            }

            if (name is not null && number is not null)
            {
                programs.Add(new RobotProgram(name, number.Value, steps.ToImmutable()));
            }
        }

        if (section is YamlSequenceNode { Children.Count: 0 })
        {
            Error(section, fields.PathOf("programs"), "a robot needs at least one program (the first runs once per part)");
        }

        return programs.ToImmutable();
    }

    /// <summary>Looks a signal id up, reporting an unknown one with a suggestion.</summary>
    private SignalEntry? SignalReference(YamlNode node, string path, string what)
    {
        if (Text(node, path) is not { } id)
        {
            return null;
        }

        if (_signals.TryGetValue(id, out var signal))
        {
            return signal;
        }

        Error(node, path, $"{what} references unknown signal '{id}'{Suggestions.DidYouMean(id, _signals.Keys)}");
        return null;
    }

    /// <summary>
    /// Marks a signal as carrying a robot value (an axis position, the program): it must be a controller output of a
    /// fitting type, used once, and its model is the robot's (written in the file, or filled in here).
    /// </summary>
    private void ClaimSignal(SignalEntry signal, YamlNode node, string path, string use, string modelKind, Func<SignalDataType, string?> typeProblem, Func<SignalModel> model)
    {
        if (signal.UsedBy is not null)
        {
            Error(node, path, $"signal '{signal.Id}' is already {signal.UsedBy}");
            return;
        }

        signal.UsedBy = use;
        if (signal.Direction == SignalDirection.ControllerInput)
        {
            Error(node, path, $"signal '{signal.Id}' is a controllerInput; {use} is produced by the controller (controllerOutput)");
        }

        if (signal.DataType is { } type && typeProblem(type) is { } needs)
        {
            Error(node, path, $"signal '{signal.Id}' is {type}; {use} needs {needs}");
        }

        if (signal.ModelKind is not null && signal.ModelKind != modelKind)
        {
            Error(node, path, $"signal '{signal.Id}' has model '{signal.ModelKind}'; as {use} its model is {modelKind} (or leave the model out)");
            return;
        }

        signal.Model = model();
    }

    /// <summary>A robot as read so far, for references from signals (zones) and stations.</summary>
    private sealed class RobotEntry(string id, YamlNode idNode)
    {
        public string Id { get; } = id;

        public YamlNode IdNode { get; } = idNode;

        public HashSet<string> PositionNames { get; } = new(StringComparer.Ordinal);
    }
}
