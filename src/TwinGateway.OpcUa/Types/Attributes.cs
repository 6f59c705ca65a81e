namespace TwinGateway.OpcUa.Types;

/// <summary>Attribute ids (OPC 10000-6 §A.1), with their names for parsing and printing.</summary>
public static class Attributes
{
    public const uint NodeId = 1;
    public const uint NodeClass = 2;
    public const uint BrowseName = 3;
    public const uint DisplayName = 4;
    public const uint Description = 5;
    public const uint WriteMask = 6;
    public const uint UserWriteMask = 7;
    public const uint IsAbstract = 8;
    public const uint Symmetric = 9;
    public const uint InverseName = 10;
    public const uint ContainsNoLoops = 11;
    public const uint EventNotifier = 12;
    public const uint Value = 13;
    public const uint DataType = 14;
    public const uint ValueRank = 15;
    public const uint ArrayDimensions = 16;
    public const uint AccessLevel = 17;
    public const uint UserAccessLevel = 18;
    public const uint MinimumSamplingInterval = 19;
    public const uint Historizing = 20;
    public const uint Executable = 21;
    public const uint UserExecutable = 22;
    public const uint DataTypeDefinition = 23;
    public const uint RolePermissions = 24;
    public const uint UserRolePermissions = 25;
    public const uint AccessRestrictions = 26;
#pragma warning disable CA1711 // the specification names it AccessLevelEx
    public const uint AccessLevelEx = 27;
#pragma warning restore CA1711

    private static readonly string[] s_names =
    [
        "", "NodeId", "NodeClass", "BrowseName", "DisplayName", "Description", "WriteMask", "UserWriteMask", "IsAbstract",
        "Symmetric", "InverseName", "ContainsNoLoops", "EventNotifier", "Value", "DataType", "ValueRank", "ArrayDimensions",
        "AccessLevel", "UserAccessLevel", "MinimumSamplingInterval", "Historizing", "Executable", "UserExecutable",
        "DataTypeDefinition", "RolePermissions", "UserRolePermissions", "AccessRestrictions", "AccessLevelEx",
    ];

    public static string GetName(uint attributeId) => attributeId > 0 && attributeId < s_names.Length ? s_names[attributeId] : $"Attribute{attributeId}";

    /// <summary>Parses an attribute name (case-insensitive) or number.</summary>
    public static bool TryParse(string text, out uint attributeId)
    {
        if (uint.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out attributeId))
        {
            return attributeId > 0 && attributeId < s_names.Length;
        }

        for (var i = 1u; i < s_names.Length; i++)
        {
            if (string.Equals(s_names[i], text, StringComparison.OrdinalIgnoreCase))
            {
                attributeId = i;
                return true;
            }
        }

        attributeId = 0;
        return false;
    }
}
