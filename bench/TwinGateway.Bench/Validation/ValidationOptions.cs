using System.Globalization;

namespace TwinGateway.Bench.Validation;

/// <summary>Arguments of <c>validation</c> (see <see cref="ValidationBenchmark"/> and bench/README.md).</summary>
internal sealed record ValidationOptions
{
    public const string Usage =
        "usage: validation [--reps 3] [--warmups 1] [--parallelism 2,1] [--warm-minutes 30] [--shadow-step 0.1]\n" +
        "                  [--change config/changes/robot2-speed-90.yaml] [--failing-change config/changes/robot1-speed-40.yaml|none]\n" +
        "                  [--line-file config/lines/demo-line.yaml] [--policy-file config/validation/demo-line.yaml]\n" +
        "                  [--seeds N] [--hours H] [--out bench/results/validation.json]\n" +
        "  --seeds and --hours override the policy for a quick look (the 15 s target is then not judged, and the\n" +
        "  default output is bench/results/validation-quick.json).";

    /// <summary>Measured repetitions per parallelism, after <see cref="WarmUps"/>.</summary>
    public int Repetitions { get; init; } = 3;

    /// <summary>Unmeasured validations before the first measured one (tiered JIT, first allocations).</summary>
    public int WarmUps { get; init; } = 1;

    /// <summary><see cref="Commissioning.Validation.ValidationRequest.MaxDegreeOfParallelism"/> values, measured interleaved.</summary>
    public IReadOnlyList<int> Parallelism { get; init; } = [2, 1];

    /// <summary>Simulated minutes the shadow twin runs (at its own 100 ms step) before it is snapshotted.</summary>
    public double WarmMinutes { get; init; } = 30;

    /// <summary>The shadow twin's own step in seconds before the snapshot (the gateway's is 100 ms).</summary>
    public double ShadowStepSeconds { get; init; } = 0.1;

    public string LineFile { get; init; } = RepositoryPaths.DemoLine;

    public string PolicyFile { get; init; } = Path.Combine(RepositoryPaths.Root, "config", "validation", "demo-line.yaml");

    public string ChangeFile { get; init; } = Path.Combine(RepositoryPaths.Root, "config", "changes", "robot2-speed-90.yaml");

    /// <summary>A change the gate must refuse on throughput, validated once; null: skipped.</summary>
    public string? FailingChangeFile { get; init; } = Path.Combine(RepositoryPaths.Root, "config", "changes", "robot1-speed-40.yaml");

    public int? Seeds { get; init; }

    public double? Hours { get; init; }

    public string OutputPath { get; init; } = "";

    /// <summary>True when the policy's own seeds and horizon are run (the target is judged only then).</summary>
    public bool FullPolicy => Seeds is null && Hours is null;

    public static ValidationOptions? Parse(IReadOnlyList<string> args, out string error)
    {
        error = "";
        var options = new ValidationOptions();
        string? output = null;
        if (HarnessArguments.Parse(args, Usage, [], Apply) is { } problem)
        {
            error = problem;
            return null;
        }

        var defaultName = options.FullPolicy ? "validation.json" : "validation-quick.json";
        return options with { OutputPath = output ?? Path.Combine(RepositoryPaths.BenchResults, defaultName) };

        bool Apply(string name, string value)
        {
            switch (name)
            {
                case "--reps" when Int(value) is { } reps && reps is >= 1 and <= 50:
                    options = options with { Repetitions = reps };
                    return true;
                case "--warmups" when Int(value) is { } warmUps && warmUps is >= 0 and <= 10:
                    options = options with { WarmUps = warmUps };
                    return true;
                case "--parallelism" when ParallelismList(value) is { } parallelism:
                    options = options with { Parallelism = parallelism };
                    return true;
                case "--warm-minutes" when Number(value) is { } minutes && minutes is >= 0 and <= 24 * 60:
                    options = options with { WarmMinutes = minutes };
                    return true;
                case "--shadow-step" when Number(value) is { } step && step is >= 0.001 and <= 60:
                    options = options with { ShadowStepSeconds = step };
                    return true;
                case "--change" when File.Exists(value):
                    options = options with { ChangeFile = Path.GetFullPath(value) };
                    return true;
                case "--failing-change" when value == "none":
                    options = options with { FailingChangeFile = null };
                    return true;
                case "--failing-change" when File.Exists(value):
                    options = options with { FailingChangeFile = Path.GetFullPath(value) };
                    return true;
                case "--line-file" when File.Exists(value):
                    options = options with { LineFile = Path.GetFullPath(value) };
                    return true;
                case "--policy-file" when File.Exists(value):
                    options = options with { PolicyFile = Path.GetFullPath(value) };
                    return true;
                case "--seeds" when Int(value) is { } seeds && seeds is >= 2 and <= 1000:
                    options = options with { Seeds = seeds };
                    return true;
                case "--hours" when Number(value) is { } hours && hours is > 0 and <= 1000:
                    options = options with { Hours = hours };
                    return true;
                case "--out" when value.Length > 0:
                    output = value;
                    return true;
                default:
                    return false;
            }
        }
    }

    private static int? Int(string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;

    private static double? Number(string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && double.IsFinite(x) ? x : null;

    private static int[]? ParallelismList(string value)
    {
        var parts = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var list = parts.Select(Int).ToArray();
        return list.Length > 0 && list.All(p => p is >= 1 and <= 256) && list.Distinct().Count() == list.Length
            ? [.. list.Select(p => p!.Value)]
            : null;
    }
}
