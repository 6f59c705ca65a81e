using System.Collections.Immutable;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Lines;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.Gateway.Tests;

/// <summary>
/// A change's values to OPC UA variants of the node's type and back: each type gets its own built-in type, a value that
/// does not fit (a fraction for an integer, outside the type's range, text for a number) is refused with the status and
/// the node, and what is read comes back as the same change value.
/// </summary>
public sealed class ControllerValuesTests
{
    private static ControllerNode Node(SignalDataType type, bool isArray = false) => new("plc1", "ns=1;s=Line.x", type, isArray);

    public static TheoryData<SignalDataType, double, BuiltInType> Fitting => new()
    {
        { SignalDataType.SByte, -128, BuiltInType.SByte },
        { SignalDataType.Byte, 255, BuiltInType.Byte },
        { SignalDataType.Int16, -32768, BuiltInType.Int16 },
        { SignalDataType.UInt16, 65535, BuiltInType.UInt16 },
        { SignalDataType.Int32, 2147483647, BuiltInType.Int32 },
        { SignalDataType.UInt32, 4294967295, BuiltInType.UInt32 },
        { SignalDataType.Int64, -9007199254740992, BuiltInType.Int64 },
        { SignalDataType.UInt64, 9007199254740992, BuiltInType.UInt64 },
        { SignalDataType.Float, 0.1, BuiltInType.Float },
        { SignalDataType.Double, 0.1, BuiltInType.Double },
    };

    [Theory]
    [MemberData(nameof(Fitting))]
    public void A_number_that_fits_becomes_the_nodes_type_and_reads_back_the_same(SignalDataType type, double number, BuiltInType builtIn)
    {
        Assert.True(ControllerValues.TryToVariant(ChangeValue.Of(number), Node(type), out var variant, out var problem), problem);
        Assert.Equal(builtIn, variant.Type);
        Assert.False(variant.IsArray);

        Assert.True(ControllerValues.TryFromVariant(variant, "node x", out var back, out problem), problem);
        Assert.Equal(ChangeValueKind.Number, back.Kind);
        Assert.Equal(type == SignalDataType.Float ? (double)(float)number : number, back.Number);
    }

    public static TheoryData<SignalDataType, double> OutOfRange => new()
    {
        { SignalDataType.SByte, 128 },
        { SignalDataType.Byte, -1 },
        { SignalDataType.Byte, 256 },
        { SignalDataType.Int16, 32768 },
        { SignalDataType.UInt16, 65536 },
        { SignalDataType.Int32, 2147483648 },
        { SignalDataType.UInt32, -1 },
        { SignalDataType.Int64, 9.2233720368547758E18 },
        { SignalDataType.UInt64, 1.8446744073709552E19 },
        { SignalDataType.UInt64, -1 },
        { SignalDataType.Float, 1e39 },
        { SignalDataType.Double, double.PositiveInfinity },
        { SignalDataType.Double, double.NaN },
    };

    [Theory]
    [MemberData(nameof(OutOfRange))]
    public void A_number_outside_the_types_range_is_refused_as_BadOutOfRange_naming_the_node(SignalDataType type, double number)
    {
        Assert.False(ControllerValues.TryToVariant(ChangeValue.Of(number), Node(type), out _, out var problem));
        Assert.StartsWith("BadOutOfRange", problem, StringComparison.Ordinal);
        Assert.Contains("ns=1;s=Line.x", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_fraction_for_an_integer_is_refused()
    {
        Assert.False(ControllerValues.TryToVariant(ChangeValue.Of(2.5), Node(SignalDataType.Int32), out _, out var problem));
        Assert.StartsWith("BadTypeMismatch", problem, StringComparison.Ordinal);
        Assert.Contains("not a whole number", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Booleans_take_true_false_and_the_numbers_0_and_1_only()
    {
        Assert.True(ControllerValues.TryToVariant(ChangeValue.Of(true), Node(SignalDataType.Boolean), out var variant, out _));
        Assert.Equal(new Variant(true), variant);
        Assert.True(ControllerValues.TryToVariant(ChangeValue.Of(0), Node(SignalDataType.Boolean), out variant, out _));
        Assert.Equal(new Variant(false), variant);
        Assert.False(ControllerValues.TryToVariant(ChangeValue.Of(2), Node(SignalDataType.Boolean), out _, out var problem));
        Assert.StartsWith("BadTypeMismatch", problem, StringComparison.Ordinal);
        Assert.False(ControllerValues.TryToVariant(ChangeValue.Of("true"), Node(SignalDataType.Boolean), out _, out _));

        Assert.True(ControllerValues.TryFromVariant(new Variant(true), "node x", out var back, out _));
        Assert.Equal(ChangeValue.Of(true), back);
    }

    [Fact]
    public void Text_goes_to_String_nodes_only_and_numbers_not_to_String_nodes()
    {
        Assert.True(ControllerValues.TryToVariant(ChangeValue.Of("recipe-7"), Node(SignalDataType.String), out var variant, out _));
        Assert.Equal(new Variant("recipe-7"), variant);
        Assert.False(ControllerValues.TryToVariant(ChangeValue.Of(7), Node(SignalDataType.String), out _, out var problem));
        Assert.StartsWith("BadTypeMismatch", problem, StringComparison.Ordinal);
        Assert.False(ControllerValues.TryToVariant(ChangeValue.Of("7"), Node(SignalDataType.Double), out _, out problem));
        Assert.StartsWith("BadTypeMismatch", problem, StringComparison.Ordinal);

        Assert.True(ControllerValues.TryFromVariant(new Variant("recipe-7"), "node x", out var back, out _));
        Assert.Equal("recipe-7", back.Text);
    }

    [Fact]
    public void A_pose_is_a_Double_array_and_reads_back_as_numbers()
    {
        ImmutableArray<double> joints = [0, -90, 90, 0, 0, 0.5];
        Assert.True(ControllerValues.TryToVariant(ChangeValue.Of(joints), Node(SignalDataType.Double, isArray: true), out var variant, out var problem), problem);
        Assert.True(variant.IsArray);
        Assert.Equal(BuiltInType.Double, variant.Type);
        Assert.Equal(joints.ToArray(), (double[])variant.ArrayValue!);

        Assert.True(ControllerValues.TryFromVariant(variant, "node x", out var back, out _));
        Assert.Equal(ChangeValueKind.Numbers, back.Kind);
        Assert.Equal(joints.ToArray(), back.Numbers.ToArray());

        Assert.False(ControllerValues.TryToVariant(ChangeValue.Of(1), Node(SignalDataType.Double, isArray: true), out _, out problem));
        Assert.StartsWith("BadTypeMismatch", problem, StringComparison.Ordinal);
        Assert.False(ControllerValues.TryToVariant(ChangeValue.Of(joints), Node(SignalDataType.Int32, isArray: true), out _, out _));
        Assert.False(ControllerValues.TryToVariant(ChangeValue.Of(joints), Node(SignalDataType.Double), out _, out _));
    }

    [Fact]
    public void A_value_a_change_cannot_hold_is_a_problem_naming_where_it_was_read()
    {
        Assert.False(ControllerValues.TryFromVariant(new Variant(Guid.Empty), "node ns=1;s=Line.x on controller plc1", out _, out var problem));
        Assert.StartsWith("BadTypeMismatch", problem, StringComparison.Ordinal);
        Assert.Contains("ns=1;s=Line.x on controller plc1", problem, StringComparison.Ordinal);
    }
}
