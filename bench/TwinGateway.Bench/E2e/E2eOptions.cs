using System.Globalization;

namespace TwinGateway.Bench.E2e;

/// <summary>Arguments of <c>e2e</c>: <c>[--items 10000] [--interval 100] [--duration 30] [--warmup 10] [--out FILE]</c>.</summary>
internal sealed record E2eOptions
{
    public const string Usage =
        "usage: dotnet run -c Release --project bench/TwinGateway.Bench -- e2e [--items 10000] [--interval 100] " +
        "[--duration 30] [--warmup 10] [--out bench/results/e2e-client.json]";

    /// <summary>Monitored items, ns=K;s=Bench.0 .. Bench.{Items-1}; the server changes every one each 100 ms.</summary>
    public int Items { get; init; } = 10_000;

    /// <summary>Publishing and sampling interval.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Length of each client's measurement window.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Time after the items are created and before the window opens (JIT, server queues settling).</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The JSON result file; relative paths are relative to the current directory.</summary>
    public string OutputPath { get; init; } = "";

    /// <summary>Parses the arguments after <c>e2e</c>; returns null and an error message when they are wrong.</summary>
    public static E2eOptions? Parse(IReadOnlyList<string> args, string defaultOutputPath, out string? error)
    {
        var options = new E2eOptions { OutputPath = defaultOutputPath };
        error = null;
        if (HarnessArguments.Parse(args, Usage, [], Apply) is { } problem)
        {
            error = problem;
            return null;
        }

        return options;

        bool Apply(string name, string value)
        {
            switch (name)
            {
                case "--items" when int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var items) && items > 0:
                    options = options with { Items = items };
                    return true;
                case "--interval" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) && ms >= 0:
                    options = options with { Interval = TimeSpan.FromMilliseconds(ms) };
                    return true;
                case "--duration" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0 && s <= 3600:
                    options = options with { Duration = TimeSpan.FromSeconds(s) };
                    return true;
                case "--warmup" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var w) && w >= 0 && w <= 600:
                    options = options with { Warmup = TimeSpan.FromSeconds(w) };
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
