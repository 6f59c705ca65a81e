using TwinGateway.Core.Lines;

namespace TwinGateway.Simulation.Tests;

/// <summary>The demo line (config/lines/demo-line.yaml), loaded once; found by walking up to TwinGateway.sln.</summary>
internal static class DemoLine
{
    private static readonly Lazy<LineDefinition> _line = new(() => LineDefinitionLoader.LoadFile(FilePath()).GetDefinitionOrThrow());

    public static LineDefinition Definition => _line.Value;

    public static string Path => FilePath();

    public static DateTime Start { get; } = new TwinOptions().Start;

    /// <summary>A twin of the demo line run for <paramref name="duration"/> of simulated time.</summary>
    public static LineTwin Run(TimeSpan duration, TwinOptions? options = null, LineDefinition? line = null)
    {
        var twin = new LineTwin(line ?? Definition, options);
        twin.RunUntil(twin.SimTime + duration);
        return twin;
    }

    private static string FilePath() => System.IO.Path.Combine(FindRoot(), "config", "lines", "demo-line.yaml");

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "TwinGateway.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"TwinGateway.sln not found above {AppContext.BaseDirectory}.");
    }
}
