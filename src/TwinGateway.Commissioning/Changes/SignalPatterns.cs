using System.Collections.Immutable;

namespace TwinGateway.Commissioning.Changes;

/// <summary>
/// Signal id patterns, such as the policy's <c>safetySignals</c>: a signal id, or a pattern in which <c>*</c> stands for
/// any run of characters (<c>*.emergencyStop</c>, <c>*estop*</c>). Matching ignores case.
/// </summary>
public sealed class SignalPatterns
{
    /// <summary>What a line treats as an emergency stop when its policy names nothing else.</summary>
    public static readonly SignalPatterns DefaultSafety = new(["*.emergencyStop", "*.estop", "*emergencyStop*", "*estop*"]);

    public SignalPatterns(IEnumerable<string> patterns)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        Patterns = [.. patterns];
    }

    public ImmutableArray<string> Patterns { get; }

    /// <summary>The first pattern <paramref name="signalId"/> matches, or null.</summary>
    public string? Match(string signalId)
    {
        ArgumentNullException.ThrowIfNull(signalId);
        foreach (var pattern in Patterns)
        {
            if (Glob(pattern.AsSpan(), signalId.AsSpan()))
            {
                return pattern;
            }
        }

        return null;
    }

    private static bool Glob(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        var star = pattern.IndexOf('*');
        if (star < 0)
        {
            return pattern.Equals(text, StringComparison.OrdinalIgnoreCase);
        }

        if (text.Length < star || !pattern[..star].Equals(text[..star], StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var rest = pattern[(star + 1)..];
        for (var i = star; i <= text.Length; i++)
        {
            if (Glob(rest, text[i..]))
            {
                return true;
            }
        }

        return false;
    }
}
