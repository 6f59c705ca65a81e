namespace TwinGateway.OpcUa.Types;

/// <summary>
/// The specification's status codes as constants (generated into StatusCodes.g.cs from the published table),
/// with a lookup of the symbolic name for any code.
/// </summary>
public static partial class StatusCodes
{
    /// <summary>The symbolic name of a code (info bits ignored), as in the specification's table.</summary>
    public static bool TryGetName(uint code, out string name) => s_names.TryGetValue(code & 0xFFFF0000u, out name!);

    /// <summary>The code for a symbolic name (<c>BadNodeIdUnknown</c>), for parsing user input.</summary>
    public static bool TryGetCode(string name, out uint code) => s_codes.TryGetValue(name, out code);
}
