using System.Collections.Immutable;

namespace TwinGateway.Core.Lines;

/// <summary>Which side writes a signal.</summary>
public enum SignalDirection
{
    /// <summary>Written by the gateway or the twin, read by the controller: setpoints, commands.</summary>
    ControllerInput,

    /// <summary>Produced by the controller: measurements, states, counters.</summary>
    ControllerOutput,
}

/// <summary>
/// The OPC UA built-in types a signal may carry. The numeric values are the built-in type ids of OPC UA Part 6, 5.1.2,
/// so a value converts directly to the id on the wire. Built-in types that are not plain values (Guid, ByteString,
/// NodeId, ...) are not signal types.
/// </summary>
public enum SignalDataType
{
    Boolean = 1,
    SByte = 2,
    Byte = 3,
    Int16 = 4,
    UInt16 = 5,
    Int32 = 6,
    UInt32 = 7,
    Int64 = 8,
    UInt64 = 9,
    Float = 10,
    Double = 11,
    String = 12,
    DateTime = 13,
}

/// <summary>How the loader and the twin classify <see cref="SignalDataType"/> values.</summary>
public static class SignalDataTypes
{
    /// <summary>Integer and floating-point types: they take a nominal range and the numeric models.</summary>
    public static bool IsNumeric(this SignalDataType type) => type is >= SignalDataType.SByte and <= SignalDataType.Double;

    /// <summary>The integer types (SByte to UInt64): counters and state codes.</summary>
    public static bool IsInteger(this SignalDataType type) => type is >= SignalDataType.SByte and <= SignalDataType.UInt64;

    /// <summary>The smallest and largest value an integer type holds (as doubles; UInt64 for any other type).</summary>
    public static (double Min, double Max) IntegerRange(this SignalDataType type) => type switch
    {
        SignalDataType.SByte => (sbyte.MinValue, sbyte.MaxValue),
        SignalDataType.Byte => (byte.MinValue, byte.MaxValue),
        SignalDataType.Int16 => (short.MinValue, short.MaxValue),
        SignalDataType.UInt16 => (ushort.MinValue, ushort.MaxValue),
        SignalDataType.Int32 => (int.MinValue, int.MaxValue),
        SignalDataType.UInt32 => (uint.MinValue, uint.MaxValue),
        SignalDataType.Int64 => (long.MinValue, long.MaxValue),
        _ => (ulong.MinValue, ulong.MaxValue),
    };
}

/// <summary>The range a signal's value stays in during normal operation, in the signal's unit.</summary>
public readonly record struct NominalRange(double Low, double High)
{
    public bool Contains(double value) => value >= Low && value <= High;
}

/// <summary>A signal: one value on a controller, mapped to a node, with the model the twin computes it from.</summary>
public sealed record SignalDefinition
{
    /// <summary>
    /// Unique within the line, in the form <c>station.name</c> (for example <c>cnc1.spindleSpeed</c>), or
    /// <c>line.name</c> for a line-wide signal. Interlocks, robots and models refer to signals by this id.
    /// </summary>
    public required string Id { get; init; }

    /// <summary>The station the signal belongs to (the id's first part); null for a line-wide (<c>line.</c>) signal.</summary>
    public string? StationId { get; init; }

    /// <summary>The id's part after the station (for example <c>spindleSpeed</c>).</summary>
    public required string Name { get; init; }

    public string? Description { get; init; }

    public required SignalDataType DataType { get; init; }

    /// <summary>The engineering unit (for example <c>rpm</c>, <c>A</c>, <c>degC</c>); empty for unitless values.</summary>
    public string Unit { get; init; } = "";

    public required SignalDirection Direction { get; init; }

    /// <summary>The normal operating range; only numeric signals have one, and it is optional.</summary>
    public NominalRange? NominalRange { get; init; }

    /// <summary>The node id on the controller, in the standard string form (for example <c>ns=1;s=DemoLine.cnc1.spindleSpeed</c>).</summary>
    public required string NodeId { get; init; }

    /// <summary>The id of the <see cref="ControllerDefinition"/> that holds the node.</summary>
    public required string ControllerId { get; init; }

    /// <summary>How the twin computes the signal; null when the twin does not model it (it then has no expected value).</summary>
    public SignalModel? Model { get; init; }

    /// <summary>
    /// What the value does to the line, for a <see cref="SetpointModel"/> signal (a speed override scales cycle times);
    /// empty for every other signal, and for a setpoint the twin only holds.
    /// </summary>
    public ImmutableArray<SetpointEffect> Effects { get; init; } = [];

    /// <summary>
    /// How far (in the signal's unit) the real value's mean may stand from the twin's expectation before the physics
    /// authority calls it drift; null when the definition gives none (then <see cref="Twins.SignalComparison.Tolerance"/>
    /// applies its stated default).
    /// </summary>
    public double? Tolerance { get; init; }

    public SourceLocation? Source { get; init; }
}
