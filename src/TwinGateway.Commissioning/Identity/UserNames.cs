using System.Buffers;
using System.Collections.Immutable;
using TwinGateway.Core.Identity;

namespace TwinGateway.Commissioning.Identity;

/// <summary>The rules for user names and role lists, shared by the store, the API and the CLI so they refuse alike.</summary>
public static class UserNames
{
    public const int MaxLength = 64;

    private static readonly SearchValues<char> s_allowed = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@-");

    /// <summary>Null when <paramref name="name"/> is a valid user name, else why not.</summary>
    public static string? Problem(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "a user name is required";
        }

        if (name.Length > MaxLength)
        {
            return $"the user name '{name[..16]}…' is {name.Length} characters long; at most {MaxLength} are allowed";
        }

        var bad = name.AsSpan().IndexOfAnyExcept(s_allowed);
        return bad < 0
            ? null
            : $"the user name '{name}' has '{name[bad]}' at position {bad + 1}; use letters, digits and . _ @ - only";
    }

    /// <summary>
    /// Parses role names (<c>engineer</c>, <c>Approver</c>...). False with a message listing every unknown one and
    /// the known roles, or saying that at least one role is needed.
    /// </summary>
    public static bool TryParseRoles(IEnumerable<string> texts, out ImmutableArray<Role> roles, out string problem)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var parsed = new List<Role>();
        var unknown = new List<string>();
        foreach (var text in texts)
        {
            if (Roles.TryParse(text, out var role))
            {
                if (!parsed.Contains(role))
                {
                    parsed.Add(role);
                }
            }
            else
            {
                unknown.Add($"'{text}'");
            }
        }

        var known = string.Join(", ", Roles.All.Select(r => r.ToText()));
        if (unknown.Count > 0)
        {
            roles = [];
            problem = $"unknown role{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown)}; the roles are {known}";
            return false;
        }

        if (parsed.Count == 0)
        {
            roles = [];
            problem = $"a user needs at least one role ({known})";
            return false;
        }

        roles = [.. parsed.Order()];
        problem = "";
        return true;
    }
}
