using System.Collections.Immutable;
using TwinGateway.Core.Lines.Parsing;

namespace TwinGateway.Core.Lines;

/// <summary>
/// Reads line definition files (<c>config/lines/*.yaml</c>, format in <c>config/lines/README.md</c>) and checks
/// everything in them: every problem is reported at once, each with its file, line, column and field path.
/// </summary>
public static class LineDefinitionLoader
{
    /// <summary>The file name patterns <see cref="LoadDirectory"/> reads.</summary>
    public static readonly ImmutableArray<string> FilePatterns = ["*.yaml", "*.yml"];

    /// <summary>Parses and checks one line definition.</summary>
    /// <param name="text">The YAML text.</param>
    /// <param name="fileName">The name errors report (usually the path the text came from).</param>
    public static LineDefinitionResult Parse(string text, string fileName)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(fileName);
        return LineDefinitionParser.Parse(text, fileName);
    }

    /// <summary>Reads and checks one line file; a file that cannot be read is reported as an error, not thrown.</summary>
    public static LineDefinitionResult LoadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new LineDefinitionResult(null, [new LineDefinitionError(path, 1, 1, "", $"cannot read the line file: {e.Message}")]);
        }

        return Parse(text, path);
    }

    /// <summary>
    /// Reads every <c>*.yaml</c> and <c>*.yml</c> file in <paramref name="directory"/> (not its subfolders), in
    /// ordinal file-name order, and checks that no two files define the same line id. A folder with no line files gives
    /// no lines and no error; a missing folder is an error.
    /// </summary>
    public static LineDefinitionSetResult LoadDirectory(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!Directory.Exists(directory))
        {
            LineDefinitionError missing = new(directory, 1, 1, "", "the line definition folder does not exist");
            return new LineDefinitionSetResult([], [missing], [missing]);
        }

        var files = FilePatterns
            .SelectMany(pattern => Directory.EnumerateFiles(directory, pattern, SearchOption.TopDirectoryOnly))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();

        var lines = ImmutableArray.CreateBuilder<LineDefinition>();
        var errors = ImmutableArray.CreateBuilder<LineDefinitionError>();
        var setErrors = ImmutableArray.CreateBuilder<LineDefinitionError>();
        var firstById = new Dictionary<string, (string File, SourceLocation Id)>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var result = LoadFile(file);
            errors.AddRange(result.Errors);
            if (result.Definition is not { } line || result.IdLocation is not { } idLocation)
            {
                continue;
            }

            if (firstById.TryGetValue(line.Id, out var first))
            {
                var duplicate = new LineDefinitionError(file, idLocation.Line, idLocation.Column, "id",
                    $"duplicate line id '{line.Id}': {first.File} already defines it (at line {first.Id.Line}); line ids are unique across all line files");
                errors.Add(duplicate);
                setErrors.Add(duplicate);
                continue;
            }

            firstById.Add(line.Id, (file, idLocation));
            lines.Add(line);
        }

        return new LineDefinitionSetResult(lines.ToImmutable(), errors.ToImmutable(), setErrors.ToImmutable());
    }
}
