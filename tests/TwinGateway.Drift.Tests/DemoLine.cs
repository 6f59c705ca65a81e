using TwinGateway.Core.Lines;

namespace TwinGateway.Drift.Tests;

/// <summary>The repository's demo line, found by walking up to TwinGateway.sln.</summary>
internal static class DemoLine
{
    private static readonly Lazy<LineDefinition> _line = new(() =>
        LineDefinitionLoader.LoadFile(Path.Combine(Root, "config", "lines", "demo-line.yaml")).GetDefinitionOrThrow());

    public static LineDefinition Definition => _line.Value;

    public static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "TwinGateway.sln")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException($"no TwinGateway.sln above {AppContext.BaseDirectory}");
        }
    }
}
