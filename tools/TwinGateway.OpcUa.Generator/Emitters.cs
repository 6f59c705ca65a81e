using System.Globalization;

namespace TwinGateway.OpcUa.Generator;

/// <summary>Writes the generated C# files. Every list is sorted, so the output depends on the inputs only.</summary>
internal static class Emitters
{
    private const string Namespace = "namespace TwinGateway.OpcUa.Types;";

    public static string StatusCodes(IReadOnlyList<StatusCodeEntry> codes)
    {
        var w = new CodeWriter();
        w.Header("The status codes of OPC 10000-4 §7.39 / OPC 10000-6 Annex A (the specification's StatusCode table).", "System.Collections.Frozen");
        w.Line(Namespace).Line();
        w.Open("public static partial class StatusCodes");
        var sorted = codes.OrderBy(c => c.Value).ThenBy(c => c.Name, StringComparer.Ordinal).ToList();
        foreach (var code in sorted)
        {
            w.Summary(code.Description);
            w.Line("public const uint " + Naming.Identifier(code.Name) + " = " + CodeWriter.Hex(code.Value) + ";");
            w.Line();
        }

        w.Line("private static readonly FrozenDictionary<uint, string> s_names = new Dictionary<uint, string>");
        w.Line("{");
        foreach (var code in sorted)
        {
            var name = Naming.Identifier(code.Name);
            w.Line("    [" + name + "] = nameof(" + name + "),");
        }

        w.Line("}.ToFrozenDictionary();");
        w.Line();
        w.Line("private static readonly FrozenDictionary<string, uint> s_codes =");
        w.Line("    s_names.ToFrozenDictionary(kv => kv.Value, kv => kv.Key, StringComparer.Ordinal);");
        w.Close();
        return w.ToString();
    }

    public static string Enums(TypeModel model, string source)
    {
        var w = new CodeWriter();
        w.Header("The enumerations and option sets of " + source + ".");
        w.Line(Namespace);
        foreach (var e in model.Enums)
        {
            w.Line();
            w.Summary(e.Source.Documentation ?? (e.IsOptionSet ? "The " + e.Name + " option set." : "The " + e.Name + " enumeration."));
            if (e.IsOptionSet)
            {
                w.Line("[Flags]");
            }

            w.Open("public enum " + e.Name + (e.Underlying is null ? "" : " : " + e.Underlying));
            foreach (var m in e.Members)
            {
                w.Line(m.Name + " = " + m.Value.ToString(CultureInfo.InvariantCulture) + ",");
            }

            w.Close();
        }

        return w.ToString();
    }

    public static string DataTypes(TypeModel model, string source)
    {
        var w = new CodeWriter();
        w.Header("The structures and service messages of " + source + ".", "TwinGateway.OpcUa.Encoding");
        w.Line("// Encoded field by field in the dictionary's order (OPC 10000-6 §5.2.6); nested structures are inline,");
        w.Line("// ua:ExtensionObject fields carry their own type id. Fields inherited from a base type are repeated flat.");
        w.Line("//");
        if (model.SkippedStructs.Count == 0)
        {
            w.Line("// Skipped structures: none. This dictionary describes no structure with optional fields or union");
            w.Line("// switches (OPC 10000-6 §5.2.7/§5.2.8) besides the built-in types below; such a type would be left out");
            w.Line("// and stay an opaque ExtensionObject body.");
        }
        else
        {
            w.Line("// Skipped structures (they stay opaque ExtensionObject bodies):");
            foreach (var s in model.SkippedStructs)
            {
                w.Line("//   " + s.Name + ": " + s.Reason);
            }
        }

        w.Line("//");
        w.Line("// Built-in types described by the dictionary and written by hand in TwinGateway.OpcUa.Types / Encoding:");
        foreach (var line in Wrap(model.BuiltInStructs, 100))
        {
            w.Line("//   " + line);
        }

        var unregistered = model.Structs.Where(s => s.BinaryEncodingId is null).Select(s => s.Name).ToList();
        w.Line("//");
        w.Line("// Generated but not registered with EncodeableFactory (no \"Default Binary\" encoding: abstract or JSON-only):");
        foreach (var line in Wrap(unregistered, 100))
        {
            w.Line("//   " + line);
        }

        w.Line();
        w.Line(Namespace);
        foreach (var s in model.Structs)
        {
            w.Line();
            WriteStruct(w, s);
        }

        return w.ToString();
    }

    private static void WriteStruct(CodeWriter w, StructModel s)
    {
        w.Summary(s.Source.Documentation ?? "The " + s.Name + " structure.");
        w.Open("public sealed partial class " + s.Name + " : IEncodeable");
        w.Line("public const uint DataTypeId = " + s.DataTypeId.ToString(CultureInfo.InvariantCulture) + ";");
        w.Line();
        w.Line(s.BinaryEncodingId is { } id
            ? "public static readonly NodeId BinaryEncodingNodeId = new(" + id.ToString(CultureInfo.InvariantCulture) + ");"
            : "public static readonly NodeId BinaryEncodingNodeId = default;");
        w.Line();
        w.Line("public NodeId BinaryEncodingId => BinaryEncodingNodeId;");
        foreach (var p in s.Properties)
        {
            w.Line();
            w.Line("public " + p.PropertyType + " " + p.Name + " { get; set; }" + p.Initializer);
        }

        w.Line();
        w.Open("public void Encode(UaWriter writer)");
        w.Line("ArgumentNullException.ThrowIfNull(writer);");
        foreach (var p in s.Properties)
        {
            w.Line(EncodeStatement(p));
        }

        w.Close();
        w.Line();
        w.Open("public void Decode(ref UaReader reader)");
        foreach (var p in s.Properties)
        {
            w.Line(p.Name + " = " + DecodeExpression(p) + ";");
        }

        w.Close();
        w.Line();
        w.Line("public override string ToString() => " + Naming.CSharpString(s.Name) + ";");
        w.Close();
    }

    private static string EncodeStatement(PropertyModel p)
    {
        if (p.IsArray)
        {
            return p.Kind switch
            {
                ValueKind.Structure => "writer.WriteEncodeableArray(" + p.Name + ");",
                _ => "writer.WriteArray(" + p.Name + ", static (w, v) => " + WriteScalar(p, "w", "v") + ");",
            };
        }

        return WriteScalar(p, "writer", p.Name) + ";";
    }

    private static string WriteScalar(PropertyModel p, string writer, string value) => p.Kind switch
    {
        ValueKind.BuiltIn => writer + ".Write" + p.BuiltIn!.Method + "(" + value + ")",
        ValueKind.Enum => writer + ".WriteEnum(" + value + ")",
        ValueKind.OptionSet => writer + ".Write" + p.Enum!.WireMethod + "((" + p.Enum.Underlying + ")" + value + ")",
        _ => writer + ".WriteEncodeable(" + value + ")",
    };

    private static string DecodeExpression(PropertyModel p)
    {
        if (p.IsArray)
        {
            return p.Kind switch
            {
                ValueKind.Structure => "reader.ReadEncodeableArray(static () => new " + p.Structure + "())",
                _ => "reader.ReadArray(static (ref UaReader r) => " + ReadScalar(p, "r") + ", "
                    + p.MinElementSize.ToString(CultureInfo.InvariantCulture) + ")",
            };
        }

        return ReadScalar(p, "reader");
    }

    private static string ReadScalar(PropertyModel p, string reader) => p.Kind switch
    {
        ValueKind.BuiltIn => reader + ".Read" + p.BuiltIn!.Method + "()",
        ValueKind.Enum => reader + ".ReadEnum<" + p.Enum!.Name + ">()",
        ValueKind.OptionSet => "(" + p.Enum!.Name + ")" + reader + ".Read" + p.Enum.WireMethod + "()",
        _ => reader + ".ReadEncodeable(new " + p.Structure + "())",
    };

    public static string GeneratedTypes(TypeModel model)
    {
        var w = new CodeWriter();
        w.Header("Registers every generated structure that has a \"Default Binary\" encoding.", "TwinGateway.OpcUa.Encoding");
        w.Line(Namespace).Line();
        w.Open("internal static partial class GeneratedTypes");
        w.Open("public static void RegisterAll(EncodeableFactory factory)");
        w.Line("ArgumentNullException.ThrowIfNull(factory);");
        foreach (var s in model.Structs.Where(s => s.BinaryEncodingId is not null))
        {
            w.Line("factory.Register(" + s.Name + ".BinaryEncodingNodeId, static () => new " + s.Name + "());");
        }

        w.Close();
        w.Close();
        return w.ToString();
    }

    public static string NodeIds(IReadOnlyList<NodeIdClass> classes, string source)
    {
        var w = new CodeWriter();
        w.Header("Well-known namespace-0 node ids of " + source + ".");
        w.Line(Namespace);
        foreach (var c in classes)
        {
            w.Line();
            w.Summary(c.Summary);
            w.Open("public static class " + c.Name);
            foreach (var (name, id) in c.Ids)
            {
                w.Line("public const uint " + name + " = " + id.ToString(CultureInfo.InvariantCulture) + ";");
            }

            w.Close();
        }

        return w.ToString();
    }

    private static IEnumerable<string> Wrap(IEnumerable<string> names, int width)
    {
        var line = "";
        foreach (var name in names)
        {
            if (line.Length > 0 && line.Length + name.Length + 2 > width)
            {
                yield return line + ",";
                line = "";
            }

            line = line.Length == 0 ? name : line + ", " + name;
        }

        yield return line.Length == 0 ? "(none)" : line;
    }
}
