using System.Diagnostics;
using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.Bench.E2e;

/// <summary>
/// Phase 1: our <see cref="OpcUaClient"/> in this process, one subscription over every bench item, the application
/// reading <see cref="Subscription.Events"/> and counting the values of each <see cref="DataChangeBatch"/>.
/// </summary>
internal static class OurClientLoad
{
    public static async Task<ClientLoadResult> RunAsync(BenchServer server, E2eOptions options, CancellationToken cancellationToken)
    {
        var clientOptions = new OpcUaClientOptions { ApplicationName = "TwinGatewayBench", SessionName = "e2e bench" };
        await using var client = await OpcUaClient.ConnectAsync(server.EndpointUrl, clientOptions, cancellationToken: cancellationToken).ConfigureAwait(false);

        // The same settings client-bench.js asks node-opcua for, so both clients get the same stream.
        var subscription = await client.CreateSubscriptionAsync(new SubscriptionOptions
        {
            PublishingInterval = options.Interval,
            KeepAliveCount = 20,
            LifetimeCount = 6000,
            MaxNotificationsPerPublish = 0,
            Priority = 1,
        }, cancellationToken).ConfigureAwait(false);

        long delivered = 0;
        long gaps = 0;
        using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reader = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in subscription.Events.ReadAllAsync(stopReading.Token).ConfigureAwait(false))
                {
                    switch (e)
                    {
                        case DataChangeBatch batch:
                            Interlocked.Add(ref delivered, batch.Values.Length);
                            break;
                        case NotificationGap gap:
                            Interlocked.Increment(ref gaps);
                            Console.Error.WriteLine($"e2e: gap {gap.FirstMissing}..{gap.LastMissing}: {gap.Reason}");
                            break;
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }, CancellationToken.None);

        ClientLoadResult result;
        try
        {
            var created = Stopwatch.StartNew();
            var items = await subscription.AddItemsAsync(
                Enumerable.Range(0, options.Items).Select(i => new MonitoredItemOptions(new NodeId($"Bench.{i}", (ushort)server.NamespaceIndex))
                {
                    SamplingInterval = options.Interval,
                    QueueSize = 1,
                    DiscardOldest = true,
                }),
                cancellationToken).ConfigureAwait(false);
            var good = items.Count(i => i.IsCreated);
            Console.Error.WriteLine($"e2e: twingateway monitoring {good}/{items.Count} items ({created.ElapsedMilliseconds} ms), " +
                $"publishing every {subscription.RevisedPublishingInterval} ms; warm-up {options.Warmup.TotalSeconds:0.#} s");
            if (good == 0)
            {
                throw new InvalidOperationException($"no monitored item was created: {items.FirstOrDefault()?.Status.Name}");
            }

            await Task.Delay(options.Warmup, cancellationToken).ConfigureAwait(false);

            using var self = Process.GetCurrentProcess();
            var startReconnects = client.ReconnectCount;
            var startOverflows = subscription.OverflowCount;
            var startGaps = Interlocked.Read(ref gaps);
            var startGc = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
            var startAllocated = GC.GetTotalAllocatedBytes(precise: false);
            var startServerCpu = server.CpuTime;
            var startUsage = Environment.CpuUsage;
            self.Refresh();
            var startCpu = self.TotalProcessorTime;
            var startCount = Interlocked.Read(ref delivered);
            var window = Stopwatch.StartNew();

            await Task.Delay(options.Duration, cancellationToken).ConfigureAwait(false);

            var count = Interlocked.Read(ref delivered) - startCount;
            var elapsed = window.Elapsed;
            self.Refresh();
            var cpu = self.TotalProcessorTime - startCpu;
            var usage = Environment.CpuUsage;
            var allocated = GC.GetTotalAllocatedBytes(precise: false) - startAllocated;
            var serverCpu = server.CpuTime - startServerCpu;
            var gc = new GcFigures(
                GC.CollectionCount(0) - startGc.Item1,
                GC.CollectionCount(1) - startGc.Item2,
                GC.CollectionCount(2) - startGc.Item3,
                allocated,
                count > 0 ? Math.Round((double)allocated / count, 1) : 0);

            result = new ClientLoadResult
            {
                Client = "twingateway",
                Items = options.Items,
                DurationS = Math.Round(elapsed.TotalSeconds, 3),
                Notifications = count,
                NotificationsPerSec = ClientLoadFigures.PerSecond(count, elapsed),
                CpuNsPerNotification = ClientLoadFigures.NsPer(cpu, count),
                CpuMs = Math.Round(cpu.TotalMilliseconds, 1),
                CpuUserMs = Math.Round((usage.UserTime - startUsage.UserTime).TotalMilliseconds, 1),
                CpuSystemMs = Math.Round((usage.PrivilegedTime - startUsage.PrivilegedTime).TotalMilliseconds, 1),
                Gc = gc,
                Gaps = Interlocked.Read(ref gaps) - startGaps,
                Overflows = subscription.OverflowCount - startOverflows,
                Reconnects = client.ReconnectCount - startReconnects,
                ItemsCreated = good,
                RevisedPublishingIntervalMs = subscription.RevisedPublishingInterval,
                ServerCpuMs = Math.Round(serverCpu.TotalMilliseconds, 1),
                LoadAverage1m = MachineFacts.LoadAverage1m(),
            };

            try
            {
                using var deleteTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                deleteTimeout.CancelAfter(TimeSpan.FromSeconds(10));
                await subscription.DeleteAsync(deleteTimeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ServiceResultException or OperationCanceledException)
            {
                Console.Error.WriteLine($"e2e: deleting the subscription failed ({ex.Message}); the session closes anyway");
            }
        }
        finally
        {
            await stopReading.CancelAsync().ConfigureAwait(false);
            await reader.ConfigureAwait(false);
        }

        return result;
    }
}
