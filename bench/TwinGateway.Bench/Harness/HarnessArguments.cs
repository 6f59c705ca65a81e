namespace TwinGateway.Bench.Harness;

/// <summary>The command-line shape every harness shares: <c>--name value</c> pairs, value-less flags, and help.</summary>
internal static class HarnessArguments
{
    /// <summary>
    /// Hands each <c>--name value</c> pair (a flag gets an empty value) to <paramref name="apply"/>, in order. Returns
    /// the text to print (the usage, with the problem first) for help, a missing value or a pair
    /// <paramref name="apply"/> refused; null when every argument was taken.
    /// </summary>
    public static string? Parse(IReadOnlyList<string> args, string usage, IReadOnlyCollection<string> flags, Func<string, string, bool> apply)
    {
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name is "-h" or "--help")
            {
                return usage;
            }

            string value;
            if (flags.Contains(name))
            {
                value = "";
            }
            else if (i + 1 >= args.Count)
            {
                return $"{name} needs a value\n{usage}";
            }
            else
            {
                value = args[++i];
            }

            if (!apply(name, value))
            {
                return $"bad argument: {name} {value}\n{usage}";
            }
        }

        return null;
    }
}
