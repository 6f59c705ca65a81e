using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace TwinGateway.Bench.E2e;

/// <summary>
/// The server under test as a child process: our <c>twingw opcua serve --scale N</c> or node-opcua's
/// <c>tests/node/server.js --bench-items N</c>. Knows its endpoint, the node ids of its N items and how to read its CPU
/// and memory from /proc. Stopping is graceful first (SIGTERM for twingw, closing stdin for server.js), then a kill.
/// </summary>
internal sealed partial class ServerLoadProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly LineTail _log;
    private readonly Task _pumps;
    private readonly string? _tempDirectory;
    private int _disposed;

    private ServerLoadProcess(string name, string commandLine, Process process, LineTail log, Task pumps, string? tempDirectory, string endpointUrl, ushort namespaceIndex, Func<int, string> identifier, TimeSpan startup)
    {
        Name = name;
        CommandLine = commandLine;
        _process = process;
        _log = log;
        _pumps = pumps;
        _tempDirectory = tempDirectory;
        EndpointUrl = endpointUrl;
        NamespaceIndex = namespaceIndex;
        Identifier = identifier;
        Startup = startup;
        Pid = process.Id;
        s_live.TryAdd(process.Id, process);
    }

    /// <summary>Every server still running, killed on process exit whatever happens to the finally blocks.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, Process> s_live = new();

    static ServerLoadProcess() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
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

    public string Name { get; }

    /// <summary>Runtime settings that shape CPU and memory (GC mode), for the record.</summary>
    public string? Runtime { get; private init; }

    public string CommandLine { get; }

    public int Pid { get; }

    public string EndpointUrl { get; }

    public ushort NamespaceIndex { get; }

    /// <summary>The string identifier of item i (the NodeId is ns=NamespaceIndex;s=Identifier(i)).</summary>
    public Func<int, string> Identifier { get; }

    /// <summary>From process start to the listening line (address space built).</summary>
    public TimeSpan Startup { get; }

    public bool HasExited => _process.HasExited;

    public string LogTail => _log.ToString();

    /// <summary>CPU time, RSS and peak RSS now; RSS figures are null once the process is gone.</summary>
    public ProcStats Stats() => ProcStats.Read(Pid);

    /// <summary>Builds src/TwinGateway.Host in Release and returns its twingw.dll.</summary>
    public static async Task<string> BuildTwingwAsync(CancellationToken cancellationToken)
    {
        var project = Path.Combine(NodePeer.RepoRoot, "src", "TwinGateway.Host", "TwinGateway.Host.csproj");
        var startInfo = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = NodePeer.RepoRoot,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "build", project, "-c", "Release", "-nologo", "-v", "q" })
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("could not start dotnet build");
        var output = new LineTail(60);
        var pumps = Task.WhenAll(NodePeer.PumpLinesAsync(process.StandardOutput, output.Add), NodePeer.PumpLinesAsync(process.StandardError, output.Add));
        try
        {
            await process.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromMinutes(10), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await NodePeer.StopAsync(process).ConfigureAwait(false);
        }

        await pumps.ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet build {project} -c Release failed ({process.ExitCode}):\n{output}");
        }

        var dll = DefaultTwingw();
        return File.Exists(dll) ? dll : throw new InvalidOperationException($"the build succeeded but {dll} does not exist");
    }

    /// <summary>Where the Release build of src/TwinGateway.Host puts twingw.dll.</summary>
    public static string DefaultTwingw() => Path.Combine(NodePeer.RepoRoot, "src", "TwinGateway.Host", "bin", "Release", "net10.0", "twingw.dll");

    /// <summary><c>dotnet twingw.dll opcua serve --port 0 --scale N</c>; waits for "listening on URL".</summary>
    public static async Task<ServerLoadProcess> StartTwingwAsync(string twingwDll, int scale, IReadOnlyList<KeyValuePair<string, string>> environment, TimeSpan startTimeout, CancellationToken cancellationToken)
    {
        var arguments = new[] { twingwDll, "opcua", "serve", "--port", "0", "--scale", scale.ToString(CultureInfo.InvariantCulture) };
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
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        // The server's own runtime settings (twingw.runtimeconfig.json: the web SDK turns on server GC), measured as
        // shipped unless --server-env overrides them.
        foreach (var inherited in startInfo.Environment.Keys.Where(k => k.StartsWith("DOTNET_GC", StringComparison.OrdinalIgnoreCase) || k.StartsWith("DOTNET_gc", StringComparison.Ordinal)).ToList())
        {
            startInfo.Environment.Remove(inherited);
        }

        foreach (var (key, value) in environment)
        {
            startInfo.Environment[key] = value;
        }

        var clock = Stopwatch.StartNew();
        var process = Process.Start(startInfo) ?? throw new InvalidOperationException("could not start dotnet twingw.dll");
        var log = new LineTail(200);
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stdout = NodePeer.PumpLinesAsync(process.StandardOutput, line =>
        {
            if (!listening.Task.IsCompleted && ListeningLine().Match(line) is { Success: true } match)
            {
                listening.TrySetResult(match.Groups[1].Value);
            }

            log.Add(line);
        });
        var stderr = NodePeer.PumpLinesAsync(process.StandardError, log.Add);
        var pumps = Task.WhenAll(stdout, stderr);
        var commandLine = string.Concat(environment.Select(kv => kv.Key + "=" + kv.Value + " ")) + "dotnet " + string.Join(' ', arguments.Select((a, i) => i == 0 ? Path.GetRelativePath(NodePeer.RepoRoot, a) : a));
        var url = await WaitListeningAsync(process, listening.Task, log, "twingw", startTimeout, cancellationToken).ConfigureAwait(false);
        return new ServerLoadProcess("twingateway", commandLine, process, log, pumps, null, url, 1, Scale(scale), clock.Elapsed)
        {
            Runtime = RuntimeSettings(twingwDll, environment),
        };
    }

    /// <summary>GC settings from twingw.runtimeconfig.json and the environment given (what decides its memory).</summary>
    public static string RuntimeSettings(string twingwDll, IReadOnlyList<KeyValuePair<string, string>> environment)
    {
        var parts = new List<string>();
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(twingwDll, ".runtimeconfig.json")));
            if (json.RootElement.GetProperty("runtimeOptions").TryGetProperty("configProperties", out var properties))
            {
                foreach (var property in properties.EnumerateObject().Where(p => p.Name.StartsWith("System.GC.", StringComparison.Ordinal) || p.Name.StartsWith("System.Threading.", StringComparison.Ordinal)))
                {
                    parts.Add($"{property.Name}={property.Value}");
                }
            }
        }
        catch (Exception ex) when (ex is IOException or JsonException or KeyNotFoundException)
        {
            parts.Add("runtimeconfig unreadable");
        }

        parts.AddRange(environment.Select(kv => $"{kv.Key}={kv.Value}"));
        return parts.Count > 0 ? string.Join(", ", parts) : "runtime defaults (workstation concurrent GC)";
    }

    /// <summary>The node ids DemoNodes gives the Scale variables: Scale.00000 (at least five digits).</summary>
    private static Func<int, string> Scale(int count)
    {
        var digits = Math.Max(5, (count - 1).ToString(CultureInfo.InvariantCulture).Length);
        var format = "D" + digits.ToString(CultureInfo.InvariantCulture);
        return i => "Scale." + i.ToString(format, CultureInfo.InvariantCulture);
    }

    /// <summary><c>node tests/node/server.js --port P --bench-items N</c>; waits for its listening JSON line.</summary>
    public static async Task<ServerLoadProcess> StartNodeAsync(int benchItems, TimeSpan startTimeout, CancellationToken cancellationToken)
    {
        var tempDirectory = Directory.CreateTempSubdirectory("twingateway-server-load-").FullName;
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    return await LaunchNodeAsync(benchItems, NodePeer.FreePort(), tempDirectory, startTimeout, cancellationToken).ConfigureAwait(false);
                }
                catch (ExitedEarlyException) when (attempt < 3)
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

    private static async Task<ServerLoadProcess> LaunchNodeAsync(int benchItems, int port, string tempDirectory, TimeSpan startTimeout, CancellationToken cancellationToken)
    {
        var arguments = new[]
        {
            "--port", port.ToString(CultureInfo.InvariantCulture),
            "--bench-items", benchItems.ToString(CultureInfo.InvariantCulture),
            "--pki", Path.Combine(tempDirectory, "pki"),
        };
        var environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["XDG_CONFIG_HOME"] = Path.Combine(tempDirectory, "config") };
        var clock = Stopwatch.StartNew();
        var process = NodePeer.Start("server.js", arguments, environment);
        var log = new LineTail(200);
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stdout = NodePeer.PumpLinesAsync(process.StandardOutput, line =>
        {
            if (!listening.Task.IsCompleted && line.StartsWith('{'))
            {
                try
                {
                    using var document = JsonDocument.Parse(line);
                    if (document.RootElement.TryGetProperty("event", out var e) && e.ValueEquals("listening"))
                    {
                        listening.TrySetResult(line);
                        return;
                    }
                }
                catch (JsonException)
                {
                }
            }

            log.Add(line);
        });
        var stderr = NodePeer.PumpLinesAsync(process.StandardError, log.Add);
        var pumps = Task.WhenAll(stdout, stderr);
        var line = await WaitListeningAsync(process, listening.Task, log, "server.js", startTimeout, cancellationToken).ConfigureAwait(false);
        using var json = JsonDocument.Parse(line);
        var url = json.RootElement.GetProperty("endpointUrl").GetString()!;
        var ns = (ushort)json.RootElement.GetProperty("namespaceIndex").GetInt32();
        var commandLine = "node tests/node/server.js --port " + port.ToString(CultureInfo.InvariantCulture) + " --bench-items " + benchItems.ToString(CultureInfo.InvariantCulture);
        return new ServerLoadProcess("node-opcua", commandLine, process, log, pumps, tempDirectory, url, ns, i => "Bench." + i.ToString(CultureInfo.InvariantCulture), clock.Elapsed);
    }

    private static async Task<string> WaitListeningAsync(Process process, Task<string> listening, LineTail log, string what, TimeSpan startTimeout, CancellationToken cancellationToken)
    {
        var started = false;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(startTimeout);
            var exited = process.WaitForExitAsync(timeout.Token);
            var first = await Task.WhenAny(listening, exited).ConfigureAwait(false);
            if (first == listening)
            {
                started = true;
                return listening.Result;
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (exited.IsCompletedSuccessfully)
            {
                throw new ExitedEarlyException($"{what} exited with code {process.ExitCode} before listening:\n{log}");
            }

            throw new TimeoutException($"{what} did not report listening within {startTimeout.TotalSeconds:0} s:\n{log}");
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

    [GeneratedRegex(@"listening on (opc\.tcp://\S+)")]
    private static partial Regex ListeningLine();

    [DllImport("libc", SetLastError = true, EntryPoint = "kill")]
    private static extern int SysKill(int pid, int signal);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (!_process.HasExited)
            {
                if (_tempDirectory is not null)
                {
                    // server.js shuts down when its stdin closes.
                    _process.StandardInput.Close();
                }
                else if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
                {
                    _ = SysKill(_process.Id, 15); // SIGTERM: twingw stops like on Ctrl+C
                }

                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is TimeoutException or IOException or InvalidOperationException)
        {
        }

        await NodePeer.StopAsync(_process).ConfigureAwait(false);
        s_live.TryRemove(Pid, out _);
        await _pumps.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        _process.Dispose();
        if (_tempDirectory is not null)
        {
            DeleteQuietly(_tempDirectory);
        }
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

    private sealed class ExitedEarlyException(string message) : Exception(message);
}

/// <summary>One reading of a process from /proc: CPU (user + system), resident set now and its peak, threads.</summary>
internal readonly record struct ProcStats(TimeSpan Cpu, TimeSpan UserCpu, TimeSpan SystemCpu, long? RssBytes, long? PeakRssBytes, int? Threads)
{
    /// <summary>USER_HZ: 100 on every Linux the harness runs on (x86-64, arm64).</summary>
    private const double TicksPerSecond = 100;

    public static ProcStats Read(int pid)
    {
        var (user, system) = ReadCpu($"/proc/{pid}/stat");
        long? rss = null;
        long? hwm = null;
        int? threads = null;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = ParseKb(line);
                }
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    hwm = ParseKb(line);
                }
                else if (line.StartsWith("Threads:", StringComparison.Ordinal))
                {
                    threads = int.Parse(line.AsSpan(8).Trim(), CultureInfo.InvariantCulture);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return new ProcStats(user + system, user, system, rss, hwm, threads);
    }

    /// <summary>utime and stime of a /proc/PID/stat or /proc/PID/task/TID/stat file (zero when it is gone).</summary>
    public static (TimeSpan User, TimeSpan System) ReadCpu(string statFile)
    {
        try
        {
            var text = File.ReadAllText(statFile);
            // The command name is in parentheses and may contain spaces: fields are counted after the last ')'.
            var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            // fields[0] is field 3 (state); utime is field 14, stime field 15.
            var user = long.Parse(fields[11], CultureInfo.InvariantCulture);
            var system = long.Parse(fields[12], CultureInfo.InvariantCulture);
            return (TimeSpan.FromSeconds(user / TicksPerSecond), TimeSpan.FromSeconds(system / TicksPerSecond));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return (TimeSpan.Zero, TimeSpan.Zero);
        }
    }

    /// <summary>CPU per thread name (.NET TP Worker, .NET Sockets, node, libuv-worker...), summed over threads of that name.</summary>
    public static Dictionary<string, TimeSpan> ThreadCpu(int pid)
    {
        var result = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                string name;
                try
                {
                    name = File.ReadAllText(Path.Combine(task, "comm")).Trim();
                }
                catch (IOException)
                {
                    continue;
                }

                var (user, system) = ReadCpu(Path.Combine(task, "stat"));
                var key = name + " #" + Path.GetFileName(task);
                result[key] = user + system;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return result;
    }

    private static long ParseKb(string line)
    {
        var span = line.AsSpan(line.IndexOf(':') + 1).Trim();
        var space = span.IndexOf(' ');
        return long.Parse(space < 0 ? span : span[..space], CultureInfo.InvariantCulture) * 1024;
    }
}

/// <summary>The machine's CPU counters from /proc/stat, to tell whether the two cores were saturated.</summary>
internal readonly record struct MachineCpu(long Busy, long Idle, long Steal)
{
    public static MachineCpu Read()
    {
        try
        {
            var line = File.ReadLines("/proc/stat").First(l => l.StartsWith("cpu ", StringComparison.Ordinal));
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            // user nice system idle iowait irq softirq steal guest guest_nice (guest is already in user)
            var idle = f[3] + f[4];
            var steal = f.Length > 7 ? f[7] : 0;
            var busy = f[0] + f[1] + f[2] + f[5] + f[6];
            return new MachineCpu(busy, idle, steal);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or FormatException)
        {
            return default;
        }
    }

    /// <summary>Share of all cores busy between two readings (0..1), steal counted apart.</summary>
    public static (double Busy, double Steal) Between(MachineCpu start, MachineCpu end)
    {
        var busy = end.Busy - start.Busy;
        var idle = end.Idle - start.Idle;
        var steal = end.Steal - start.Steal;
        var total = busy + idle + steal;
        return total > 0 ? (Math.Round((double)busy / total, 3), Math.Round((double)steal / total, 3)) : (0, 0);
    }
}
