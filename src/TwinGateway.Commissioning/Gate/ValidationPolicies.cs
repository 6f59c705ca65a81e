using TwinGateway.Commissioning.Policy;
using TwinGateway.Core.Lines;

namespace TwinGateway.Commissioning.Gate;

/// <summary>
/// The validation policies of a folder (<c>config/validation/&lt;line&gt;.yaml</c>), read when a change needs one, so an
/// edited policy applies to the next validation (and its new hash names it in the evidence).
/// </summary>
public sealed class ValidationPolicies(string directory)
{
    public string Directory { get; } = Path.GetFullPath(directory);

    /// <summary>A loaded policy with the exact text it was read from (what its hash covers and a bundle carries).</summary>
    public sealed record Loaded(ValidationPolicy Policy, string Text, string Path);

    /// <summary>The line's policy.</summary>
    /// <exception cref="ChangeRefusedException">There is none, or it has problems (each listed with file:line:column).</exception>
    public Loaded Get(LineDefinition line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var path = ValidationPolicyLoader.PathFor(Directory, line.Id);
        if (!File.Exists(path))
        {
            throw new ChangeRefusedException(RefusalKind.NotNow,
                $"line '{line.Id}' has no validation policy: no change can pass the gate without one; write {path} (config/validation/README.md describes it)");
        }

        var text = File.ReadAllText(path);
        var result = ValidationPolicyLoader.Parse(text, path, line);
        if (result.Policy is not { } policy || result.Problems.Length > 0)
        {
            throw new ChangeRefusedException(RefusalKind.NotNow, $"the validation policy of line '{line.Id}' has problems", [.. result.Problems.Select(p => p.ToString())]);
        }

        return new Loaded(policy, text, path);
    }

    /// <summary>The problems of every policy file for <paramref name="lines"/> (a missing file is not a problem here: that line takes no changes).</summary>
    public IReadOnlyList<string> Check(IEnumerable<LineDefinition> lines)
    {
        var problems = new List<string>();
        foreach (var line in lines)
        {
            var path = ValidationPolicyLoader.PathFor(Directory, line.Id);
            if (File.Exists(path))
            {
                problems.AddRange(ValidationPolicyLoader.LoadFile(path, line).Problems.Select(p => p.ToString()));
            }
        }

        return problems;
    }
}
