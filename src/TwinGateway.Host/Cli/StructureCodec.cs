using System.Reflection;
using System.Text.Json;
using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.Host.Cli;

/// <summary>A structure as printed: its type name and its fields in order (nested structures are StructureValues too).</summary>
internal sealed record StructureValue(string TypeName, IReadOnlyList<KeyValuePair<string, object?>> Fields)
{
    /// <summary>A structure our stack decoded (a generated standard type): its public properties in declaration order.</summary>
    public static StructureValue From(IEncodeable value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var properties = value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.Name != nameof(IEncodeable.BinaryEncodingId) && p.GetIndexParameters().Length == 0)
            .OrderBy(p => p.MetadataToken);
        return new StructureValue(value.GetType().Name, [.. properties.Select(p => new KeyValuePair<string, object?>(p.Name, Field(p.GetValue(value))))]);
    }

    private static object? Field(object? value) => value switch
    {
        IEncodeable nested => From(nested),
        ExtensionObject { Body: IEncodeable nested } => From(nested),
        Enum e => e.ToString(),
        byte[] => value,
        Array array => array.Cast<object?>().Select(Field).ToArray(),
        _ => value,
    };
}

/// <summary>
/// Binary encoding and decoding of a structure from its DataTypeDefinition (OPC 10000-6 §5.2.7): fields in order;
/// with optional fields an EncodingMask (UInt32, one bit per optional field in order) comes first; a union is a
/// SwitchField (UInt32, 0 = no field, n = the n-th field) and that field. A field of a structure type is encoded
/// inline, an array field as an Int32 length and its elements.
/// </summary>
internal static class StructureCodec
{
    public static StructureValue Decode(byte[] body, StructureInfo structure)
    {
        var reader = new UaReader(body);
        return DecodeStructure(ref reader, structure);
    }

    private static StructureValue DecodeStructure(ref UaReader reader, StructureInfo structure)
    {
        var fields = new List<KeyValuePair<string, object?>>();
        switch (structure.Kind)
        {
            case StructureType.Union:
            case StructureType.UnionWithSubtypedValues:
                var selected = reader.ReadUInt32();
                if (selected > structure.Fields.Count)
                {
                    throw new FormatException($"{structure.Name}: union switch {selected} is past its {structure.Fields.Count} fields");
                }

                if (selected > 0)
                {
                    var field = structure.Fields[(int)selected - 1];
                    fields.Add(new(field.Name, DecodeField(ref reader, field)));
                }

                break;
            default:
                var optional = structure.Kind is StructureType.StructureWithOptionalFields ? reader.ReadUInt32() : 0;
                var bit = 0;
                foreach (var field in structure.Fields)
                {
                    if (field.IsOptional && structure.Kind is StructureType.StructureWithOptionalFields && (optional & (1u << bit++)) == 0)
                    {
                        continue;
                    }

                    fields.Add(new(field.Name, DecodeField(ref reader, field)));
                }

                break;
        }

        return new StructureValue(structure.Name, fields);
    }

    private static object? DecodeField(ref UaReader reader, FieldInfo field)
    {
        if (field.ValueRank == -1)
        {
            return DecodeScalar(ref reader, field.Type);
        }

        if (field.ValueRank is not (0 or 1))
        {
            throw new FormatException($"field {field.Name} has ValueRank {field.ValueRank}, which this command does not decode");
        }

        var length = reader.ReadArrayLength();
        if (length < 0)
        {
            return null;
        }

        var elements = new object?[length];
        for (var i = 0; i < length; i++)
        {
            elements[i] = DecodeScalar(ref reader, field.Type);
        }

        return elements;
    }

    private static object? DecodeScalar(ref UaReader reader, TypeInfo type)
    {
        if (type.Structure is { } nested)
        {
            return DecodeStructure(ref reader, nested);
        }

        return type.BuiltIn switch
        {
            BuiltInType.Boolean => reader.ReadBoolean(),
            BuiltInType.SByte => reader.ReadSByte(),
            BuiltInType.Byte => reader.ReadByte(),
            BuiltInType.Int16 => reader.ReadInt16(),
            BuiltInType.UInt16 => reader.ReadUInt16(),
            BuiltInType.Int32 => reader.ReadInt32(),
            BuiltInType.UInt32 => reader.ReadUInt32(),
            BuiltInType.Int64 => reader.ReadInt64(),
            BuiltInType.UInt64 => reader.ReadUInt64(),
            BuiltInType.Float => reader.ReadFloat(),
            BuiltInType.Double => reader.ReadDouble(),
            BuiltInType.String => reader.ReadString(),
            BuiltInType.DateTime => reader.ReadDateTime(),
            BuiltInType.Guid => reader.ReadGuid(),
            BuiltInType.ByteString => reader.ReadByteString(),
            BuiltInType.XmlElement => reader.ReadXmlElement(),
            BuiltInType.NodeId => reader.ReadNodeId(),
            BuiltInType.ExpandedNodeId => reader.ReadExpandedNodeId(),
            BuiltInType.StatusCode => reader.ReadStatusCode(),
            BuiltInType.QualifiedName => reader.ReadQualifiedName(),
            BuiltInType.LocalizedText => reader.ReadLocalizedText(),
            BuiltInType.ExtensionObject => reader.ReadExtensionObject(),
            BuiltInType.DataValue => reader.ReadDataValue(),
            BuiltInType.Variant => reader.ReadVariant(),
            BuiltInType.DiagnosticInfo => reader.ReadDiagnosticInfo(),
            _ => throw new FormatException($"cannot decode a field of type {type.BuiltIn}"),
        };
    }

    /// <summary>Encodes a JSON object as <paramref name="structure"/>; a wrong or missing field is a FormatException that names it.</summary>
    public static ExtensionObject Encode(JsonElement json, StructureInfo structure)
    {
        if (structure.EncodingId.IsNull)
        {
            throw new FormatException($"the server names no binary encoding for {structure.Name}, so it cannot be written");
        }

        using var writer = new UaWriter(256);
        EncodeStructure(writer, json, structure, "");
        return new ExtensionObject(structure.EncodingId, writer.ToArray());
    }

    private static string Path(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    private static void EncodeStructure(UaWriter writer, JsonElement json, StructureInfo structure, string path)
    {
        var where = path.Length == 0 ? structure.Name : $"field '{path}' ({structure.Name})";
        if (json.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"{where} is a structure: give a JSON object with its fields ({FieldList(structure)}), not {Describe(json)}");
        }

        var given = new Dictionary<FieldInfo, JsonElement>();
        foreach (var property in json.EnumerateObject())
        {
            var field = structure.Fields.FirstOrDefault(f => string.Equals(f.Name, property.Name, StringComparison.Ordinal))
                ?? structure.Fields.FirstOrDefault(f => string.Equals(f.Name, property.Name, StringComparison.OrdinalIgnoreCase))
                ?? throw new FormatException($"{where} has no field '{Path(path, property.Name)}' (its fields: {FieldList(structure)})");
            if (!given.TryAdd(field, property.Value))
            {
                throw new FormatException($"field '{Path(path, field.Name)}' is given twice");
            }
        }

        switch (structure.Kind)
        {
            case StructureType.Union:
            case StructureType.UnionWithSubtypedValues:
                if (given.Count > 1)
                {
                    throw new FormatException($"{where} is a union: give one of its fields ({FieldList(structure)}), not {given.Count}");
                }

                if (given.Count == 0)
                {
                    writer.WriteUInt32(0);
                    return;
                }

                var (chosen, value) = given.Single();
                writer.WriteUInt32((uint)(IndexOf(structure, chosen) + 1));
                EncodeField(writer, value, chosen, Path(path, chosen.Name));
                return;
            default:
                var withOptional = structure.Kind is StructureType.StructureWithOptionalFields;
                var maskAt = withOptional ? writer.Reserve(4) : -1;
                uint mask = 0;
                var bit = 0;
                foreach (var field in structure.Fields)
                {
                    var optional = withOptional && field.IsOptional;
                    var present = given.TryGetValue(field, out var element);
                    if (optional)
                    {
                        mask |= present ? 1u << bit : 0;
                        bit++;
                    }

                    if (!present)
                    {
                        if (optional)
                        {
                            continue;
                        }

                        throw new FormatException($"field '{Path(path, field.Name)}' of {structure.Name} is missing (its fields: {FieldList(structure)})");
                    }

                    EncodeField(writer, element, field, Path(path, field.Name));
                }

                if (withOptional)
                {
                    writer.PatchUInt32(maskAt, mask);
                }

                return;
        }
    }

    private static int IndexOf(StructureInfo structure, FieldInfo field)
    {
        for (var i = 0; i < structure.Fields.Count; i++)
        {
            if (ReferenceEquals(structure.Fields[i], field))
            {
                return i;
            }
        }

        return -1;
    }

    private static string FieldList(StructureInfo structure) =>
        string.Join(", ", structure.Fields.Select(f => $"{f.Name}: {f.Type.DisplayName}{(f.ValueRank >= 0 ? "[]" : "")}{(f.IsOptional ? " (optional)" : "")}"));

    private static string Describe(JsonElement json) => json.ValueKind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => $"the string \"{json.GetString()}\"",
        JsonValueKind.Null => "null",
        _ => json.GetRawText(),
    };

    private static void EncodeField(UaWriter writer, JsonElement json, FieldInfo field, string path)
    {
        if (field.ValueRank == -1)
        {
            EncodeScalar(writer, json, field.Type, path);
            return;
        }

        if (field.ValueRank is not (0 or 1))
        {
            throw new FormatException($"field '{path}' has ValueRank {field.ValueRank}; this command writes scalar and one-dimensional fields only");
        }

        if (json.ValueKind == JsonValueKind.Null)
        {
            writer.WriteInt32(-1);
            return;
        }

        if (json.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"field '{path}' is an array of {field.Type.DisplayName}: give a JSON array, not {Describe(json)}");
        }

        writer.WriteInt32(json.GetArrayLength());
        var i = 0;
        foreach (var element in json.EnumerateArray())
        {
            EncodeScalar(writer, element, field.Type, $"{path}[{i++}]");
        }
    }

    private static void EncodeScalar(UaWriter writer, JsonElement json, TypeInfo type, string path)
    {
        if (type.Structure is { } nested)
        {
            EncodeStructure(writer, json, nested, path);
            return;
        }

        if (type.BuiltIn == BuiltInType.Variant)
        {
            writer.WriteVariant(ValueText.Guess(json));
            return;
        }

        if (type.BuiltIn is BuiltInType.ExtensionObject or BuiltInType.DataValue or BuiltInType.DiagnosticInfo)
        {
            throw new FormatException($"field '{path}' is a {type.DisplayName}, which the server does not describe with a DataTypeDefinition; this command cannot write it");
        }

        if (json.ValueKind is JsonValueKind.Object or JsonValueKind.Array)
        {
            throw new FormatException($"field '{path}' is a {type.DisplayName}, not {(json.ValueKind == JsonValueKind.Object ? "an object" : "an array")}");
        }

        object? value;
        try
        {
            value = ValueText.ParseScalar(json.ValueKind == JsonValueKind.String ? json.GetString()! : json.GetRawText(), type.BuiltIn);
        }
        catch (FormatException ex)
        {
            throw new FormatException($"field '{path}': {ex.Message}", ex);
        }

        WriteScalar(writer, type.BuiltIn, value);
    }

    private static void WriteScalar(UaWriter writer, BuiltInType type, object? value)
    {
        switch (type)
        {
            case BuiltInType.Boolean: writer.WriteBoolean((bool)value!); break;
            case BuiltInType.SByte: writer.WriteSByte((sbyte)value!); break;
            case BuiltInType.Byte: writer.WriteByte((byte)value!); break;
            case BuiltInType.Int16: writer.WriteInt16((short)value!); break;
            case BuiltInType.UInt16: writer.WriteUInt16((ushort)value!); break;
            case BuiltInType.Int32: writer.WriteInt32((int)value!); break;
            case BuiltInType.UInt32: writer.WriteUInt32((uint)value!); break;
            case BuiltInType.Int64: writer.WriteInt64((long)value!); break;
            case BuiltInType.UInt64: writer.WriteUInt64((ulong)value!); break;
            case BuiltInType.Float: writer.WriteFloat((float)value!); break;
            case BuiltInType.Double: writer.WriteDouble((double)value!); break;
            case BuiltInType.String: writer.WriteString((string?)value); break;
            case BuiltInType.DateTime: writer.WriteDateTime((DateTime)value!); break;
            case BuiltInType.Guid: writer.WriteGuid((Guid)value!); break;
            case BuiltInType.ByteString: writer.WriteByteString((byte[]?)value); break;
            case BuiltInType.XmlElement: writer.WriteXmlElement((XmlElement)value!); break;
            case BuiltInType.NodeId: writer.WriteNodeId((NodeId)value!); break;
            case BuiltInType.ExpandedNodeId: writer.WriteExpandedNodeId((ExpandedNodeId)value!); break;
            case BuiltInType.StatusCode: writer.WriteStatusCode((StatusCode)value!); break;
            case BuiltInType.QualifiedName: writer.WriteQualifiedName((QualifiedName)value!); break;
            case BuiltInType.LocalizedText: writer.WriteLocalizedText((LocalizedText)value!); break;
            default: throw new FormatException($"values of type {type} cannot be written in a structure field");
        }
    }
}
