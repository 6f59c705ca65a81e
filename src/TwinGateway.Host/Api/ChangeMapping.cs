using System.Collections.Immutable;
using TwinGateway.Api.V1;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Lines;
using CoreCall = TwinGateway.Core.Changes.CallOperation;
using CoreDefinition = TwinGateway.Core.Changes.DefinitionOperation;
using CorePose = TwinGateway.Core.Changes.PoseOperation;
using CoreSet = TwinGateway.Core.Changes.SetOperation;
using ProtoCall = TwinGateway.Api.V1.CallOperation;
using ProtoDefinition = TwinGateway.Api.V1.DefinitionOperation;
using ProtoPose = TwinGateway.Api.V1.PoseOperation;
using ProtoSet = TwinGateway.Api.V1.SetOperation;

namespace TwinGateway.Host.Api;

/// <summary>A change request between its gRPC message (<see cref="ChangeSpec"/>) and the gate's <see cref="ChangeRequest"/>.</summary>
internal static class ChangeMapping
{
    public static ChangeSpec ToProto(ChangeRequest request)
    {
        var spec = new ChangeSpec { Line = request.LineId, Title = request.Title, Reason = request.Reason };
        foreach (var operation in request.Operations)
        {
            spec.Operations.Add(operation switch
            {
                CoreSet set => new Operation { Set = new ProtoSet { Signal = set.SignalId, Value = ToProto(set.Value) } },
                CoreCall call => new Operation { Call = ToProto(call) },
                CorePose pose => new Operation { Pose = new ProtoPose { Position = $"{pose.RobotId}.{pose.Position}", Joints = { pose.Joints } } },
                CoreDefinition definition => new Operation { Definition = new ProtoDefinition { Path = definition.Path, Text = definition.Text } },
                _ => throw new ArgumentException($"unknown operation kind '{operation.Kind}'", nameof(request)),
            });
        }

        return spec;
    }

    private static ProtoCall ToProto(CoreCall call)
    {
        var proto = new ProtoCall { Method = call.MethodId, Object = call.ObjectId, Controller = call.ControllerId ?? "" };
        proto.Arguments.AddRange(call.Arguments.Select(ToProto));
        return proto;
    }

    public static Value ToProto(ChangeValue value) => value.Kind switch
    {
        ChangeValueKind.Number => new Value { Number = value.Number },
        ChangeValueKind.Boolean => new Value { Boolean = value.Number != 0 },
        ChangeValueKind.Text => new Value { Text = value.Text ?? "" },
        _ => throw new ArgumentException("an array is not a single value (poses carry their joints)", nameof(value)),
    };

    /// <summary>The request a message describes, or every problem with the message (each naming the field).</summary>
    public static (ChangeRequest? Request, IReadOnlyList<string> Problems) FromProto(ChangeSpec spec)
    {
        var problems = new List<string>();
        var operations = ImmutableArray.CreateBuilder<ChangeOperation>();
        for (var i = 0; i < spec.Operations.Count; i++)
        {
            var field = $"operations[{i}]";
            var operation = spec.Operations[i];
            switch (operation.KindCase)
            {
                case Operation.KindOneofCase.Set:
                    if (FromProto(operation.Set.Value, $"{field}.set.value", problems) is { } value)
                    {
                        operations.Add(new CoreSet(operation.Set.Signal, value));
                    }

                    break;
                case Operation.KindOneofCase.Call:
                    var arguments = ImmutableArray.CreateBuilder<ChangeValue>();
                    for (var a = 0; a < operation.Call.Arguments.Count; a++)
                    {
                        if (FromProto(operation.Call.Arguments[a], $"{field}.call.arguments[{a}]", problems) is { } argument)
                        {
                            arguments.Add(argument);
                        }
                    }

                    operations.Add(new CoreCall(operation.Call.Method, operation.Call.Object, arguments.ToImmutable())
                    {
                        ControllerId = string.IsNullOrEmpty(operation.Call.Controller) ? null : operation.Call.Controller,
                    });
                    break;
                case Operation.KindOneofCase.Pose:
                    var dot = operation.Pose.Position.IndexOf('.', StringComparison.Ordinal);
                    if (dot <= 0 || dot == operation.Pose.Position.Length - 1)
                    {
                        problems.Add($"{field}.pose: '{operation.Pose.Position}' is not 'robot.position' (for example robot1.pickBuffer)");
                        break;
                    }

                    operations.Add(new CorePose(operation.Pose.Position[..dot], operation.Pose.Position[(dot + 1)..], [.. operation.Pose.Joints]));
                    break;
                case Operation.KindOneofCase.Definition:
                    var path = string.IsNullOrEmpty(operation.Definition.Path) ? $"{field}.definition" : operation.Definition.Path;
                    var loaded = LineDefinitionLoader.Parse(operation.Definition.Text, path);
                    foreach (var error in loaded.Errors)
                    {
                        problems.Add($"{field}.definition: {error}");
                    }

                    operations.Add(new CoreDefinition(operation.Definition.Path, loaded.Definition, operation.Definition.Text));
                    break;
                default:
                    problems.Add($"{field}: no operation (set one of set, call, pose, definition)");
                    break;
            }
        }

        if (problems.Count > 0)
        {
            return (null, problems);
        }

        return (new ChangeRequest { LineId = spec.Line, Title = spec.Title, Reason = spec.Reason, Operations = operations.ToImmutable() }, problems);
    }

    private static ChangeValue? FromProto(Value? value, string field, List<string> problems)
    {
        switch (value?.KindCase)
        {
            case Value.KindOneofCase.Number:
                return ChangeValue.Of(value.Number);
            case Value.KindOneofCase.Boolean:
                return ChangeValue.Of(value.Boolean);
            case Value.KindOneofCase.Text:
                return ChangeValue.Of(value.Text);
            default:
                problems.Add($"{field}: no value (set number, boolean or text)");
                return null;
        }
    }
}
