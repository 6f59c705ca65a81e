using System.Collections.Immutable;

namespace TwinGateway.Core.Lines;

/// <summary>
/// A safety or process interlock: while <see cref="When"/> holds, <see cref="Forbid"/> must not hold (for example:
/// while robot1 is in the infeed zone, the infeed conveyor must not run). The twin keeps the forbidden condition false
/// (it holds the forbidden motion), and the commissioning gate fails a change whose run ever violates an interlock.
/// </summary>
public sealed record InterlockDefinition
{
    public required string Id { get; init; }

    public string? Description { get; init; }

    public required InterlockCondition When { get; init; }

    public required InterlockCondition Forbid { get; init; }

    public SourceLocation? Source { get; init; }

    /// <summary>True when both conditions hold: the interlock is violated.</summary>
    /// <param name="valueOf">The current value of a signal by id; Booleans as 0 and 1.</param>
    public bool IsViolated(Func<string, double> valueOf) => When.Evaluate(valueOf) && Forbid.Evaluate(valueOf);
}

/// <summary>How a <see cref="SignalCondition"/> compares a signal's value.</summary>
public enum ComparisonOperator
{
    /// <summary><c>equals</c>: exactly equal (meant for Boolean and integer signals).</summary>
    EqualTo,

    /// <summary><c>notEquals</c>.</summary>
    NotEqualTo,

    /// <summary><c>above</c>: strictly greater.</summary>
    Above,

    /// <summary><c>below</c>: strictly less.</summary>
    Below,
}

/// <summary>A condition over signal values: a comparison, or all / any of nested conditions.</summary>
public abstract record InterlockCondition
{
    private protected InterlockCondition()
    {
    }

    /// <param name="valueOf">The current value of a signal by id; Booleans as 0 and 1.</param>
    public abstract bool Evaluate(Func<string, double> valueOf);

    /// <summary>Every signal id the condition reads.</summary>
    public abstract IEnumerable<string> Signals { get; }
}

/// <summary><c>{ signal: id, equals|notEquals|above|below: value }</c>; Boolean values are 0 and 1.</summary>
public sealed record SignalCondition(string Signal, ComparisonOperator Operator, double Value) : InterlockCondition
{
    public override bool Evaluate(Func<string, double> valueOf)
    {
        ArgumentNullException.ThrowIfNull(valueOf);
        var actual = valueOf(Signal);
        return Operator switch
        {
            ComparisonOperator.EqualTo => actual == Value,
            ComparisonOperator.NotEqualTo => actual != Value,
            ComparisonOperator.Above => actual > Value,
            ComparisonOperator.Below => actual < Value,
            _ => throw new InvalidOperationException($"Unknown comparison {Operator}."),
        };
    }

    public override IEnumerable<string> Signals => [Signal];
}

/// <summary><c>{ all: [ ... ] }</c>: true when every nested condition is.</summary>
public sealed record AllCondition(ImmutableArray<InterlockCondition> Conditions) : InterlockCondition
{
    public override bool Evaluate(Func<string, double> valueOf) => Conditions.All(c => c.Evaluate(valueOf));

    public override IEnumerable<string> Signals => Conditions.SelectMany(c => c.Signals);
}

/// <summary><c>{ any: [ ... ] }</c>: true when at least one nested condition is.</summary>
public sealed record AnyCondition(ImmutableArray<InterlockCondition> Conditions) : InterlockCondition
{
    public override bool Evaluate(Func<string, double> valueOf) => Conditions.Any(c => c.Evaluate(valueOf));

    public override IEnumerable<string> Signals => Conditions.SelectMany(c => c.Signals);
}
