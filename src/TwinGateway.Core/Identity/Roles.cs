using System.Collections.Immutable;

namespace TwinGateway.Core.Identity;

/// <summary>
/// What a user may do. Every RPC names the roles that may call it; <see cref="Admin"/> manages users.
/// The text forms (lower case) are what settings, the CLI and tokens use.
/// </summary>
public enum Role
{
    /// <summary>Reads lines, changes, alerts and the audit.</summary>
    Viewer = 1,

    /// <summary>Watches and acts on drift alerts.</summary>
    Operator = 2,

    /// <summary>Submits, validates and applies line changes; starts replays.</summary>
    Engineer = 3,

    /// <summary>Approves or rejects changes (never their own).</summary>
    Approver = 4,

    /// <summary>Required among the approvers of a safety-related change.</summary>
    Safety = 5,

    /// <summary>Manages users and the gateway.</summary>
    Admin = 6,

    /// <summary>A manufacturing execution system: submits changes and watches their outcome.</summary>
    Mes = 7,
}

/// <summary>An authenticated caller: a named user (or system) with roles.</summary>
public sealed record UserIdentity(string Name, ImmutableArray<Role> Roles)
{
    public bool IsIn(Role role) => Roles.Contains(role);
}

public static class Roles
{
    public static string ToText(this Role role) => role.ToString().ToLowerInvariant();

    public static bool TryParse(string text, out Role role)
    {
        role = default;
        return !string.IsNullOrWhiteSpace(text) && !int.TryParse(text, out _)
            && Enum.TryParse(text.Trim(), ignoreCase: true, out role) && Enum.IsDefined(role);
    }

    public static IReadOnlyList<Role> All { get; } = Enum.GetValues<Role>();
}
