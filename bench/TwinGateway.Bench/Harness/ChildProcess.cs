using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TwinGateway.Bench.E2e;

/// <summary>Where the repository, Node.js and the node-opcua scripts in tests/node are.</summary>
internal static class NodePeer
{
    public const string InstallHint = "node-opcua is not installed: run `npm ci --prefix tests/node` (Node.js 20+ required)";

    /// <summary>The folder holding TwinGateway.sln, found above the current directory or above the binary.</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string NodeDirectory => Path.Combine(RepoRoot, "tests", "node");

    public static string Script(string name)
    {
        var path = Path.Combine(NodeDirectory, name);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} does not exist", path);
    }

    /// <summary>Full path of node on PATH; throws with the install hint when Node.js or node-opcua is missing.</summary>
    public static string NodeExecutable()
    {
        var node = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir.Trim('"'), OperatingSystem.IsWindows() ? "node.exe" : "node"))
            .FirstOrDefault(File.Exists);
        if (node is null)
        {
            throw new InvalidOperationException(InstallHint + " (`node` is not on PATH)");
        }

        if (!Directory.Exists(Path.Combine(NodeDirectory, "node_modules", "node-opcua")))
        {
            throw new InvalidOperationException(InstallHint + $" ({NodeDirectory}/node_modules/node-opcua is missing)");
        }

        return node;
    }

    /// <summary>`node --version`, for the machine facts of a result.</summary>
    public static string NodeVersion()
    {
        using var process = Process.Start(new ProcessStartInfo(NodeExecutable(), "--version")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        var version = process.StandardOutput.ReadToEnd().Trim();
        if (!process.WaitForExit(10_000))
        {
            process.Kill(entireProcessTree: true);
        }

        return version;
    }

    /// <summary>A node process running <paramref name="script"/> in tests/node with stdin, stdout and stderr redirected.</summary>
    public static Process Start(string script, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        var startInfo = new ProcessStartInfo(NodeExecutable())
        {
            WorkingDirectory = NodeDirectory,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        startInfo.ArgumentList.Add(Script(script));
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            startInfo.Environment[key] = value;
        }

        return Process.Start(startInfo) ?? throw new InvalidOperationException($"could not start node {script}");
    }

    /// <summary>Reads lines until the stream ends.</summary>
    public static Task PumpLinesAsync(StreamReader reader, Action<string> onLine) => Task.Run(async () =>
    {
        try
        {
            while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                onLine(line);
            }
        }
        catch (IOException)
        {
            // The process was killed.
        }
        catch (ObjectDisposedException)
        {
        }
    });

    /// <summary>Kills the process tree (if still running) and waits up to 10 s for it to go.</summary>
    public static async Task StopAsync(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // Never started or already gone.
        }
        catch (TimeoutException)
        {
            Console.Error.WriteLine($"e2e: node pid {process.Id} did not exit within 10 s of being killed");
        }
    }

    /// <summary>A loopback port free right now (node binds it a moment later; callers retry on a clash).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static string FindRepoRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "TwinGateway.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new InvalidOperationException($"TwinGateway.sln not found above {Environment.CurrentDirectory} or {AppContext.BaseDirectory}");
    }
}

/// <summary>The last lines a child process wrote, for error messages.</summary>
internal sealed class LineTail(int capacity)
{
    private readonly Queue<string> _lines = new();

    public void Add(string line)
    {
        lock (_lines)
        {
            _lines.Enqueue(line);
            while (_lines.Count > capacity)
            {
                _lines.Dequeue();
            }
        }
    }

    public override string ToString()
    {
        lock (_lines)
        {
            return string.Join('\n', _lines);
        }
    }
}
