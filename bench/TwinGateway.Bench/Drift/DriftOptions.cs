using System.Globalization;

namespace TwinGateway.Bench.Drift;

/// <summary>Arguments of <c>drift</c> (see <see cref="DriftHarness"/> and bench/README.md).</summary>
internal sealed record DriftOptions
{
    public const string Usage =
        "usage: drift [--seeds 3] [--hours 24] [--quick] [--out bench/results/drift.json]\n" +
        "  --seeds  real-line seeds per drift kind (each kind runs a healthy warm-up, then up to 2 simulated hours after onset)\n" +
        "  --hours  simulated hours of healthy running for the false-alarm figures (scaled to alerts per day)\n" +
        "  --quick  a smoke check under a minute: 1 seed, 3 kinds, 20 minutes after onset, 2 healthy hours, short timings;\n" +
        "           the default output is then bench/results/drift-quick.json";

    public int Seeds { get; init; } = 3;

    public double HealthyHours { get; init; } = 24;

    public bool Quick { get; init; }

    /// <summary>Simulated healthy running the models are trained on.</summary>
    public TimeSpan TrainingSpan { get; init; } = TimeSpan.FromHours(2);

    /// <summary>Healthy running before each fault's onset (fills the physics window and the model window, and shows false alarms before onset).</summary>
    public TimeSpan WarmUp { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>How long each fault run goes on after onset.</summary>
    public TimeSpan AfterOnset { get; init; } = TimeSpan.FromHours(2);

    /// <summary>Wall seconds each offline scoring rate is measured for.</summary>
    public double ScoringSeconds { get; init; } = 2;

    /// <summary>Simulated seconds of the live cost measurement (after a warm-up as long as the physics window).</summary>
    public int LiveSeconds { get; init; } = 3600;

    /// <summary>Rows of the training-time measurement (one recorded day at 1 s).</summary>
    public int TrainingTimeRows { get; init; } = 86_400;

    public string OutputPath { get; init; } = "";

    public static DriftOptions? Parse(IReadOnlyList<string> args, out string error)
    {
        error = "";
        var options = new DriftOptions();
        string? output = null;
        int? seeds = null;
        double? hours = null;
        if (HarnessArguments.Parse(args, Usage, ["--quick"], Apply) is { } problem)
        {
            error = problem;
            return null;
        }

        if (options.Quick)
        {
            options = options with
            {
                Seeds = 1,
                HealthyHours = 2,
                TrainingSpan = TimeSpan.FromHours(1),
                WarmUp = TimeSpan.FromMinutes(15),
                AfterOnset = TimeSpan.FromMinutes(20),
                ScoringSeconds = 0.3,
                LiveSeconds = 60,
                TrainingTimeRows = 7_200,
            };
        }

        options = options with { Seeds = seeds ?? options.Seeds, HealthyHours = hours ?? options.HealthyHours };
        var defaultName = options.Quick ? "drift-quick.json" : "drift.json";
        return options with { OutputPath = output ?? Path.Combine(RepositoryPaths.BenchResults, defaultName) };

        bool Apply(string name, string value)
        {
            switch (name)
            {
                case "--seeds" when int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 20:
                    seeds = n;
                    return true;
                case "--hours" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var h) && h is >= 0.5 and <= 72:
                    hours = h;
                    return true;
                case "--quick":
                    options = options with { Quick = true };
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
