using System.Collections.Immutable;
using System.Globalization;
using TwinGateway.Core.Lines;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace TwinGateway.Commissioning.Changes;

/// <summary>
/// Reads one YAML file (a change or a validation policy) through YamlDotNet's representation model, which keeps the
/// position of every node, and collects every problem with its file, line, column and field instead of stopping at the
/// first. Core's line-file parser is internal to Core; this is the small part of it the gate's two formats need.
/// </summary>
internal sealed class YamlFile(string file)
{
    private readonly List<FileProblem> _problems = [];

    public string File { get; } = file;

    public ImmutableArray<FileProblem> Problems => [.. _problems.OrderBy(p => p.Line).ThenBy(p => p.Column)];

    public bool HasProblems => _problems.Count > 0;

    /// <summary>The root node of the only document, or null with a problem (syntax error, empty file, two documents).</summary>
    public YamlNode? Load(string text, string expected)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            Error(e.Start, "", $"YAML syntax error: {e.Message}");
            return null;
        }
        catch (InvalidOperationException e)
        {
            // YamlDotNet throws this from its scanner on some malformed flow collections (see Core's YamlDocumentReader).
            Error(new Mark(0, 1, 1), "", $"YAML syntax error: {e.Message} (an unclosed '[', '{{' or quote?)");
            return null;
        }

        if (stream.Documents.Count == 0 || IsNull(stream.Documents[0].RootNode))
        {
            Error(new Mark(0, 1, 1), "", $"the file is empty: expected {expected}");
            return null;
        }

        if (stream.Documents.Count > 1)
        {
            Error(stream.Documents[1].RootNode, "", "the file holds one YAML document; found a second one (remove the '---' separator)");
            return null;
        }

        return stream.Documents[0].RootNode;
    }

    public void Error(YamlNode node, string field, string message) => Error(node.Start, field, message);

    public void Error(Mark mark, string field, string message) =>
        _problems.Add(new FileProblem(File, (int)Math.Max(1, mark.Line), (int)Math.Max(1, mark.Column), field, message));

    public SourceLocation Location(YamlNode node) => new(File, (int)Math.Max(1, node.Start.Line), (int)Math.Max(1, node.Start.Column));

    /// <summary>True for an absent value: a plain empty scalar, <c>~</c> or <c>null</c>.</summary>
    public static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    public static bool IsPlain(YamlScalarNode node) => node.Style is ScalarStyle.Plain or ScalarStyle.Any;

    public static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        YamlScalarNode scalar when IsNull(scalar) => "nothing",
        YamlScalarNode { Value: var value } scalar when !IsPlain(scalar) => $"the text '{value}'",
        YamlScalarNode scalar => $"'{scalar.Value}'",
        _ => "an alias",
    };

    /// <summary>Opens a mapping whose keys must be among <paramref name="known"/>; null (and a problem) otherwise.</summary>
    public Fields? Mapping(YamlNode node, string path, string what, IReadOnlyList<string> known)
    {
        if (node is not YamlMappingNode mapping)
        {
            Error(node, path, $"expected {what} as a mapping of fields ({string.Join(", ", known)}), found {Describe(node)}");
            return null;
        }

        var fields = new Fields(this, mapping, path);
        foreach (var (keyNode, value) in mapping.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key } scalarKey)
            {
                Error(keyNode, path, $"expected a field name, found {Describe(keyNode)}");
                continue;
            }

            if (known.Contains(key, StringComparer.Ordinal))
            {
                fields.Add(key, scalarKey, value);
                continue;
            }

            var close = known.FirstOrDefault(k => string.Equals(k, key, StringComparison.OrdinalIgnoreCase));
            Error(scalarKey, fields.PathOf(key), close is null
                ? $"unknown field '{key}' (expected {string.Join(", ", known)})"
                : $"unknown field '{key}' (did you mean '{close}'?)");
        }

        return fields;
    }

    public string? Text(YamlNode node, string path)
    {
        if (node is YamlScalarNode { Value: { } value } && !IsNull(node))
        {
            return value;
        }

        Error(node, path, $"expected a single value, found {Describe(node)}");
        return null;
    }

    public static bool TryNumber(YamlNode node, out double number)
    {
        number = double.NaN;
        return node is YamlScalarNode { Value: { } value } scalar && IsPlain(scalar)
            && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out number)
            && double.IsFinite(number);
    }

    public static bool? TryBoolean(YamlNode node) => node is YamlScalarNode { Value: { } value } scalar && IsPlain(scalar)
        ? value.ToUpperInvariant() switch
        {
            "TRUE" => true,
            "FALSE" => false,
            _ => null,
        }
        : null;

    public double? Number(YamlNode node, string path)
    {
        if (TryNumber(node, out var number))
        {
            return number;
        }

        Error(node, path, $"expected a number, found {Describe(node)}");
        return null;
    }

    public long? Integer(YamlNode node, string path)
    {
        if (node is YamlScalarNode { Value: { } value } scalar && IsPlain(scalar)
            && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
        {
            return number;
        }

        Error(node, path, $"expected a whole number, found {Describe(node)}");
        return null;
    }

    public bool? Boolean(YamlNode node, string path)
    {
        if (TryBoolean(node) is { } value)
        {
            return value;
        }

        Error(node, path, $"expected true or false, found {Describe(node)}");
        return null;
    }

    public YamlSequenceNode? List(YamlNode node, string path, string what)
    {
        if (node is YamlSequenceNode sequence)
        {
            return sequence;
        }

        Error(node, path, $"expected {what} as a list, found {Describe(node)}");
        return null;
    }

    /// <summary>A list of numbers (a robot pose); null with a problem per item that is not a number.</summary>
    public ImmutableArray<double>? Numbers(YamlNode node, string path, string what)
    {
        if (List(node, path, what) is not { } list)
        {
            return null;
        }

        var numbers = ImmutableArray.CreateBuilder<double>(list.Children.Count);
        var ok = true;
        for (var i = 0; i < list.Children.Count; i++)
        {
            if (Number(list.Children[i], $"{path}[{i}]") is { } number)
            {
                numbers.Add(number);
            }
            else
            {
                ok = false;
            }
        }

        return ok ? numbers.MoveToImmutable() : null;
    }

    /// <summary>The fields of one mapping, checked against the names the format allows there.</summary>
    internal sealed class Fields(YamlFile file, YamlMappingNode node, string path)
    {
        private readonly Dictionary<string, (YamlScalarNode Key, YamlNode Value)> _fields = new(StringComparer.Ordinal);

        public YamlMappingNode Node { get; } = node;

        public string Path { get; } = path;

        public void Add(string key, YamlScalarNode keyNode, YamlNode value) => _fields[key] = (keyNode, value);

        public string PathOf(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

        /// <summary>True when the key is written, even with a null value.</summary>
        public bool Contains(string key) => _fields.ContainsKey(key);

        /// <summary>The value, or null when absent or written as YAML null.</summary>
        public YamlNode? Get(string key) => _fields.TryGetValue(key, out var field) && !IsNull(field.Value) ? field.Value : null;

        /// <summary>The key's node when written, else the mapping (for problems about the field as a whole).</summary>
        public YamlNode KeyNode(string key) => _fields.TryGetValue(key, out var field) ? field.Key : Node;

        public YamlNode? Require(string key)
        {
            if (Get(key) is { } value)
            {
                return value;
            }

            if (_fields.TryGetValue(key, out var field))
            {
                file.Error(field.Key, PathOf(key), $"required field '{key}' has no value");
            }
            else
            {
                file.Error(Node, PathOf(key), $"missing required field '{key}'");
            }

            return null;
        }

        public string? RequiredText(string key) => Require(key) is { } value ? file.Text(value, PathOf(key)) : null;

        public string? OptionalText(string key) => Get(key) is { } value ? file.Text(value, PathOf(key)) : null;

        public double? RequiredNumber(string key) => Require(key) is { } value ? file.Number(value, PathOf(key)) : null;

        public double? OptionalNumber(string key) => Get(key) is { } value ? file.Number(value, PathOf(key)) : null;

        public bool? OptionalBoolean(string key) => Get(key) is { } value ? file.Boolean(value, PathOf(key)) : null;
    }
}
