using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace TwinGateway.Bench.E2e;

/// <summary>
/// The server under test as a child process: our <c>twingw opcua serve --scale N</c> or node-opcua's
/// <c>tests/node/server.js --bench-items N</c> (<see cref="BenchServer"/>). Knows its endpoint, the node ids of its N items
/// and how to read its CPU and memory from /proc. Stopping is graceful first (SIGTERM for twingw, closing stdin for
/// server.js), then a kill (<see cref="ChildProcess"/>).
/// </summary>
internal sealed partial class ServerLoadProcess : IAsyncDisposable
{
    private readonly IAsyncDisposable _owner;
    private readonly Func<bool> _hasExited;
    private readonly Func<string> _logTail;

    private ServerLoadProcess(string name, string commandLine, int pid, IAsyncDisposable owner, Func<bool> hasExited, Func<string> logTail,
        string endpointUrl, ushort namespaceIndex, Func<int, string> identifier, TimeSpan startup)
    {
        Name = name;
        CommandLine = commandLine;
        Pid = pid;
        _owner = owner;
        _hasExited = hasExited;
        _logTail = logTail;
        EndpointUrl = endpointUrl;
        NamespaceIndex = namespaceIndex;
        Identifier = identifier;
        Startup = startup;
    }

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

    public bool HasExited => _hasExited();

    public string LogTail => _logTail();

    /// <summary>CPU time, RSS and peak RSS now; RSS figures are null once the process is gone.</summary>
    public ProcStats Stats() => ProcStats.Read(Pid);

    /// <summary><c>dotnet twingw.dll opcua serve --port 0 --scale N</c>; waits for "listening on URL".</summary>
    public static async Task<ServerLoadProcess> StartTwingwAsync(string twingwDll, int scale, IReadOnlyList<KeyValuePair<string, string>> environment, TimeSpan startTimeout, CancellationToken cancellationToken,
        IReadOnlyList<string>? extraArguments = null)
    {
        // The server's own runtime settings (twingw.runtimeconfig.json: the web SDK turns on server GC), measured as
        // shipped unless --server-env overrides them.
        string[] arguments = ["opcua", "serve", "--port", "0", "--scale", scale.ToString(CultureInfo.InvariantCulture), .. extraArguments ?? []];
        var clock = Stopwatch.StartNew();
        var child = ChildProcess.Start("twingw", ChildCommands.TwingwCommandLine(twingwDll, arguments, environment),
            ChildCommands.Twingw(twingwDll, arguments, environment), line => ListeningLine().IsMatch(line));
        try
        {
            var url = ListeningLine().Match(await child.WaitReadyAsync(startTimeout, cancellationToken).ConfigureAwait(false)).Groups[1].Value;
            return new ServerLoadProcess("twingateway", child.CommandLine, child.Pid, child, () => child.HasExited, () => child.LogTail, url, 1, Scale(scale), clock.Elapsed)
            {
                Runtime = RuntimeSettings(twingwDll, environment),
            };
        }
        catch
        {
            await child.DisposeAsync().ConfigureAwait(false);
            throw;
        }
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
        var server = await BenchServer.StartAsync(benchItems, startTimeout, "twingateway-server-load-", cancellationToken).ConfigureAwait(false);
        return new ServerLoadProcess("node-opcua", server.CommandLine, server.Pid, server, () => server.HasExited, () => server.LogTail,
            server.EndpointUrl, (ushort)server.NamespaceIndex, i => "Bench." + i.ToString(CultureInfo.InvariantCulture), server.Startup);
    }

    [GeneratedRegex(@"listening on (opc\.tcp://\S+)")]
    private static partial Regex ListeningLine();

    public ValueTask DisposeAsync() => _owner.DisposeAsync();
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
