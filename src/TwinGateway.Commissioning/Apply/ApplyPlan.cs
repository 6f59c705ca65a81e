using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Lines;
using TwinGateway.Core.Twins;

namespace TwinGateway.Commissioning.Apply;

/// <summary>One thing an apply does on a controller: write <see cref="Value"/> to <see cref="Node"/>, or make <see cref="Call"/>.</summary>
/// <param name="Operation">The operation's position in the change (0-based).</param>
/// <param name="Label">The operation in words (<c>set robot2.speedOverride</c>, <c>pose robot1.home</c>, <c>call ns=1;s=...</c>).</param>
/// <param name="Node">The node to write; null for a call.</param>
/// <param name="Value">The value to write (default for a call).</param>
/// <param name="Call">The method to call; null for a write.</param>
internal sealed record ApplyTarget(int Operation, string Label, ControllerNode? Node, ChangeValue Value, ControllerCall? Call)
{
    public bool IsWrite => Node is not null;
}

/// <summary>The targets of a change on a line, the definition the twin adopts, and the signals to verify.</summary>
internal sealed record ApplyPlan(IReadOnlyList<ApplyTarget> Targets, LineDefinition? Definition, IReadOnlyList<string> DefaultSignals)
{
    /// <summary>Plans <paramref name="change"/> against <paramref name="line"/> (the running definition), or says which operation cannot be planned.</summary>
    public static ApplyPlan Create(ChangeRequest change, LineDefinition line, LineDefinition? candidate, out string? problem)
    {
        problem = null;
        var targets = new List<ApplyTarget>();
        var stations = new HashSet<string>(StringComparer.Ordinal);
        var touched = new List<string>();
        var definition = candidate;
        var problems = new List<string>();
        for (var i = 0; i < change.Operations.Length; i++)
        {
            switch (change.Operations[i])
            {
                case SetOperation set:
                    if ((candidate ?? line).FindSignal(set.SignalId) is not { } signal)
                    {
                        problems.Add($"operation {i + 1} (set): line {line.Id} has no signal '{set.SignalId}'");
                        break;
                    }

                    targets.Add(new ApplyTarget(i, $"set {signal.Id}", new ControllerNode(signal.ControllerId, signal.NodeId, signal.DataType), set.Value, null));
                    touched.Add(signal.Id);
                    if (signal.StationId is { } station)
                    {
                        stations.Add(station);
                    }

                    break;
                case PoseOperation pose:
                    if ((candidate ?? line).FindRobot(pose.RobotId) is not { } robot)
                    {
                        problems.Add($"operation {i + 1} (pose): line {line.Id} has no robot '{pose.RobotId}'");
                        break;
                    }

                    var (node, poseProblem) = PoseNode(robot, pose.Position, line);
                    if (node is null)
                    {
                        problems.Add($"operation {i + 1} (pose): {poseProblem}");
                        break;
                    }

                    targets.Add(new ApplyTarget(i, $"pose {robot.Id}.{pose.Position}", node, ChangeValue.Of(pose.Joints), null));
                    stations.Add(robot.StationId);
                    break;
                case CallOperation call:
                    targets.Add(new ApplyTarget(i, $"call {call.MethodId} on {call.ObjectId}", null, default,
                        new ControllerCall(call.ControllerId, call.ObjectId, call.MethodId, call.Arguments.IsDefault ? [] : call.Arguments)));
                    break;
                case DefinitionOperation op:
                    definition ??= op.Definition;
                    if (definition is null)
                    {
                        problems.Add($"operation {i + 1} (definition): {op.Path} is not loaded, and no candidate definition was given");
                    }

                    break;
            }
        }

        if (definition is not null)
        {
            foreach (var station in definition.Stations)
            {
                if (line.FindStation(station.Id) is not { } running || running != station)
                {
                    stations.Add(station.Id);
                }
            }
        }

        if (problems.Count > 0)
        {
            problem = string.Join("; ", problems);
        }

        var verify = (definition ?? line).Signals
            .Where(s => touched.Contains(s.Id) || (s.StationId is { } station && stations.Contains(station)))
            .Where(SignalComparison.IsComparable)
            .Select(s => s.Id)
            .ToList();
        return new ApplyPlan(targets, definition, verify);
    }

    /// <summary>
    /// The controller node that holds a robot's named position. The one place that decides it: line definitions do not
    /// map positions to nodes yet (<see cref="RobotPosition"/> has no node id), so a pose cannot be written and the
    /// operation fails before anything is written. When positions gain a node id, this returns
    /// <c>new ControllerNode(controllerOfTheRobot, position.NodeId, SignalDataType.Double, IsArray: true)</c>.
    /// </summary>
    internal static (ControllerNode? Node, string? Problem) PoseNode(RobotDefinition robot, string positionName, LineDefinition line)
    {
        var position = robot.Positions.FirstOrDefault(p => string.Equals(p.Name, positionName, StringComparison.Ordinal));
        if (position is null)
        {
            return (null, $"robot {robot.Id} has no position '{positionName}' (it has: {string.Join(", ", robot.Positions.Select(p => p.Name))})");
        }

        if (position.NodeId is not { } nodeId)
        {
            return (null, $"robot {robot.Id} position {position.Name} has no nodeId: the line definition does not say which controller node holds it");
        }

        // The robot's controller: the one its axis position signals are on (null: the line's only controller).
        var controller = robot.Axes.Select(a => a.PositionSignal is { } id ? line.FindSignal(id)?.ControllerId : null).FirstOrDefault(c => c is not null);
        return (new ControllerNode(controller, nodeId, SignalDataType.Double, IsArray: true), null);
    }
}

/// <summary>The JSON of the steps' details: what a recovery reads back from the journal.</summary>
internal static class ApplyDetail
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    public static T? Deserialize<T>(string? json) => json is null ? default : JsonSerializer.Deserialize<T>(json, Options);

    /// <summary>A target's node and value as the journal holds it.</summary>
    public sealed record Entry(int Target, string Label, string? ControllerId, string NodeId, SignalDataType DataType, bool IsArray, Value? Value, string? Problem)
    {
        public static Entry Of(int target, NodeValue value) =>
            new(target, value.Target, value.Node.ControllerId, value.Node.NodeId, value.Node.DataType, value.Node.IsArray,
                value.Value is { } v ? Apply.ApplyDetail.Value.Of(v) : null, value.Problem);

        public NodeValue ToNodeValue() => new(Label, new ControllerNode(ControllerId, NodeId, DataType, IsArray), Value?.ToChangeValue(), Problem);
    }

    /// <summary>A <see cref="ChangeValue"/> in JSON (its default arrays and NaNs do not serialize as they are).</summary>
    public sealed record Value(ChangeValueKind Kind, double? Number, string? Text, ImmutableArray<double>? Numbers)
    {
        public static Value Of(ChangeValue value) => value.Kind switch
        {
            ChangeValueKind.Number or ChangeValueKind.Boolean => new Value(value.Kind, value.Number, null, null),
            ChangeValueKind.Text => new Value(value.Kind, null, value.Text, null),
            _ => new Value(value.Kind, null, null, value.Numbers.IsDefault ? [] : value.Numbers),
        };

        public ChangeValue ToChangeValue() => Kind switch
        {
            ChangeValueKind.Number => ChangeValue.Of(Number ?? double.NaN),
            ChangeValueKind.Boolean => ChangeValue.Of((Number ?? 0) != 0),
            ChangeValueKind.Text => ChangeValue.Of(Text ?? ""),
            _ => ChangeValue.Of(Numbers ?? []),
        };
    }

    public static string Describe(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
