using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace TwinGateway.OpcUa.Generator;

internal sealed record StatusCodeEntry(string Name, uint Value, string Description);

/// <summary>
/// The specification's status-code table (OPC 10000-4 §7.39 / OPC 10000-6 Annex A): the official StatusCode.csv
/// (<c>Name,0x80010000,"Description"</c>) or the table as generated in JavaScript by node-opcua-status-code
/// (<c>name: "BadUnexpectedError", value: 0x80010000, description: "..."</c>).
/// </summary>
internal static partial class StatusCodeTable
{
    public static IReadOnlyList<StatusCodeEntry> Load(string path)
    {
        var text = File.ReadAllText(path);
        var entries = new List<StatusCodeEntry>();
        if (path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
        {
            foreach (Match match in CsvLine().Matches(text))
            {
                entries.Add(new StatusCodeEntry(
                    match.Groups["name"].Value,
                    ParseHex(match.Groups["value"].Value),
                    match.Groups["description"].Value.Replace("\"\"", "\"", StringComparison.Ordinal).Trim()));
            }
        }
        else
        {
            foreach (Match match in JsEntry().Matches(text))
            {
                entries.Add(new StatusCodeEntry(
                    match.Groups["name"].Value,
                    ParseHex(match.Groups["value"].Value),
                    UnescapeJs(match.Groups["description"].Value).Trim()));
            }
        }

        if (entries.Count == 0)
        {
            throw new InvalidDataException($"{path}: no status codes found");
        }

        var byName = new Dictionary<string, StatusCodeEntry>(StringComparer.Ordinal);
        var byValue = new Dictionary<uint, StatusCodeEntry>();
        foreach (var entry in entries)
        {
            if (!byName.TryAdd(entry.Name, entry))
            {
                throw new InvalidDataException($"{path}: status code {entry.Name} appears twice");
            }

            if (!byValue.TryAdd(entry.Value, entry))
            {
                throw new InvalidDataException($"{path}: {entry.Name} and {byValue[entry.Value].Name} share the value 0x{entry.Value.ToString("X8", CultureInfo.InvariantCulture)}");
            }

            if ((entry.Value & 0xFFFF) != 0)
            {
                throw new InvalidDataException($"{path}: {entry.Name} has info bits set; the table must hold bare codes");
            }
        }

        return entries;
    }

    private static uint ParseHex(string text) =>
        uint.Parse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);

    private static string UnescapeJs(string text)
    {
        if (!text.Contains('\\', StringComparison.Ordinal))
        {
            return text;
        }

        var sb = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c != '\\' || i + 1 == text.Length)
            {
                sb.Append(c);
                continue;
            }

            c = text[++i];
            sb.Append(c switch
            {
                'n' or 'r' or 't' => ' ',
                _ => c,
            });
        }

        return sb.ToString();
    }

    [GeneratedRegex("""name:\s*"(?<name>\w+)",\s*value:\s*(?<value>0x[0-9A-Fa-f]+),\s*description:\s*"(?<description>(?:[^"\\]|\\.)*)["]""")]
    private static partial Regex JsEntry();

    [GeneratedRegex("""^(?<name>\w+),(?<value>0x[0-9A-Fa-f]+),"(?<description>(?:[^"]|"")*)"\s*$""", RegexOptions.Multiline)]
    private static partial Regex CsvLine();
}
