using TwinGateway.Commissioning.Policy;
using TwinGateway.Core.Lines;

namespace TwinGateway.Commissioning.Tests;

/// <summary>
/// The repository's demo line and validation policy, found by walking up to TwinGateway.sln (the shared testing project
/// would bring the host with it), and a temporary folder for change files.
/// </summary>
internal static class GateFiles
{
    private static readonly Lazy<string> RootPath = new(FindRoot);
    private static readonly Lazy<LineDefinition> Demo = new(() => LineDefinitionLoader.LoadFile(DemoLinePath).GetDefinitionOrThrow());

    public static string Root => RootPath.Value;

    public static string DemoLinePath => Path.Combine(Root, "config", "lines", "demo-line.yaml");

    public static string DemoPolicyPath => Path.Combine(Root, "config", "validation", "demo-line.yaml");

    public static LineDefinition DemoLine => Demo.Value;

    public static string DemoLineText => File.ReadAllText(DemoLinePath);

    public static ValidationPolicy DemoPolicy => ValidationPolicyLoader.LoadFile(DemoPolicyPath, DemoLine).GetPolicyOrThrow();

    private static string FindRoot()
    {
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

        throw new InvalidOperationException($"TwinGateway.sln was not found above {AppContext.BaseDirectory}");
    }
}

/// <summary>A folder of its own for one test's files, deleted afterwards.</summary>
internal sealed class ChangeFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("twingateway-gate-test-").FullName;

    public string Write(string name, string text)
    {
        var path = System.IO.Path.Combine(Path, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>The demo line's file with <paramref name="edit"/> applied to its text, written as <paramref name="name"/>.</summary>
    public string WriteDemoLine(string name, Func<string, string> edit)
    {
        var text = GateFiles.DemoLineText;
        var edited = edit(text);
        Assert.NotEqual(text, edited);
        return Write(name, edited);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
