using System.Diagnostics;
using TwinGateway.Bench.E2e;

namespace TwinGateway.Bench.Telemetry;

/// <summary>
/// This process's CPU (user + system, from /proc/self/stat), its threads' CPU by name, and its garbage collections at
/// one instant; <see cref="Between"/> turns two of them into the figures of the time between.
/// </summary>
internal sealed record ProcessSnapshot(long Timestamp, TimeSpan User, TimeSpan System, Dictionary<int, (string Name, TimeSpan Cpu)> Threads, int Gen0, int Gen1, int Gen2, long AllocatedBytes)
{
    public static ProcessSnapshot Take()
    {
        var pid = Environment.ProcessId;
        var proc = GatewayProcSample.Read(pid);
        return new ProcessSnapshot(Stopwatch.GetTimestamp(), proc.User, proc.System, GatewayProcSample.Threads(pid),
            GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalAllocatedBytes());
    }

    public static CpuFigures Between(ProcessSnapshot start, ProcessSnapshot end)
    {
        var elapsed = Stopwatch.GetElapsedTime(start.Timestamp, end.Timestamp);
        var user = end.User - start.User;
        var system = end.System - start.System;
        var threads = end.Threads
            .Select(t => (t.Value.Name, Cpu: t.Value.Cpu - (start.Threads.TryGetValue(t.Key, out var s) && s.Name == t.Value.Name ? s.Cpu : TimeSpan.Zero)))
            .GroupBy(t => t.Name, StringComparer.Ordinal)
            .Select(g => (Name: g.Key, Count: g.Count(), Cpu: g.Aggregate(TimeSpan.Zero, (sum, t) => sum + t.Cpu)))
            .Where(g => g.Cpu > TimeSpan.Zero)
            .OrderByDescending(g => g.Cpu)
            .Take(8)
            .Select(g => new ThreadCpu(g.Name, g.Count, Math.Round(g.Cpu.TotalMilliseconds), GatewayLoadHarness.Percent(g.Cpu, elapsed)))
            .ToList();
        return new CpuFigures(
            Math.Round(elapsed.TotalSeconds, 3),
            Math.Round((user + system).TotalMilliseconds),
            Math.Round(user.TotalMilliseconds),
            Math.Round(system.TotalMilliseconds),
            GatewayLoadHarness.Percent(user + system, elapsed),
            Math.Round(GatewayLoadHarness.Percent(user + system, elapsed) / Environment.ProcessorCount, 2),
            threads,
            new GcCounts(end.Gen0 - start.Gen0, end.Gen1 - start.Gen1, end.Gen2 - start.Gen2, Math.Round((end.AllocatedBytes - start.AllocatedBytes) / 1048576.0, 1)));
    }
}

/// <summary>
/// The process's resident memory: now, and the peak since <see cref="Reset"/>. Writing 5 to /proc/self/clear_refs
/// resets VmHWM (Linux 4.0+), so each part of the run reports its own peak rather than the process's.
/// </summary>
internal static class ResidentMemory
{
    /// <summary>A full, compacting collection (the large object heap too), so a part starts without the last one's garbage.</summary>
    public static void CollectGarbage()
    {
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
    }

    public static bool Reset()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public static (double? RssMb, double? PeakMb) Read()
    {
        var proc = GatewayProcSample.Read(Environment.ProcessId);
        return (GatewayLoadHarness.Mb(proc.RssBytes), GatewayLoadHarness.Mb(proc.PeakRssBytes));
    }
}

/// <summary>CPU over a stretch of the run. percentOfOneCore: 100 is one core busy all the time; percentOfMachine: of every core.</summary>
internal sealed record CpuFigures(double Seconds, double CpuMs, double UserMs, double SystemMs, double PercentOfOneCore, double PercentOfMachine, List<ThreadCpu> Threads, GcCounts Gc);

/// <summary>CPU of the threads of one name (DuckDB's own threads carry the process's name).</summary>
internal sealed record ThreadCpu(string Name, int Count, double CpuMs, double PercentOfOneCore);

internal sealed record GcCounts(int Gen0, int Gen1, int Gen2, double AllocatedMb);

/// <summary>
/// What DuckDB itself says it holds in memory for a database file (<c>duckdb_memory()</c>, through a second connection,
/// which shares the recorder's database instance), and its memory limit: the part of the RSS the managed heap does not explain.
/// </summary>
internal sealed record DuckDbMemory(string MemoryLimit, double UsedMb, List<DuckDbMemoryTag> Tags)
{
    public static DuckDbMemory? Read(string databasePath)
    {
        try
        {
            using var connection = new DuckDB.NET.Data.DuckDBConnection($"Data Source={databasePath}");
            connection.Open();
            using var limit = connection.CreateCommand();
            limit.CommandText = "SELECT current_setting('memory_limit')";
            var memoryLimit = Convert.ToString(limit.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) ?? "";
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT tag, memory_usage_bytes FROM duckdb_memory() WHERE memory_usage_bytes > 0 ORDER BY memory_usage_bytes DESC";
            using var reader = command.ExecuteReader();
            var tags = new List<DuckDbMemoryTag>();
            while (reader.Read())
            {
                tags.Add(new DuckDbMemoryTag(reader.GetString(0), Math.Round(Convert.ToInt64(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture) / 1048576.0, 1)));
            }

            return new DuckDbMemory(memoryLimit, Math.Round(tags.Sum(t => t.Mb), 1), tags);
        }
        catch (DuckDB.NET.Data.DuckDBException ex)
        {
            Console.Error.WriteLine($"telemetry: cannot read DuckDB's memory use: {ex.Message}");
            return null;
        }
    }
}

internal sealed record DuckDbMemoryTag(string Tag, double Mb);
