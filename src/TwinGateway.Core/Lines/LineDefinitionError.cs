using System.Collections.Immutable;
using System.Text;

namespace TwinGateway.Core.Lines;

/// <summary>
/// One problem in a line definition file: where it is (1-based line and column), the path of the field
/// (for example <c>stations[3].cycleTime.mean</c>; empty for a YAML syntax error) and what is wrong.
/// </summary>
public sealed record LineDefinitionError(string File, int Line, int Column, string Path, string Message)
{
    /// <summary><c>file:line:column: path: message</c>, the form compilers use, so editors can jump to it.</summary>
    public override string ToString() =>
        Path.Length == 0 ? $"{File}:{Line}:{Column}: {Message}" : $"{File}:{Line}:{Column}: {Path}: {Message}";
}

/// <summary>Thrown when line definitions are required and some are invalid; its message lists every problem, one per line.</summary>
public sealed class LineDefinitionException : Exception
{
    public LineDefinitionException()
        : this([])
    {
    }

    public LineDefinitionException(string message)
        : base(message)
    {
    }

    public LineDefinitionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public LineDefinitionException(IEnumerable<LineDefinitionError> errors)
        : this(errors.ToImmutableArray())
    {
    }

    private LineDefinitionException(ImmutableArray<LineDefinitionError> errors)
        : base(Format(errors)) => Errors = errors;

    public ImmutableArray<LineDefinitionError> Errors { get; } = [];

    private static string Format(ImmutableArray<LineDefinitionError> errors)
    {
        var text = new StringBuilder();
        text.Append(errors.Length == 1 ? "1 problem in line definitions:" : $"{errors.Length} problems in line definitions:");
        foreach (var error in errors)
        {
            text.Append('\n').Append(error);
        }

        return text.ToString();
    }
}

/// <summary>The outcome of loading one line file: the definition, or every problem found.</summary>
public sealed class LineDefinitionResult
{
    internal LineDefinitionResult(LineDefinition? definition, ImmutableArray<LineDefinitionError> errors, SourceLocation? idLocation = null)
    {
        Definition = errors.IsEmpty ? definition : null;
        Errors = errors;
        IdLocation = idLocation;
    }

    /// <summary>The definition; null when <see cref="Errors"/> is not empty.</summary>
    public LineDefinition? Definition { get; }

    public ImmutableArray<LineDefinitionError> Errors { get; }

    public bool Succeeded => Errors.IsEmpty;

    /// <summary>Where the line's id is written, for errors about the id across files.</summary>
    internal SourceLocation? IdLocation { get; }

    /// <summary>The definition, or a <see cref="LineDefinitionException"/> listing every problem.</summary>
    public LineDefinition GetDefinitionOrThrow() => Definition ?? throw new LineDefinitionException(Errors);
}

/// <summary>The outcome of loading a folder of line files.</summary>
public sealed class LineDefinitionSetResult
{
    internal LineDefinitionSetResult(ImmutableArray<LineDefinition> lines, ImmutableArray<LineDefinitionError> errors, ImmutableArray<LineDefinitionError> setErrors)
    {
        Lines = lines;
        Errors = errors;
        SetErrors = setErrors;
    }

    /// <summary>The lines of the files that loaded without a problem, in file-name order; a line whose id another file
    /// already used is left out.</summary>
    public ImmutableArray<LineDefinition> Lines { get; }

    /// <summary>Every problem in every file, in file-name order.</summary>
    public ImmutableArray<LineDefinitionError> Errors { get; }

    /// <summary>
    /// The problems of the set rather than of one file (also in <see cref="Errors"/>): the folder missing, a line id
    /// that two files define. A file's own mistakes leave only its line out; these concern every line.
    /// </summary>
    public ImmutableArray<LineDefinitionError> SetErrors { get; }

    public bool Succeeded => Errors.IsEmpty;

    /// <summary>All lines, or a <see cref="LineDefinitionException"/> listing every problem in every file.</summary>
    public ImmutableArray<LineDefinition> GetLinesOrThrow() => Succeeded ? Lines : throw new LineDefinitionException(Errors);
}
