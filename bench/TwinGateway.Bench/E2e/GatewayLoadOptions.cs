using System.Globalization;

namespace TwinGateway.Bench.E2e;

/// <summary>Arguments of <c>gateway-load</c> (see <see cref="GatewayLoadHarness"/> and bench/README.md).</summary>
internal sealed record GatewayLoadOptions
{
    public const string Usage =
        "usage: gateway-load [--lines 10] [--duration 60] [--warmup 15] [--sample-every 5] [--connect-timeout 180]\n" +
        "                    [--line-file config/lines/demo-line.yaml] [--no-build | --twingw PATH/twingw.dll]\n" +
        "                    [--gateway-env KEY=VALUE]... [--profile SECONDS] [--out bench/results/e2e-gateway.json]";

    /// <summary>How many copies of the line file the gateway shadows, each with its own simulated PLC process.</summary>
    public int Lines { get; init; } = 10;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How often the window records the gateway's RSS and CPU (for the series in the result).</summary>
    public TimeSpan SampleEvery { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest wait for every line to report connected once the gateway listens.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(180);

    /// <summary>The line definition copied N times (ids and controller ports made unique, node ids kept).</summary>
    public string LineFile { get; init; } = RepositoryPaths.DemoLine;

    public bool NoBuild { get; init; }

    public string? TwingwPath { get; init; }

    /// <summary>Environment for the gateway process only (runtime knobs such as DOTNET_gcServer=0), for experiments.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> GatewayEnvironment { get; init; } = [];

    /// <summary>After the window (load still running): an EventPipe CPU sample and a heap snapshot of the gateway.</summary>
    public TimeSpan? Profile { get; init; }

    public string OutputPath { get; init; } = "";

    public static GatewayLoadOptions? Parse(IReadOnlyList<string> args, string defaultOutput, out string error)
    {
        error = "";
        var options = new GatewayLoadOptions { OutputPath = defaultOutput };
        if (HarnessArguments.Parse(args, Usage, ["--no-build"], Apply) is { } problem)
        {
            error = problem;
            return null;
        }

        return options;

        bool Apply(string name, string value)
        {
            switch (name)
            {
                case "--no-build":
                    options = options with { NoBuild = true };
                    return true;
                case "--lines" when int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var lines) && lines is > 0 and <= 200:
                    options = options with { Lines = lines };
                    return true;
                case "--duration" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s is > 0 and <= 3600:
                    options = options with { Duration = TimeSpan.FromSeconds(s) };
                    return true;
                case "--warmup" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var w) && w is >= 0 and <= 600:
                    options = options with { Warmup = TimeSpan.FromSeconds(w) };
                    return true;
                case "--sample-every" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var every) && every is >= 0.5 and <= 600:
                    options = options with { SampleEvery = TimeSpan.FromSeconds(every) };
                    return true;
                case "--connect-timeout" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var ct) && ct is > 0 and <= 3600:
                    options = options with { ConnectTimeout = TimeSpan.FromSeconds(ct) };
                    return true;
                case "--line-file" when File.Exists(value):
                    options = options with { LineFile = Path.GetFullPath(value) };
                    return true;
                case "--twingw" when File.Exists(value):
                    options = options with { TwingwPath = Path.GetFullPath(value) };
                    return true;
                case "--gateway-env" when value.IndexOf('=', StringComparison.Ordinal) > 0:
                    var eq = value.IndexOf('=', StringComparison.Ordinal);
                    options = options with { GatewayEnvironment = [.. options.GatewayEnvironment, new(value[..eq], value[(eq + 1)..])] };
                    return true;
                case "--profile" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var profile) && profile is > 0 and <= 300:
                    options = options with { Profile = TimeSpan.FromSeconds(profile) };
                    return true;
                case "--out" when value.Length > 0:
                    options = options with { OutputPath = value };
                    return true;
                default:
                    return false;
            }
        }
    }
}
