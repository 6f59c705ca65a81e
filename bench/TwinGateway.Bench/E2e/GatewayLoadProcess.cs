using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace TwinGateway.Bench.E2e;

/// <summary>
/// A <c>dotnet twingw.dll ...</c> child of the gateway-load harness (a simulated PLC or the gateway): output pumped into
/// a tail (and to an optional line hook), a wait for the line that says it is ready, and a stop that is graceful first
/// (SIGTERM, as Ctrl+C) and then kills the process tree. Every child still running is killed when the harness exits.
/// </summary>
internal sealed partial class GatewayLoadChild : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<int, Process> s_live = new();

    private readonly Process _process;
    private readonly LineTail _log = new(200);
    private readonly Task _pumps;
    private readonly TaskCompletionSource<Match> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Regex _readyLine;
    private int _disposed;

    static GatewayLoadChild() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
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

    private GatewayLoadChild(string name, Process process, Regex readyLine, Action<string>? onLine, string commandLine)
    {
        Name = name;
        CommandLine = commandLine;
        _process = process;
        _readyLine = readyLine;
        Pid = process.Id;
        s_live.TryAdd(Pid, process);
        void Line(string line)
        {
            if (!_ready.Task.IsCompleted && _readyLine.Match(line) is { Success: true } match)
            {
                _ready.TrySetResult(match);
            }

            _log.Add(line);
            onLine?.Invoke(line);
        }

        _pumps = Task.WhenAll(NodePeer.PumpLinesAsync(process.StandardOutput, Line), NodePeer.PumpLinesAsync(process.StandardError, Line));
    }

    public string Name { get; }

    public string CommandLine { get; }

    public int Pid { get; }

    public bool HasExited => _process.HasExited;

    public string LogTail => _log.ToString();

    /// <summary>Starts <c>dotnet TWINGW ARGS</c> in the repository root with inherited DOTNET_GC* settings removed.</summary>
    public static GatewayLoadChild Start(string name, string twingwDll, IReadOnlyList<string> arguments, IReadOnlyList<KeyValuePair<string, string>> environment,
        Regex readyLine, Action<string>? onLine = null)
    {
        var startInfo = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = NodePeer.RepoRoot,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        startInfo.ArgumentList.Add(twingwDll);
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        // Measured with the runtime settings twingw ships with (twingw.runtimeconfig.json) unless --gateway-env says otherwise.
        foreach (var inherited in startInfo.Environment.Keys.Where(k => k.StartsWith("DOTNET_GC", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            startInfo.Environment.Remove(inherited);
        }

        foreach (var (key, value) in environment)
        {
            startInfo.Environment[key] = value;
        }

        var commandLine = string.Concat(environment.Select(kv => kv.Key + "=" + kv.Value + " ")) + "dotnet " +
            string.Join(' ', new[] { Path.GetRelativePath(NodePeer.RepoRoot, twingwDll) }.Concat(arguments));
        var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"could not start {commandLine}");
        return new GatewayLoadChild(name, process, readyLine, onLine, commandLine);
    }

    /// <summary>Waits for the ready line; throws with the output's tail when the process exits or the time runs out.</summary>
    public async Task<Match> WaitReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        linked.CancelAfter(timeout);
        var exited = _process.WaitForExitAsync(linked.Token);
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
            throw new ChildExitedException($"{Name} exited with code {_process.ExitCode} before it was ready:\n{LogTail}");
        }

        throw new TimeoutException($"{Name} was not ready within {timeout.TotalSeconds:0} s:\n{LogTail}");
    }

    [DllImport("libc", SetLastError = true, EntryPoint = "kill")]
    private static extern int SysKill(int pid, int signal);

    /// <summary>SIGTERM, up to 5 s to stop, then the process tree is killed.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (!_process.HasExited && (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()))
            {
                _ = SysKill(Pid, 15);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
        {
        }

        await NodePeer.StopAsync(_process).ConfigureAwait(false);
        s_live.TryRemove(Pid, out _);
        await _pumps.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        _process.Dispose();
    }

    /// <summary>Runs <c>dotnet TWINGW ARGS</c> to completion (the <c>twingw lines</c> client); killed after <paramref name="timeout"/>.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunToEndAsync(string twingwDll, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = NodePeer.RepoRoot,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        startInfo.ArgumentList.Add(twingwDll);
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("could not start dotnet twingw.dll");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken).WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await NodePeer.StopAsync(process).ConfigureAwait(false);
        }

        return (process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    public sealed class ChildExitedException(string message) : Exception(message);
}

/// <summary>One reading of a process from /proc: CPU (user + system over all its threads, dead ones included), memory, threads.</summary>
internal readonly record struct GatewayProcSample(TimeSpan User, TimeSpan System, long? RssBytes, long? PeakRssBytes, int? ThreadCount)
{
    /// <summary>USER_HZ: 100 on the Linux kernels the harness runs on.</summary>
    private const double TicksPerSecond = 100;

    public TimeSpan Cpu => User + System;

    public static GatewayProcSample Read(int pid)
    {
        var (user, system) = ProcStats.ReadCpu($"/proc/{pid}/stat");
        long? rss = null;
        long? hwm = null;
        int? threads = null;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = Number(line) * 1024;
                }
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    hwm = Number(line) * 1024;
                }
                else if (line.StartsWith("Threads:", StringComparison.Ordinal))
                {
                    threads = (int)Number(line);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
        }

        return new GatewayProcSample(user, system, rss, hwm, threads);
    }

    /// <summary>
    /// CPU of every process on the machine now, by pid (kernel threads included). The kernel scales each process's
    /// utime + stime to its exact run time, so unlike /proc/stat (tick-sampled: on a tickless kernel it misses the short
    /// bursts a 100 ms sampler makes) the sum is what the processes really used.
    /// </summary>
    public static Dictionary<int, TimeSpan> AllProcesses()
    {
        var result = new Dictionary<int, TimeSpan>();
        try
        {
            foreach (var directory in Directory.EnumerateDirectories("/proc"))
            {
                if (int.TryParse(Path.GetFileName(directory), NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid))
                {
                    var (user, system) = ProcStats.ReadCpu(Path.Combine(directory, "stat"));
                    result[pid] = user + system;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return result;
    }

    /// <summary>CPU per thread, by thread id, with the thread's name (.NET TP Worker, .NET Sockets, .NET Server GC...).</summary>
    public static Dictionary<int, (string Name, TimeSpan Cpu)> Threads(int pid)
    {
        var result = new Dictionary<int, (string, TimeSpan)>();
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                if (!int.TryParse(Path.GetFileName(task), NumberStyles.Integer, CultureInfo.InvariantCulture, out var tid))
                {
                    continue;
                }

                string name;
                try
                {
                    name = File.ReadAllText(Path.Combine(task, "comm")).Trim();
                }
                catch (IOException)
                {
                    continue;
                }

                var (user, system) = ProcStats.ReadCpu(Path.Combine(task, "stat"));
                result[tid] = (name, user + system);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return result;
    }

    private static long Number(string line)
    {
        var span = line.AsSpan(line.IndexOf(':', StringComparison.Ordinal) + 1).Trim();
        var space = span.IndexOf(' ');
        return long.Parse(space < 0 ? span : span[..space], CultureInfo.InvariantCulture);
    }
}
