using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Lines;

namespace TwinGateway.Commissioning.Changes;

/// <summary>
/// The canonical JSON form of a change, for storage (the gate keeps changes as JSON) and the API: written with
/// <see cref="Utf8JsonWriter"/> in a fixed field order, no indentation, so the same change always gives the same bytes.
/// </summary>
/// <remarks>
/// <c>{"line":..,"title":..,"reason":..,"source":loc|null,"operations":[op,...]}</c>; an op is
/// <c>{"kind":"set","signal":..,"value":v}</c>, <c>{"kind":"call","method":..,"object":..,"controller":..|null,"arguments":[v,...]}</c>,
/// <c>{"kind":"pose","robot":..,"position":..,"joints":[n,...]}</c> or <c>{"kind":"definition","path":..,"text":..}</c>,
/// each followed by <c>"source"</c>; a value is a JSON number, true/false, a string, or an array of numbers; a location is
/// <c>{"file":..,"line":n,"column":n}</c>. The content hash (<see cref="ChangeHash"/>) is computed from the change, not
/// from this text, so storing it never changes what approvals are bound to.
/// </remarks>
public static class ChangeJson
{
    /// <summary>The canonical JSON bytes (UTF-8).</summary>
    public static byte[] Write(ChangeRequest change)
    {
        ArgumentNullException.ThrowIfNull(change);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("line", change.LineId);
            writer.WriteString("title", change.Title);
            writer.WriteString("reason", change.Reason);
            WriteSource(writer, change.Source);
            writer.WriteStartArray("operations");
            foreach (var operation in change.Operations.IsDefault ? [] : change.Operations)
            {
                WriteOperation(writer, operation);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>The canonical JSON as a string.</summary>
    public static string WriteString(ChangeRequest change) => Encoding.UTF8.GetString(Write(change));

    /// <summary>Reads the canonical form back; a definition operation's text is parsed again with <see cref="LineDefinitionLoader"/>.</summary>
    /// <exception cref="JsonException">The text is not a change in this form (the message names the field).</exception>
    public static ChangeRequest Read(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var operations = ImmutableArray.CreateBuilder<ChangeOperation>();
        var index = 0;
        foreach (var item in Property(root, "operations", "").EnumerateArray())
        {
            operations.Add(ReadOperation(item, $"operations[{index++}]"));
        }

        return new ChangeRequest
        {
            LineId = String(root, "line", ""),
            Title = String(root, "title", ""),
            Reason = String(root, "reason", ""),
            Operations = operations.ToImmutable(),
            Source = ReadSource(root),
        };
    }

    private static void WriteOperation(Utf8JsonWriter writer, ChangeOperation operation)
    {
        writer.WriteStartObject();
        writer.WriteString("kind", operation.Kind);
        switch (operation)
        {
            case SetOperation set:
                writer.WriteString("signal", set.SignalId);
                writer.WritePropertyName("value");
                WriteValue(writer, set.Value);
                break;
            case CallOperation call:
                writer.WriteString("method", call.MethodId);
                writer.WriteString("object", call.ObjectId);
                writer.WriteString("controller", call.ControllerId);
                writer.WriteStartArray("arguments");
                foreach (var argument in call.Arguments.IsDefault ? [] : call.Arguments)
                {
                    WriteValue(writer, argument);
                }

                writer.WriteEndArray();
                break;
            case PoseOperation pose:
                writer.WriteString("robot", pose.RobotId);
                writer.WriteString("position", pose.Position);
                WriteNumbers(writer, "joints", pose.Joints);
                break;
            case DefinitionOperation definition:
                writer.WriteString("path", definition.Path);
                writer.WriteString("text", definition.Text);
                break;
            default:
                throw new ArgumentException($"unknown operation kind '{operation.Kind}'", nameof(operation));
        }

        WriteSource(writer, operation.Source);
        writer.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter writer, ChangeValue value)
    {
        switch (value.Kind)
        {
            case ChangeValueKind.Number:
                writer.WriteNumberValue(value.Number);
                break;
            case ChangeValueKind.Boolean:
                writer.WriteBooleanValue(value.Number != 0);
                break;
            case ChangeValueKind.Text:
                writer.WriteStringValue(value.Text ?? "");
                break;
            default:
                writer.WriteStartArray();
                foreach (var number in value.Numbers.IsDefault ? [] : value.Numbers)
                {
                    writer.WriteNumberValue(number);
                }

                writer.WriteEndArray();
                break;
        }
    }

    private static void WriteNumbers(Utf8JsonWriter writer, string name, ImmutableArray<double> numbers)
    {
        writer.WriteStartArray(name);
        foreach (var number in numbers.IsDefault ? [] : numbers)
        {
            writer.WriteNumberValue(number);
        }

        writer.WriteEndArray();
    }

    private static void WriteSource(Utf8JsonWriter writer, SourceLocation? source)
    {
        if (source is not { } location)
        {
            writer.WriteNull("source");
            return;
        }

        writer.WriteStartObject("source");
        writer.WriteString("file", location.File);
        writer.WriteNumber("line", location.Line);
        writer.WriteNumber("column", location.Column);
        writer.WriteEndObject();
    }

    private static ChangeOperation ReadOperation(JsonElement item, string path)
    {
        var kind = String(item, "kind", path);
        ChangeOperation operation = kind switch
        {
            "set" => new SetOperation(String(item, "signal", path), ReadValue(Property(item, "value", path), $"{path}.value")),
            "call" => new CallOperation(String(item, "method", path), String(item, "object", path),
                [.. Property(item, "arguments", path).EnumerateArray().Select((a, i) => ReadValue(a, $"{path}.arguments[{i}]"))])
            {
                ControllerId = Property(item, "controller", path).ValueKind == JsonValueKind.Null ? null : String(item, "controller", path),
            },
            "pose" => new PoseOperation(String(item, "robot", path), String(item, "position", path), ReadNumbers(Property(item, "joints", path), $"{path}.joints")),
            "definition" => ReadDefinition(String(item, "path", path), String(item, "text", path)),
            _ => throw new JsonException($"{path}.kind: unknown operation kind '{kind}' (expected set, call, pose, definition)"),
        };
        return operation with { Source = ReadSource(item) };
    }

    private static DefinitionOperation ReadDefinition(string path, string text) =>
        new(path, LineDefinitionLoader.Parse(text, path).Definition, text);

    private static ChangeValue ReadValue(JsonElement element, string path) => element.ValueKind switch
    {
        JsonValueKind.Number => ChangeValue.Of(element.GetDouble()),
        JsonValueKind.True => ChangeValue.Of(true),
        JsonValueKind.False => ChangeValue.Of(false),
        JsonValueKind.String => ChangeValue.Of(element.GetString()!),
        JsonValueKind.Array => ChangeValue.Of(ReadNumbers(element, path)),
        _ => throw new JsonException($"{path}: expected a number, true, false, a string or an array of numbers, found {element.ValueKind}"),
    };

    private static ImmutableArray<double> ReadNumbers(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Array)
        {
            throw new JsonException($"{path}: expected an array of numbers, found {element.ValueKind}");
        }

        return [.. element.EnumerateArray().Select((n, i) => n.ValueKind == JsonValueKind.Number
            ? n.GetDouble()
            : throw new JsonException($"{path}[{i}]: expected a number, found {n.ValueKind}"))];
    }

    private static SourceLocation? ReadSource(JsonElement element) =>
        element.TryGetProperty("source", out var source) && source.ValueKind == JsonValueKind.Object
            ? new SourceLocation(String(source, "file", "source"), Property(source, "line", "source").GetInt32(), Property(source, "column", "source").GetInt32())
            : null;

    private static JsonElement Property(JsonElement element, string name, string path) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value)
            ? value
            : throw new JsonException($"{(path.Length == 0 ? name : $"{path}.{name}")}: missing");

    private static string String(JsonElement element, string name, string path)
    {
        var value = Property(element, name, path);
        return value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new JsonException($"{(path.Length == 0 ? name : $"{path}.{name}")}: expected a string, found {value.ValueKind}");
    }
}
