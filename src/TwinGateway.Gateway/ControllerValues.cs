using System.Collections.Immutable;
using System.Globalization;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Lines;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.Gateway;

/// <summary>
/// A change's values to and from OPC UA variants of a node's data type. A value that does not fit the type (a fraction
/// for an integer, a number outside the type's range, text for a number) is refused here, before anything is sent,
/// with the status the server would have answered (<c>BadOutOfRange</c>, <c>BadTypeMismatch</c>) and the reason.
/// </summary>
internal static class ControllerValues
{
    /// <summary>The variant to write to <paramref name="node"/>; false with the problem (it starts with a status name) when the value does not fit.</summary>
    public static bool TryToVariant(ChangeValue value, ControllerNode node, out Variant variant, out string problem)
    {
        variant = default;
        problem = "";
        if (node.IsArray)
        {
            if (value.Kind != ChangeValueKind.Numbers || value.Numbers.IsDefault)
            {
                problem = $"BadTypeMismatch: node {node.NodeId} holds an array of {node.DataType}, but the value is {Describe(value)}";
                return false;
            }

            switch (node.DataType)
            {
                case SignalDataType.Double:
                    variant = Variant.FromArray(BuiltInType.Double, value.Numbers.ToArray());
                    return true;
                case SignalDataType.Float:
                    var floats = new float[value.Numbers.Length];
                    for (var i = 0; i < floats.Length; i++)
                    {
                        if (!FitsFloat(value.Numbers[i]))
                        {
                            problem = $"BadOutOfRange: element {i} ({Format(value.Numbers[i])}) is outside Float's range (node {node.NodeId})";
                            return false;
                        }

                        floats[i] = (float)value.Numbers[i];
                    }

                    variant = Variant.FromArray(BuiltInType.Float, floats);
                    return true;
                default:
                    problem = $"BadTypeMismatch: arrays of {node.DataType} are not supported (node {node.NodeId}); a pose is an array of Double or Float";
                    return false;
            }
        }

        switch (node.DataType)
        {
            case SignalDataType.Boolean:
                if (value.Kind == ChangeValueKind.Boolean || (value.Kind == ChangeValueKind.Number && value.Number is 0 or 1))
                {
                    variant = new Variant(value.Number != 0);
                    return true;
                }

                problem = $"BadTypeMismatch: node {node.NodeId} is Boolean, but the value is {Describe(value)}";
                return false;
            case SignalDataType.String:
                if (value.Kind == ChangeValueKind.Text)
                {
                    variant = new Variant(value.Text ?? "");
                    return true;
                }

                problem = $"BadTypeMismatch: node {node.NodeId} is String, but the value is {Describe(value)} (quote it to make it text)";
                return false;
            case SignalDataType.Float or SignalDataType.Double:
                if (value.Kind != ChangeValueKind.Number)
                {
                    problem = $"BadTypeMismatch: node {node.NodeId} is {node.DataType}, but the value is {Describe(value)}";
                    return false;
                }

                if (!double.IsFinite(value.Number) || (node.DataType == SignalDataType.Float && !FitsFloat(value.Number)))
                {
                    problem = $"BadOutOfRange: {Format(value.Number)} is not a finite {node.DataType} (node {node.NodeId})";
                    return false;
                }

                variant = node.DataType == SignalDataType.Float ? new Variant((float)value.Number) : new Variant(value.Number);
                return true;
            case var type when type.IsInteger():
                return TryToInteger(value, node, out variant, out problem);
            default:
                problem = $"BadTypeMismatch: writing {node.DataType} nodes is not supported (node {node.NodeId})";
                return false;
        }
    }

    /// <summary>A value read (<paramref name="where"/> names it in a problem) as a change value; false with the problem when the variant is not of a kind a change holds.</summary>
    public static bool TryFromVariant(Variant variant, string where, out ChangeValue value, out string problem)
    {
        value = default;
        problem = "";
        if (variant.IsArray)
        {
            if (variant.ArrayValue is { } elements && variant.Type is >= BuiltInType.SByte and <= BuiltInType.Double)
            {
                var numbers = ImmutableArray.CreateBuilder<double>(elements.Length);
                foreach (var element in elements)
                {
                    numbers.Add(Convert.ToDouble(element, CultureInfo.InvariantCulture));
                }

                value = ChangeValue.Of(numbers.MoveToImmutable());
                return true;
            }

            problem = $"BadTypeMismatch: {where} holds an array of {variant.Type}, not of numbers";
            return false;
        }

        switch (variant.Type)
        {
            case BuiltInType.Boolean:
                value = ChangeValue.Of((bool)variant.Value!);
                return true;
            case >= BuiltInType.SByte and <= BuiltInType.Double:
                value = ChangeValue.Of(variant.ToDouble());
                return true;
            case BuiltInType.String:
                value = ChangeValue.Of((string?)variant.Value ?? "");
                return true;
            default:
                problem = $"BadTypeMismatch: {where} holds a {variant.Type} value, which a change cannot hold";
                return false;
        }
    }

    /// <summary>A method argument: numbers as Double, Booleans, text as String, arrays of numbers as Double arrays.</summary>
    public static Variant ToArgument(ChangeValue value) => value.Kind switch
    {
        ChangeValueKind.Boolean => new Variant(value.Number != 0),
        ChangeValueKind.Text => new Variant(value.Text ?? ""),
        ChangeValueKind.Numbers => Variant.FromArray(BuiltInType.Double, value.Numbers.IsDefault ? [] : value.Numbers.ToArray()),
        _ => new Variant(value.Number),
    };

    private static bool TryToInteger(ChangeValue value, ControllerNode node, out Variant variant, out string problem)
    {
        variant = default;
        problem = "";
        if (value.Kind is not (ChangeValueKind.Number or ChangeValueKind.Boolean))
        {
            problem = $"BadTypeMismatch: node {node.NodeId} is {node.DataType}, but the value is {Describe(value)}";
            return false;
        }

        var number = value.Number;
        if (!double.IsFinite(number) || Math.Truncate(number) != number)
        {
            problem = $"BadTypeMismatch: node {node.NodeId} is {node.DataType}, and {Format(number)} is not a whole number";
            return false;
        }

        var (min, max) = node.DataType.IntegerRange();

        // Int64 and UInt64 limits are not exact doubles: 2^63 and 2^64 are the first values outside.
        var outside = node.DataType switch
        {
            SignalDataType.Int64 => number < -9.2233720368547758E18 || number >= 9.2233720368547758E18,
            SignalDataType.UInt64 => number < 0 || number >= 1.8446744073709552E19,
            _ => number < min || number > max,
        };
        if (outside)
        {
            problem = string.Create(CultureInfo.InvariantCulture,
                $"BadOutOfRange: {Format(number)} is outside {node.DataType}'s range {min:R}..{max:R} (node {node.NodeId})");
            return false;
        }

        variant = node.DataType switch
        {
            SignalDataType.SByte => new Variant((sbyte)number),
            SignalDataType.Byte => new Variant((byte)number),
            SignalDataType.Int16 => new Variant((short)number),
            SignalDataType.UInt16 => new Variant((ushort)number),
            SignalDataType.Int32 => new Variant((int)number),
            SignalDataType.UInt32 => new Variant((uint)number),
            SignalDataType.Int64 => new Variant((long)number),
            _ => new Variant((ulong)number),
        };
        return true;
    }

    private static bool FitsFloat(double value) => double.IsFinite(value) && Math.Abs(value) <= float.MaxValue;

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Describe(ChangeValue value) => value.Kind switch
    {
        ChangeValueKind.Number => $"the number {value}",
        ChangeValueKind.Boolean => $"the Boolean {value}",
        ChangeValueKind.Text => $"the text '{value}'",
        _ => $"the array {value}",
    };
}
