using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace TwinGateway.Testing;

/// <summary>How to start tests/node/server.js.</summary>
public sealed class NodeOpcUaServerOptions
{
    /// <summary>The TCP port; 0 picks a free loopback port.</summary>
    public int Port { get; init; }

    /// <summary>How many <c>s=Bench.i</c> variables to create (changed every 100 ms); 0 for none.</summary>
    public int BenchItems { get; init; }

    /// <summary>
    /// More server.js arguments, such as <c>--users a:b</c>, <c>--max-notifications-per-publish 1000</c> or
    /// <c>--allow-anonymous-transfer</c>.
    /// </summary>
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];
}

/// <summary>
/// A node-opcua server (tests/node/server.js) in a child process, on 127.0.0.1, SecurityPolicy None, anonymous and
/// username/password (operator / secret1). Its PKI and XDG_CONFIG_HOME live in a temporary folder removed on dispose.
/// </summary>
public sealed class NodeOpcUaServer : IAsyncDisposable
{
    /// <summary>How long server.js may take to print its listening line.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan _restartBindWindow = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan _stopTimeout = TimeSpan.FromSeconds(10);

    private readonly NodeOpcUaServerOptions _options;
    private readonly string _tempDirectory;
    private readonly LineRingBuffer _log = new(300);
    private Process? _process;
    private Task _stdoutPump = Task.CompletedTask;
    private Task _stderrPump = Task.CompletedTask;
    private bool _disposed;

    private NodeOpcUaServer(NodeOpcUaServerOptions options, string tempDirectory)
    {
        _options = options;
        _tempDirectory = tempDirectory;
    }

    /// <summary>The TCP port the server listens on (kept across <see cref="RestartAsync"/>).</summary>
    public int Port { get; private set; }

    /// <summary><c>opc.tcp://127.0.0.1:{Port}</c>.</summary>
    public string EndpointUrl { get; private set; } = string.Empty;

    /// <summary>The index of the server's own namespace (holds s=Test..., s=Bench...).</summary>
    public int NamespaceIndex { get; private set; }

    /// <summary>The server's own namespace URI.</summary>
    public string NamespaceUri { get; private set; } = string.Empty;

    /// <summary>True while the child process runs.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The last lines server.js wrote to stderr (and any stdout besides the listening line).</summary>
    public string LogTail => _log.ToString();

    /// <summary>Starts server.js and waits until it listens.</summary>
    public static async Task<NodeOpcUaServer> StartAsync(
        NodeOpcUaServerOptions? options = null,
        CancellationToken ct = default)
    {
        options ??= new NodeOpcUaServerOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Port);
        ArgumentOutOfRangeException.ThrowIfNegative(options.BenchItems);
        NodeEnvironment.EnsureAvailable();

        var tempDirectory = Directory.CreateTempSubdirectory("twingateway-node-opcua-").FullName;
        var server = new NodeOpcUaServer(options, tempDirectory);
        try
        {
            if (options.Port != 0)
            {
                await server.LaunchAsync(options.Port, ct);
            }
            else
            {
                // A free port can be taken between FreePort.Next and node's bind: try a few.
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        await server.LaunchAsync(FreePort.Next(), ct);
                        break;
                    }
                    catch (NodeServerExitedException) when (attempt < 3)
                    {
                    }
                }
            }

            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Kills the server process tree and waits for it to exit. Does nothing when it is not running.</summary>
    public async Task StopAsync()
    {
        var process = _process;
        if (process is null)
        {
            return;
        }

        _process = null;
        NodeScript.KillQuietly(process);
        try
        {
            await process.WaitForExitAsync().WaitAsync(_stopTimeout);
            await Task.WhenAll(_stdoutPump, _stderrPump).WaitAsync(_stopTimeout);
        }
        catch (TimeoutException)
        {
            _log.Add("[fixture] server.js did not exit within 10 s of being killed");
        }
        finally
        {
            process.Dispose();
        }
    }

    /// <summary>Stops the server and starts it again on the same port (retrying the bind for up to 10 s).</summary>
    public async Task RestartAsync(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await StopAsync();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await LaunchAsync(Port, ct);
                return;
            }
            catch (NodeServerExitedException) when (deadline.Elapsed < _restartBindWindow)
            {
                await Task.Delay(250, ct);
            }
        }
    }

    /// <summary>Stops the server and deletes its temporary folder.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await StopAsync();
        for (var attempt = 0; attempt < 5 && Directory.Exists(_tempDirectory); attempt++)
        {
            try
            {
                Directory.Delete(_tempDirectory, recursive: true);
            }
            catch (IOException)
            {
                await Task.Delay(100);
            }
            catch (UnauthorizedAccessException)
            {
                await Task.Delay(100);
            }
        }
    }

    private async Task LaunchAsync(int port, CancellationToken ct)
    {
        var arguments = new List<string>
        {
            "--port", port.ToString(CultureInfo.InvariantCulture),
            "--bench-items", _options.BenchItems.ToString(CultureInfo.InvariantCulture),
            "--pki", Path.Combine(_tempDirectory, "pki"),
        };
        arguments.AddRange(_options.ExtraArguments);
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["XDG_CONFIG_HOME"] = Path.Combine(_tempDirectory, "config"),
        };

        var process = new Process
        {
            StartInfo = NodeScript.CreateStartInfo(NodeEnvironment.Script("server.js"), arguments, environment),
        };
        var listening = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.Start();
        _log.Add($"[fixture] started server.js pid {process.Id} on port {port}");

        // stdin stays open: server.js exits when it closes, so a crashed test host leaves no server behind.
        _stdoutPump = NodeScript.PumpLinesAsync(process.StandardOutput, line =>
        {
            if (!listening.Task.IsCompleted
                && NodeScript.TryParseJson(line, out var json)
                && json.ValueKind == JsonValueKind.Object
                && json.TryGetProperty("event", out var evt)
                && evt.ValueEquals("listening"))
            {
                listening.TrySetResult(json);
                return;
            }

            _log.Add(line);
        });
        _stderrPump = NodeScript.PumpLinesAsync(process.StandardError, _log.Add);
        _process = process;

        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeoutCts.CancelAfter(StartTimeout);
        var exited = process.WaitForExitAsync(timeoutCts.Token);
        var first = await Task.WhenAny(listening.Task, exited);
        if (first == listening.Task)
        {
            var json = listening.Task.Result;
            Port = json.GetProperty("port").GetInt32();
            EndpointUrl = json.GetProperty("endpointUrl").GetString() ?? string.Empty;
            NamespaceIndex = json.GetProperty("namespaceIndex").GetInt32();
            NamespaceUri = json.GetProperty("namespaceUri").GetString() ?? string.Empty;
            return;
        }

        int? exitCode = exited.IsCompletedSuccessfully ? process.ExitCode : null;
        await StopAsync();
        ct.ThrowIfCancellationRequested();
        if (exitCode is { } code)
        {
            throw new NodeServerExitedException(
                $"server.js exited with code {code} before listening on port {port}; log tail:\n{LogTail}");
        }

        throw new TimeoutException(
            $"server.js did not report listening on port {port} within {StartTimeout.TotalSeconds:0} s; log tail:\n{LogTail}");
    }
}

/// <summary>server.js exited before it listened (a port in use, a script error).</summary>
public sealed class NodeServerExitedException : InvalidOperationException
{
    public NodeServerExitedException()
    {
    }

    public NodeServerExitedException(string message)
        : base(message)
    {
    }

    public NodeServerExitedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
