using System.Collections.Immutable;
using TwinGateway.Core.Lines;

namespace TwinGateway.Core.Changes;

/// <summary>
/// A line change as an engineer or an MES writes it (a YAML file or the same gRPC message): the line, a title and a
/// reason, and the operations in the order they are applied. The commissioning gate checks it, validates it on forks
/// of the line's twin, collects the approvals its policy requires, and only then applies it over OPC UA.
/// </summary>
public sealed record ChangeRequest
{
    public required string LineId { get; init; }

    public required string Title { get; init; }

    public required string Reason { get; init; }

    public required ImmutableArray<ChangeOperation> Operations { get; init; }

    /// <summary>The file it was read from (for error messages and to resolve relative paths); null for a gRPC message.</summary>
    public SourceLocation? Source { get; init; }
}

/// <summary>One step of a change. Each kind names where it came from so that a problem can name the field.</summary>
public abstract record ChangeOperation
{
    private protected ChangeOperation()
    {
    }

    /// <summary>The operation kind as written in the file: <c>set</c>, <c>call</c>, <c>pose</c> or <c>definition</c>.</summary>
    public abstract string Kind { get; }

    public SourceLocation? Source { get; init; }
}

/// <summary><c>set</c>: write a controller-input signal's node to <see cref="Value"/>.</summary>
public sealed record SetOperation(string SignalId, ChangeValue Value) : ChangeOperation
{
    public override string Kind => "set";
}

/// <summary><c>call</c>: call method <see cref="MethodId"/> on object <see cref="ObjectId"/> (OPC UA node ids as text) with <see cref="Arguments"/>.</summary>
public sealed record CallOperation(string MethodId, string ObjectId, ImmutableArray<ChangeValue> Arguments) : ChangeOperation
{
    public override string Kind => "call";

    /// <summary>The controller to call; null: the line's only controller.</summary>
    public string? ControllerId { get; init; }
}

/// <summary><c>pose</c>: change robot <see cref="RobotId"/>'s named position <see cref="Position"/> to <see cref="Joints"/> (one per axis).</summary>
public sealed record PoseOperation(string RobotId, string Position, ImmutableArray<double> Joints) : ChangeOperation
{
    public override string Kind => "pose";
}

/// <summary>
/// <c>definition</c>: a new version of the line definition (cycle times, stations, interlocks, topology) that the twin
/// adopts when the change is applied. <see cref="Path"/> is as written (relative to the change file);
/// <see cref="Definition"/> is the loaded definition, and <see cref="Text"/> its file's exact text (what is hashed).
/// </summary>
public sealed record DefinitionOperation(string Path, LineDefinition? Definition, string Text) : ChangeOperation
{
    public override string Kind => "definition";
}

/// <summary>What a value in a change is: the YAML scalar's type (a quoted scalar is text).</summary>
public enum ChangeValueKind
{
    Number,
    Boolean,
    Text,
    Numbers,
}

/// <summary>A value in a change: a number, a Boolean, a text, or an array of numbers (a robot pose).</summary>
public readonly record struct ChangeValue(ChangeValueKind Kind, double Number, string? Text, ImmutableArray<double> Numbers)
{
    public static ChangeValue Of(double number) => new(ChangeValueKind.Number, number, null, default);

    public static ChangeValue Of(bool value) => new(ChangeValueKind.Boolean, value ? 1 : 0, null, default);

    public static ChangeValue Of(string text) => new(ChangeValueKind.Text, double.NaN, text, default);

    public static ChangeValue Of(ImmutableArray<double> numbers) => new(ChangeValueKind.Numbers, double.NaN, null, numbers);

    /// <summary>The value as the twin holds it (Booleans 0 and 1); NaN for text and arrays.</summary>
    public double AsDouble => Kind is ChangeValueKind.Number or ChangeValueKind.Boolean ? Number : double.NaN;

    public override string ToString() => Kind switch
    {
        ChangeValueKind.Number => Number.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        ChangeValueKind.Boolean => Number != 0 ? "true" : "false",
        ChangeValueKind.Text => Text ?? "",
        _ => "[" + string.Join(", ", Numbers.Select(n => n.ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + "]",
    };
}

/// <summary>
/// What the policy treats a change as. Safety-related: interlocks, emergency stop, robot zones and positions; process:
/// setpoints, recipes, cycle times; other: the rest. A change is of its most demanding operation's class.
/// </summary>
public enum ChangeClass
{
    Other = 0,
    Process = 1,
    Safety = 2,
}

/// <summary>Where a change request is in its life. The text forms (<c>rejected-by-validation</c>, ...) are what the API and the CLI show.</summary>
public enum ChangeState
{
    Draft = 0,
    Validating = 1,
    Validated = 2,
    RejectedByValidation = 3,
    Approved = 4,
    Applying = 5,
    Verifying = 6,
    Applied = 7,
    RolledBack = 8,
    Failed = 9,
    Withdrawn = 10,

    /// <summary>A person rejected it, with a reason.</summary>
    Rejected = 11,
}

public static class ChangeStates
{
    public static string ToText(this ChangeState state) => state switch
    {
        ChangeState.Draft => "draft",
        ChangeState.Validating => "validating",
        ChangeState.Validated => "validated",
        ChangeState.RejectedByValidation => "rejected-by-validation",
        ChangeState.Approved => "approved",
        ChangeState.Applying => "applying",
        ChangeState.Verifying => "verifying",
        ChangeState.Applied => "applied",
        ChangeState.RolledBack => "rolled-back",
        ChangeState.Failed => "failed",
        ChangeState.Withdrawn => "withdrawn",
        ChangeState.Rejected => "rejected",
        _ => $"unknown ({(int)state})",
    };

    /// <summary>A state the change never leaves.</summary>
    public static bool IsFinal(this ChangeState state) =>
        state is ChangeState.Applied or ChangeState.RolledBack or ChangeState.Failed or ChangeState.Withdrawn or ChangeState.Rejected
            or ChangeState.RejectedByValidation;
}
