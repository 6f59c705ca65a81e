using System.Text;

namespace TwinGateway.OpcUa.Generator;

/// <summary>
/// Generates the OPC UA types of TwinGateway.OpcUa from the specification's machine-readable files:
/// <c>--bsd Opc.Ua.Types.bsd --nodeset Opc.Ua.NodeSet2.xml --status-codes StatusCode.csv|_generated_status_codes.js
/// [--node-ids NodeIds.csv|opcua_node_ids.js] --out src/TwinGateway.OpcUa/Generated
/// [--address-space src/TwinGateway.OpcUa/Server/AddressSpace] [--check]</c>.
/// <c>--address-space</c> also writes StandardNodes.g.cs (the type nodes of the NodeSet) into that folder.
/// With <c>--check</c> nothing is written; the exit code is 1 when a file would change.
/// </summary>
internal static class Program
{
    private const string Usage =
        "usage: TwinGateway.OpcUa.Generator --bsd Opc.Ua.Types.bsd --nodeset Opc.Ua.NodeSet2.xml "
        + "--status-codes StatusCode.csv|_generated_status_codes.js [--node-ids NodeIds.csv|opcua_node_ids.js] "
        + "--out DIR [--address-space DIR] [--check]";

    private static int Main(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        var check = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--check":
                    check = true;
                    break;
                case "--bsd" or "--nodeset" or "--status-codes" or "--node-ids" or "--out" or "--address-space" when i + 1 < args.Length:
                    options[args[i][2..]] = args[++i];
                    break;
                default:
                    Console.Error.WriteLine($"unknown or incomplete argument '{args[i]}'");
                    Console.Error.WriteLine(Usage);
                    return 2;
            }
        }

        foreach (var required in new[] { "bsd", "nodeset", "status-codes", "out" })
        {
            if (!options.ContainsKey(required))
            {
                Console.Error.WriteLine($"missing --{required}");
                Console.Error.WriteLine(Usage);
                return 2;
            }
        }

        try
        {
            return Run(options, check);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or System.Xml.XmlException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine("error: " + e.Message);
            return 1;
        }
    }

    private static int Run(Dictionary<string, string> options, bool check)
    {
        var dictionary = TypeDictionary.Load(options["bsd"]);
        var nodeSet = NodeSet.Load(options["nodeset"]);
        var statusCodes = StatusCodeTable.Load(options["status-codes"]);
        NodeIdTable nodeIds;
        if (options.TryGetValue("node-ids", out var nodeIdsPath))
        {
            nodeIds = NodeIdTable.Load(nodeIdsPath);
        }
        else
        {
            nodeIds = NodeIdTable.Empty;
            Console.Error.WriteLine("warning: no --node-ids; service messages missing from the NodeSet get DataTypeId 0 and are not registered");
        }

        var model = TypeModel.Build(dictionary, nodeSet, nodeIds);
        var nodeIdClasses = NodeIdClasses.Build(nodeSet, model, model.Warnings);
        var source = "Opc.Ua.Types.bsd and Opc.Ua.NodeSet2.xml, " + nodeSet.ModelDescription;

        var outDir = options["out"];
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            [Path.Combine(outDir, "StatusCodes.g.cs")] = Emitters.StatusCodes(statusCodes),
            [Path.Combine(outDir, "Enums.g.cs")] = Emitters.Enums(model, source),
            [Path.Combine(outDir, "DataTypes.g.cs")] = Emitters.DataTypes(model, source),
            [Path.Combine(outDir, "GeneratedTypes.g.cs")] = Emitters.GeneratedTypes(model),
            [Path.Combine(outDir, "NodeIds.g.cs")] = Emitters.NodeIds(nodeIdClasses, nodeSet.ModelDescription),
        };

        StandardNodesEmitter.Result? standardNodes = null;
        if (options.TryGetValue("address-space", out var addressSpaceDir))
        {
            standardNodes = StandardNodesEmitter.StandardNodes(nodeSet, "Opc.Ua.NodeSet2.xml, " + nodeSet.ModelDescription, model.Warnings);
            files[Path.Combine(addressSpaceDir, "StandardNodes.g.cs")] = standardNodes.Text;
        }

        var encoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
        var stale = 0;
        foreach (var (path, text) in files)
        {
            var current = File.Exists(path) ? File.ReadAllText(path, encoding) : null;
            if (current == text)
            {
                Console.WriteLine($"unchanged {path}");
                continue;
            }

            stale++;
            if (check)
            {
                Console.WriteLine($"stale     {path}");
                continue;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, text, encoding);
            Console.WriteLine($"wrote     {path}");
        }

        Console.WriteLine(CodeWriter.Inv(
            $"{statusCodes.Count} status codes, {model.Enums.Count} enums, {model.Structs.Count} structures ({model.Structs.Count(s => s.BinaryEncodingId is not null)} registered), {nodeIdClasses.Sum(c => c.Ids.Count)} node ids"));
        if (standardNodes is { } sn)
        {
            Console.WriteLine(CodeWriter.Inv(
                $"StandardNodes: {sn.ReferenceTypes} reference types, {sn.DataTypes} data types, {sn.ObjectTypes} object types, {sn.VariableTypes} variable types, {sn.Encodings} Default Binary encodings, {sn.HasSubtype} HasSubtype references"));
        }

        Report("skipped enum", model.SkippedEnums.Select(s => s.Name + ": " + s.Reason));
        Report("skipped structure", model.SkippedStructs.Select(s => s.Name + ": " + s.Reason));
        Report("built-in (hand-written)", [string.Join(", ", model.BuiltInStructs)]);
        Report("enum member fix-up", model.EnumFixUps);
        Report("property fix-up", model.PropertyFixUps);
        Report("warning", model.Warnings);
        return check && stale > 0 ? 1 : 0;
    }

    private static void Report(string what, IEnumerable<string> lines)
    {
        foreach (var line in lines)
        {
            Console.WriteLine(what + ": " + line);
        }
    }
}
