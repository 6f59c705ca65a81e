using System.Globalization;
using System.Text.Json;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.Host.Cli;

/// <summary>Turns command-line text into OPC UA values and values into JSON and table text.</summary>
internal static class ValueText
{
    /// <summary>Parses <paramref name="text"/> as <paramref name="type"/>; arrays as a JSON array or comma-separated list.</summary>
    public static Variant Parse(string text, BuiltInType type, bool isArray)
    {
        if (!isArray)
        {
            return Variant.FromObject(ParseScalar(text, type));
        }

        var trimmed = text.Trim();
        string[] parts;
        if (trimmed.StartsWith('['))
        {
            using var doc = JsonDocument.Parse(trimmed);
            parts = [.. doc.RootElement.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText())];
        }
        else
        {
            parts = trimmed.Length == 0 ? [] : trimmed.Split(',', StringSplitOptions.TrimEntries);
        }

        var array = Array.CreateInstance(Variant.ArrayTypeOf(type).GetElementType()!, parts.Length);
        for (var i = 0; i < parts.Length; i++)
        {
            array.SetValue(ParseScalar(parts[i], type), i);
        }

        return Variant.FromArray(type, array);
    }

    public static object? ParseScalar(string text, BuiltInType type)
    {
        var c = CultureInfo.InvariantCulture;
        try
        {
            return type switch
            {
                BuiltInType.Boolean => text.Trim().ToUpperInvariant() switch
                {
                    "TRUE" or "1" or "YES" or "ON" => true,
                    "FALSE" or "0" or "NO" or "OFF" => false,
                    _ => throw new FormatException("expected true or false"),
                },
                BuiltInType.SByte => sbyte.Parse(text, c),
                BuiltInType.Byte => byte.Parse(text, c),
                BuiltInType.Int16 => short.Parse(text, c),
                BuiltInType.UInt16 => ushort.Parse(text, c),
                BuiltInType.Int32 => int.Parse(text, c),
                BuiltInType.UInt32 => uint.Parse(text, c),
                BuiltInType.Int64 => long.Parse(text, c),
                BuiltInType.UInt64 => ulong.Parse(text, c),
                BuiltInType.Float => float.Parse(text, NumberStyles.Float, c),
                BuiltInType.Double => double.Parse(text, NumberStyles.Float, c),
                BuiltInType.String => text,
                BuiltInType.DateTime => DateTime.Parse(text, c, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal),
                BuiltInType.Guid => Guid.Parse(text),
                BuiltInType.ByteString => Convert.FromBase64String(text),
                BuiltInType.XmlElement => new XmlElement(text),
                BuiltInType.NodeId => NodeId.Parse(text),
                BuiltInType.ExpandedNodeId => new ExpandedNodeId(NodeId.Parse(text)),
                BuiltInType.StatusCode => StatusCodes.TryGetCode(text, out var code) ? new StatusCode(code) : new StatusCode(uint.Parse(text.Replace("0x", "", StringComparison.OrdinalIgnoreCase), NumberStyles.HexNumber, c)),
                BuiltInType.QualifiedName => QualifiedName.Parse(text),
                BuiltInType.LocalizedText => new LocalizedText(text),
                _ => throw new FormatException($"values of type {type} cannot be given on the command line"),
            };
        }
        catch (Exception ex) when (ex is FormatException or OverflowException or ArgumentException or JsonException)
        {
            throw new FormatException($"'{text}' is not a valid {type}: {ex.Message}", ex);
        }
    }

    /// <summary>The name of the value's type for output: the built-in type, "Int32[]" for arrays, the structure's name.</summary>
    public static string TypeName(Variant value)
    {
        if (value.IsNull)
        {
            return "Null";
        }

        var name = value.Type == BuiltInType.ExtensionObject && !value.IsArray && value.Value is ExtensionObject { Body: { } body } && body is not byte[]
            ? body.GetType().Name
            : value.Type.ToString();
        return value.IsArray ? name + (value.ArrayDimensions is { } d ? "[" + new string(',', d.Length - 1) + "]" : "[]") : name;
    }

    public static void WriteJson(Utf8JsonWriter json, Variant value)
    {
        if (value.IsArray)
        {
            json.WriteStartArray();
            foreach (var element in value.ArrayValue ?? Array.Empty<object>())
            {
                WriteScalarJson(json, element);
            }

            json.WriteEndArray();
            return;
        }

        WriteScalarJson(json, value.Value);
    }

    private static void WriteScalarJson(Utf8JsonWriter json, object? value)
    {
        switch (value)
        {
            case null: json.WriteNullValue(); break;
            case bool b: json.WriteBooleanValue(b); break;
            case double d when double.IsFinite(d): json.WriteNumberValue(d); break;
            case float f when float.IsFinite(f): json.WriteNumberValue(f); break;
            case double or float: json.WriteStringValue(Format(value)); break;
            case sbyte or byte or short or ushort or int: json.WriteNumberValue(Convert.ToInt32(value, CultureInfo.InvariantCulture)); break;
            case uint u: json.WriteNumberValue(u); break;
            case long l: json.WriteNumberValue(l); break;
            case ulong ul: json.WriteNumberValue(ul); break;
            case Variant v: WriteJson(json, v); break;
            case DataValue dv: WriteJson(json, dv.Value); break;
            default: json.WriteStringValue(Format(value)); break;
        }
    }

    /// <summary>Text for tables: numbers round-trip, times in ISO 8601 UTC.</summary>
    public static string Format(object? value) => value switch
    {
        null => "null",
        Variant v => v.ToString(),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        DateTime dt => FormatTime(dt) ?? "",
        byte[] bytes => Convert.ToBase64String(bytes),
        ExtensionObject eo => eo.Body switch
        {
            null => $"ExtensionObject({eo.TypeId})",
            byte[] raw => $"ExtensionObject({eo.TypeId}, {raw.Length} bytes)",
            var body => body.GetType().Name,
        },
        StatusCode s => s.Name,
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    public static string? FormatTime(DateTime time) =>
        time == default ? null : time.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture);
}
