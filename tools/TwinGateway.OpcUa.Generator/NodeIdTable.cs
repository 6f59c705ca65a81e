using System.Globalization;
using System.Text.RegularExpressions;

namespace TwinGateway.OpcUa.Generator;

/// <summary>
/// The specification's NodeIds table (symbolic name to numeric id, grouped as DataTypeIds, ObjectIds, ...). The published
/// Opc.Ua.NodeSet2.xml leaves out the service messages (RequestHeader, ReadRequest, ...), so their DataType ids and
/// "Default Binary" encoding ids come from here: <c>ObjectIds.ReadRequest_Encoding_DefaultBinary</c> = 631.
/// Reads the official NodeIds.csv (<c>Name,Id,NodeClass</c>) or the same table as published in JavaScript by
/// node-opcua-constants (<c>DataTypeIds[DataTypeIds["ReadRequest"] = 629] = "ReadRequest";</c>).
/// </summary>
internal sealed partial class NodeIdTable
{
    private readonly Dictionary<string, uint> _ids = new(StringComparer.Ordinal);

    public static NodeIdTable Empty { get; } = new();

    public int Count => _ids.Count;

    /// <summary>Looks up <c>Group.Name</c>, e.g. <c>DataTypeIds.ReadRequest</c>.</summary>
    public uint? Find(string group, string name) => _ids.TryGetValue(group + "." + name, out var id) ? id : null;

    public static NodeIdTable Load(string path)
    {
        var table = new NodeIdTable();
        var text = File.ReadAllText(path);
        if (path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
        {
            foreach (var line in text.Split('\n'))
            {
                var parts = line.Trim().Split(',');
                if (parts.Length < 3 || !uint.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                {
                    continue;
                }

                table._ids[parts[2].Trim() + "Ids." + parts[0].Trim()] = id;
            }
        }
        else
        {
            foreach (Match match in EnumEntry().Matches(text))
            {
                table._ids[match.Groups["group"].Value + "." + match.Groups["name"].Value] =
                    uint.Parse(match.Groups["id"].Value, NumberStyles.None, CultureInfo.InvariantCulture);
            }
        }

        if (table._ids.Count == 0)
        {
            throw new InvalidDataException($"{path}: no node ids found (expected NodeIds.csv or node-opcua-constants opcua_node_ids.js)");
        }

        return table;
    }

    [GeneratedRegex("""(?<group>\w+Ids)\[\k<group>\["(?<name>\w+)"\]\s*=\s*(?<id>\d+)\]""")]
    private static partial Regex EnumEntry();
}
