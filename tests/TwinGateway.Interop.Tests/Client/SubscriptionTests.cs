using TwinGateway.Interop.Tests.Fixtures;
using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.Interop.Tests.Client;

public sealed class SubscriptionTestsOnNodeOpcUa(NodeOpcUaPeerFixture fixture) : SubscriptionTests(fixture.Peer), IClassFixture<NodeOpcUaPeerFixture>;

public sealed class SubscriptionTestsOnOurServer(OurServerPeerFixture fixture) : SubscriptionTests(fixture.Peer), IClassFixture<OurServerPeerFixture>;

/// <summary>Subscriptions of our client, written once and bound to each server.</summary>
public abstract class SubscriptionTests(ITestPeer server) : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private readonly TestLog _log = new();
    private OpcUaClient _client = null!;

    private ITestPeer Server => server;

    private NodeId Test(string name) => new("Test." + name, Server.NamespaceIndex);

    public async Task InitializeAsync() => _client = await OpcUaClient.ConnectAsync(Server.EndpointUrl, logger: _log);

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        _log.Dispose();
    }

    private static SubscriptionOptions Fast => new() { PublishingInterval = TimeSpan.FromMilliseconds(50), KeepAliveCount = 5, LifetimeCount = 100 };

    [Fact]
    public async Task Data_changes_arrive_in_order_with_consecutive_sequence_numbers()
    {
        var subscription = await _client.CreateSubscriptionAsync(Fast);
        var items = await subscription.AddItemsAsync([new MonitoredItemOptions(Test("Counter")) { SamplingInterval = TimeSpan.FromMilliseconds(20), QueueSize = 10 }]);

        var item = Assert.Single(items);
        Assert.True(item.IsCreated, item.Status.Name);
        Assert.InRange(item.RevisedSamplingInterval, 10, 50);
        Assert.Equal(10u, item.RevisedQueueSize);
        var batches = await Collect<DataChangeBatch>(subscription, 8);
        var counters = batches.SelectMany(b => b.Values).Select(v => v.Value.Value.ToDouble()).ToList();
        Assert.True(counters.Zip(counters.Skip(1)).All(p => p.Second > p.First), "counter values must increase: " + string.Join(",", counters));
        var sequences = batches.Select(b => b.SequenceNumber).ToList();
        Assert.True(sequences.Zip(sequences.Skip(1)).All(p => p.Second == p.First + 1), "sequence numbers: " + string.Join(",", sequences));
        Assert.All(batches.SelectMany(b => b.Values), v => Assert.Same(item, v.Item));
        Assert.Equal(0, subscription.GapCount);
    }

    [Fact]
    public async Task Items_that_cannot_be_monitored_say_why_and_the_others_work()
    {
        var subscription = await _client.CreateSubscriptionAsync(Fast);

        var items = await subscription.AddItemsAsync(
        [
            new MonitoredItemOptions(Test("Sine")) { SamplingInterval = TimeSpan.FromMilliseconds(20) },
            new MonitoredItemOptions(new NodeId("Test.Missing", Server.NamespaceIndex)),
        ]);

        Assert.True(items[0].IsCreated);
        Assert.Equal("BadNodeIdUnknown", items[1].Status.Name);
        var batch = (await Collect<DataChangeBatch>(subscription, 1))[0];
        Assert.All(batch.Values, v => Assert.Equal(items[0], v.Item));
    }

    [Fact]
    public async Task Absolute_deadband_suppresses_small_changes()
    {
        var subscription = await _client.CreateSubscriptionAsync(Fast);
        var items = await subscription.AddItemsAsync(
        [
            new MonitoredItemOptions(Test("Sine")) { SamplingInterval = TimeSpan.FromMilliseconds(10), QueueSize = 100, Filter = MonitoredItemOptions.AbsoluteDeadband(0.5) },
        ]);
        Assert.True(items[0].IsCreated, items[0].Status.Name);

        var values = (await Collect<DataChangeBatch>(subscription, 6)).SelectMany(b => b.Values).Select(v => v.Value.Value.ToDouble()).ToList();

        Assert.True(values.Zip(values.Skip(1)).All(p => Math.Abs(p.Second - p.First) > 0.5), "each reported change must exceed the deadband: " + string.Join(",", values));
    }

    [Fact]
    public async Task Monitoring_mode_publishing_mode_modify_and_delete_take_effect()
    {
        var subscription = await _client.CreateSubscriptionAsync(Fast);
        var item = (await subscription.AddItemsAsync([new MonitoredItemOptions(Test("Counter")) { SamplingInterval = TimeSpan.FromMilliseconds(20) }]))[0];
        await Collect<DataChangeBatch>(subscription, 1);

        // "Nothing arrives" is shown against a second subscription on the same Counter that keeps publishing: each of its
        // data messages is a publishing cycle of the server, so the windows below are counted in the server's cycles.
        var control = await _client.CreateSubscriptionAsync(Fast);
        await control.AddItemsAsync([new MonitoredItemOptions(Test("Counter")) { SamplingInterval = TimeSpan.FromMilliseconds(20) }]);
        await Collect<DataChangeBatch>(control, 1);

        Assert.True((await subscription.SetMonitoringModeAsync(MonitoringMode.Disabled, [item]))[0].IsGood);
        Drain(control);
        await Collect<DataChangeBatch>(control, 6); // at least 300 ms of cycles: what was in flight has arrived
        Drain(subscription);
        await Collect<DataChangeBatch>(control, 8); // at least 400 ms of cycles in which the disabled item sends nothing
        Assert.Empty(Drain(subscription).OfType<DataChangeBatch>());

        Assert.True((await subscription.SetMonitoringModeAsync(MonitoringMode.Reporting, [item]))[0].IsGood);
        await Collect<DataChangeBatch>(subscription, 1);

        var modified = await subscription.ModifyItemsAsync([(item, item.Options with { SamplingInterval = TimeSpan.FromMilliseconds(100), QueueSize = 5 })]);
        Assert.True(modified[0].IsGood, modified[0].Name);
        Assert.Equal(5u, item.RevisedQueueSize);

        await subscription.ModifyAsync(Fast with { PublishingInterval = TimeSpan.FromMilliseconds(200) });
        Assert.Equal(200, subscription.RevisedPublishingInterval);

        Assert.True((await subscription.SetPublishingModeAsync(false)).IsGood);
        Drain(control);
        await Collect<DataChangeBatch>(control, 10); // at least 500 ms of cycles: what was in flight has arrived
        Drain(subscription);
        await Collect<DataChangeBatch>(control, 12); // at least 600 ms (three of this subscription's 200 ms intervals)
        Assert.Empty(Drain(subscription).OfType<DataChangeBatch>());
        Assert.True((await subscription.SetPublishingModeAsync(true)).IsGood);
        await Collect<DataChangeBatch>(subscription, 1);

        Assert.True((await subscription.RemoveItemsAsync([item]))[0].IsGood);
        Assert.Empty(subscription.Items);
        await subscription.DeleteAsync();
        Assert.DoesNotContain(subscription, _client.Subscriptions);
    }

    [Fact]
    public async Task Fifteen_hundred_items_are_created_in_batches_and_all_report()
    {
        var subscription = await _client.CreateSubscriptionAsync(Fast with { PublishingInterval = TimeSpan.FromMilliseconds(500) });
        var options = Enumerable.Range(0, 1500).Select(i => new MonitoredItemOptions(new NodeId($"Test.Big.{i:D4}", Server.NamespaceIndex))).ToList();

        var items = await subscription.AddItemsAsync(options);

        Assert.Equal(1500, items.Count);
        Assert.All(items, i => Assert.True(i.IsCreated, i.Status.Name));
        Assert.Equal(1500, items.Select(i => i.ServerId).Distinct().Count());
        var values = new HashSet<uint>();
        using var cts = new CancellationTokenSource(Wait);
        await foreach (var e in subscription.Events.ReadAllAsync(cts.Token))
        {
            if (e is DataChangeBatch b)
            {
                values.UnionWith(b.Values.Select(v => v.Item.ClientHandle));
                if (values.Count == 1500)
                {
                    break;
                }
            }
        }

        Assert.Equal(1500, values.Count);
    }

    private static List<SubscriptionEvent> Drain(Subscription subscription)
    {
        var list = new List<SubscriptionEvent>();
        while (subscription.Events.TryRead(out var e))
        {
            list.Add(e);
        }

        return list;
    }

    internal static async Task<List<T>> Collect<T>(Subscription subscription, int count, TimeSpan? timeout = null)
        where T : SubscriptionEvent
    {
        var list = new List<T>();
        using var cts = new CancellationTokenSource(timeout ?? Wait);
        try
        {
            await foreach (var e in subscription.Events.ReadAllAsync(cts.Token))
            {
                if (e is T t)
                {
                    list.Add(t);
                    if (list.Count >= count)
                    {
                        break;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"only {list.Count} of {count} {typeof(T).Name} events arrived within {(timeout ?? Wait).TotalSeconds} s");
        }

        return list;
    }
}
