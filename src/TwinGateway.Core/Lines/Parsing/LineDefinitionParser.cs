using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace TwinGateway.Core.Lines.Parsing;

/// <summary>
/// Reads one line file. It walks the YAML representation model, so every error carries the line and column of the node
/// it is about, and it keeps going after an error so that one run reports every problem in the file. Sections are read
/// in a fixed order whatever their order in the file (controllers, stations, signals, robots, interlocks, topology), and
/// references that can point forward are checked once everything is read (CrossCheck, in LineDefinitionParser.Topology.cs).
/// A definition is built only when no error was found.
/// </summary>
internal sealed partial class LineDefinitionParser
{
    /// <summary>The prefix of line-wide signal ids; no station may take it as its id.</summary>
    public const string LineWidePrefix = "line";

    private static readonly string[] TopFields = ["id", "name", "description", "controllers", "stations", "signals", "robots", "interlocks", "topology"];

    private readonly string _file;
    private readonly List<LineDefinitionError> _errors = [];
    private SourceLocation? _idLocation;

    private LineDefinitionParser(string file) => _file = file;

    public static LineDefinitionResult Parse(string text, string file)
    {
        var parser = new LineDefinitionParser(file);
        var definition = parser.ParseText(text);

        // Sections are read in a fixed order and cross-checks run last: sort so the list reads top to bottom like the file.
        var errors = parser._errors
            .Select((error, order) => (error, order))
            .OrderBy(e => e.error.Line)
            .ThenBy(e => e.error.Column)
            .ThenBy(e => e.order)
            .Select(e => e.error)
            .ToImmutableArray();
        return new LineDefinitionResult(definition, errors, parser._idLocation);
    }

    private LineDefinition? ParseText(string text)
    {
        var root = YamlDocumentReader.Load(text, (mark, message) => Error(mark, "", message));
        if (root is null)
        {
            return null;
        }

        var top = FieldSet.Open(this, root, "", "a line definition", TopFields);
        if (top is null)
        {
            return null;
        }

        var lineId = top.Require("id") is { } idNode ? Identifier(idNode, "id", "line id") : null;
        if (lineId is not null)
        {
            _idLocation = Location(top.Get("id")!);
        }

        var name = top.RequiredText("name");
        var description = top.OptionalText("description");

        var controllers = ParseControllers(top);
        var stations = ParseStations(top);
        ParseSignals(top);
        var robots = ParseRobots(top);
        var interlocks = ParseInterlocks(top);
        var topology = ParseTopology(top);
        CrossCheck(top, topology);

        if (_errors.Count > 0 || lineId is null || name is null)
        {
            return null;
        }

        return new LineDefinition
        {
            Id = lineId,
            Name = name,
            Description = description,
            Controllers = controllers,
            Stations = stations.Select(s => s.Build()).ToImmutableArray(),
            Signals = _signalList.Select(s => s.Build()).ToImmutableArray(),
            Robots = robots,
            Interlocks = interlocks,
            Topology = topology,
            Source = Location(root),
        };
    }

    // ---- errors and positions ----

    public void Error(YamlNode node, string path, string message) => Error(node.Start, path, message);

    public void Error(Mark mark, string path, string message) =>
        _errors.Add(new LineDefinitionError(_file, (int)Math.Max(1, mark.Line), (int)Math.Max(1, mark.Column), path, message));

    private SourceLocation Location(YamlNode node) => new(_file, (int)node.Start.Line, (int)node.Start.Column);

    // ---- scalar values ----

    /// <summary>True for an absent value: a plain empty scalar, <c>~</c> or <c>null</c>.</summary>
    public static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    public static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        YamlScalarNode scalar when IsNull(scalar) => "nothing",
        YamlScalarNode scalar => $"'{scalar.Value}'",
        _ => "an alias",
    };

    public string? Text(YamlNode node, string path)
    {
        if (node is YamlScalarNode { Value: { } value } && !IsNull(node))
        {
            return value;
        }

        Error(node, path, $"expected a single value, found {Describe(node)}");
        return null;
    }

    public double? Number(YamlNode node, string path)
    {
        if (node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: { } value }
            && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            && double.IsFinite(number))
        {
            return number;
        }

        Error(node, path, $"expected a number, found {Describe(node)}");
        return null;
    }

    public long? Integer(YamlNode node, string path)
    {
        if (node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: { } value }
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

    private static bool? TryBoolean(YamlNode node) => node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: { } value }
        ? value.ToUpperInvariant() switch
        {
            "TRUE" => true,
            "FALSE" => false,
            _ => null,
        }
        : null;

    private YamlSequenceNode? List(YamlNode node, string path, string what)
    {
        if (node is YamlSequenceNode sequence)
        {
            return sequence;
        }

        Error(node, path, $"expected {what} as a list, found {Describe(node)}");
        return null;
    }

    /// <summary>The items of a list field, with their paths; empty (and an error) when the field is not a list.</summary>
    private IEnumerable<(YamlNode Node, string Path)> Items(YamlNode node, string path, string what)
    {
        if (List(node, path, what) is not { } list)
        {
            yield break;
        }

        for (var i = 0; i < list.Children.Count; i++)
        {
            yield return (list.Children[i], $"{path}[{i}]");
        }
    }

    /// <summary>Reads a name from a fixed set (case-insensitive), reporting the expected names otherwise.</summary>
    private T? Choice<T>(YamlNode node, string path, string what, IReadOnlyList<(string Name, T Value)> choices)
        where T : struct =>
        ChoiceIndex(node, path, what, choices.Select(c => c.Name).ToArray()) is { } index ? choices[index].Value : null;

    /// <summary>Reads a name from a fixed set (case-insensitive) and returns it as the set spells it.</summary>
    private string? ChoiceName(YamlNode node, string path, string what, string[] names) =>
        ChoiceIndex(node, path, what, names) is { } index ? names[index] : null;

    private int? ChoiceIndex(YamlNode node, string path, string what, string[] names)
    {
        if (Text(node, path) is not { } text)
        {
            return null;
        }

        for (var i = 0; i < names.Length; i++)
        {
            if (string.Equals(names[i], text, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        Error(node, path, $"unknown {what} '{text}' (expected {string.Join(", ", names)})");
        return null;
    }

    /// <summary>An id: a letter, then letters, digits, '_' or '-'.</summary>
    private string? Identifier(YamlNode node, string path, string what)
    {
        if (Text(node, path) is not { } text)
        {
            return null;
        }

        if (IdentifierPattern().IsMatch(text))
        {
            return text;
        }

        Error(node, path, $"{what} '{text}' must start with a letter and contain only letters, digits, '_' and '-'");
        return null;
    }

    /// <summary>Registers an id, reporting a duplicate with the line of the first definition; false for a duplicate.</summary>
    private bool Register<T>(Dictionary<string, T> defined, string id, YamlNode node, string path, string what, Func<T, YamlNode> nodeOf, T entry)
    {
        if (defined.TryGetValue(id, out var first))
        {
            Error(node, path, $"duplicate {what} '{id}' (first defined at line {nodeOf(first).Start.Line})");
            return false;
        }

        defined.Add(id, entry);
        return true;
    }

    /// <summary>A numeric field with a bound; out-of-bound values are reported at the value and returned as null.</summary>
    private double? NumberField(FieldSet fields, string key, Bound bound, bool required = false)
    {
        var value = required ? fields.RequiredNumber(key) : fields.OptionalNumber(key);
        if (value is not { } number)
        {
            return null;
        }

        var problem = bound switch
        {
            Bound.NotNegative when number < 0 => "must not be negative",
            Bound.Positive when number <= 0 => "must be above 0",
            Bound.Fraction when number is < 0 or > 1 => "must be a fraction from 0 to 1",
            _ => null,
        };
        if (problem is null)
        {
            return number;
        }

        Error(fields.Get(key)!, fields.PathOf(key), $"{key} {problem}, found {Format(number)}");
        return null;
    }

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private enum Bound
    {
        Any,
        NotNegative,
        Positive,
        Fraction,
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex IdentifierPattern();
}
