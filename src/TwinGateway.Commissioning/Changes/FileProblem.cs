namespace TwinGateway.Commissioning.Changes;

/// <summary>
/// One problem in a change file or a validation policy file: where it is (1-based line and column), the path of the
/// field (for example <c>operations[2].joints</c>; empty for a YAML syntax error) and what is wrong.
/// </summary>
public sealed record FileProblem(string File, int Line, int Column, string Field, string Message)
{
    /// <summary><c>file:line:column: field: message</c>, the form compilers use, so editors can jump to it.</summary>
    public override string ToString() =>
        Field.Length == 0 ? $"{File}:{Line}:{Column}: {Message}" : $"{File}:{Line}:{Column}: {Field}: {Message}";
}
