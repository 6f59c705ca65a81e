namespace TwinGateway.Core.Tests;

/// <summary>Finds files of the repository from the test's output folder by walking up to TwinGateway.sln.</summary>
internal static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string LinesDirectory => Path.Combine(Root, "config", "lines");

    public static string DemoLine => Path.Combine(LinesDirectory, "demo-line.yaml");

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "TwinGateway.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"TwinGateway.sln not found above {AppContext.BaseDirectory}.");
    }
}
