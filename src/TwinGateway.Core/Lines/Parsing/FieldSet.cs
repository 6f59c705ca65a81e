using YamlDotNet.RepresentationModel;

namespace TwinGateway.Core.Lines.Parsing;

/// <summary>
/// The fields of one YAML mapping, checked against the names the format allows there. Unknown names are reported as
/// they are found, with a suggestion; a required field that a misspelt name was suggested for is not reported missing
/// a second time.
/// </summary>
internal sealed class FieldSet
{
    // A line file is committed and shared; credentials belong in the gateway's secret store.
    private static readonly HashSet<string> SecretNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "password", "passwd", "pwd", "secret", "user", "username", "userName", "token", "privateKey", "apiKey",
    };

    private readonly LineDefinitionParser _parser;
    private readonly Dictionary<string, (YamlScalarNode Key, YamlNode Value)> _fields = new(StringComparer.Ordinal);
    private readonly HashSet<string> _suggested = new(StringComparer.Ordinal);

    private FieldSet(LineDefinitionParser parser, YamlMappingNode node, string path)
    {
        _parser = parser;
        Node = node;
        Path = path;
    }

    public YamlMappingNode Node { get; }

    public string Path { get; }

    /// <summary>Opens <paramref name="node"/> as a mapping whose field names must be among <paramref name="known"/>;
    /// null (and an error) when the node is not a mapping.</summary>
    public static FieldSet? Open(LineDefinitionParser parser, YamlNode node, string path, string what, IReadOnlyList<string> known)
    {
        if (node is not YamlMappingNode mapping)
        {
            parser.Error(node, path, $"expected {what} as a mapping of fields ({string.Join(", ", known)}), found {LineDefinitionParser.Describe(node)}");
            return null;
        }

        var set = new FieldSet(parser, mapping, path);
        foreach (var (keyNode, value) in mapping.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key } scalarKey)
            {
                parser.Error(keyNode, path, $"expected a field name, found {LineDefinitionParser.Describe(keyNode)}");
                continue;
            }

            if (known.Contains(key, StringComparer.Ordinal))
            {
                set._fields[key] = (scalarKey, value);
                continue;
            }

            var fieldPath = set.PathOf(key);
            if (SecretNames.Contains(key))
            {
                parser.Error(scalarKey, fieldPath, $"field '{key}' is not allowed: a line file never holds credentials; keep them in the gateway's secret store and name them with the controller's credentialsRef");
                continue;
            }

            var suggestion = Suggestions.Closest(key, known);
            if (suggestion is null)
            {
                parser.Error(scalarKey, fieldPath, $"unknown field '{key}' (expected {string.Join(", ", known)})");
            }
            else
            {
                set._suggested.Add(suggestion);
                parser.Error(scalarKey, fieldPath, $"unknown field '{key}' (did you mean '{suggestion}'?)");
            }
        }

        return set;
    }

    public string PathOf(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    /// <summary>The field's value, or null when it is absent or written as YAML null (<c>~</c>, <c>null</c>, nothing).</summary>
    public YamlNode? Get(string key) =>
        _fields.TryGetValue(key, out var field) && !LineDefinitionParser.IsNull(field.Value) ? field.Value : null;

    /// <summary>The field's name node (for errors about the field as a whole), or the mapping when it is absent.</summary>
    public YamlNode KeyNode(string key) => _fields.TryGetValue(key, out var field) ? field.Key : Node;

    public bool Has(string key) => Get(key) is not null;

    /// <summary>True when an unknown field name in this mapping looked like a misspelling of <paramref name="key"/>.</summary>
    public bool WasSuggested(string key) => _suggested.Contains(key);

    /// <summary>The field's value; null and an error when it is missing.</summary>
    public YamlNode? Require(string key)
    {
        if (Get(key) is { } value)
        {
            return value;
        }

        if (_fields.TryGetValue(key, out var field))
        {
            _parser.Error(field.Key, PathOf(key), $"required field '{key}' has no value");
        }
        else if (!_suggested.Contains(key))
        {
            _parser.Error(Node, Path, $"missing required field '{key}'");
        }

        return null;
    }

    public string? RequiredText(string key) => Require(key) is { } node ? _parser.Text(node, PathOf(key)) : null;

    public string? OptionalText(string key) => Get(key) is { } node ? _parser.Text(node, PathOf(key)) : null;

    public double? RequiredNumber(string key) => Require(key) is { } node ? _parser.Number(node, PathOf(key)) : null;

    public double? OptionalNumber(string key) => Get(key) is { } node ? _parser.Number(node, PathOf(key)) : null;

    public bool? OptionalBoolean(string key) => Get(key) is { } node ? _parser.Boolean(node, PathOf(key)) : null;
}
