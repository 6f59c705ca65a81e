using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace TwinGateway.Bench.Harness;

/// <summary>How a <see cref="ChildProcess"/> is asked to stop before it is killed.</summary>
internal enum ChildStop
{
    /// <summary>SIGTERM: twingw stops as on Ctrl+C.</summary>
    Terminate,

    /// <summary>Close stdin: tests/node/server.js shuts down when its stdin closes.</summary>
    CloseInput,
}

/// <summary>
/// A child process of a load harness (a server, a simulated PLC, the gateway): stdout and stderr pumped line by line into
/// a tail (and to an optional hook), a wait for the line that says it is ready, and a stop that is graceful first
/// (<see cref="ChildStop"/>) and then kills the process tree. Every child still running is killed when the harness exits,
/// whatever happens to the finally blocks.
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<int, Process> s_live = new();

    private readonly LineTail _log;
    private readonly Task _pumps;
    private readonly TaskCompletionSource<string> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ChildStop _stop;
    private readonly TimeSpan _grace;
    private int _disposed;

    static ChildProcess() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        foreach (var process in s_live.Values)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
            }
        }
    };

    private ChildProcess(string name, string commandLine, Process process, Func<string, bool>? isReady, Action<string>? onLine, int tailLines, ChildStop stop, TimeSpan grace)
    {
        Name = name;
        CommandLine = commandLine;
        Process = process;
        Pid = process.Id;
        _log = new LineTail(tailLines);
        _stop = stop;
        _grace = grace;
        s_live.TryAdd(Pid, process);
        void Line(string line)
        {
            if (isReady is not null && !_ready.Task.IsCompleted && isReady(line))
            {
                _ready.TrySetResult(line);
            }

            _log.Add(line);
            onLine?.Invoke(line);
        }

        _pumps = Task.WhenAll(PumpLinesAsync(process.StandardOutput, Line), PumpLinesAsync(process.StandardError, Line));
    }

    public string Name { get; }

    public string CommandLine { get; }

    public int Pid { get; }

    /// <summary>The process itself, for its CPU time.</summary>
    public Process Process { get; }

    public bool HasExited => Process.HasExited;

    public int ExitCode => Process.ExitCode;

    public string LogTail => _log.ToString();

    /// <summary>
    /// Starts <paramref name="startInfo"/> (stdout and stderr redirected; stdin too for <see cref="ChildStop.CloseInput"/>).
    /// <paramref name="isReady"/> picks the line <see cref="WaitReadyAsync"/> waits for; on stop the child gets
    /// <paramref name="grace"/> to exit before it is killed.
    /// </summary>
    public static ChildProcess Start(string name, string commandLine, ProcessStartInfo startInfo, Func<string, bool>? isReady = null,
        Action<string>? onLine = null, int tailLines = 200, ChildStop stop = ChildStop.Terminate, TimeSpan? grace = null)
    {
        ArgumentNullException.ThrowIfNull(startInfo);
        var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"could not start {commandLine}");
        return new ChildProcess(name, commandLine, process, isReady, onLine, tailLines, stop, grace ?? TimeSpan.FromSeconds(5));
    }

    /// <summary>
    /// Waits for the ready line and returns it; throws <see cref="ChildExitedException"/> with the output's tail when the
    /// process exits first, <see cref="TimeoutException"/> when the time runs out.
    /// </summary>
    public async Task<string> WaitReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        linked.CancelAfter(timeout);
        var exited = Process.WaitForExitAsync(linked.Token);
        var first = await Task.WhenAny(_ready.Task, exited).ConfigureAwait(false);
        if (first == _ready.Task)
        {
            return _ready.Task.Result;
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (exited.IsCompletedSuccessfully)
        {
            // Let the pumps take the last lines (the reason it stopped).
            await _pumps.WaitAsync(TimeSpan.FromSeconds(2)).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            throw new ChildExitedException($"{Name} exited with code {Process.ExitCode} before it was ready:\n{LogTail}");
        }

        throw new TimeoutException($"{Name} was not ready within {timeout.TotalSeconds:0} s:\n{LogTail}");
    }

    /// <summary>The graceful stop, up to the grace period, then the process tree is killed; the output is drained.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (!Process.HasExited)
            {
                if (_stop == ChildStop.CloseInput)
                {
                    Process.StandardInput.Close();
                }
                else if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
                {
                    _ = SysKill(Pid, 15);
                }

                await Process.WaitForExitAsync().WaitAsync(_grace).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is TimeoutException or IOException or InvalidOperationException)
        {
        }

        await KillAsync(Process).ConfigureAwait(false);
        s_live.TryRemove(Pid, out _);
        await _pumps.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        Process.Dispose();
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
    public static async Task KillAsync(Process process)
    {
        ArgumentNullException.ThrowIfNull(process);
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
            Console.Error.WriteLine($"harness: pid {process.Id} did not exit within 10 s of being killed");
        }
    }

    /// <summary>Runs <paramref name="startInfo"/> to completion with its output collected; killed after <paramref name="timeout"/>.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunToEndAsync(ProcessStartInfo startInfo, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(startInfo);
        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"could not start {startInfo.FileName}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken).WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await KillAsync(process).ConfigureAwait(false);
        }

        return (process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    /// <summary>Deletes a temporary folder, leaving it to the OS when a file in it is still held.</summary>
    public static void DeleteQuietly(string directory)
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

    [DllImport("libc", SetLastError = true, EntryPoint = "kill")]
    private static extern int SysKill(int pid, int signal);
}

/// <summary>A child process ended before it said it was ready.</summary>
internal sealed class ChildExitedException(string message) : Exception(message);

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
