using System.Diagnostics;
using System.Globalization;

namespace TwinGateway.Bench.E2e;

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
