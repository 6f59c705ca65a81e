using System.Collections.Immutable;
using YamlDotNet.RepresentationModel;

namespace TwinGateway.Core.Lines.Parsing;

internal sealed partial class LineDefinitionParser
{
    private const int MaxConditionDepth = 16;

    private static readonly string[] InterlockFields = ["id", "description", "when", "forbid"];
    private static readonly string[] ComparisonFields = ["signal", "equals", "notEquals", "above", "below"];

    private static readonly (string Name, ComparisonOperator Value)[] Operators =
    [
        ("equals", ComparisonOperator.EqualTo),
        ("notEquals", ComparisonOperator.NotEqualTo),
        ("above", ComparisonOperator.Above),
        ("below", ComparisonOperator.Below),
    ];

    private readonly Dictionary<string, YamlNode> _interlocks = new(StringComparer.Ordinal);

    private ImmutableArray<InterlockDefinition> ParseInterlocks(FieldSet top)
    {
        var interlocks = ImmutableArray.CreateBuilder<InterlockDefinition>();
        if (top.Get("interlocks") is not { } section)
        {
            return interlocks.ToImmutable();
        }

        foreach (var (item, path) in Items(section, "interlocks", "interlocks"))
        {
            if (FieldSet.Open(this, item, path, "an interlock", InterlockFields) is not { } fields)
            {
                continue;
            }

            var idNode = fields.Require("id");
            var id = idNode is null ? null : Identifier(idNode, fields.PathOf("id"), "interlock id");
            if (id is not null && !Register(_interlocks, id, idNode!, fields.PathOf("id"), "interlock id", static n => n, idNode!))
            {
                id = null;
            }

            var description = fields.OptionalText("description");
            var when = fields.Require("when") is { } whenNode ? Condition(whenNode, fields.PathOf("when"), 0) : null;
            var forbid = fields.Require("forbid") is { } forbidNode ? Condition(forbidNode, fields.PathOf("forbid"), 0) : null;
            if (id is not null && when is not null && forbid is not null)
            {
                interlocks.Add(new InterlockDefinition { Id = id, Description = description, When = when, Forbid = forbid, Source = Location(item) });
            }
        }

        return interlocks.ToImmutable();
    }

    private InterlockCondition? Condition(YamlNode node, string path, int depth)
    {
        if (node is not YamlMappingNode mapping)
        {
            Error(node, path, $"expected a condition such as {{ signal: robot1.inZone, equals: true }}, or {{ all: [...] }} / {{ any: [...] }}, found {Describe(node)}");
            return null;
        }

        var keys = mapping.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value).ToHashSet(StringComparer.Ordinal);
        var combinator = keys.Contains("all") ? "all" : keys.Contains("any") ? "any" : null;
        if (combinator is null)
        {
            return Comparison(mapping, path);
        }

        if (depth >= MaxConditionDepth)
        {
            Error(node, path, $"conditions nest at most {MaxConditionDepth} levels deep");
            return null;
        }

        if (FieldSet.Open(this, mapping, path, "a combined condition", [combinator]) is not { } fields || fields.Require(combinator) is not { } listNode)
        {
            return null;
        }

        var conditions = ImmutableArray.CreateBuilder<InterlockCondition>();
        var valid = true;
        foreach (var (item, itemPath) in Items(listNode, fields.PathOf(combinator), "conditions"))
        {
            if (Condition(item, itemPath, depth + 1) is { } condition)
            {
                conditions.Add(condition);
            }
            else
            {
                valid = false;
            }
        }

        if (listNode is YamlSequenceNode { Children.Count: 0 })
        {
            Error(listNode, fields.PathOf(combinator), $"'{combinator}' needs at least one condition");
            valid = false;
        }

        if (!valid)
        {
            return null;
        }

        return combinator == "all" ? new AllCondition(conditions.ToImmutable()) : new AnyCondition(conditions.ToImmutable());
    }

    private SignalCondition? Comparison(YamlMappingNode mapping, string path)
    {
        if (FieldSet.Open(this, mapping, path, "a condition", ComparisonFields) is not { } fields)
        {
            return null;
        }

        var signalNode = fields.Require("signal");
        var signal = signalNode is null ? null : SignalReference(signalNode, fields.PathOf("signal"), "interlock");
        var present = Operators.Where(o => fields.Get(o.Name) is not null).ToList();
        if (present.Count == 0)
        {
            Error(mapping, path, "a condition compares the signal with one of equals, notEquals, above, below");
            return null;
        }

        if (present.Count > 1)
        {
            Error(fields.KeyNode(present[1].Name), fields.PathOf(present[1].Name),
                $"a condition makes one comparison, found '{present[0].Name}' and '{present[1].Name}' (combine comparisons with all: [...])");
            return null;
        }

        var (name, op) = present[0];
        var valueNode = fields.Get(name)!;
        var valuePath = fields.PathOf(name);
        double? value;
        if (signal?.DataType is SignalDataType.String or SignalDataType.DateTime)
        {
            Error(signalNode!, fields.PathOf("signal"), $"interlock conditions compare numeric and Boolean signals; '{signal.Id}' is {signal.DataType}");
            return null;
        }

        if (signal?.DataType == SignalDataType.Boolean)
        {
            if (op is ComparisonOperator.Above or ComparisonOperator.Below)
            {
                Error(fields.KeyNode(name), valuePath, $"'{name}' compares numbers; '{signal.Id}' is Boolean (use equals or notEquals)");
                return null;
            }

            value = Boolean(valueNode, valuePath) is { } flag ? (flag ? 1 : 0) : null;
        }
        else if (signal?.DataType is null && TryBoolean(valueNode) is { } flag)
        {
            value = flag ? 1 : 0;
        }
        else
        {
            value = Number(valueNode, valuePath);
        }

        return signal is not null && value is { } v ? new SignalCondition(signal.Id, op, v) : null;
    }
}
