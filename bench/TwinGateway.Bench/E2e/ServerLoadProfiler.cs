using System.Diagnostics.Tracing;
using System.Globalization;
using System.Text;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Runtime;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace TwinGateway.Bench.E2e;

/// <summary>
/// <c>server-load --profile S</c>: after phase A's window, with the load still running, a CPU sample of our server
/// (EventPipe's sample profiler, what dotnet-trace's cpu-sampling profile collects) and a heap snapshot (a dump read
/// with ClrMD, what dotnet-gcdump reports), both taken through the runtime's diagnostics port: no tool to install.
/// The text report names the hot methods and the types that hold the memory.
/// </summary>
internal static class ServerLoadProfiler
{
    public static async Task<string> ProfileAsync(int pid, TimeSpan duration, string workDirectory, CancellationToken cancellationToken)
    {
        var report = new StringBuilder();
        var trace = Path.Combine(workDirectory, "server.nettrace");
        try
        {
            await CollectCpuAsync(pid, duration, trace, cancellationToken).ConfigureAwait(false);
            report.Append(AnalyzeCpu(trace, duration));
        }
        catch (Exception ex) when (ex is IOException or ServerNotAvailableException or UnsupportedCommandException or InvalidOperationException or TimeoutException)
        {
            report.AppendLine(CultureInfo.InvariantCulture, $"CPU profile failed: {ex.GetType().Name}: {ex.Message}");
        }

        var dump = Path.Combine(workDirectory, "server.dmp");
        try
        {
            var client = new DiagnosticsClient(pid);
            await client.WriteDumpAsync(DumpType.WithHeap, dump, logDumpGeneration: false, cancellationToken).ConfigureAwait(false);
            report.Append(await InChildAsync("heap", dump, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception ex) when (ex is IOException or ServerNotAvailableException or UnsupportedCommandException or InvalidOperationException or ClrDiagnosticsException or DiagnosticsClientException)
        {
            report.AppendLine(CultureInfo.InvariantCulture, $"heap snapshot failed: {ex.GetType().Name}: {ex.Message}");
        }
        finally
        {
            TryDelete(dump);
            TryDelete(trace);
            TryDelete(Path.ChangeExtension(trace, ".etlx"));
        }

        return report.ToString();
    }

    /// <summary>
    /// The server's own ServerDiagnostics counters (cumulative since it started), read from a heap dump: the only way
    /// to see queue overwrites from outside, since the server does not publish them in its address space. Writing the
    /// dump stalls the server for a second or two, so the harness takes it only outside the measurement window.
    /// </summary>
    public static async Task<ServerCounters?> ReadCountersAsync(int pid, CancellationToken cancellationToken)
    {
        var work = Directory.CreateTempSubdirectory("twingateway-server-counters-").FullName;
        var dump = Path.Combine(work, "server.dmp");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            await new DiagnosticsClient(pid).WriteDumpAsync(DumpType.WithHeap, dump, logDumpGeneration: false, cancellationToken).ConfigureAwait(false);
            var stalled = clock.Elapsed;
            var json = await InChildAsync("counters", dump, cancellationToken).ConfigureAwait(false);
            var counters = System.Text.Json.JsonSerializer.Deserialize<ServerCounters>(json);
            return counters is null ? null : counters with { DumpS = Math.Round(stalled.TotalSeconds, 2) };
        }
        catch (Exception ex) when (ex is IOException or ServerNotAvailableException or UnsupportedCommandException or InvalidOperationException or DiagnosticsClientException or ArgumentException or System.Text.Json.JsonException or TimeoutException)
        {
            Console.Error.WriteLine($"server-load: reading the server's counters failed: {ex.GetType().Name}: {ex.Message}");
            return null;
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>
    /// Reads a dump in a child process (<c>server-load-dump heap|counters DUMP</c>): ClrMD loads the runtime's native
    /// DAC, and unloading it inside this long-running process crashed it (a thread-pool thread jumped into the unmapped
    /// library), so the harness never loads it itself.
    /// </summary>
    private static async Task<string> InChildAsync(string what, string dump, CancellationToken cancellationToken)
    {
        var host = Environment.ProcessPath ?? "dotnet";
        var startInfo = new System.Diagnostics.ProcessStartInfo(host)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            startInfo.ArgumentList.Add(typeof(ServerLoadProfiler).Assembly.Location);
        }

        foreach (var argument in new[] { "server-load-dump", what, dump })
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = System.Diagnostics.Process.Start(startInfo) ?? throw new InvalidOperationException("could not start the dump reader");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromMinutes(5), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        var output = await stdout.ConfigureAwait(false);
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"dump reader failed ({process.ExitCode}): {await stderr.ConfigureAwait(false)}");
    }

    /// <summary><c>server-load-dump heap|counters DUMP</c>: the child side of <see cref="InChildAsync"/>.</summary>
    public static int DumpMain(string[] args)
    {
        if (args is not [var what, var dump] || !File.Exists(dump))
        {
            Console.Error.WriteLine("usage: server-load-dump heap|counters DUMP");
            return 2;
        }

        if (what == "heap")
        {
            Console.Write(AnalyzeHeap(dump));
            return 0;
        }

        using var target = DataTarget.LoadDump(dump);
        using var runtime = target.ClrVersions[0].CreateRuntime();
        foreach (var obj in runtime.Heap.EnumerateObjects())
        {
            if (obj.Type?.Name == "TwinGateway.OpcUa.Server.ServerDiagnostics")
            {
                Console.Write(System.Text.Json.JsonSerializer.Serialize(new ServerCounters(
                    obj.ReadField<long>("_notifications"),
                    obj.ReadField<long>("_publishResponses"),
                    obj.ReadField<long>("_queueOverflows"),
                    obj.ReadField<long>("_bytesSent"),
                    obj.ReadField<long>("_requests"),
                    0)));
                return 0;
            }
        }

        Console.Error.WriteLine("no ServerDiagnostics object in the dump");
        return 1;
    }

    private static async Task CollectCpuAsync(int pid, TimeSpan duration, string path, CancellationToken cancellationToken)
    {
        var client = new DiagnosticsClient(pid);
        var providers = new List<EventPipeProvider>
        {
            new("Microsoft-DotNETCore-SampleProfiler", EventLevel.Informational),
            new("Microsoft-Windows-DotNETRuntime", EventLevel.Informational, (long)ClrTraceEventParser.Keywords.Default),
        };
        using var session = client.StartEventPipeSession(providers, requestRundown: true, circularBufferMB: 512);
        await using var file = File.Create(path);
        var copy = session.EventStream.CopyToAsync(file, cancellationToken);
        await Task.Delay(duration, cancellationToken).ConfigureAwait(false);
        await session.StopAsync(cancellationToken).ConfigureAwait(false);
        await copy.WaitAsync(TimeSpan.FromSeconds(120), cancellationToken).ConfigureAwait(false);
    }

    private static readonly string[] s_waits =
    [
        "System.Threading.Monitor.Wait", "System.Threading.WaitHandle.Wait", "System.Threading.LowLevelLifoSemaphore.Wait",
        "System.Threading.LowLevelMonitor.Wait", "System.Threading.Thread.Sleep", "System.Net.Sockets.SocketAsyncEngine.EventLoop",
        "System.Threading.SemaphoreSlim.Wait", "System.Threading.ManualResetEventSlim.Wait", "System.Threading.PortableThreadPool+GateThread",
        "System.Threading.TimerQueue.TimerThread", "System.Threading.WaitSubsystem", "System.Threading.LowLevelLifoSemaphore",
    ];

    private static string AnalyzeCpu(string path, TimeSpan duration)
    {
        var etlxPath = TraceLog.CreateFromEventPipeDataFile(path);
        using var log = new TraceLog(etlxPath);
        var exclusive = new Dictionary<string, int>(StringComparer.Ordinal);
        var inclusive = new Dictionary<string, int>(StringComparer.Ordinal);
        var nativeAt = new Dictionary<string, int>(StringComparer.Ordinal);
        var managedSamples = 0;
        var externalSamples = 0;
        var waitingSamples = 0;
        foreach (var sample in log.Events)
        {
            if (sample.ProviderName != "Microsoft-DotNETCore-SampleProfiler")
            {
                continue;
            }

            var stack = sample.CallStack();
            if (stack is null)
            {
                continue;
            }

            var frames = new List<string>();
            for (var frame = stack; frame is not null; frame = frame.Caller)
            {
                var name = frame.CodeAddress.FullMethodName;
                frames.Add(string.IsNullOrEmpty(name) ? $"[{frame.CodeAddress.ModuleName}]" : name);
            }

            if (frames.Count == 0)
            {
                continue;
            }

            // ThreadSample's Type: 1 external (native code or waiting), 2 managed code.
            var type = sample.PayloadByName("Type") is { } t ? Convert.ToInt32(t, CultureInfo.InvariantCulture) : 0;
            if (type == 2)
            {
                managedSamples++;
                Add(exclusive, frames[0]);
                foreach (var f in frames.Distinct(StringComparer.Ordinal))
                {
                    Add(inclusive, f);
                }
            }
            else
            {
                // In native code: either waiting (idle threads) or working there (GC, socket syscalls, allocation helpers).
                var managed = frames.FirstOrDefault(f => !f.StartsWith('['));
                if (managed is null || s_waits.Any(w => managed.StartsWith(w, StringComparison.Ordinal)) || frames.Any(f => s_waits.Any(w => f.StartsWith(w, StringComparison.Ordinal))))
                {
                    waitingSamples++;
                    continue;
                }

                externalSamples++;
                Add(nativeAt, managed);
                foreach (var f in frames.Where(f => !f.StartsWith('[')).Distinct(StringComparer.Ordinal))
                {
                    Add(inclusive, f);
                }
            }
        }

        var text = new StringBuilder();
        var busy = managedSamples + externalSamples;
        text.AppendLine(CultureInfo.InvariantCulture, $"== CPU samples of the server over {duration.TotalSeconds:0} s (EventPipe sample profiler, ~1 sample/ms per thread)");
        text.AppendLine(CultureInfo.InvariantCulture, $"managed code: {managedSamples}, native code called from managed (not waiting): {externalSamples}, waiting: {waitingSamples}");
        text.AppendLine();
        text.AppendLine("-- exclusive (leaf frame, samples in managed code)");
        foreach (var (name, count) in exclusive.OrderByDescending(kv => kv.Value).Take(40))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{Percent(count, busy),7} {count,7}  {name}");
        }

        text.AppendLine();
        text.AppendLine("-- in native code (runtime: allocation, GC, locks; kernel: socket I/O), by the managed frame that called it");
        foreach (var (name, count) in nativeAt.OrderByDescending(kv => kv.Value).Take(25))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{Percent(count, busy),7} {count,7}  {name}");
        }

        text.AppendLine();
        text.AppendLine("-- inclusive (method on the stack, not waiting)");
        foreach (var (name, count) in inclusive.Where(kv => !kv.Key.StartsWith('[')).OrderByDescending(kv => kv.Value).Take(60))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{Percent(count, busy),7} {count,7}  {name}");
        }

        text.AppendLine();
        return text.ToString();
    }

    private static string AnalyzeHeap(string dumpPath)
    {
        using var target = DataTarget.LoadDump(dumpPath);
        using var runtime = target.ClrVersions[0].CreateRuntime();
        var heap = runtime.Heap;
        var all = new Dictionary<string, (long Count, long Bytes)>(StringComparer.Ordinal);
        var live = new Dictionary<string, (long Count, long Bytes)>(StringComparer.Ordinal);
        var marked = new HashSet<ulong>();
        var stack = new Stack<ulong>();
        foreach (var root in heap.EnumerateRoots())
        {
            if (root.Object != 0 && marked.Add(root.Object))
            {
                stack.Push(root.Object);
            }
        }

        while (stack.Count > 0)
        {
            var obj = heap.GetObject(stack.Pop());
            if (!obj.IsValid)
            {
                continue;
            }

            Add(live, obj.Type?.Name ?? "?", (long)obj.Size);
            foreach (var reference in obj.EnumerateReferenceAddresses(carefully: true))
            {
                if (reference != 0 && marked.Add(reference))
                {
                    stack.Push(reference);
                }
            }
        }

        long total = 0;
        long free = 0;
        foreach (var obj in heap.EnumerateObjects())
        {
            if (!obj.IsValid)
            {
                continue;
            }

            var name = obj.Type?.Name ?? "?";
            if (obj.IsFree)
            {
                free += (long)obj.Size;
                continue;
            }

            total += (long)obj.Size;
            Add(all, name, (long)obj.Size);
        }

        var text = new StringBuilder();
        var liveBytes = live.Values.Sum(v => v.Bytes);
        text.AppendLine(CultureInfo.InvariantCulture, $"== heap snapshot (dump with heap, read with ClrMD): {Mb(total)} MB in objects, {Mb(liveBytes)} MB reachable, {Mb(free)} MB free space in segments");
        foreach (var group in heap.Segments.GroupBy(s => s.Kind))
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"segments {group.Key}: {group.Count()}, committed {Mb(group.Sum(s => (long)s.CommittedMemory.Length))} MB, objects {Mb(group.Sum(s => (long)s.ObjectRange.Length))} MB");
        }

        text.AppendLine();
        text.AppendLine("-- reachable, by type (count, MB)");
        foreach (var (name, (count, bytes)) in live.OrderByDescending(kv => kv.Value.Bytes).Take(30))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{count,10} {Mb(bytes),9:0.0}  {name}");
        }

        text.AppendLine();
        text.AppendLine("-- all objects including garbage not yet collected, by type (count, MB)");
        foreach (var (name, (count, bytes)) in all.OrderByDescending(kv => kv.Value.Bytes).Take(20))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{count,10} {Mb(bytes),9:0.0}  {name}");
        }

        text.AppendLine();
        return text.ToString();
    }

    private static void Add(Dictionary<string, int> map, string key) => map[key] = map.GetValueOrDefault(key) + 1;

    private static void Add(Dictionary<string, (long Count, long Bytes)> map, string key, long bytes)
    {
        var (count, total) = map.GetValueOrDefault(key);
        map[key] = (count + 1, total + bytes);
    }

    private static string Percent(int count, int total) => total > 0 ? (100.0 * count / total).ToString("0.0", CultureInfo.InvariantCulture) + "%" : "-";

    private static double Mb(long bytes) => Math.Round(bytes / 1048576.0, 1);

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>ServerDiagnostics of our server at one moment (cumulative since start); DumpS is how long writing the dump took.</summary>
internal sealed record ServerCounters(long Notifications, long PublishResponses, long QueueOverflows, long BytesSent, long Requests, double DumpS);
