using TwinGateway.Core.Lines;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.PlcSim;

/// <summary>Twin values (doubles, Booleans as 0 and 1) to and from OPC UA variants of a signal's data type.</summary>
internal static class SignalVariants
{
    /// <summary>The variant of <paramref name="type"/> for <paramref name="value"/>: integers rounded and saturated at the type's limits, NaN (no model) as 0.</summary>
    public static Variant ToVariant(SignalDataType type, double value, string text)
    {
        var number = double.IsNaN(value) ? 0.0 : value;
        return type switch
        {
            SignalDataType.Boolean => new Variant(number >= 0.5),
            SignalDataType.SByte => new Variant((sbyte)Saturate(number, sbyte.MinValue, sbyte.MaxValue)),
            SignalDataType.Byte => new Variant((byte)Saturate(number, byte.MinValue, byte.MaxValue)),
            SignalDataType.Int16 => new Variant((short)Saturate(number, short.MinValue, short.MaxValue)),
            SignalDataType.UInt16 => new Variant((ushort)Saturate(number, ushort.MinValue, ushort.MaxValue)),
            SignalDataType.Int32 => new Variant((int)Saturate(number, int.MinValue, int.MaxValue)),
            SignalDataType.UInt32 => new Variant((uint)Saturate(number, uint.MinValue, uint.MaxValue)),
            SignalDataType.Int64 => new Variant(ToInt64(number)),
            SignalDataType.UInt64 => new Variant(ToUInt64(number)),
            SignalDataType.Float => new Variant((float)number),
            SignalDataType.Double => new Variant(number),
            SignalDataType.String => new Variant(text),
            SignalDataType.DateTime => new Variant(DateTime.MinValue),
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a signal data type"),
        };
    }

    /// <summary>The number the twin takes for a written value; null for String and DateTime (the twin keeps numbers only).</summary>
    public static double? ToTwin(Variant value) =>
        value.IsNumeric ? value.ToDouble() : null;

    private static double Saturate(double value, double min, double max) =>
        Math.Clamp(Math.Round(value, MidpointRounding.AwayFromZero), min, max);

    private static long ToInt64(double value)
    {
        var rounded = Math.Round(value, MidpointRounding.AwayFromZero);
        return rounded >= 9.2233720368547758E18 ? long.MaxValue : rounded <= -9.2233720368547758E18 ? long.MinValue : (long)rounded;
    }

    private static ulong ToUInt64(double value)
    {
        var rounded = Math.Round(value, MidpointRounding.AwayFromZero);
        return rounded <= 0 ? 0 : rounded >= 1.8446744073709552E19 ? ulong.MaxValue : (ulong)rounded;
    }
}
