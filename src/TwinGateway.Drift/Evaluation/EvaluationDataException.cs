namespace TwinGateway.Drift.Evaluation;

/// <summary>
/// A data file (or a labels file) that cannot be read: the message and the properties name the file, the line
/// (1-based, the header is line 1) and, where one is at fault, the column (1-based, with its header name).
/// </summary>
public sealed class EvaluationDataException : FormatException
{
    public EvaluationDataException()
    {
        FilePath = "";
    }

    public EvaluationDataException(string message)
        : base(message)
    {
        FilePath = "";
    }

    public EvaluationDataException(string message, Exception innerException)
        : base(message, innerException)
    {
        FilePath = "";
    }

    public EvaluationDataException(string filePath, int line, int? column, string? columnName, string problem, Exception? innerException = null)
        : base(Describe(filePath, line, column, columnName, problem), innerException)
    {
        FilePath = filePath;
        Line = line;
        Column = column;
        ColumnName = columnName;
    }

    /// <summary>The file as given to the reader (full path).</summary>
    public string FilePath { get; }

    /// <summary>1-based line; 0 when the problem is the file as a whole (missing, empty).</summary>
    public int Line { get; }

    /// <summary>1-based column, or null when no single column is at fault.</summary>
    public int? Column { get; }

    /// <summary>The header name of <see cref="Column"/>, where the file has one.</summary>
    public string? ColumnName { get; }

    private static string Describe(string filePath, int line, int? column, string? columnName, string problem)
    {
        var where = line > 0 ? $"{filePath}, line {line}" : filePath;
        if (column is { } c)
        {
            where += columnName is null ? $", column {c}" : $", column {c} ({columnName})";
        }

        return $"{where}: {problem}";
    }
}
