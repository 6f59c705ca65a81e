using System.Globalization;

namespace TwinGateway.Bench.Web;

/// <summary>Arguments of <c>web</c> (see <see cref="WebConsoleHarness"/> and bench/README.md).</summary>
internal sealed record WebOptions
{
    public const string Usage =
        "usage: web [--seconds 30] [--pages 1,3] [--twingw PATH] [--no-build] [--out bench/results/web.json]\n" +
        "  --seconds  wall seconds of each measurement window (gateway idle, then with each page count)\n" +
        "  --pages    how many line pages are open in each with-page window (comma-separated)\n" +
        "  --twingw   the twingw.dll to run (default: a fresh Release build of src/TwinGateway.Host)\n" +
        "  --no-build use the existing Release build";

    public int Seconds { get; init; } = 30;

    public IReadOnlyList<int> Pages { get; init; } = [1, 3];

    public string? Twingw { get; init; }

    public bool NoBuild { get; init; }

    public string OutputPath { get; init; } = "";

    public static WebOptions? Parse(IReadOnlyList<string> args, out string error)
    {
        error = "";
        var options = new WebOptions();
        string? output = null;
        if (HarnessArguments.Parse(args, Usage, ["--no-build"], Apply) is { } problem)
        {
            error = problem;
            return null;
        }

        return options with { OutputPath = output ?? Path.Combine(RepositoryPaths.BenchResults, "web.json") };

        bool Apply(string name, string value)
        {
            switch (name)
            {
                case "--seconds" when int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) && s is >= 5 and <= 600:
                    options = options with { Seconds = s };
                    return true;
                case "--pages":
                    var counts = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                        .Select(v => int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 10 ? n : 0).ToList();
                    if (counts.Count == 0 || counts.Contains(0))
                    {
                        return false;
                    }

                    options = options with { Pages = counts };
                    return true;
                case "--twingw" when value.Length > 0:
                    options = options with { Twingw = value };
                    return true;
                case "--no-build":
                    options = options with { NoBuild = true };
                    return true;
                case "--out" when value.Length > 0:
                    output = value;
                    return true;
                default:
                    return false;
            }
        }
    }
}
