namespace TwinGateway.Testing;

/// <summary>Where the node-opcua peer lives and whether it can run here.</summary>
public static class NodeEnvironment
{
    /// <summary>The message every fixture fails with when Node.js or node-opcua is missing.</summary>
    public const string InstallHint =
        "node-opcua is not installed: run `npm ci --prefix tests/node` (Node.js 20+ required)";

    private static readonly Lazy<string?> _nodeExecutable = new(FindNodeOnPath);

    /// <summary>tests/node: package.json, server.js, client.js, client-bench.js.</summary>
    public static string NodeDirectory => RepositoryPaths.NodeDirectory;

    /// <summary>The full path of the node executable found on PATH.</summary>
    public static string NodeExecutable
    {
        get
        {
            EnsureAvailable();
            return _nodeExecutable.Value!;
        }
    }

    /// <summary>True when node is on PATH and tests/node/node_modules/node-opcua exists.</summary>
    public static bool IsAvailable => _nodeExecutable.Value is not null && Directory.Exists(NodeOpcUaPackage);

    private static string NodeOpcUaPackage => Path.Combine(NodeDirectory, "node_modules", "node-opcua");

    /// <summary>Throws <see cref="InvalidOperationException"/> with <see cref="InstallHint"/> when the peer cannot run.</summary>
    public static void EnsureAvailable()
    {
        if (_nodeExecutable.Value is null)
        {
            throw new InvalidOperationException(
                InstallHint,
                new FileNotFoundException("`node` was not found on PATH."));
        }

        if (!Directory.Exists(NodeOpcUaPackage))
        {
            throw new InvalidOperationException(
                InstallHint,
                new DirectoryNotFoundException($"{NodeOpcUaPackage} does not exist."));
        }
    }

    /// <summary>A path under tests/node, checked to exist.</summary>
    public static string Script(string fileName)
    {
        var path = Path.Combine(NodeDirectory, fileName);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Node script {path} does not exist.", path);
        }

        return path;
    }

    private static string? FindNodeOnPath()
    {
        var names = OperatingSystem.IsWindows() ? new[] { "node.exe", "node.cmd" } : new[] { "node" };
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var name in names)
            {
                var candidate = Path.Combine(dir.Trim('"'), name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }
}
