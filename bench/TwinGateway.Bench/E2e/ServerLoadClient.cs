using System.Diagnostics;
using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.Bench.E2e;

/// <summary>
/// One phase of <c>server-load</c>: our <see cref="OpcUaClient"/> in this process against one server process, one
/// subscription over N items, then a measurement window in which the server's CPU and memory are sampled from /proc.
/// The application side counts the values of each <see cref="DataChangeBatch"/>, and, because both servers add 1 to
/// every value on each 100 ms update, it also counts per item the updates that never arrived ("skipped").
/// </summary>
internal static class ServerLoadClient
{
    /// <summary>Items per <see cref="Subscription.AddItemsAsync"/> call (the client splits each call again by the server's MaxMonitoredItemsPerCall).</summary>
    private const int AddChunk = 10_000;

    public static async Task<ServerPhaseResult> RunAsync(ServerLoadProcess server, int itemCount, ServerLoadOptions options, string phase, CancellationToken cancellationToken,
        Func<OpcUaClientOptions, OpcUaClientOptions>? configure = null)
    {
        var clientOptions = new OpcUaClientOptions
        {
            ApplicationName = "TwinGatewayBench",
            SessionName = "server-load bench",
            // A single-threaded server busy creating 10,000 items per call answers nothing else meanwhile: allow for it.
            RequestTimeout = TimeSpan.FromSeconds(120),
            KeepAliveInterval = TimeSpan.FromSeconds(30),
            PublishRequestCount = options.PublishRequests ?? new OpcUaClientOptions().PublishRequestCount,
        };
        clientOptions = configure?.Invoke(clientOptions) ?? clientOptions;
        BaselineFigures? baseline = null;
        if (options.Baseline > TimeSpan.Zero)
        {
            // The server alone, its N values changing every 100 ms and nobody subscribed: the cost of the value source.
            var before = server.Stats();
            var clock = Stopwatch.StartNew();
            await Task.Delay(options.Baseline, cancellationToken).ConfigureAwait(false);
            var after = server.Stats();
            var cores = Math.Round((after.Cpu - before.Cpu).TotalSeconds / clock.Elapsed.TotalSeconds, 3);
            baseline = new BaselineFigures(Math.Round(clock.Elapsed.TotalSeconds, 2), Math.Round((after.Cpu - before.Cpu).TotalMilliseconds, 1), cores, Mb(after.RssBytes), Mb(after.PeakRssBytes));
            Console.Error.WriteLine($"server-load: {phase}: server alone (no client) {cores:0.000} cores, RSS {baseline.RssMb} MB");
        }

        var connectClock = Stopwatch.StartNew();
        await using var client = await OpcUaClient.ConnectAsync(server.EndpointUrl, clientOptions, cancellationToken: cancellationToken).ConfigureAwait(false);
        var subscription = await client.CreateSubscriptionAsync(new SubscriptionOptions
        {
            PublishingInterval = options.Interval,
            KeepAliveCount = 10,
            LifetimeCount = 6000,
            MaxNotificationsPerPublish = 0,
            Priority = 1,
        }, cancellationToken).ConfigureAwait(false);
        var connectMs = connectClock.ElapsedMilliseconds;

        var tracker = new ValueTracker(itemCount + 1, options.Interval);
        using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reader = Task.Run(() => tracker.ReadAsync(subscription, stopReading.Token), CancellationToken.None);
        try
        {
            // Items, in chunks so that progress shows and a server too slow to create them all can be given up on.
            var createClock = Stopwatch.StartNew();
            var created = 0;
            var requested = 0;
            string? createProblem = null;
            MonitoredItem? sample = null;
            using (var createTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                createTimeout.CancelAfter(options.CreateTimeout);
                var nextReport = TimeSpan.FromSeconds(10);
                try
                {
                    for (var start = 0; start < itemCount; start += AddChunk)
                    {
                        var count = Math.Min(AddChunk, itemCount - start);
                        requested += count;
                        var items = await subscription.AddItemsAsync(
                            Enumerable.Range(start, count).Select(i => new MonitoredItemOptions(new NodeId(server.Identifier(i), server.NamespaceIndex))
                            {
                                SamplingInterval = options.Interval,
                                QueueSize = 1,
                                DiscardOldest = true,
                            }),
                            createTimeout.Token).ConfigureAwait(false);
                        foreach (var item in items)
                        {
                            if (item.IsCreated)
                            {
                                created++;
                                sample ??= item;
                            }
                            else
                            {
                                createProblem ??= $"{item.NodeId}: {item.Status.Name}";
                            }
                        }

                        if (createClock.Elapsed >= nextReport)
                        {
                            Console.Error.WriteLine($"server-load: {phase}: {created}/{itemCount} items created after {createClock.Elapsed.TotalSeconds:0} s");
                            nextReport = createClock.Elapsed + TimeSpan.FromSeconds(10);
                        }
                    }
                }
                catch (OperationCanceledException) when (createTimeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    createProblem = $"gave up after {options.CreateTimeout.TotalSeconds:0} s: {created} of {itemCount} items created";
                }
                catch (ServiceResultException ex)
                {
                    createProblem = $"CreateMonitoredItems failed after {created} items ({createClock.Elapsed.TotalSeconds:0} s): {ex.Message}";
                }
            }

            var createS = Math.Round(createClock.Elapsed.TotalSeconds, 2);
            Console.Error.WriteLine($"server-load: {phase}: {created}/{itemCount} items created in {createS} s" +
                (createProblem is null ? "" : $" ({createProblem})") +
                $"; publishing every {subscription.RevisedPublishingInterval} ms, sampling {sample?.RevisedSamplingInterval} ms, queue {sample?.RevisedQueueSize}; " +
                $"warm-up {options.Warmup.TotalSeconds:0.#} s, window {options.Window.TotalSeconds:0.#} s");
            var setup = new PhaseSetup(server.Name, server.CommandLine, server.Pid, server.EndpointUrl, Math.Round(server.Startup.TotalSeconds, 2), connectMs,
                itemCount, requested, created, createS, created == itemCount, createProblem,
                subscription.RevisedPublishingInterval, subscription.RevisedKeepAliveCount, sample?.RevisedSamplingInterval, sample?.RevisedQueueSize,
                clientOptions.PublishRequestCount, server.Stats().RssBytes is { } afterCreate ? Mb(afterCreate) : null, server.Runtime);
            if (created == 0)
            {
                return new ServerPhaseResult { Setup = setup, Baseline = baseline };
            }

            // Our server's own counters at the start of the warm-up and after the window: its queue overwrites (a value
            // replaced in a queue of one before a Publish took it) are visible nowhere else. The dump stalls the server
            // briefly, so the first one is taken where the warm-up absorbs it.
            var isOurs = server.Name == "twingateway";
            var countersBefore = isOurs && options.ServerCounters ? await ServerLoadProfiler.ReadCountersAsync(server.Pid, cancellationToken).ConfigureAwait(false) : null;
            await Task.Delay(options.Warmup, cancellationToken).ConfigureAwait(false);
            EnsureRunning(server);
            var window = await MeasureAsync(server, client, subscription, tracker, created, options, phase, cancellationToken).ConfigureAwait(false);
            EnsureRunning(server);
            var countersAfter = countersBefore is not null ? await ServerLoadProfiler.ReadCountersAsync(server.Pid, cancellationToken).ConfigureAwait(false) : null;
            ServerCounterDelta? counters = null;
            if (countersBefore is not null && countersAfter is not null)
            {
                var sent = countersAfter.Notifications - countersBefore.Notifications;
                var overwritten = countersAfter.QueueOverflows - countersBefore.QueueOverflows;
                counters = new ServerCounterDelta(sent, countersAfter.PublishResponses - countersBefore.PublishResponses, overwritten,
                    sent + overwritten > 0 ? Math.Round(100.0 * overwritten / (sent + overwritten), 3) : 0,
                    countersAfter.BytesSent - countersBefore.BytesSent, countersBefore.DumpS, countersAfter);
                Console.Error.WriteLine($"server-load: {phase}: server counters over warm-up + window: {sent} notifications sent, {overwritten} values overwritten in queues ({counters.OverwrittenPercent}%)");
            }

            string? profile = null;
            if (options.Profile > TimeSpan.Zero && server.Name == "twingateway")
            {
                Console.Error.WriteLine($"server-load: {phase}: profiling the server for {options.Profile.TotalSeconds:0} s, then a heap snapshot (after the window; the load keeps running)");
                var work = Directory.CreateTempSubdirectory("twingateway-server-profile-").FullName;
                try
                {
                    profile = await ServerLoadProfiler.ProfileAsync(server.Pid, options.Profile, work, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    Directory.Delete(work, recursive: true);
                }
            }

            try
            {
                using var deleteTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                deleteTimeout.CancelAfter(TimeSpan.FromSeconds(30));
                await subscription.DeleteAsync(deleteTimeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ServiceResultException or OperationCanceledException)
            {
                Console.Error.WriteLine($"server-load: {phase}: deleting the subscription failed ({ex.Message}); the session closes anyway");
            }

            return new ServerPhaseResult { Setup = setup, Baseline = baseline, Window = window, ServerCounters = counters, Profile = profile };
        }
        finally
        {
            await stopReading.CancelAsync().ConfigureAwait(false);
            await reader.ConfigureAwait(false);
        }
    }

    private static async Task<PhaseWindow> MeasureAsync(ServerLoadProcess server, OpcUaClient client, Subscription subscription, ValueTracker tracker,
        int created, ServerLoadOptions options, string phase, CancellationToken cancellationToken)
    {
        using var self = Process.GetCurrentProcess();
        var series = new List<WindowSample>();
        var startReconnects = client.ReconnectCount;
        var startOverflows = subscription.OverflowCount;
        var startGaps = subscription.GapCount;
        var startGc = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        var startAllocated = GC.GetTotalAllocatedBytes(precise: false);
        var startThreads = ProcStats.ThreadCpu(server.Pid);
        var startMachine = MachineCpu.Read();
        var startServer = server.Stats();
        self.Refresh();
        var startClient = self.TotalProcessorTime;
        var startTracker = tracker.Snapshot();
        var startLoad = MachineFacts.LoadAverage1m();
        var startPerItem = tracker.PerItemCounts();
        var startStaleness = tracker.Staleness();
        var startPublishing = tracker.Publishing();
        var clock = Stopwatch.StartNew();
        series.Add(new WindowSample(0, 0, 0, 0, Mb(startServer.RssBytes), startServer.Threads, Mb(self.WorkingSet64)));

        var previous = (Time: TimeSpan.Zero, Notifications: startTracker.Values, ServerCpu: startServer.Cpu, ClientCpu: startClient);
        using (var timer = new PeriodicTimer(options.EffectiveSampleEvery))
        {
            while (clock.Elapsed + TimeSpan.FromMilliseconds(50) < options.Window)
            {
                var remaining = options.Window - clock.Elapsed;
                if (remaining < options.EffectiveSampleEvery)
                {
                    await Task.Delay(remaining, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false);
                }

                var now = clock.Elapsed;
                var stats = server.Stats();
                self.Refresh();
                var clientCpu = self.TotalProcessorTime;
                var values = tracker.Snapshot().Values;
                var dt = (now - previous.Time).TotalSeconds;
                var sample = new WindowSample(
                    Math.Round(now.TotalSeconds, 2),
                    Math.Round((values - previous.Notifications) / dt),
                    Math.Round((stats.Cpu - previous.ServerCpu).TotalSeconds / dt, 3),
                    Math.Round((clientCpu - previous.ClientCpu).TotalSeconds / dt, 3),
                    Mb(stats.RssBytes),
                    stats.Threads,
                    Mb(self.WorkingSet64));
                series.Add(sample);
                previous = (now, values, stats.Cpu, clientCpu);
                if (options.IsSoak || series.Count % 5 == 1)
                {
                    Console.Error.WriteLine(System.FormattableString.Invariant(
                        $"server-load: {phase}: t={sample.T,6:0} s {sample.NotificationsPerSec,10:N0}/s server {sample.ServerCores:0.00} cores {sample.ServerRssMb,7:0.0} MB, client {sample.ClientCores:0.00} cores"));
                }

                EnsureRunning(server);
            }
        }

        var elapsed = clock.Elapsed;
        var endServer = server.Stats();
        self.Refresh();
        var clientCpuTotal = self.TotalProcessorTime - startClient;
        var endTracker = tracker.Snapshot();
        var endMachine = MachineCpu.Read();
        var endThreads = ProcStats.ThreadCpu(server.Pid);
        var allocated = GC.GetTotalAllocatedBytes(precise: false) - startAllocated;
        var perItem = tracker.PerItemDeltas(startPerItem);
        var endStaleness = tracker.Staleness();
        var endPublishing = tracker.Publishing();
        var stalenessTotal = endStaleness.Sum() - startStaleness.Sum();
        var staleness = ValueTracker.StalenessEdgesMs
            .Select((edge, i) => new StalenessBucket(
                (i == 0 ? "0" : ValueTracker.StalenessEdgesMs[i - 1].ToString(System.Globalization.CultureInfo.InvariantCulture)) + "-" + (double.IsInfinity(edge) ? "" : edge.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                stalenessTotal > 0 ? Math.Round(100.0 * (endStaleness[i] - startStaleness[i]) / stalenessTotal, 2) : 0))
            .ToList();

        var notifications = endTracker.Values - startTracker.Values;
        var serverCpu = endServer.Cpu - startServer.Cpu;
        var expected = created * 1000.0 / options.Interval.TotalMilliseconds;
        var (busy, steal) = MachineCpu.Between(startMachine, endMachine);
        var rate = ClientLoadFigures.PerSecond(notifications, elapsed);

        var clientFigures = new ClientFigures(
            notifications,
            rate,
            Math.Round(expected),
            expected > 0 ? Math.Round(rate / expected, 4) : 0,
            subscription.OverflowCount - startOverflows,
            subscription.GapCount - startGaps,
            endTracker.Skipped - startTracker.Skipped,
            endTracker.SkippedAcrossSamples - startTracker.SkippedAcrossSamples,
            endTracker.Repeated - startTracker.Repeated,
            perItem.Heard,
            perItem.Min,
            perItem.Median,
            perItem.Max,
            client.ReconnectCount - startReconnects,
            Math.Round(clientCpuTotal.TotalMilliseconds, 1),
            Math.Round(clientCpuTotal.TotalSeconds / elapsed.TotalSeconds, 3),
            ClientLoadFigures.NsPer(clientCpuTotal, notifications),
            new GcFigures(GC.CollectionCount(0) - startGc.Item1, GC.CollectionCount(1) - startGc.Item2, GC.CollectionCount(2) - startGc.Item3,
                allocated, notifications > 0 ? Math.Round((double)allocated / notifications, 1) : 0),
            Mb(self.WorkingSet64),
            staleness,
            endPublishing.Messages - startPublishing.Messages,
            endPublishing.LongGaps - startPublishing.LongGaps,
            Math.Round(endPublishing.MaxGapMs, 1));

        var serverFigures = new ServerFigures(
            Math.Round(serverCpu.TotalMilliseconds, 1),
            Math.Round((endServer.UserCpu - startServer.UserCpu).TotalMilliseconds, 1),
            Math.Round((endServer.SystemCpu - startServer.SystemCpu).TotalMilliseconds, 1),
            Math.Round(serverCpu.TotalSeconds / elapsed.TotalSeconds, 3),
            ClientLoadFigures.NsPer(serverCpu, notifications),
            Mb(startServer.RssBytes),
            Mb(endServer.RssBytes),
            series.Where(s => s.ServerRssMb is not null).Select(s => s.ServerRssMb!.Value).DefaultIfEmpty().Max(),
            Mb(endServer.PeakRssBytes),
            endServer.Threads,
            ThreadBreakdown(startThreads, endThreads, elapsed));

        var others = Math.Max(0, Math.Round((busy * Environment.ProcessorCount) - serverFigures.CoresUsed - clientFigures.CoresUsed, 2));
        return new PhaseWindow(Math.Round(elapsed.TotalSeconds, 3), clientFigures, serverFigures, busy, steal, others, startLoad, MachineFacts.LoadAverage1m(), series);
    }

    /// <summary>Server CPU in the window per thread name, and the busiest single thread (a pegged thread is a serial bottleneck).</summary>
    private static ThreadFigures ThreadBreakdown(Dictionary<string, TimeSpan> start, Dictionary<string, TimeSpan> end, TimeSpan elapsed)
    {
        var perThread = end.Select(kv => (Key: kv.Key, Name: kv.Key[..kv.Key.LastIndexOf(" #", StringComparison.Ordinal)], Cpu: kv.Value - start.GetValueOrDefault(kv.Key)))
            .Where(t => t.Cpu > TimeSpan.Zero)
            .ToList();
        var byName = perThread.GroupBy(t => t.Name)
            .Select(g => new ThreadGroup(g.Key, g.Count(), Math.Round(g.Sum(t => t.Cpu.TotalMilliseconds), 0), Math.Round(g.Sum(t => t.Cpu.TotalSeconds) / elapsed.TotalSeconds, 3)))
            .OrderByDescending(g => g.CpuMs)
            .ToList();
        var top = perThread.OrderByDescending(t => t.Cpu).Take(5)
            .Select(t => new ThreadGroup(t.Key, 1, Math.Round(t.Cpu.TotalMilliseconds, 0), Math.Round(t.Cpu.TotalSeconds / elapsed.TotalSeconds, 3)))
            .ToList();
        return new ThreadFigures(byName, top);
    }

    private static void EnsureRunning(ServerLoadProcess server)
    {
        if (server.HasExited)
        {
            throw new InvalidOperationException($"{server.Name} server exited during the run:\n{server.LogTail}");
        }
    }

    internal static double? Mb(long? bytes) => bytes is { } b ? Math.Round(b / 1048576.0, 1) : null;

    /// <summary>
    /// Counts delivered values and, per client handle, the values that were skipped: both servers add exactly 1 to each
    /// value per update, so a step of 3 means two updates were never delivered (sampled over or dropped).
    /// </summary>
    private sealed class ValueTracker(int handles, TimeSpan interval)
    {
        private readonly double[] _last = CreateLast(handles);
        private readonly long[] _lastServerTicks = new long[handles];
        private readonly int[] _count = new int[handles];
        private readonly long _sampleGapTicks = (interval * 1.5).Ticks;
        /// <summary>Upper edges (ms) of the staleness buckets: ServerTimestamp (sampled) minus SourceTimestamp (changed).</summary>
        public static readonly double[] StalenessEdgesMs = [2, 10, 25, 50, 75, 90, 98, double.PositiveInfinity];

        private readonly long[] _staleness = new long[StalenessEdgesMs.Length];
        private readonly double _intervalMs = interval.TotalMilliseconds;
        private uint _lastSequence;
        private DateTime _lastPublish;
        private long _messages;
        private long _longGaps;
        private double _maxGapMs;
        private long _values;
        private long _skipped;
        private long _skippedAcrossSamples;
        private long _repeated;

        private static double[] CreateLast(int n)
        {
            var last = new double[n];
            Array.Fill(last, double.NaN);
            return last;
        }

        public async Task ReadAsync(Subscription subscription, CancellationToken cancellationToken)
        {
            try
            {
                await foreach (var e in subscription.Events.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    switch (e)
                    {
                        case DataChangeBatch batch:
                            Count(batch.Values);
                            if (batch.SequenceNumber != _lastSequence)
                            {
                                // A new NotificationMessage: how long since the previous one was published.
                                if (_lastPublish != default)
                                {
                                    var gapMs = (batch.PublishTime - _lastPublish).TotalMilliseconds;
                                    Interlocked.Increment(ref _messages);
                                    if (gapMs > _intervalMs * 1.5)
                                    {
                                        Interlocked.Increment(ref _longGaps);
                                    }

                                    if (gapMs > _maxGapMs)
                                    {
                                        _maxGapMs = gapMs;
                                    }
                                }

                                _lastSequence = batch.SequenceNumber;
                                _lastPublish = batch.PublishTime;
                            }

                            break;
                        case NotificationGap gap:
                            Console.Error.WriteLine($"server-load: gap {gap.FirstMissing}..{gap.LastMissing}: {gap.Reason}");
                            break;
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        private void Count(MonitoredItemValue[] values)
        {
            long skipped = 0;
            long[]? staleness = null;
            long acrossSamples = 0;
            long repeated = 0;
            foreach (var v in values)
            {
                var handle = v.Item.ClientHandle;
                if (handle >= (uint)_last.Length || v.Value.Value.Type != BuiltInType.Double)
                {
                    continue;
                }

                if (v.Value.SourceTimestamp != default && v.Value.ServerTimestamp != default)
                {
                    var staleMs = (v.Value.ServerTimestamp - v.Value.SourceTimestamp).TotalMilliseconds;
                    var bucket = 0;
                    while (bucket < StalenessEdgesMs.Length - 1 && staleMs >= StalenessEdgesMs[bucket])
                    {
                        bucket++;
                    }

                    staleness ??= new long[StalenessEdgesMs.Length];
                    staleness[bucket]++;
                }

                var value = v.Value.Value.ToDouble();
                var last = _last[handle];
                var serverTicks = v.Value.ServerTimestamp.Ticks;
                var lastServerTicks = _lastServerTicks[handle];
                _last[handle] = value;
                _lastServerTicks[handle] = serverTicks;
                _count[handle]++;
                if (double.IsNaN(last))
                {
                    continue;
                }

                var steps = Math.Round(value - last);
                if (steps > 1)
                {
                    skipped += (long)steps - 1;
                    if (serverTicks - lastServerTicks >= _sampleGapTicks)
                    {
                        // The server sampled in between, but that sample never arrived (overwritten in a queue of one
                        // before a Publish took it, or the sampler itself ran late).
                        acrossSamples += (long)steps - 1;
                    }
                }
                else if (steps < 1)
                {
                    repeated++;
                }
            }

            Interlocked.Add(ref _skipped, skipped);
            if (staleness is not null)
            {
                for (var i = 0; i < staleness.Length; i++)
                {
                    Interlocked.Add(ref _staleness[i], staleness[i]);
                }
            }

            Interlocked.Add(ref _skippedAcrossSamples, acrossSamples);
            Interlocked.Add(ref _repeated, repeated);
            Interlocked.Add(ref _values, values.Length);
        }

        public (long Values, long Skipped, long SkippedAcrossSamples, long Repeated) Snapshot() =>
            (Interlocked.Read(ref _values), Interlocked.Read(ref _skipped), Interlocked.Read(ref _skippedAcrossSamples), Interlocked.Read(ref _repeated));

        public int[] PerItemCounts() => (int[])_count.Clone();

        /// <summary>Data messages, those published more than 1.5 intervals after the previous one, and the longest such gap.</summary>
        public (long Messages, long LongGaps, double MaxGapMs) Publishing()
        {
            var max = _maxGapMs;
            _maxGapMs = 0;
            return (Interlocked.Read(ref _messages), Interlocked.Read(ref _longGaps), max);
        }

        public long[] Staleness() => (long[])_staleness.Clone();

        /// <summary>Values per item in the window: how many items were heard, and the least, median and most per item.</summary>
        public (int Heard, int Min, int Median, int Max) PerItemDeltas(int[] start)
        {
            var now = PerItemCounts();
            var deltas = new List<int>(now.Length);
            for (var h = 1; h < now.Length; h++)
            {
                deltas.Add(now[h] - start[h]);
            }

            if (deltas.Count == 0)
            {
                return (0, 0, 0, 0);
            }

            deltas.Sort();
            return (deltas.Count(d => d > 0), deltas[0], deltas[deltas.Count / 2], deltas[^1]);
        }
    }
}

internal sealed record ServerPhaseResult
{
    public required PhaseSetup Setup { get; init; }

    /// <summary>The server before the client connected: its value updates alone.</summary>
    public BaselineFigures? Baseline { get; init; }

    /// <summary>Null when no item could be created.</summary>
    public PhaseWindow? Window { get; init; }

    /// <summary>Our server's ServerDiagnostics from the start of the warm-up to the end of the window (read from dumps).</summary>
    public ServerCounterDelta? ServerCounters { get; init; }

    /// <summary>--profile's text report (written to its own file).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? Profile { get; init; }
}

internal sealed record BaselineFigures(double DurationS, double CpuMs, double CoresUsed, double? RssMb, double? RssPeakMb);

internal sealed record PhaseSetup(
    string Server,
    string Command,
    int Pid,
    string EndpointUrl,
    double StartupS,
    long ConnectMs,
    int ItemsRequested,
    int ItemsAttempted,
    int ItemsCreated,
    double CreateS,
    bool AllCreated,
    string? CreateProblem,
    double RevisedPublishingIntervalMs,
    uint RevisedKeepAliveCount,
    double? RevisedSamplingIntervalMs,
    uint? RevisedQueueSize,
    int PublishRequests,
    double? ServerRssAfterCreateMb,
    string? Runtime);

internal sealed record PhaseWindow(
    double DurationS,
    ClientFigures Client,
    ServerFigures Server,
    double MachineBusy,
    double MachineSteal,
    double OtherProcessesCores,
    double? LoadAverage1mAtStart,
    double? LoadAverage1m,
    IReadOnlyList<WindowSample> Series);

/// <summary>What our client saw in the window.</summary>
internal sealed record ClientFigures(
    long Notifications,
    double NotificationsPerSec,
    double ExpectedPerSec,
    double DeliveredShare,
    long Overflows,
    long Gaps,
    long SkippedUpdates,
    long SkippedAcrossSamples,
    long RepeatedValues,
    int ItemsHeard,
    int MinValuesPerItem,
    int MedianValuesPerItem,
    int MaxValuesPerItem,
    int Reconnects,
    double CpuMs,
    double CoresUsed,
    double? CpuNsPerNotification,
    GcFigures Gc,
    double? WorkingSetMb,
    IReadOnlyList<StalenessBucket> StalenessPercent,
    long DataMessages,
    long DataMessagesAfterLongGap,
    double LongestPublishGapMs);

/// <summary>Share of delivered values whose ServerTimestamp - SourceTimestamp (ms) fell in the range.</summary>
internal sealed record StalenessBucket(string RangeMs, double Percent);

internal sealed record ServerFigures(
    double CpuMs,
    double CpuUserMs,
    double CpuSystemMs,
    double CoresUsed,
    double? CpuNsPerNotification,
    double? RssStartMb,
    double? RssEndMb,
    double? RssMaxSampledMb,
    double? RssPeakMb,
    int? Threads,
    ThreadFigures ThreadCpu);

internal sealed record ThreadFigures(IReadOnlyList<ThreadGroup> ByName, IReadOnlyList<ThreadGroup> Busiest);

internal sealed record ThreadGroup(string Name, int Threads, double CpuMs, double Cores);

/// <summary>One sample of the window: rates since the previous sample, memory now.</summary>
internal sealed record WindowSample(double T, double NotificationsPerSec, double ServerCores, double ClientCores, double? ServerRssMb, int? ServerThreads, double? ClientWorkingSetMb);

/// <summary>
/// Our server's counters from the start of the warm-up to the end of the window: notifications it sent, values it
/// overwrote in a full queue of one (no overflow bit for a queue of one, OPC 10000-4 §5.12.1.5, so the client cannot
/// see them), their share of all values sampled, and the counters at the end (cumulative since start).
/// </summary>
internal sealed record ServerCounterDelta(long NotificationsSent, long PublishResponses, long QueueOverwrites, double OverwrittenPercent, long BytesSent, double DumpStallS, ServerCounters AtEnd);
