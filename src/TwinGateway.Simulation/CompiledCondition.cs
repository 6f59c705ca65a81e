using TwinGateway.Core.Lines;

namespace TwinGateway.Simulation;

/// <summary>An interlock condition bound to signal slots, evaluated over the value array without allocating.</summary>
internal sealed class CompiledCondition
{
    private readonly int _slot;
    private readonly ComparisonOperator _operator;
    private readonly double _value;
    private readonly CompiledCondition[]? _children;
    private readonly bool _all;

    private CompiledCondition(int slot, ComparisonOperator op, double value)
    {
        _slot = slot;
        _operator = op;
        _value = value;
    }

    private CompiledCondition(CompiledCondition[] children, bool all)
    {
        _slot = -1;
        _children = children;
        _all = all;
    }

    public static CompiledCondition Compile(InterlockCondition condition, Func<string, int> slotOf) => condition switch
    {
        SignalCondition c => new CompiledCondition(slotOf(c.Signal), c.Operator, c.Value),
        AllCondition c => new CompiledCondition([.. c.Conditions.Select(x => Compile(x, slotOf))], all: true),
        AnyCondition c => new CompiledCondition([.. c.Conditions.Select(x => Compile(x, slotOf))], all: false),
        _ => throw new ArgumentException($"unknown interlock condition {condition.GetType().Name}", nameof(condition)),
    };

    public bool Evaluate(double[] values)
    {
        if (_children is { } children)
        {
            foreach (var child in children)
            {
                if (child.Evaluate(values) != _all)
                {
                    return !_all;
                }
            }

            return _all;
        }

        var actual = values[_slot];
        return _operator switch
        {
            ComparisonOperator.EqualTo => actual == _value,
            ComparisonOperator.NotEqualTo => actual != _value,
            ComparisonOperator.Above => actual > _value,
            _ => actual < _value,
        };
    }
}
