using System.Globalization;
using System.Text.Json;
using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.Host.Cli;

/// <summary>Turns command-line text into OPC UA values and values into JSON and table text.</summary>
internal static class ValueText
{
    /// <summary>Parses <paramref name="text"/> as <paramref name="type"/>; arrays as a JSON array or comma-separated list.</summary>
    public static Variant Parse(string text, BuiltInType type, bool isArray) => Parse(text, new TypeInfo(type), isArray ? 0 : -1);

    /// <summary>
    /// Parses <paramref name="text"/> as a value of <paramref name="type"/> with <paramref name="valueRank"/> (-1 scalar,
    /// 0 any number of dimensions, n exactly n; -2 and -3 are written as scalars). Arrays as a JSON array or a
    /// comma-separated list; nested JSON arrays (<c>[[1,2,3],[4,5,6]]</c>) are a matrix, sent with its ArrayDimensions
    /// (OPC 10000-6 §5.2.2.16, elements in row-major order: the last index varies fastest). Structures as JSON objects.
    /// </summary>
    public static Variant Parse(string text, TypeInfo type, int valueRank)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(type);
        if (valueRank < 0)
        {
            return type.Structure is { } structure
                ? new Variant(StructureCodec.Encode(ParseJson(text, $"a JSON object for {structure.Name}"), structure))
                : type.BuiltIn == BuiltInType.ExtensionObject
                    ? throw new FormatException($"the server does not describe {type.DisplayName} with a DataTypeDefinition, so its fields are unknown and it cannot be written")
                    : Variant.FromObject(ParseScalar(text, type.BuiltIn));
        }

        var trimmed = text.Trim();
        if (!trimmed.StartsWith('['))
        {
            if (valueRank > 1 || type.Structure is not null)
            {
                throw new FormatException($"expected a JSON array{(valueRank > 1 ? $" of {valueRank} dimensions, e.g. [[1,2,3],[4,5,6]]" : "")}, got '{text}'");
            }

            var parts = trimmed.Length == 0 ? [] : trimmed.Split(',', StringSplitOptions.TrimEntries);
            return Variant.FromArray(type.BuiltIn, ParseElements(parts.Select(p => (p, (JsonElement?)null)).ToList(), type));
        }

        var json = ParseJson(trimmed, "a JSON array");
        var dimensions = new List<int>();
        var leaves = new List<(string, JsonElement?)>();
        Flatten(json, 0, Depth(json), dimensions, leaves);
        if (valueRank >= 1 && dimensions.Count != valueRank)
        {
            throw new FormatException($"the node takes {(valueRank == 1 ? "a one-dimensional array, e.g. [1,2,3]" : $"an array of {valueRank} dimensions, e.g. [[1,2,3],[4,5,6]]")}; the value has {dimensions.Count}");
        }

        var elements = ParseElements(leaves, type);
        return dimensions.Count > 1 ? Variant.FromMatrix(type.BuiltIn, elements, [.. dimensions]) : Variant.FromArray(type.BuiltIn, elements);
    }

    private static JsonElement ParseJson(string text, string what)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new FormatException($"expected {what}, got '{text}': {ex.Message}", ex);
        }
    }

    /// <summary>Collects the leaves of nested JSON arrays in row-major order and checks that every row of a level has the same length.</summary>
    private static void Flatten(JsonElement json, int level, int depth, List<int> dimensions, List<(string, JsonElement?)> leaves)
    {
        var length = json.GetArrayLength();
        if (level == dimensions.Count)
        {
            dimensions.Add(length);
        }
        else if (dimensions[level] != length)
        {
            throw new FormatException($"a matrix needs rows of equal length: at depth {level + 1} one row has {length} elements, another {dimensions[level]}");
        }

        foreach (var element in json.EnumerateArray())
        {
            var isArray = element.ValueKind == JsonValueKind.Array;
            if (isArray != (level + 1 < depth))
            {
                throw new FormatException($"a matrix needs the same nesting everywhere: {element.GetRawText()} at depth {level + 1}");
            }

            if (isArray)
            {
                Flatten(element, level + 1, depth, dimensions, leaves);
            }
            else
            {
                leaves.Add((element.ValueKind == JsonValueKind.String ? element.GetString()! : element.GetRawText(), element));
            }
        }
    }

    /// <summary>How deep the arrays nest, following the first element down.</summary>
    private static int Depth(JsonElement json)
    {
        var depth = 1;
        while (json.GetArrayLength() > 0 && json[0].ValueKind == JsonValueKind.Array)
        {
            depth++;
            json = json[0];
        }

        return depth;
    }

    private static Array ParseElements(List<(string Text, JsonElement? Json)> parts, TypeInfo type)
    {
        var array = Array.CreateInstance(Variant.ArrayTypeOf(type.BuiltIn).GetElementType()!, parts.Count);
        for (var i = 0; i < parts.Count; i++)
        {
            try
            {
                array.SetValue(type.Structure is { } structure
                    ? StructureCodec.Encode(parts[i].Json ?? ParseJson(parts[i].Text, $"a JSON object for {structure.Name}"), structure)
                    : ParseScalar(parts[i].Text, type.BuiltIn), i);
            }
            catch (FormatException ex)
            {
                throw new FormatException($"element {i}: {ex.Message}", ex);
            }
        }

        return array;
    }

    /// <summary>
    /// A value typed from its text alone (<c>call --raw</c>): true/false Boolean, whole numbers Int32 (Int64 when larger),
    /// other numbers Double, a JSON array an array of the widest of those, anything else a String.
    /// </summary>
    public static Variant Guess(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        if (trimmed.StartsWith('['))
        {
            return Guess(ParseJson(trimmed, "a JSON array"));
        }

        return GuessScalar(trimmed, text);
    }

    /// <summary>A JSON value typed from its kind (see <see cref="Guess(string)"/>).</summary>
    public static Variant Guess(JsonElement json)
    {
        switch (json.ValueKind)
        {
            case JsonValueKind.Array:
                var elements = json.EnumerateArray().Select(Guess).ToList();
                var kind = elements.Count == 0 ? BuiltInType.String
                    : elements.All(e => e.Type == BuiltInType.Boolean) ? BuiltInType.Boolean
                    : elements.All(e => e.Type == BuiltInType.Int32) ? BuiltInType.Int32
                    : elements.All(e => e.Type is BuiltInType.Int32 or BuiltInType.Int64) ? BuiltInType.Int64
                    : elements.All(e => e.IsNumeric && !e.IsArray) ? BuiltInType.Double
                    : BuiltInType.String;
                var array = Array.CreateInstance(Variant.ArrayTypeOf(kind).GetElementType()!, elements.Count);
                for (var i = 0; i < elements.Count; i++)
                {
                    array.SetValue(kind switch
                    {
                        BuiltInType.Boolean => elements[i].Value,
                        BuiltInType.Int32 => elements[i].Value,
                        BuiltInType.Int64 => (long)elements[i].ToDouble(),
                        BuiltInType.Double => elements[i].ToDouble(),
                        _ => Format(elements[i].Value),
                    }, i);
                }

                return Variant.FromArray(kind, array);
            case JsonValueKind.String:
                return new Variant(json.GetString());
            case JsonValueKind.True:
                return new Variant(true);
            case JsonValueKind.False:
                return new Variant(false);
            case JsonValueKind.Null:
                return Variant.Null;
            case JsonValueKind.Number:
                return GuessScalar(json.GetRawText(), json.GetRawText());
            default:
                return new Variant(json.GetRawText());
        }
    }

    private static Variant GuessScalar(string trimmed, string original)
    {
        var c = CultureInfo.InvariantCulture;
        if (bool.TryParse(trimmed, out var b))
        {
            return new Variant(b);
        }

        if (long.TryParse(trimmed, NumberStyles.AllowLeadingSign, c, out var l))
        {
            return l is >= int.MinValue and <= int.MaxValue ? new Variant((int)l) : new Variant(l);
        }

        return double.TryParse(trimmed, NumberStyles.Float, c, out var d) ? new Variant(d) : new Variant(original);
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
        return value.IsArray ? name + ArraySuffix(value) : name;
    }

    /// <summary>The type name of a value as printed (<see cref="DataTypes.ToDisplayAsync(Variant, CancellationToken)"/>): a structure's own name when it has one.</summary>
    public static string TypeName(Variant value, object? display) => display switch
    {
        StructureValue s => s.TypeName,
        object?[] { Length: > 0 } elements when elements[0] is StructureValue first => first.TypeName + ArraySuffix(value),
        _ => TypeName(value),
    };

    private static string ArraySuffix(Variant value) => value.ArrayDimensions is { } d ? "[" + new string(',', d.Length - 1) + "]" : "[]";

    public static void WriteJson(Utf8JsonWriter json, Variant value)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (value.IsArray)
        {
            var elements = value.ArrayValue ?? Array.Empty<object>();
            if (value.ArrayDimensions is { Length: > 1 } dimensions)
            {
                // A matrix as nested arrays, the last index varying fastest, as it was given to write.
                var index = 0;
                WriteMatrixJson(json, elements, dimensions, 0, ref index);
                return;
            }

            json.WriteStartArray();
            foreach (var element in elements)
            {
                WriteScalarJson(json, element);
            }

            json.WriteEndArray();
            return;
        }

        WriteScalarJson(json, value.Value);
    }

    /// <summary>Writes a value as printed: a Variant, a <see cref="StructureValue"/> as a JSON object with its fields, or an array of them.</summary>
    public static void WriteJson(Utf8JsonWriter json, object? value) => WriteScalarJson(json, value);

    private static void WriteMatrixJson(Utf8JsonWriter json, Array elements, int[] dimensions, int level, ref int index)
    {
        json.WriteStartArray();
        for (var i = 0; i < dimensions[level]; i++)
        {
            if (level + 1 < dimensions.Length)
            {
                WriteMatrixJson(json, elements, dimensions, level + 1, ref index);
            }
            else
            {
                WriteScalarJson(json, index < elements.Length ? elements.GetValue(index) : null);
                index++;
            }
        }

        json.WriteEndArray();
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
            case StructureValue s:
                json.WriteStartObject();
                foreach (var (name, field) in s.Fields)
                {
                    json.WritePropertyName(name);
                    WriteScalarJson(json, field);
                }

                json.WriteEndObject();
                break;
            case ExtensionObject { Body: IEncodeable known }: WriteScalarJson(json, StructureValue.From(known)); break;
            case IEncodeable known: WriteScalarJson(json, StructureValue.From(known)); break;
            case object?[] elements:
                json.WriteStartArray();
                foreach (var element in elements)
                {
                    WriteScalarJson(json, element);
                }

                json.WriteEndArray();
                break;
            default: json.WriteStringValue(Format(value)); break;
        }
    }

    /// <summary>The fields of a printed structure as dotted paths and texts, for the rows under a table's structure value.</summary>
    public static IEnumerable<(string Path, string Text)> FieldLines(object? display, string prefix = "")
    {
        switch (display)
        {
            case StructureValue s:
                foreach (var (name, field) in s.Fields)
                {
                    var path = prefix.Length == 0 ? name : prefix + "." + name;
                    if (field is StructureValue or object?[] { Length: > 0 } and [StructureValue, ..])
                    {
                        foreach (var line in FieldLines(field, path))
                        {
                            yield return line;
                        }
                    }
                    else
                    {
                        yield return (path, Format(field));
                    }
                }

                break;
            case object?[] elements:
                for (var i = 0; i < elements.Length; i++)
                {
                    foreach (var line in FieldLines(elements[i], $"{prefix}[{i}]"))
                    {
                        yield return line;
                    }
                }

                break;
        }
    }

    /// <summary>Text for tables: numbers round-trip, times in ISO 8601 UTC.</summary>
    public static string Format(object? value) => value switch
    {
        null => "null",
        Variant v => v.ToString(),
        StructureValue s => "{" + string.Join(", ", s.Fields.Select(f => f.Key + ": " + Format(f.Value))) + "}",
        ExtensionObject { Body: IEncodeable known } => Format(StructureValue.From(known)),
        object?[] elements => "[" + string.Join(", ", elements.Select(Format)) + "]",
        string text => text,
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
