namespace TwinGateway.OpcUa.Generator;

/// <summary>A built-in type as a field: its C# type and the UaReader/UaWriter method suffix (ReadString/WriteString).</summary>
/// <param name="CsType">The C# type without a nullable annotation.</param>
/// <param name="IsReference">Reference types get '?' (null is a valid wire value: -1 length, empty ExtensionObject).</param>
/// <param name="ElementNullable">Whether the reader may return null for one element (string, ByteString, DiagnosticInfo).</param>
/// <param name="Method">Suffix of UaReader.ReadX / UaWriter.WriteX.</param>
/// <param name="MinSize">Smallest encoding of one element, passed to ReadArray to bound hostile counts.</param>
internal sealed record BuiltInType(string CsType, bool IsReference, bool ElementNullable, string Method, int MinSize);

internal enum ValueKind
{
    BuiltIn,
    Enum,
    OptionSet,
    Structure,
}

internal sealed record EnumMember(string Name, string SpecName, long Value);

/// <summary>A generated C# enum. Plain enumerations are Int32 on the wire; option sets use their own length.</summary>
internal sealed record EnumModel(
    BsdEnum Source,
    string Name,
    string? Underlying,
    string WireMethod,
    int MinSize,
    IReadOnlyList<EnumMember> Members)
{
    public bool IsOptionSet => Source.IsOptionSet;
}

internal sealed record PropertyModel(string Name, string FieldName, ValueKind Kind, bool IsArray, BuiltInType? BuiltIn, EnumModel? Enum, string? Structure)
{
    /// <summary>The element's C# type (for an array: the element type, with '?' where the reader may yield null).</summary>
    public string ElementType => Kind switch
    {
        ValueKind.BuiltIn => BuiltIn!.CsType + (BuiltIn.ElementNullable ? "?" : ""),
        ValueKind.Enum or ValueKind.OptionSet => Enum!.Name,
        _ => Structure!,
    };

    public string PropertyType => IsArray
        ? ElementType + "[]?"
        : Kind switch
        {
            ValueKind.BuiltIn => BuiltIn!.CsType + (BuiltIn.IsReference ? "?" : ""),
            ValueKind.Enum or ValueKind.OptionSet => Enum!.Name,
            _ => Structure!,
        };

    public string? Initializer => !IsArray && Kind == ValueKind.Structure ? " = new();" : null;

    /// <summary>Minimum encoded size of one array element (1 for structures, whose size the reader cannot bound).</summary>
    public int MinElementSize => Kind switch
    {
        ValueKind.BuiltIn => BuiltIn!.MinSize,
        ValueKind.Enum or ValueKind.OptionSet => Enum!.MinSize,
        _ => 1,
    };
}

internal sealed record StructModel(
    BsdStruct Source,
    string Name,
    uint DataTypeId,
    string IdSource,
    uint? BinaryEncodingId,
    IReadOnlyList<PropertyModel> Properties);

internal sealed record Skipped(string Name, string Reason);

/// <summary>The type dictionary resolved into what the emitters write, plus what was left out and why.</summary>
internal sealed class TypeModel
{
    /// <summary>Types in TwinGateway.OpcUa.Types written by hand; a dictionary type of the same name is not generated.</summary>
    private static readonly HashSet<string> HandWritten = new(StringComparer.Ordinal)
    {
        "BuiltInType", "DataValue", "DiagnosticInfo", "ExpandedNodeId", "ExtensionObject", "ExtensionObjectEncoding",
        "IdType", "LocalizedText", "Matrix", "NodeId", "QualifiedName", "ServiceResultException", "StatusCode",
        "StatusCodes", "Variant", "XmlElement", "GeneratedTypes", "ObjectIds", "VariableIds", "MethodIds",
        "DataTypeIds", "ReferenceTypeIds", "ObjectTypeIds", "VariableTypeIds",
    };

    /// <summary>Members every generated class declares (or inherits from object); a field of that name gets "Value".</summary>
    private static readonly HashSet<string> ClassMembers = new(StringComparer.Ordinal)
    {
        "DataTypeId", "BinaryEncodingNodeId", "BinaryEncodingId", "Encode", "Decode", "ToString", "Equals",
        "GetHashCode", "GetType", "MemberwiseClone", "ReferenceEquals", "Finalize",
    };

    private static readonly Dictionary<string, BuiltInType> BuiltIns = new(StringComparer.Ordinal)
    {
        ["opc:Boolean"] = new("bool", false, false, "Boolean", 1),
        ["opc:SByte"] = new("sbyte", false, false, "SByte", 1),
        ["opc:Byte"] = new("byte", false, false, "Byte", 1),
        ["opc:Int16"] = new("short", false, false, "Int16", 2),
        ["opc:UInt16"] = new("ushort", false, false, "UInt16", 2),
        ["opc:Int32"] = new("int", false, false, "Int32", 4),
        ["opc:UInt32"] = new("uint", false, false, "UInt32", 4),
        ["opc:Int64"] = new("long", false, false, "Int64", 8),
        ["opc:UInt64"] = new("ulong", false, false, "UInt64", 8),
        ["opc:Float"] = new("float", false, false, "Float", 4),
        ["opc:Double"] = new("double", false, false, "Double", 8),
        ["opc:String"] = new("string", true, true, "String", 4),
        ["opc:CharArray"] = new("string", true, true, "String", 4),
        ["opc:DateTime"] = new("DateTime", false, false, "DateTime", 8),
        ["opc:Guid"] = new("Guid", false, false, "Guid", 16),
        ["opc:ByteString"] = new("byte[]", true, true, "ByteString", 4),
        ["ua:XmlElement"] = new("XmlElement", false, false, "XmlElement", 4),
        ["ua:NodeId"] = new("NodeId", false, false, "NodeId", 2),
        ["ua:ExpandedNodeId"] = new("ExpandedNodeId", false, false, "ExpandedNodeId", 2),
        ["ua:StatusCode"] = new("StatusCode", false, false, "StatusCode", 4),
        ["ua:QualifiedName"] = new("QualifiedName", false, false, "QualifiedName", 6),
        ["ua:LocalizedText"] = new("LocalizedText", false, false, "LocalizedText", 1),
        ["ua:ExtensionObject"] = new("ExtensionObject", true, false, "ExtensionObject", 3),
        ["ua:DataValue"] = new("DataValue", false, false, "DataValue", 1),
        ["ua:Variant"] = new("Variant", false, false, "Variant", 1),
        ["ua:DiagnosticInfo"] = new("DiagnosticInfo", true, true, "DiagnosticInfo", 1),
    };

    public List<EnumModel> Enums { get; } = [];

    public List<StructModel> Structs { get; } = [];

    public List<Skipped> SkippedEnums { get; } = [];

    public List<Skipped> SkippedStructs { get; } = [];

    /// <summary>Dictionary structures without a BaseType: the built-in encodings (NodeId, Variant, ...), written by hand.</summary>
    public List<string> BuiltInStructs { get; } = [];

    /// <summary>Enum members renamed to be valid C#: (enum, specification name, C# name).</summary>
    public List<string> EnumFixUps { get; } = [];

    /// <summary>Properties renamed: (class, field, property).</summary>
    public List<string> PropertyFixUps { get; } = [];

    public List<string> Warnings { get; } = [];

    public static TypeModel Build(TypeDictionary dictionary, NodeSet nodeSet, NodeIdTable nodeIds)
    {
        var model = new TypeModel();
        var enumsByName = new Dictionary<string, EnumModel>(StringComparer.Ordinal);
        foreach (var bsd in dictionary.Enums)
        {
            var built = model.BuildEnum(bsd);
            if (built is not null)
            {
                enumsByName.Add(built.Name, built);
                model.Enums.Add(built);
            }
        }

        var candidates = new Dictionary<string, BsdStruct>(StringComparer.Ordinal);
        foreach (var bsd in dictionary.Structs)
        {
            if (bsd.BaseType is null)
            {
                model.BuiltInStructs.Add(bsd.Name);
            }
            else if (HandWritten.Contains(bsd.Name))
            {
                model.SkippedStructs.Add(new Skipped(bsd.Name, "a hand-written type of that name exists in TwinGateway.OpcUa.Types"));
            }
            else if (bsd.Fields.FirstOrDefault(f => f.TypeName == "opc:Bit" || f.SwitchField is not null || f.Length is not null) is { } field)
            {
                model.SkippedStructs.Add(new Skipped(bsd.Name,
                    $"optional fields or union switch ({field.Name}); OPC 10000-6 §5.2.7/§5.2.8 encodings are not generated, the body stays an opaque ExtensionObject"));
            }
            else
            {
                candidates.Add(bsd.Name, bsd);
            }
        }

        // Resolve fields; a structure that needs a skipped or unknown type is skipped too (repeat until stable).
        var resolved = new Dictionary<string, List<PropertyModel>>(StringComparer.Ordinal);
        bool changed;
        do
        {
            changed = false;
            resolved.Clear();
            foreach (var bsd in candidates.Values.OrderBy(s => s.Name, StringComparer.Ordinal).ToList())
            {
                var properties = ResolveFields(bsd, enumsByName, candidates, out var reason);
                if (properties is null)
                {
                    model.SkippedStructs.Add(new Skipped(bsd.Name, reason!));
                    candidates.Remove(bsd.Name);
                    changed = true;
                    continue;
                }

                resolved.Add(bsd.Name, properties);
            }
        }
        while (changed);

        CheckInlineCycles(resolved);

        foreach (var bsd in dictionary.Structs.Where(s => resolved.ContainsKey(s.Name)))
        {
            uint? dataTypeId;
            uint? encodingId;
            string source;
            var node = nodeSet.FindDataType(bsd.Name);
            var tableDataType = nodeIds.Find("DataTypeIds", bsd.Name);
            var tableEncoding = nodeIds.Find("ObjectIds", bsd.Name + "_Encoding_DefaultBinary");
            if (node is not null)
            {
                dataTypeId = node.Id;
                encodingId = nodeSet.FindDefaultBinaryEncoding(node);
                source = "NodeSet";
                if (tableDataType is not null && tableDataType != dataTypeId)
                {
                    model.Warnings.Add($"{bsd.Name}: NodeSet DataType i={dataTypeId} but the NodeIds table says i={tableDataType}");
                }

                if (tableEncoding is not null && encodingId is not null && tableEncoding != encodingId)
                {
                    model.Warnings.Add($"{bsd.Name}: NodeSet Default Binary i={encodingId} but the NodeIds table says i={tableEncoding}");
                }
            }
            else
            {
                dataTypeId = tableDataType;
                encodingId = tableEncoding;
                source = "NodeIds table (not in the NodeSet)";
            }

            if (dataTypeId is null)
            {
                model.Warnings.Add($"{bsd.Name}: no DataType node in the NodeSet or the NodeIds table; DataTypeId = 0");
            }

            model.Structs.Add(new StructModel(bsd, bsd.Name, dataTypeId ?? 0, source, encodingId, resolved[bsd.Name]));

            foreach (var p in resolved[bsd.Name].Where(p => p.Name != p.FieldName))
            {
                model.PropertyFixUps.Add($"{bsd.Name}.{p.FieldName} -> {p.Name}");
            }
        }

        model.Structs.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        model.Enums.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        model.SkippedStructs.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        model.SkippedEnums.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return model;
    }

    private EnumModel? BuildEnum(BsdEnum bsd)
    {
        if (HandWritten.Contains(bsd.Name))
        {
            SkippedEnums.Add(new Skipped(bsd.Name, $"the hand-written TwinGateway.OpcUa.Types.{bsd.Name} is used instead"));
            return null;
        }

        if (bsd.Values.Count == 0)
        {
            SkippedEnums.Add(new Skipped(bsd.Name, "abstract, no values"));
            return null;
        }

        string? underlying;
        string wire;
        int size;
        long min;
        long max;
        if (bsd.IsOptionSet)
        {
            (underlying, wire, size, min, max) = bsd.LengthInBits switch
            {
                8 => ("byte", "Byte", 1, 0L, (long)byte.MaxValue),
                16 => ("ushort", "UInt16", 2, 0L, (long)ushort.MaxValue),
                32 => ("uint", "UInt32", 4, 0L, (long)uint.MaxValue),
                64 => ("ulong", "UInt64", 8, 0L, long.MaxValue),
                _ => (null, "", 0, 0L, 0L),
            };
        }
        else
        {
            (underlying, wire, size, min, max) = bsd.LengthInBits == 32
                ? ((string?)null, "Enum", 4, (long)int.MinValue, (long)int.MaxValue)
                : (null, "", 0, 0L, 0L);
        }

        if (size == 0)
        {
            SkippedEnums.Add(new Skipped(bsd.Name, $"{bsd.LengthInBits}-bit {(bsd.IsOptionSet ? "option set" : "enumeration")} is part of a built-in encoding, not a DataType"));
            return null;
        }

        var members = new List<EnumMember>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var value in bsd.Values)
        {
            if (value.Value < min || value.Value > max)
            {
                throw new InvalidDataException($"{bsd.Name}.{value.Name} = {value.Value} does not fit {underlying ?? "int"}");
            }

            var name = Naming.Identifier(value.Name);
            if (name == bsd.Name)
            {
                name += "Value";
            }

            if (!used.Add(name))
            {
                name = CodeWriter.Inv($"{name}_{value.Value}");
                used.Add(name);
            }

            if (name != value.Name)
            {
                EnumFixUps.Add($"{bsd.Name}.{value.Name} -> {name}");
            }

            members.Add(new EnumMember(name, value.Name, value.Value));
        }

        return new EnumModel(bsd, bsd.Name, underlying, wire, size, members);
    }

    private static List<PropertyModel>? ResolveFields(
        BsdStruct bsd,
        Dictionary<string, EnumModel> enums,
        Dictionary<string, BsdStruct> structs,
        out string? reason)
    {
        reason = null;
        var properties = new List<PropertyModel>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var fields = bsd.Fields;
        for (var i = 0; i < fields.Count; i++)
        {
            var field = fields[i];
            var isArray = false;
            if (i + 1 < fields.Count && fields[i + 1].LengthField == field.Name)
            {
                if (field.TypeName != "opc:Int32")
                {
                    reason = $"length field {field.Name} is {field.TypeName}, not opc:Int32";
                    return null;
                }

                // NoOfX precedes X: one array property, the count is written by WriteArray/WriteEncodeableArray.
                field = fields[++i];
                isArray = true;
            }
            else if (field.LengthField is not null)
            {
                reason = $"array {field.Name} does not directly follow its length field {field.LengthField}";
                return null;
            }

            var name = Naming.Identifier(field.Name);
            if (name.TrimStart('@') == bsd.Name || ClassMembers.Contains(name))
            {
                name = name.TrimStart('@') + "Value";
            }

            if (!names.Add(name))
            {
                reason = $"two fields map to the property name {name}";
                return null;
            }

            var type = field.TypeName;
            PropertyModel property;
            if (BuiltIns.TryGetValue(type, out var builtIn))
            {
                property = new PropertyModel(name, field.Name, ValueKind.BuiltIn, isArray, builtIn, null, null);
            }
            else if (type.StartsWith("tns:", StringComparison.Ordinal) && enums.TryGetValue(type[4..], out var enumModel))
            {
                property = new PropertyModel(name, field.Name, enumModel.IsOptionSet ? ValueKind.OptionSet : ValueKind.Enum, isArray, null, enumModel, null);
            }
            else if (type.StartsWith("tns:", StringComparison.Ordinal) && structs.ContainsKey(type[4..]))
            {
                property = new PropertyModel(name, field.Name, ValueKind.Structure, isArray, null, null, type[4..]);
            }
            else
            {
                reason = $"field {field.Name} has type {type}, which is not generated";
                return null;
            }

            properties.Add(property);
        }

        return properties;
    }

    /// <summary>A structure that holds itself inline (not in an array) could never be initialised or encoded.</summary>
    private static void CheckInlineCycles(Dictionary<string, List<PropertyModel>> structs)
    {
        var state = new Dictionary<string, int>(StringComparer.Ordinal);

        void Visit(string name, Stack<string> path)
        {
            switch (state.GetValueOrDefault(name))
            {
                case 1:
                    throw new InvalidDataException("structures hold each other inline: " + string.Join(" -> ", path.Reverse().Append(name)));
                case 2:
                    return;
            }

            state[name] = 1;
            path.Push(name);
            foreach (var p in structs[name].Where(p => p.Kind == ValueKind.Structure && !p.IsArray))
            {
                Visit(p.Structure!, path);
            }

            path.Pop();
            state[name] = 2;
        }

        foreach (var name in structs.Keys.OrderBy(n => n, StringComparer.Ordinal))
        {
            Visit(name, new Stack<string>());
        }
    }
}
