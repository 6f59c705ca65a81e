using System.Globalization;

namespace TwinGateway.OpcUa.Types;

/// <summary>
/// An OPC UA status code (OPC 10000-4 §7.39). The top two bits give the severity; <see cref="Name"/> gives the
/// symbolic name from the specification's table (<c>BadNodeIdUnknown</c>), which every message we print carries.
/// </summary>
public readonly record struct StatusCode(uint Code)
{
    public static readonly StatusCode Good = new(0);

    public bool IsGood => (Code & 0xC0000000u) == 0;
    public bool IsUncertain => (Code & 0xC0000000u) == 0x40000000u;
    public bool IsBad => (Code & 0x80000000u) != 0;

    /// <summary>The code without the info bits (low 16 bits), which is what the symbolic name identifies.</summary>
    public uint CodeBits => Code & 0xFFFF0000u;

    /// <summary>Symbolic name, or the hex value where the code is not in the specification's table.</summary>
    public string Name => StatusCodes.TryGetName(CodeBits, out var name)
        ? name
        : "0x" + Code.ToString("X8", CultureInfo.InvariantCulture);

    /// <summary>Overflow bit of a data value's status (OPC 10000-4 §7.39.2): the server's queue discarded values.</summary>
    public bool Overflow => (Code & 0x0480u) == 0x0480u;

    public override string ToString() => (Code & 0xFFFFu) == 0 ? Name : $"{Name} (0x{Code:X8})";

    public static implicit operator StatusCode(uint code) => new(code);
}
