using System.Diagnostics;
using TwinGateway.Telemetry;
using TwinGateway.Telemetry.Recording;

namespace TwinGateway.Bench.Telemetry;

/// <summary>
/// Recorder ingest, sustained: one producer thread appends demo-line scans (191 samples, source time 100 ms further on
/// each) as fast as a recorder with the gateway's default settings takes them. Once its pending buffer is full
/// (MaxPendingSamples or MaxPendingBytes, whichever comes first) the recorder makes the producer wait, so after the warm-up the producer runs at the commit rate and the window measures
/// what the writer sustains, not how fast memory fills.
/// </summary>
internal static class IngestMeasurement
{
    public static async Task<IngestFigures> RunAsync(TelemetryOptions options, DemoLineCycle cycle, bool batched, string folder, CancellationToken cancellationToken)
    {
        var mode = batched ? "Append(ReadOnlySpan<TelemetrySample>), one scan of 191 per call" : "Append(in TelemetrySample), one call per sample (what the gateway does)";
        Console.Error.WriteLine($"telemetry: ingest, {mode}: {options.IngestWarmup.TotalSeconds:0} s warm-up, {options.IngestWindow.TotalSeconds:0} s window");
        ResidentMemory.CollectGarbage();
        var (rssAtStart, _) = ResidentMemory.Read();
        var peakReset = ResidentMemory.Reset();
        var path = Path.Combine(folder, batched ? "ingest-batched.duckdb" : "ingest-single.duckdb");
        var recorder = TelemetryRecorder.Open(new RecorderOptions { DatabasePath = path });
        var settings = recorder.Options;
        var series = DemoLineSeries.Of(recorder, cycle.Line);
        var scanner = cycle.ScannerFor(series, new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var producer = new Producer(recorder, scanner, series.Length, batched);
        var rssMax = 0.0;
        try
        {
            producer.Start();
            await Task.Delay(options.IngestWarmup, cancellationToken).ConfigureAwait(false);
            producer.ThrowIfFailed();

            // The window: one reading a second, for the series that shows the rate is sustained.
            var start = Reading.Take(recorder, producer);
            var cpuStart = ProcessSnapshot.Take();
            var points = new List<IngestPoint>();
            var previous = start;
            var windowTicks = (long)(options.IngestWindow.TotalSeconds * Stopwatch.Frequency);
            var readings = (int)Math.Ceiling(options.IngestWindow.TotalSeconds);
            for (var second = 1; second <= readings; second++)
            {
                // Task.Delay may wake a little early: wait until the reading is really due.
                var due = start.Timestamp + Math.Min(windowTicks, second * Stopwatch.Frequency);
                while (Stopwatch.GetTimestamp() < due)
                {
                    var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                    await Task.Delay(wait > TimeSpan.FromMilliseconds(1) ? wait : TimeSpan.FromMilliseconds(1), cancellationToken).ConfigureAwait(false);
                }

                producer.ThrowIfFailed();
                var now = Reading.Take(recorder, producer);
                var (rss, _) = ResidentMemory.Read();
                rssMax = Math.Max(rssMax, rss ?? 0);
                var seconds = Stopwatch.GetElapsedTime(previous.Timestamp, now.Timestamp).TotalSeconds;
                points.Add(new IngestPoint(
                    Math.Round(Stopwatch.GetElapsedTime(start.Timestamp, now.Timestamp).TotalSeconds, 2),
                    Math.Round((now.Committed - previous.Committed) / seconds),
                    Math.Round((now.Appended - previous.Appended) / seconds),
                    now.Pending,
                    rss));
                previous = now;
            }

            var end = previous;
            var cpu = ProcessSnapshot.Between(cpuStart, ProcessSnapshot.Take());

            // How much of the RSS is the managed heap (the recorder's two sample lists above all); the rest is mostly DuckDB's.
            var gc = GC.GetGCMemoryInfo();
            var managed = new ManagedMemory(Math.Round(gc.HeapSizeBytes / 1048576.0, 1), Math.Round(gc.TotalCommittedBytes / 1048576.0, 1), ResidentMemory.Read().RssMb);
            var duckDb = DuckDbMemory.Read(recorder.DatabasePath);
            var windowSeconds = Stopwatch.GetElapsedTime(start.Timestamp, end.Timestamp).TotalSeconds;

            // Stop producing, then everything appended must be committed: nothing may be lost.
            var appended = await producer.StopAsync().ConfigureAwait(false);
            var flushClock = Stopwatch.StartNew();
            var pendingAtStop = recorder.GetStatus().Pending;
            await recorder.FlushAsync(cancellationToken).ConfigureAwait(false);
            var flushSeconds = flushClock.Elapsed.TotalSeconds;
            var status = recorder.GetStatus();
            var lastSeq = recorder.LastSeq;
            var (_, peak) = ResidentMemory.Read();
            await recorder.DisposeAsync().ConfigureAwait(false);
            var closedBytes = FileBytes(path);
            var lossless = lastSeq == appended && status.Committed == appended && status.Appended == appended && status.Pending == 0;

            return new IngestFigures(
                mode,
                batched ? series.Length : 1,
                new IngestRecorderSettings(settings.FlushIntervalMilliseconds, settings.MaxBatchSamples, settings.MaxPendingSamples, settings.MaxPendingBytes, settings.MemoryLimitMegabytes),
                Math.Round(options.IngestWarmup.TotalSeconds, 1),
                Math.Round(windowSeconds, 2),
                end.Committed - start.Committed,
                Math.Round((end.Committed - start.Committed) / windowSeconds),
                Math.Round((end.Appended - start.Appended) / windowSeconds),
                Math.Round(start.Committed / Stopwatch.GetElapsedTime(producer.StartedAt, start.Timestamp).TotalSeconds),
                points.Min(p => p.CommittedPerSecond),
                points.Max(p => p.CommittedPerSecond),
                cpu,
                Math.Round(1e9 * cpu.CpuMs / 1000 / Math.Max(1, end.Committed - start.Committed), 1),
                rssAtStart,
                managed,
                duckDb,
                rssMax > 0 ? Math.Round(rssMax, 1) : null,
                peak is { } p && peakReset ? Math.Max(p, rssMax) : null,
                peakReset ? "VmHWM since this part started (reset through /proc/self/clear_refs), or a higher sample" : "sampled once a second (VmHWM could not be reset)",
                appended,
                lastSeq,
                pendingAtStop,
                Math.Round(flushSeconds, 2),
                status.CommitFailures,
                lossless,
                status.DatabaseBytes,
                closedBytes,
                Math.Round(closedBytes / (lastSeq / 1e6) / 1048576.0, 2),
                Math.Round((double)closedBytes / lastSeq, 2),
                points);
        }
        finally
        {
            await producer.JoinAsync().ConfigureAwait(false);
            await recorder.DisposeAsync().ConfigureAwait(false);
        }
    }

    internal static long FileBytes(string path) =>
        (File.Exists(path) ? new FileInfo(path).Length : 0) + (File.Exists(path + ".wal") ? new FileInfo(path + ".wal").Length : 0);

    private readonly record struct Reading(long Timestamp, long Committed, long Appended, long Pending)
    {
        public static Reading Take(TelemetryRecorder recorder, Producer producer)
        {
            var status = recorder.GetStatus();
            return new Reading(Stopwatch.GetTimestamp(), status.Committed, producer.Appended, status.Pending);
        }
    }

    /// <summary>The producer thread: appends scans until stopped; the recorder's backpressure is its only brake.</summary>
    private sealed class Producer(TelemetryRecorder recorder, DemoLineCycle.Scanner scanner, int scanLength, bool batched)
    {
        private Thread? _running;
        private volatile bool _stop;
        private long _appended;
        private Exception? _failure;

        public long StartedAt { get; private set; }

        public long Appended => Volatile.Read(ref _appended);

        public void Start()
        {
            StartedAt = Stopwatch.GetTimestamp();
            _running = new Thread(Run) { IsBackground = true, Name = "ingest producer" };
            _running.Start();
        }

        public void ThrowIfFailed()
        {
            if (_failure is { } failure)
            {
                throw new InvalidOperationException($"the ingest producer failed: {failure.Message}", failure);
            }
        }

        /// <summary>Stops the thread and returns how many samples it appended; throws what made it fail.</summary>
        public async Task<long> StopAsync()
        {
            await JoinAsync().ConfigureAwait(false);
            ThrowIfFailed();
            return Appended;
        }

        public async Task JoinAsync()
        {
            _stop = true;
            if (_running is { } thread)
            {
                await Task.Run(thread.Join).ConfigureAwait(false);
            }
        }

        private void Run()
        {
            var scan = new TelemetrySample[scanLength];
            try
            {
                while (!_stop)
                {
                    scanner.Next(scan);
                    if (batched)
                    {
                        recorder.Append(scan);
                    }
                    else
                    {
                        foreach (ref readonly var sample in scan.AsSpan())
                        {
                            recorder.Append(in sample);
                        }
                    }

                    Volatile.Write(ref _appended, _appended + scan.Length);
                }
            }
            catch (Exception ex) when (ex is TelemetryStoreException or ObjectDisposedException or InvalidOperationException)
            {
                _failure = ex;
            }
        }
    }
}

/// <summary>The managed heap (live objects and garbage not yet collected), what the GC has committed, and the process's RSS.</summary>
internal sealed record ManagedMemory(double HeapMb, double CommittedMb, double? RssMb);

internal sealed record IngestRecorderSettings(int FlushIntervalMilliseconds, int MaxBatchSamples, int MaxPendingSamples, long MaxPendingBytes, int MemoryLimitMegabytes);

/// <summary>One second of the window: the commit and append rates over it, the backlog and the RSS at its end.</summary>
internal sealed record IngestPoint(double AtS, double CommittedPerSecond, double AppendedPerSecond, long Pending, double? RssMb);

internal sealed record IngestFigures(
    string Mode,
    int SamplesPerAppendCall,
    IngestRecorderSettings Recorder,
    double WarmupS,
    double WindowS,
    long CommittedInWindow,
    double CommittedPerSecond,
    double ProducerAppendsPerSecond,
    double CommittedPerSecondDuringWarmup,
    double CommittedPerSecondMinOneSecond,
    double CommittedPerSecondMaxOneSecond,
    CpuFigures Cpu,
    double CpuNsPerCommittedSample,
    double? RssAtStartMb,
    ManagedMemory AtWindowEnd,
    DuckDbMemory? DuckDbAtWindowEnd,
    double? RssMaxSampledMb,
    double? RssPeakMb,
    string RssPeakHow,
    long Appended,
    long LastSeq,
    long PendingAtStop,
    double FlushS,
    long CommitFailures,
    bool Lossless,
    long DatabaseBytesAtFlush,
    long DatabaseBytesClosed,
    double DatabaseMbPerMillionSamples,
    double DatabaseBytesPerSample,
    List<IngestPoint> Series);
