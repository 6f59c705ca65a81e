using System.Globalization;
using TwinGateway.Bench.E2e;

namespace TwinGateway.Bench.Telemetry;

/// <summary>Arguments of <c>telemetry</c> (see <see cref="TelemetryHarness"/> and bench/README.md).</summary>
internal sealed record TelemetryOptions
{
    public const string Usage =
        "usage: telemetry [--ingest-seconds 30] [--ingest-warmup 5] [--replay-hours 1] [--replay-runs 3]\n" +
        "                 [--forward-points 2000000] [--forward-batches 5000,20000] [--only ingest|replay|forward]\n" +
        "                 [--line-file config/lines/demo-line.yaml] [--out bench/results/telemetry.json]";

    /// <summary>The measuring window of each ingest mode, after <see cref="IngestWarmup"/>.</summary>
    public TimeSpan IngestWindow { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Ingest time before the window opens: long enough for the backlog to fill the pending buffer.</summary>
    public TimeSpan IngestWarmup { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Recorded hours replayed (fractions allowed for a quick try).</summary>
    public double ReplayHours { get; init; } = 1;

    public int ReplayRuns { get; init; } = 3;

    /// <summary>Samples (InfluxDB line-protocol points) recorded and forwarded per batch size.</summary>
    public int ForwardPoints { get; init; } = 2_000_000;

    public IReadOnlyList<int> ForwardBatchSizes { get; init; } = [5_000, 20_000];

    /// <summary>Null: every part; otherwise ingest, replay or forward.</summary>
    public string? Only { get; init; }

    public string LineFile { get; init; } = RepositoryPaths.DemoLine;

    public string OutputPath { get; init; } = "";

    public bool Runs(string part) => Only is null || Only == part;

    public static TelemetryOptions? Parse(IReadOnlyList<string> args, out string error)
    {
        error = "";
        var options = new TelemetryOptions();
        string? output = null;
        if (HarnessArguments.Parse(args, Usage, [], Apply) is { } problem)
        {
            error = problem;
            return null;
        }

        // A partial run gets a file of its own, so it never overwrites the full result.
        var defaultName = options.Only is null ? "telemetry.json" : $"telemetry-{options.Only}.json";
        return options with { OutputPath = output ?? Path.Combine(RepositoryPaths.BenchResults, defaultName) };

        bool Apply(string name, string value)
        {
            switch (name)
            {
                case "--ingest-seconds" when Seconds(value) is { } s && s is > 0 and <= 3600:
                    options = options with { IngestWindow = TimeSpan.FromSeconds(s) };
                    return true;
                case "--ingest-warmup" when Seconds(value) is { } w && w is >= 0 and <= 600:
                    options = options with { IngestWarmup = TimeSpan.FromSeconds(w) };
                    return true;
                case "--replay-hours" when Seconds(value) is { } h && h is > 0 and <= 24:
                    options = options with { ReplayHours = h };
                    return true;
                case "--replay-runs" when int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var runs) && runs is >= 1 and <= 20:
                    options = options with { ReplayRuns = runs };
                    return true;
                case "--forward-points" when int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var points) && points is >= 1_000 and <= 100_000_000:
                    options = options with { ForwardPoints = points };
                    return true;
                case "--forward-batches" when BatchSizes(value) is { } sizes:
                    options = options with { ForwardBatchSizes = sizes };
                    return true;
                case "--only" when value is "ingest" or "replay" or "forward":
                    options = options with { Only = value };
                    return true;
                case "--line-file" when File.Exists(value):
                    options = options with { LineFile = Path.GetFullPath(value) };
                    return true;
                case "--out" when value.Length > 0:
                    output = value;
                    return true;
                default:
                    return false;
            }
        }
    }

    private static double? Seconds(string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && double.IsFinite(s) ? s : null;

    private static List<int>? BatchSizes(string value)
    {
        var sizes = new List<int>();
        foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var size) || size is < 1 or > 100_000)
            {
                return null;
            }

            sizes.Add(size);
        }

        return sizes.Count > 0 ? sizes : null;
    }
}
