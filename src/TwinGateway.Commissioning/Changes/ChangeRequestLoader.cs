using System.Collections.Immutable;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Lines;
using YamlDotNet.RepresentationModel;

namespace TwinGateway.Commissioning.Changes;

/// <summary>
/// Reads change files (<c>line</c>, <c>title</c>, <c>reason</c>, <c>operations</c>: <c>set</c>, <c>call</c>,
/// <c>pose</c>, <c>definition</c>) into a <see cref="ChangeRequest"/>, every operation with its line and column. Every
/// problem in the file is reported at once. What the change means for the line (does the signal exist, is the value in
/// range) is <see cref="ChangeChecks"/>' business: the loader checks the file's shape only.
/// </summary>
public static class ChangeRequestLoader
{
    private static readonly string[] TopFields = ["line", "title", "reason", "operations"];
    private static readonly string[] SetFields = ["set", "value"];
    private static readonly string[] CallFields = ["call", "object", "arguments", "controller"];
    private static readonly string[] PoseFields = ["pose", "joints"];
    private static readonly string[] DefinitionFields = ["definition"];
    private static readonly string[] Kinds = ["set", "call", "pose", "definition"];

    /// <summary>Reads and parses a change file; a file that cannot be read is a problem, not an exception.</summary>
    public static ChangeRequestLoadResult LoadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new ChangeRequestLoadResult(null, [new FileProblem(path, 1, 1, "", $"cannot read the change file: {e.Message}")]);
        }

        return Parse(text, path);
    }

    /// <summary>Parses a change.</summary>
    /// <param name="text">The YAML text.</param>
    /// <param name="fileName">The name problems report; a <c>definition</c> path is resolved against its folder.</param>
    /// <param name="baseDirectory">The folder relative definition paths are resolved in; null: <paramref name="fileName"/>'s folder.</param>
    public static ChangeRequestLoadResult Parse(string text, string fileName, string? baseDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(fileName);
        var file = new YamlFile(fileName);
        var change = Read(file, text, baseDirectory ?? Path.GetDirectoryName(Path.GetFullPath(fileName)) ?? ".");
        return new ChangeRequestLoadResult(file.HasProblems ? null : change, file.Problems);
    }

    private static ChangeRequest? Read(YamlFile file, string text, string baseDirectory)
    {
        if (file.Load(text, "a change (a mapping with line, title, reason, operations)") is not { } root
            || file.Mapping(root, "", "a change", TopFields) is not { } top)
        {
            return null;
        }

        var line = top.RequiredText("line");
        var title = top.RequiredText("title");
        var reason = top.RequiredText("reason");
        var operations = ImmutableArray.CreateBuilder<ChangeOperation>();
        if (top.Require("operations") is { } list && file.List(list, "operations", "the operations") is { } sequence)
        {
            for (var i = 0; i < sequence.Children.Count; i++)
            {
                if (ReadOperation(file, sequence.Children[i], $"operations[{i}]", baseDirectory) is { } operation)
                {
                    operations.Add(operation);
                }
            }
        }

        if (line is null || title is null || reason is null)
        {
            return null;
        }

        return new ChangeRequest
        {
            LineId = line,
            Title = title,
            Reason = reason,
            Operations = operations.ToImmutable(),
            Source = file.Location(root),
        };
    }

    private static ChangeOperation? ReadOperation(YamlFile file, YamlNode node, string path, string baseDirectory)
    {
        if (node is not YamlMappingNode mapping)
        {
            file.Error(node, path, $"expected an operation (a mapping starting with {string.Join(", ", Kinds)}), found {YamlFile.Describe(node)}");
            return null;
        }

        var kinds = mapping.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value).Where(k => k is not null && Kinds.Contains(k)).ToList();
        if (kinds.Count != 1)
        {
            file.Error(node, path, kinds.Count == 0
                ? $"an operation names its kind with one of the fields {string.Join(", ", Kinds)}; found none"
                : $"an operation has one kind; found {string.Join(" and ", kinds)} (write each as its own list item)");
            return null;
        }

        var location = file.Location(node);
        return kinds[0] switch
        {
            "set" => ReadSet(file, mapping, path, location),
            "call" => ReadCall(file, mapping, path, location),
            "pose" => ReadPose(file, mapping, path, location),
            _ => ReadDefinition(file, mapping, path, location, baseDirectory),
        };
    }

    private static SetOperation? ReadSet(YamlFile file, YamlMappingNode node, string path, SourceLocation location)
    {
        var fields = file.Mapping(node, path, "a set operation", SetFields)!;
        var signal = fields.RequiredText("set");
        var value = fields.Require("value") is { } v ? ReadValue(file, v, fields.PathOf("value"), allowNumbers: false) : null;
        return signal is null || value is null ? null : new SetOperation(signal, value.Value) { Source = location };
    }

    private static CallOperation? ReadCall(YamlFile file, YamlMappingNode node, string path, SourceLocation location)
    {
        var fields = file.Mapping(node, path, "a call operation", CallFields)!;
        var method = fields.RequiredText("call");
        var target = fields.RequiredText("object");
        var controller = fields.OptionalText("controller");
        var arguments = ImmutableArray.CreateBuilder<ChangeValue>();
        var ok = true;
        if (fields.Get("arguments") is { } argumentNode)
        {
            if (file.List(argumentNode, fields.PathOf("arguments"), "the method's arguments") is { } list)
            {
                for (var i = 0; i < list.Children.Count; i++)
                {
                    if (ReadValue(file, list.Children[i], $"{fields.PathOf("arguments")}[{i}]", allowNumbers: true) is { } value)
                    {
                        arguments.Add(value);
                    }
                    else
                    {
                        ok = false;
                    }
                }
            }
            else
            {
                ok = false;
            }
        }

        return method is null || target is null || !ok
            ? null
            : new CallOperation(method, target, arguments.ToImmutable()) { ControllerId = controller, Source = location };
    }

    private static PoseOperation? ReadPose(YamlFile file, YamlMappingNode node, string path, SourceLocation location)
    {
        var fields = file.Mapping(node, path, "a pose operation", PoseFields)!;
        var target = fields.RequiredText("pose");
        string? robot = null;
        string? position = null;
        if (target is not null)
        {
            var dot = target.IndexOf('.', StringComparison.Ordinal);
            if (dot <= 0 || dot == target.Length - 1)
            {
                file.Error(fields.Get("pose")!, fields.PathOf("pose"), $"expected robot.position (for example robot1.pickBuffer), found '{target}'");
            }
            else
            {
                robot = target[..dot];
                position = target[(dot + 1)..];
            }
        }

        var joints = fields.Require("joints") is { } j ? file.Numbers(j, fields.PathOf("joints"), "the joint values (one per axis)") : null;
        return robot is null || position is null || joints is null ? null : new PoseOperation(robot, position, joints.Value) { Source = location };
    }

    private static DefinitionOperation? ReadDefinition(YamlFile file, YamlMappingNode node, string path, SourceLocation location, string baseDirectory)
    {
        var fields = file.Mapping(node, path, "a definition operation", DefinitionFields)!;
        if (fields.RequiredText("definition") is not { } relative)
        {
            return null;
        }

        var full = Path.GetFullPath(Path.Combine(baseDirectory, relative));
        string text;
        try
        {
            text = File.ReadAllText(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            file.Error(fields.Get("definition")!, fields.PathOf("definition"), $"cannot read the line definition '{full}': {e.Message}");
            return null;
        }

        // A definition that does not load is kept (Definition null): ChangeChecks reports the loader's problems with the
        // operation that names the file, as it does for every other problem of meaning.
        var loaded = LineDefinitionLoader.Parse(text, full);
        return new DefinitionOperation(relative, loaded.Definition, text) { Source = location };
    }

    /// <summary>A scalar: a plain number, a plain true/false, otherwise text (a quoted scalar is always text); or a list of numbers.</summary>
    private static ChangeValue? ReadValue(YamlFile file, YamlNode node, string path, bool allowNumbers)
    {
        switch (node)
        {
            case YamlScalarNode scalar when YamlFile.IsNull(scalar):
                file.Error(node, path, "expected a value (a number, true or false, or a text), found nothing");
                return null;
            case YamlScalarNode scalar when YamlFile.TryNumber(scalar, out var number):
                return ChangeValue.Of(number);
            case YamlScalarNode scalar when YamlFile.TryBoolean(scalar) is { } flag:
                return ChangeValue.Of(flag);
            case YamlScalarNode { Value: { } text }:
                return ChangeValue.Of(text);
            case YamlSequenceNode when allowNumbers:
                return file.Numbers(node, path, "a list of numbers") is { } numbers ? ChangeValue.Of(numbers) : null;
            default:
                file.Error(node, path, $"expected a single value (a number, true or false, or a text), found {YamlFile.Describe(node)}");
                return null;
        }
    }
}

/// <summary>The outcome of reading a change file: the change, or every problem found.</summary>
public sealed record ChangeRequestLoadResult(ChangeRequest? Change, ImmutableArray<FileProblem> Problems)
{
    public bool Succeeded => Problems.IsEmpty && Change is not null;

    /// <summary>The change, or an <see cref="InvalidDataException"/> listing every problem, one per line.</summary>
    public ChangeRequest GetChangeOrThrow() => Change ?? throw new InvalidDataException(
        $"{Problems.Length} problem(s) in the change file:\n{string.Join('\n', Problems)}");
}
