using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace TwinGateway.Bench.E2e;

/// <summary>
/// tests/node/server.js with <c>--bench-items N</c> in a child process on a free loopback port: N Double variables
/// ns=K;s=Bench.i that change every 100 ms. Its PKI and XDG_CONFIG_HOME live in a fresh temporary folder, removed on
/// dispose; stdin stays open so the server also exits if this process dies.
/// </summary>
internal sealed class BenchServer : IAsyncDisposable
{
    private static readonly TimeSpan _startTimeout = TimeSpan.FromSeconds(90);

    private readonly Process _process;
    private readonly LineTail _log;
    private readonly Task _pumps;

    private BenchServer(Process process, LineTail log, Task pumps, string tempDirectory, string endpointUrl, int namespaceIndex)
    {
        _process = process;
        _log = log;
        _pumps = pumps;
        TempDirectory = tempDirectory;
        EndpointUrl = endpointUrl;
        NamespaceIndex = namespaceIndex;
    }

    public string TempDirectory { get; }

    public string EndpointUrl { get; }

    public int NamespaceIndex { get; }

    /// <summary>The server's own CPU time so far (not part of either client's figure; reported for context).</summary>
    public TimeSpan CpuTime
    {
        get
        {
            try
            {
                _process.Refresh();
                return _process.TotalProcessorTime;
            }
            catch (InvalidOperationException)
            {
                return TimeSpan.Zero;
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public string LogTail => _log.ToString();

    public static async Task<BenchServer> StartAsync(int benchItems, CancellationToken cancellationToken)
    {
        var tempDirectory = Directory.CreateTempSubdirectory("twingateway-bench-").FullName;
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    return await LaunchAsync(benchItems, NodePeer.FreePort(), tempDirectory, cancellationToken).ConfigureAwait(false);
                }
                catch (ServerExitedException) when (attempt < 3)
                {
                    // The free port was taken before node bound it: try another.
                }
            }
        }
        catch
        {
            DeleteQuietly(tempDirectory);
            throw;
        }
    }

    private static async Task<BenchServer> LaunchAsync(int benchItems, int port, string tempDirectory, CancellationToken cancellationToken)
    {
        var arguments = new[]
        {
            "--port", port.ToString(CultureInfo.InvariantCulture),
            "--bench-items", benchItems.ToString(CultureInfo.InvariantCulture),
            "--pki", Path.Combine(tempDirectory, "pki"),
        };
        var environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["XDG_CONFIG_HOME"] = Path.Combine(tempDirectory, "config") };
        var process = NodePeer.Start("server.js", arguments, environment);
        var log = new LineTail(100);
        var listening = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stdout = NodePeer.PumpLinesAsync(process.StandardOutput, line =>
        {
            if (!listening.Task.IsCompleted && TryParseListening(line, out var json))
            {
                listening.TrySetResult(json);
                return;
            }

            log.Add(line);
        });
        var stderr = NodePeer.PumpLinesAsync(process.StandardError, log.Add);
        var pumps = Task.WhenAll(stdout, stderr);

        var started = false;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_startTimeout);
            var exited = process.WaitForExitAsync(timeout.Token);
            var first = await Task.WhenAny(listening.Task, exited).ConfigureAwait(false);
            if (first == listening.Task)
            {
                var json = listening.Task.Result;
                started = true;
                return new BenchServer(process, log, pumps, tempDirectory, json.GetProperty("endpointUrl").GetString()!, json.GetProperty("namespaceIndex").GetInt32());
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (exited.IsCompletedSuccessfully)
            {
                throw new ServerExitedException($"server.js exited with code {process.ExitCode} before listening on port {port}:\n{log}");
            }

            throw new TimeoutException($"server.js did not report listening on port {port} within {_startTimeout.TotalSeconds:0} s:\n{log}");
        }
        finally
        {
            if (!started)
            {
                await NodePeer.StopAsync(process).ConfigureAwait(false);
                process.Dispose();
            }
        }
    }

    private static bool TryParseListening(string line, out JsonElement json)
    {
        json = default;
        if (!line.StartsWith('{'))
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(line);
            if (document.RootElement.TryGetProperty("event", out var e) && e.ValueEquals("listening"))
            {
                json = document.RootElement.Clone();
                return true;
            }
        }
        catch (JsonException)
        {
        }

        return false;
    }

    public async ValueTask DisposeAsync()
    {
        // Closing stdin asks server.js to shut down; the kill that follows makes sure.
        try
        {
            _process.StandardInput.Close();
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or IOException or InvalidOperationException)
        {
        }

        await NodePeer.StopAsync(_process).ConfigureAwait(false);
        await _pumps.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        _process.Dispose();
        DeleteQuietly(TempDirectory);
    }

    private static void DeleteQuietly(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private sealed class ServerExitedException(string message) : Exception(message);
}
