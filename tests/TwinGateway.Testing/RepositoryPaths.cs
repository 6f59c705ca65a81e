namespace TwinGateway.Testing;

/// <summary>
/// Files of the repository, found from a test's or a benchmark's output folder by walking up to TwinGateway.sln.
/// </summary>
public static class RepositoryPaths
{
    private static readonly Lazy<string> _root = new(FindRoot);

    /// <summary>
    /// The folder that holds TwinGateway.sln: $TWINGATEWAY_REPO_ROOT when that holds it (binaries built or copied
    /// outside the repository), else the first one above <see cref="AppContext.BaseDirectory"/>, else the first one
    /// above the current directory (a harness binary run from a checkout).
    /// </summary>
    public static string Root => _root.Value;

    public static string LinesDirectory => Path.Combine(Root, "config", "lines");

    public static string DemoLine => Path.Combine(LinesDirectory, "demo-line.yaml");

    /// <summary>tests/node: package.json, server.js, client.js, client-bench.js.</summary>
    public static string NodeDirectory => Path.Combine(Root, "tests", "node");

    /// <summary>bench/results, where the harnesses write their reports by default.</summary>
    public static string BenchResults => Path.Combine(Root, "bench", "results");

    private static string FindRoot()
    {
        var overridden = Environment.GetEnvironmentVariable("TWINGATEWAY_REPO_ROOT");
        if (!string.IsNullOrEmpty(overridden) && File.Exists(Path.Combine(overridden, "TwinGateway.sln")))
        {
            return Path.GetFullPath(overridden);
        }

        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "TwinGateway.sln")))
                {
                    return directory.FullName;
                }
            }
        }

        throw new InvalidOperationException(
            $"TwinGateway.sln was not found above {AppContext.BaseDirectory} or {Environment.CurrentDirectory}; set TWINGATEWAY_REPO_ROOT.");
    }
}
