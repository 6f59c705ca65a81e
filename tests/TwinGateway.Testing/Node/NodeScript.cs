using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace TwinGateway.Testing;

/// <summary>What a node script printed.</summary>
/// <param name="JsonLines">Every stdout line that parsed as a JSON value, in order.</param>
/// <param name="StdoutLines">Every stdout line.</param>
/// <param name="StderrTail">The last lines of stderr.</param>
/// <param name="ExitCode">The process exit code.</param>
public sealed record NodeScriptResult(
    IReadOnlyList<JsonElement> JsonLines,
    IReadOnlyList<string> StdoutLines,
    string StderrTail,
    int ExitCode)
{
    /// <summary>The single JSON line the script printed; throws when there is not exactly one.</summary>
    public JsonElement SingleJson => JsonLines.Count == 1
        ? JsonLines[0]
        : throw new InvalidOperationException(
            $"Expected one JSON line on stdout, got {JsonLines.Count}:\n{string.Join('\n', StdoutLines)}\nstderr:\n{StderrTail}");
}

/// <summary>Runs a script in tests/node and collects its stdout JSON lines.</summary>
public static class NodeScript
{
    /// <summary>
    /// XDG_CONFIG_HOME for client scripts: node-opcua's client makes a certificate there on first use, which takes a
    /// second or two, so every run of this test process shares one folder.
    /// </summary>
    public static string ClientConfigHome { get; } =
        Path.Combine(Path.GetTempPath(), "twingateway-node-opcua-client");

    /// <summary>
    /// Runs <c>node tests/node/{script} args...</c>, waits up to <paramref name="timeout"/>, and returns its output.
    /// Throws <see cref="InvalidOperationException"/> (with the stderr tail) on a non-zero exit and
    /// <see cref="TimeoutException"/> when it runs too long (the process tree is killed).
    /// </summary>
    public static async Task<NodeScriptResult> RunAsync(
        string script,
        IEnumerable<string> arguments,
        TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(script);
        ArgumentNullException.ThrowIfNull(arguments);
        NodeEnvironment.EnsureAvailable();
        var scriptPath = NodeEnvironment.Script(script);
        var args = arguments.ToArray();

        var env = new Dictionary<string, string>(StringComparer.Ordinal) { ["XDG_CONFIG_HOME"] = ClientConfigHome };
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                env[key] = value;
            }
        }

        Directory.CreateDirectory(env["XDG_CONFIG_HOME"]);
        using var process = new Process { StartInfo = CreateStartInfo(scriptPath, args, env) };
        var stdoutLines = new List<string>();
        var stderr = new LineRingBuffer(200);
        process.Start();
        process.StandardInput.Close();
        var stdoutTask = PumpLinesAsync(process.StandardOutput, line =>
        {
            lock (stdoutLines)
            {
                stdoutLines.Add(line);
            }
        });
        var stderrTask = PumpLinesAsync(process.StandardError, stderr.Add);

        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutCts.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(timeoutCts.Token);
        }
        catch (OperationCanceledException)
        {
            KillQuietly(process);
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException(
                $"node {script} {string.Join(' ', args)} did not finish within {timeout.TotalSeconds:0.#} s; stderr tail:\n{stderr}");
        }

        await Task.WhenAll(stdoutTask, stderrTask).WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None);

        string[] lines;
        lock (stdoutLines)
        {
            lines = [.. stdoutLines];
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"node {script} {string.Join(' ', args)} exited with code {process.ExitCode}; stdout:\n{string.Join('\n', lines)}\nstderr tail:\n{stderr}");
        }

        var json = new List<JsonElement>();
        foreach (var line in lines)
        {
            if (TryParseJson(line, out var element))
            {
                json.Add(element);
            }
        }

        return new NodeScriptResult(json, lines, stderr.ToString(), process.ExitCode);
    }

    public static ProcessStartInfo CreateStartInfo(
        string scriptPath,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string> environment)
    {
        var startInfo = new ProcessStartInfo(NodeEnvironment.NodeExecutable)
        {
            WorkingDirectory = NodeEnvironment.NodeDirectory,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            CreateNoWindow = true,
        };
        startInfo.ArgumentList.Add(scriptPath);
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            startInfo.Environment[key] = value;
        }

        // Colour codes only clutter captured logs.
        startInfo.Environment["FORCE_COLOR"] = "0";
        startInfo.Environment["NO_COLOR"] = "1";
        return startInfo;
    }

    public static async Task PumpLinesAsync(StreamReader reader, Action<string> onLine)
    {
        try
        {
            while (await reader.ReadLineAsync() is { } line)
            {
                onLine(line);
            }
        }
        catch (IOException)
        {
            // The process went away mid-line.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public static bool TryParseJson(string line, out JsonElement element)
    {
        element = default;
        var trimmed = line.AsSpan().Trim();
        if (trimmed.IsEmpty || (trimmed[0] != '{' && trimmed[0] != '['))
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(line);
            element = document.RootElement.Clone();
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    public static void KillQuietly(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // Exiting while we asked.
        }
    }
}

/// <summary>The last N lines written to it; thread-safe. Keeps a child's pipe drained without growing.</summary>
public sealed class LineRingBuffer
{
    private readonly Queue<string> _lines = new();
    private readonly int _capacity;

    public LineRingBuffer(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _capacity = capacity;
    }

    public void Add(string line)
    {
        lock (_lines)
        {
            if (_lines.Count == _capacity)
            {
                _lines.Dequeue();
            }

            _lines.Enqueue(line);
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
