using System.Globalization;
using System.Text;

namespace TwinGateway.OpcUa.Generator;

/// <summary>
/// Writes Server/AddressSpace/StandardNodes.g.cs: <c>StandardNodes.AddTypes</c>, which adds every namespace-0 DataType,
/// ReferenceType, ObjectType and VariableType of the NodeSet with its HasSubtype references, and the "Default Binary"
/// encoding object of every structure that has one (HasEncoding, HasTypeDefinition DataTypeEncodingType).
/// Instances (the folders, the Server object, the InstanceDeclarations under types) are left to the server.
/// The nodes are emitted as one text table per node class (a raw string, one type a line, sorted by id) that a loop
/// parses at run time: nearly free to compile, unlike ~900 statement blocks or tuple literals.
/// </summary>
internal static class StandardNodesEmitter
{
    private const uint StructureId = 22;
    private const uint DataTypeEncodingTypeId = 76;
    private static readonly string[] RootTypes = ["References", "BaseDataType", "BaseObjectType", "BaseVariableType"];

    public sealed record Result(string Text, int DataTypes, int ReferenceTypes, int ObjectTypes, int VariableTypes, int Encodings, int HasSubtype);

    public static Result StandardNodes(NodeSet nodeSet, string source, List<string> warnings)
    {
        var types = nodeSet.Nodes
            .Where(n => n.NodeClass is UaNodeClass.DataType or UaNodeClass.ReferenceType or UaNodeClass.ObjectType or UaNodeClass.VariableType)
            .GroupBy(n => n.Id)
            .Select(g => g.First())
            .ToDictionary(n => n.Id);

        // The supertype: the inverse HasSubtype on the subtype, or a forward HasSubtype on the supertype; one each.
        var parents = new Dictionary<uint, SortedSet<uint>>();
        foreach (var node in nodeSet.Nodes)
        {
            foreach (var r in node.References.Where(r => r.ReferenceTypeId == NodeSet.HasSubtype))
            {
                var (parent, child) = r.IsForward ? (node.Id, r.TargetId) : (r.TargetId, node.Id);
                if (!types.ContainsKey(child))
                {
                    continue;
                }

                if (!types.ContainsKey(parent))
                {
                    warnings.Add(CodeWriter.Inv($"StandardNodes: i={child} is a subtype of i={parent}, which is not a type node; reference left out"));
                    continue;
                }

                if (!parents.TryGetValue(child, out var set))
                {
                    parents[child] = set = [];
                }

                set.Add(parent);
            }
        }

        uint Parent(UaNode node)
        {
            if (!parents.TryGetValue(node.Id, out var set))
            {
                if (!RootTypes.Contains(node.BrowseName))
                {
                    warnings.Add(CodeWriter.Inv($"StandardNodes: type i={node.Id} {node.BrowseName} has no supertype"));
                }

                return 0;
            }

            if (set.Count > 1)
            {
                warnings.Add(CodeWriter.Inv($"StandardNodes: type i={node.Id} {node.BrowseName} has {set.Count} supertypes; only i={set.Min} is kept"));
            }

            return set.Min;
        }

        bool IsStructure(uint id)
        {
            for (var hops = 0; hops < 64 && id != 0; hops++)
            {
                if (id == StructureId)
                {
                    return true;
                }

                id = parents.TryGetValue(id, out var set) ? set.Min : 0;
            }

            return false;
        }

        var sorted = types.Values.OrderBy(n => n.Id).ToList();
        var referenceTypes = sorted.Where(n => n.NodeClass == UaNodeClass.ReferenceType).ToList();
        var dataTypes = sorted.Where(n => n.NodeClass == UaNodeClass.DataType).ToList();
        var objectTypes = sorted.Where(n => n.NodeClass == UaNodeClass.ObjectType).ToList();
        var variableTypes = sorted.Where(n => n.NodeClass == UaNodeClass.VariableType).ToList();

        var encodings = new Dictionary<uint, uint>();
        foreach (var dataType in dataTypes.Where(d => IsStructure(d.Id)))
        {
            if (nodeSet.FindDefaultBinaryEncoding(dataType) is { } encoding)
            {
                if (types.ContainsKey(encoding))
                {
                    warnings.Add(CodeWriter.Inv($"StandardNodes: the Default Binary encoding of i={dataType.Id} is type node i={encoding}; left out"));
                    continue;
                }

                encodings[dataType.Id] = encoding;
            }
        }

        if (!types.ContainsKey(DataTypeEncodingTypeId) && encodings.Count > 0)
        {
            throw new InvalidDataException("the NodeSet has no DataTypeEncodingType (i=76) for the Default Binary encodings");
        }

        var displayNames = sorted.Where(n => !string.IsNullOrEmpty(n.DisplayName) && n.DisplayName != n.BrowseName).ToList();
        var descriptions = sorted.Where(n => !string.IsNullOrEmpty(n.Description)).ToList();

        foreach (var n in sorted)
        {
            RequireToken(n, n.BrowseName, "BrowseName");
            if (n.NodeClass == UaNodeClass.ReferenceType && !string.IsNullOrEmpty(n.InverseName))
            {
                RequireToken(n, n.InverseName, "InverseName");
            }
        }

        var w = new CodeWriter();
        w.Header("The type nodes of " + source + ".", "System.Globalization", "TwinGateway.OpcUa.Types");
        w.Line("// Every DataType, ReferenceType, ObjectType and VariableType of namespace 0 with its HasSubtype reference, and");
        w.Line("// the \"Default Binary\" encoding object of each structure that has one (HasEncoding from the DataType,");
        w.Line("// HasTypeDefinition DataTypeEncodingType). Instances (folders, the Server object, the InstanceDeclarations");
        w.Line("// under types) are not here; the server builds what it exposes.");
        w.Line(CodeWriter.Inv($"// {referenceTypes.Count} reference types, {dataTypes.Count} data types, {objectTypes.Count} object types, {variableTypes.Count} variable types, {encodings.Count} encodings."));
        w.Line("//");
        w.Line("// The tables are text (one type a line, sorted by NodeId, fields separated by one space) so that this file");
        w.Line("// compiles in no time; they are parsed once per address space. Flags: a = IsAbstract, s = Symmetric, - = none.");
        w.Line("// A supertype of 0 marks a root (References, BaseDataType, BaseObjectType, BaseVariableType).");
        w.Line();
        w.Line("namespace TwinGateway.OpcUa.Server.AddressSpace;");
        w.Line();
        w.Open("internal static partial class StandardNodes");
        w.Open("static partial void AddTypes(UaAddressSpace space)");

        w.Line("// NodeId Supertype Flags BrowseName [InverseName]");
        Table(w, "referenceTypes", referenceTypes.Select(n => CodeWriter.Inv(
            $"{n.Id} {Parent(n)} {Flags(n.IsAbstract, n.Symmetric)} {n.BrowseName}{(string.IsNullOrEmpty(n.InverseName) ? "" : " " + n.InverseName)}")));
        w.Line("// NodeId Supertype Flags DefaultBinaryEncoding (0: none) BrowseName");
        Table(w, "dataTypes", dataTypes.Select(n => CodeWriter.Inv(
            $"{n.Id} {Parent(n)} {Flags(n.IsAbstract, false)} {encodings.GetValueOrDefault(n.Id)} {n.BrowseName}")));
        w.Line("// NodeId Supertype Flags BrowseName");
        Table(w, "objectTypes", objectTypes.Select(n => CodeWriter.Inv(
            $"{n.Id} {Parent(n)} {Flags(n.IsAbstract, false)} {n.BrowseName}")));
        w.Line("// NodeId Supertype Flags DataType ValueRank BrowseName");
        Table(w, "variableTypes", variableTypes.Select(n => CodeWriter.Inv(
            $"{n.Id} {Parent(n)} {Flags(n.IsAbstract, false)} {n.DataType} {n.ValueRank} {n.BrowseName}")));

        w.Line(CodeWriter.Inv($"var subtypes = new List<(uint Parent, uint Child)>({sorted.Count});"));
        w.Line(CodeWriter.Inv($"var encodings = new List<(uint DataType, uint Encoding)>({encodings.Count});"));
        w.Open("foreach (var f in Rows(referenceTypes))");
        w.Open("space.Add(new ReferenceTypeNode(new NodeId(U(f[0])), new QualifiedName(f[3]))");
        w.Line("IsAbstract = f[2].Contains('a'),");
        w.Line("Symmetric = f[2].Contains('s'),");
        w.Line("InverseName = f.Length > 4 ? new LocalizedText(f[4]) : default,");
        w.Close(");");
        w.Line("subtypes.Add((U(f[1]), U(f[0])));");
        w.Close();
        w.Line();
        w.Line("var defaultBinary = new QualifiedName(\"Default Binary\");");
        w.Open("foreach (var f in Rows(dataTypes))");
        w.Line("space.Add(new DataTypeNode(new NodeId(U(f[0])), new QualifiedName(f[4])) { IsAbstract = f[2].Contains('a') });");
        w.Line("subtypes.Add((U(f[1]), U(f[0])));");
        w.Open("if (U(f[3]) is var encoding and not 0)");
        w.Line("space.Add(new ObjectNode(new NodeId(encoding), defaultBinary));");
        w.Line("encodings.Add((U(f[0]), encoding));");
        w.Close();
        w.Close();
        w.Line();
        w.Open("foreach (var f in Rows(objectTypes))");
        w.Line("space.Add(new ObjectTypeNode(new NodeId(U(f[0])), new QualifiedName(f[3])) { IsAbstract = f[2].Contains('a') });");
        w.Line("subtypes.Add((U(f[1]), U(f[0])));");
        w.Close();
        w.Line();
        w.Open("foreach (var f in Rows(variableTypes))");
        w.Open("space.Add(new VariableTypeNode(new NodeId(U(f[0])), new QualifiedName(f[5]))");
        w.Line("IsAbstract = f[2].Contains('a'),");
        w.Line("DataType = new NodeId(U(f[3])),");
        w.Line("ValueRank = int.Parse(f[4], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture),");
        w.Close(");");
        w.Line("subtypes.Add((U(f[1]), U(f[0])));");
        w.Close();

        if (displayNames.Count > 0)
        {
            w.Line();
            w.Line("// DisplayNames that differ from the BrowseName.");
            w.Line("(uint Id, string Text)[] displayNames =");
            w.Line("[");
            foreach (var n in displayNames)
            {
                w.Line(CodeWriter.Inv($"    ({n.Id}, {Literal(n.DisplayName!)}),"));
            }

            w.Line("];");
            w.Open("foreach (var (id, text) in displayNames)");
            w.Line("space.Find(new NodeId(id))!.DisplayName = new LocalizedText(text);");
            w.Close();
        }

        w.Line();
        if (descriptions.Count > 0)
        {
            w.Line("(uint Id, string Text)[] descriptions =");
            w.Line("[");
            foreach (var n in descriptions)
            {
                w.Line(CodeWriter.Inv($"    ({n.Id}, {Literal(n.Description!)}),"));
            }

            w.Line("];");
            w.Open("foreach (var (id, text) in descriptions)");
            w.Line("space.Find(new NodeId(id))!.Description = new LocalizedText(text);");
            w.Close();
        }
        else
        {
            w.Line("// Descriptions: no type node of this NodeSet has one.");
        }

        w.Line();
        w.Line("// References once every node exists, so that each one's inverse is recorded on its target too.");
        w.Line("var hasSubtype = new NodeId(ReferenceTypeIds.HasSubtype);");
        w.Open("foreach (var (parent, child) in subtypes)");
        w.Open("if (parent != 0)");
        w.Line("space.AddReference(new NodeId(parent), hasSubtype, new NodeId(child));");
        w.Close();
        w.Close();
        w.Line();
        w.Line("var hasEncoding = new NodeId(ReferenceTypeIds.HasEncoding);");
        w.Line("var hasTypeDefinition = new NodeId(ReferenceTypeIds.HasTypeDefinition);");
        w.Line("var encodingType = new NodeId(ObjectTypeIds.DataTypeEncodingType);");
        w.Open("foreach (var (dataType, encoding) in encodings)");
        w.Line("space.AddReference(new NodeId(dataType), hasEncoding, new NodeId(encoding));");
        w.Line("space.AddReference(new NodeId(encoding), hasTypeDefinition, encodingType);");
        w.Close();
        w.Line();
        w.Line("static IEnumerable<string[]> Rows(string table) =>");
        w.Line("    table.Split('\\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(' '));");
        w.Line();
        w.Line("static uint U(string text) => uint.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);");
        w.Close();
        w.Close();

        var hasSubtypeCount = sorted.Count(n => parents.ContainsKey(n.Id));
        return new Result(w.ToString(), dataTypes.Count, referenceTypes.Count, objectTypes.Count, variableTypes.Count, encodings.Count, hasSubtypeCount);
    }

    private static string Flags(bool isAbstract, bool symmetric) => (isAbstract, symmetric) switch
    {
        (true, true) => "as",
        (true, false) => "a",
        (false, true) => "s",
        _ => "-",
    };

    /// <summary>A raw-string table: <c>const string name = """ ... """;</c>, one row a line.</summary>
    private static void Table(CodeWriter w, string name, IEnumerable<string> rows)
    {
        w.Line("const string " + name + " = \"\"\"");
        foreach (var row in rows)
        {
            w.Line("    " + row);
        }

        w.Line("    \"\"\";");
        w.Line();
    }

    /// <summary>Table fields are separated by spaces: a name must be one non-empty token.</summary>
    private static void RequireToken(UaNode node, string text, string what)
    {
        if (text.Length == 0 || text.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)) || text.Contains("\"\"\"", StringComparison.Ordinal))
        {
            throw new InvalidDataException(CodeWriter.Inv($"type i={node.Id} has {what} '{text}'; the StandardNodes tables need names without whitespace"));
        }
    }

    /// <summary>A C# string literal; control characters (line breaks in descriptions) are escaped.</summary>
    private static string Literal(string text)
    {
        var sb = new StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '"': sb.Append("\\\""); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case < ' ': sb.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture)); break;
                default: sb.Append(c); break;
            }
        }

        return sb.Append('"').ToString();
    }
}
