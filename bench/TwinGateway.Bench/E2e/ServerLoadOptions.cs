using System.Globalization;

namespace TwinGateway.Bench.E2e;

/// <summary>
/// Arguments of <c>server-load</c>: <c>[--items 100000] [--interval 100] [--duration 60] [--warmup 15]
/// [--node-items 100000] [--out FILE] [--soak S] [--sample-every S] [--create-timeout S] [--publish-requests N]
/// [--twingw PATH] [--no-build]</c>.
/// </summary>
internal sealed record ServerLoadOptions
{
    public const string Usage =
        "usage: dotnet run -c Release --project bench/TwinGateway.Bench -- server-load [--items 100000] [--interval 100] " +
        "[--duration 60] [--warmup 15] [--node-items N (default --items; 0 skips node-opcua)] [--out bench/results/e2e-server.json] " +
        "[--soak SECONDS (at least 120: growth compares the first and the last minute; phase A only; default out bench/results/e2e-server-soak.json)] [--sample-every SECONDS (2; soak 10)] " +
        "[--create-timeout SECONDS (300)] [--publish-requests N (client default 3)] [--twingw PATH/twingw.dll] [--no-build] [--profile SECONDS] [--server-env NAME=VALUE ...] [--baseline SECONDS (10)] [--no-server-counters]";

    /// <summary>Monitored items on our server: ns=1;s=Scale.00000 .. (twingw --scale Items).</summary>
    public int Items { get; init; } = 100_000;

    /// <summary>Monitored items on node-opcua's server (server.js --bench-items); 0 skips phase B.</summary>
    public int NodeItems { get; init; } = -1;

    /// <summary>Publishing and sampling interval.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Non-zero: a soak of phase A only for this long (Duration is ignored).</summary>
    public TimeSpan Soak { get; init; }

    /// <summary>How often the server's RSS and CPU are sampled in the window.</summary>
    public TimeSpan SampleEvery { get; init; }

    /// <summary>Longest time allowed for creating the monitored items on one server; past it the phase records what it got.</summary>
    public TimeSpan CreateTimeout { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>Publish requests our client keeps outstanding (null: the client's default).</summary>
    public int? PublishRequests { get; init; }

    /// <summary>twingw.dll to run; null: build src/TwinGateway.Host in Release and use its output.</summary>
    public string? TwingwPath { get; init; }

    public bool NoBuild { get; init; }

    /// <summary>Server CPU and RSS measured this long before the client connects (the value updates alone); 0 skips it.</summary>
    public TimeSpan Baseline { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Read our server's ServerDiagnostics (queue overwrites) from heap dumps before the warm-up and after the window.</summary>
    public bool ServerCounters { get; init; } = true;

    /// <summary>Non-zero: after phase A's window, profile our server's CPU for this long and snapshot its heap (writes OUT-profile.txt).</summary>
    public TimeSpan Profile { get; init; }

    /// <summary>Extra environment variables for the twingw process (GC settings to compare: DOTNET_GCgen0size=..., DOTNET_GCConserveMemory=...).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ServerEnvironment { get; init; } = [];

    public string OutputPath { get; init; } = "";

    public bool IsSoak => Soak > TimeSpan.Zero;

    public int EffectiveNodeItems => IsSoak ? 0 : NodeItems < 0 ? Items : NodeItems;

    public TimeSpan Window => IsSoak ? Soak : Duration;

    public TimeSpan EffectiveSampleEvery => SampleEvery > TimeSpan.Zero ? SampleEvery : TimeSpan.FromSeconds(IsSoak ? 10 : 2);

    public static ServerLoadOptions? Parse(IReadOnlyList<string> args, string resultsDirectory, out string? error)
    {
        var options = new ServerLoadOptions();
        string? output = null;
        error = null;
        if (HarnessArguments.Parse(args, Usage, ["--no-server-counters", "--no-build"], Apply) is { } problem)
        {
            error = problem;
            return null;
        }

        return options with { OutputPath = output ?? Path.Combine(resultsDirectory, options.IsSoak ? "e2e-server-soak.json" : "e2e-server.json") };

        bool Apply(string name, string value)
        {
            switch (name)
            {
                case "--no-server-counters":
                    options = options with { ServerCounters = false };
                    return true;
                case "--no-build":
                    options = options with { NoBuild = true };
                    return true;
                case "--items" when int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var items) && items > 0:
                    options = options with { Items = items };
                    return true;
                case "--node-items" when int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var nodeItems) && nodeItems >= 0:
                    options = options with { NodeItems = nodeItems };
                    return true;
                case "--interval" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) && ms > 0:
                    options = options with { Interval = TimeSpan.FromMilliseconds(ms) };
                    return true;
                case "--duration" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0 && s <= 3600:
                    options = options with { Duration = TimeSpan.FromSeconds(s) };
                    return true;
                case "--warmup" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var w) && w >= 0 && w <= 600:
                    options = options with { Warmup = TimeSpan.FromSeconds(w) };
                    return true;
                case "--soak" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var soak) && soak >= 120 && soak <= 86_400:
                    options = options with { Soak = TimeSpan.FromSeconds(soak) };
                    return true;
                case "--sample-every" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var every) && every >= 0.5 && every <= 600:
                    options = options with { SampleEvery = TimeSpan.FromSeconds(every) };
                    return true;
                case "--create-timeout" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var ct) && ct > 0:
                    options = options with { CreateTimeout = TimeSpan.FromSeconds(ct) };
                    return true;
                case "--publish-requests" when int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var pr) && pr is > 0 and <= 100:
                    options = options with { PublishRequests = pr };
                    return true;
                case "--twingw" when File.Exists(value):
                    options = options with { TwingwPath = Path.GetFullPath(value) };
                    return true;
                case "--baseline" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var baseline) && baseline >= 0 && baseline <= 600:
                    options = options with { Baseline = TimeSpan.FromSeconds(baseline) };
                    return true;
                case "--profile" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var profile) && profile > 0 && profile <= 300:
                    options = options with { Profile = TimeSpan.FromSeconds(profile) };
                    return true;
                case "--server-env" when value.IndexOf('=', StringComparison.Ordinal) > 0:
                    var eq = value.IndexOf('=', StringComparison.Ordinal);
                    options = options with { ServerEnvironment = [.. options.ServerEnvironment, new(value[..eq], value[(eq + 1)..])] };
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
