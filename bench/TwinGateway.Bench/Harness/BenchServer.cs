using System.Globalization;
using System.Text.Json;

namespace TwinGateway.Bench.Harness;

/// <summary>
/// tests/node/server.js with <c>--bench-items N</c> in a child process on a free loopback port: N Double variables
/// ns=K;s=Bench.i that change every 100 ms (the node-opcua server of <c>e2e</c> and of <c>server-load</c>'s phase B).
/// Its PKI and XDG_CONFIG_HOME live in a fresh temporary folder, removed on dispose; stdin stays open so the server also
/// exits if this process dies, and closing it is how the server is asked to stop.
/// </summary>
internal sealed class BenchServer : IAsyncDisposable
{
    private readonly ChildProcess _child;

    private BenchServer(ChildProcess child, string tempDirectory, int port, string endpointUrl, int namespaceIndex, TimeSpan startup)
    {
        _child = child;
        TempDirectory = tempDirectory;
        Port = port;
        EndpointUrl = endpointUrl;
        NamespaceIndex = namespaceIndex;
        Startup = startup;
    }

    public string TempDirectory { get; }

    public int Port { get; }

    public string EndpointUrl { get; }

    public int NamespaceIndex { get; }

    /// <summary>From process start to the listening line (address space built).</summary>
    public TimeSpan Startup { get; }

    public int Pid => _child.Pid;

    /// <summary><c>node tests/node/server.js --port P --bench-items N</c>.</summary>
    public string CommandLine => _child.CommandLine;

    /// <summary>The server's own CPU time so far (not part of either client's figure; reported for context).</summary>
    public TimeSpan CpuTime
    {
        get
        {
            try
            {
                _child.Process.Refresh();
                return _child.Process.TotalProcessorTime;
            }
            catch (InvalidOperationException)
            {
                return TimeSpan.Zero;
            }
        }
    }

    public bool HasExited => _child.HasExited;

    public string LogTail => _child.LogTail;

    /// <summary>Starts the server and waits for its <c>{"event":"listening",...}</c> line; a lost race for the port is retried.</summary>
    public static async Task<BenchServer> StartAsync(int benchItems, TimeSpan startTimeout, string tempPrefix, CancellationToken cancellationToken)
    {
        var tempDirectory = Directory.CreateTempSubdirectory(tempPrefix).FullName;
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    return await LaunchAsync(benchItems, FreePort.Next(), tempDirectory, startTimeout, cancellationToken).ConfigureAwait(false);
                }
                catch (ChildExitedException) when (attempt < 3)
                {
                    // The free port was taken before node bound it: try another.
                }
            }
        }
        catch
        {
            ChildProcess.DeleteQuietly(tempDirectory);
            throw;
        }
    }

    private static async Task<BenchServer> LaunchAsync(int benchItems, int port, string tempDirectory, TimeSpan startTimeout, CancellationToken cancellationToken)
    {
        var arguments = new[]
        {
            "--port", port.ToString(CultureInfo.InvariantCulture),
            "--bench-items", benchItems.ToString(CultureInfo.InvariantCulture),
            "--pki", Path.Combine(tempDirectory, "pki"),
        };
        var environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["XDG_CONFIG_HOME"] = Path.Combine(tempDirectory, "config") };
        var commandLine = "node tests/node/server.js --port " + port.ToString(CultureInfo.InvariantCulture) + " --bench-items " + benchItems.ToString(CultureInfo.InvariantCulture);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var child = ChildProcess.Start("server.js", commandLine, ChildCommands.Node("server.js", arguments, environment), IsListening,
            stop: ChildStop.CloseInput);
        try
        {
            var line = await child.WaitReadyAsync(startTimeout, cancellationToken).ConfigureAwait(false);
            var startup = clock.Elapsed;
            using var json = JsonDocument.Parse(line);
            return new BenchServer(child, tempDirectory, port, json.RootElement.GetProperty("endpointUrl").GetString()!,
                json.RootElement.GetProperty("namespaceIndex").GetInt32(), startup);
        }
        catch
        {
            await child.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static bool IsListening(string line)
    {
        if (!line.StartsWith('{'))
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(line);
            return document.RootElement.TryGetProperty("event", out var e) && e.ValueEquals("listening");
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Closes stdin (server.js shuts down), kills it if it has not gone within the grace period, removes the folder.</summary>
    public async ValueTask DisposeAsync()
    {
        await _child.DisposeAsync().ConfigureAwait(false);
        ChildProcess.DeleteQuietly(TempDirectory);
    }
}
