using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Server;
using TwinGateway.OpcUa.Server.AddressSpace;
using TwinGateway.OpcUa.Server.Subscriptions;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Tests.Server;

/// <summary>
/// Items on a stored value report every change (the engine takes them as they are set), so a value set at exactly the
/// sampling interval is never sampled over; filters still apply, and computed (ReadHandler) variables are still sampled.
/// Our client against our server in-process; every wait is on a condition with a generous timeout, never a timing.
/// </summary>
public sealed class ChangeDrivenReportingTests : InProcessServerTest
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    private VariableNode AddVariable(string name, double initial) =>
        Server.AddressSpace.AddVariable(new NodeId(ObjectIds.ObjectsFolder), new NodeId(name, 1), name, new NodeId(DataTypeIds.Double), new Variant(initial));

    /// <summary>Sets <paramref name="values"/> one per <see cref="Interval"/> on a timer, as the demo and the simulated PLC do.</summary>
    private static async Task SetEveryIntervalAsync(VariableNode variable, IEnumerable<double> values, CancellationToken token)
    {
        using var timer = new PeriodicTimer(Interval);
        foreach (var value in values)
        {
            await timer.WaitForNextTickAsync(token);
            variable.SetValue(new Variant(value), DateTime.UtcNow);
        }
    }

    /// <summary>Reads data changes until one carries <paramref name="last"/>; returns every value received, in order.</summary>
    private static async Task<List<double>> ReceiveUntilAsync(Subscription subscription, double last, CancellationToken token)
    {
        var received = new List<double>();
        await foreach (var e in subscription.Events.ReadAllAsync(token))
        {
            if (e is DataChangeBatch batch)
            {
                received.AddRange(batch.Values.Select(v => v.Value.Value.ToDouble()));
                if (received.Contains(last))
                {
                    return received;
                }
            }
        }

        return received;
    }

    [Fact]
    public async Task A_value_set_every_sampling_interval_is_delivered_every_time_in_order()
    {
        const int N = 30;
        var variable = AddVariable("EveryInterval", 0);
        var subscription = await Client.CreateSubscriptionAsync(new SubscriptionOptions { PublishingInterval = Interval });
        var items = await subscription.AddItemsAsync([new MonitoredItemOptions(variable.NodeId) { SamplingInterval = Interval, QueueSize = 10 }]);
        Assert.Equal(Interval.TotalMilliseconds, items[0].RevisedSamplingInterval);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var receiving = ReceiveUntilAsync(subscription, N, cts.Token);
        await SetEveryIntervalAsync(variable, Enumerable.Range(1, N).Select(i => (double)i), cts.Token);
        var received = await receiving;

        Assert.Equal(Enumerable.Range(0, N + 1).Select(i => (double)i), received);
        Assert.Equal(0, subscription.OverflowCount);
    }

    [Fact]
    public async Task A_queue_of_one_on_a_change_driven_item_is_revised_to_two_and_a_sampled_item_keeps_one()
    {
        var variable = AddVariable("QueueRevision", 0);
        var subscription = await Client.CreateSubscriptionAsync(new SubscriptionOptions { PublishingInterval = Interval });

        var items = await subscription.AddItemsAsync(
        [
            new MonitoredItemOptions(variable.NodeId) { SamplingInterval = Interval, QueueSize = 1 },
            new MonitoredItemOptions(new NodeId(VariableIds.Server_ServerStatus_CurrentTime)) { SamplingInterval = Interval, QueueSize = 1 },
        ]);

        Assert.Equal(2u, items[0].RevisedQueueSize);
        Assert.Equal(1u, items[1].RevisedQueueSize);
    }

    [Fact]
    public async Task A_deadband_still_suppresses_changes_smaller_than_it()
    {
        var variable = AddVariable("Deadband", 0);
        var subscription = await Client.CreateSubscriptionAsync(new SubscriptionOptions { PublishingInterval = Interval });
        await subscription.AddItemsAsync([new MonitoredItemOptions(variable.NodeId) { SamplingInterval = Interval, QueueSize = 10, Filter = MonitoredItemOptions.AbsoluteDeadband(1.0) }]);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var receiving = ReceiveUntilAsync(subscription, 9, cts.Token);
        await SetEveryIntervalAsync(variable, [0.5, 0.9, 5, 5.5, 6.0, 6.2, 7.5, 7.6, 9], cts.Token);
        var received = await receiving;

        Assert.Equal([0, 5, 6.2, 7.5, 9], received);
    }

    [Fact]
    public async Task A_variable_computed_on_read_is_still_sampled_on_the_timer()
    {
        var reads = 0L;
        var variable = AddVariable("Computed", 0);
        variable.ReadHandler = now => new DataValue(new Variant((double)Interlocked.Increment(ref reads)), StatusCodes.Good, now);
        var subscription = await Client.CreateSubscriptionAsync(new SubscriptionOptions { PublishingInterval = TimeSpan.FromMilliseconds(50) });
        await subscription.AddItemsAsync([new MonitoredItemOptions(variable.NodeId) { SamplingInterval = TimeSpan.FromMilliseconds(50), QueueSize = 10 }]);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        // Nothing sets the value: only sampling on the timer can deliver more than the initial value.
        var received = new List<double>();
        await foreach (var e in subscription.Events.ReadAllAsync(cts.Token))
        {
            if (e is DataChangeBatch batch)
            {
                received.AddRange(batch.Values.Select(v => v.Value.Value.ToDouble()));
                if (received.Count >= 4)
                {
                    break;
                }
            }
        }

        Assert.Equal(received.Order(), received);
        Assert.Equal(received.Count, received.Distinct().Count());
        Assert.False(ServerMonitoredItem.ReportsChanges(variable, Attributes.Value));
    }

    [Fact]
    public void Changes_beyond_the_history_are_counted_as_missed_and_the_newest_are_reported_in_order()
    {
        var space = new UaAddressSpace("urn:test");
        var node = space.AddVariable(new NodeId(ObjectIds.ObjectsFolder), new NodeId("v", 1), "v", new NodeId(DataTypeIds.Double), new Variant(0.0));
        var item = new ServerMonitoredItem(1, null!, node, Attributes.Value, 7, 100, 10, true, MonitoringMode.Reporting, null) { IsChangeDriven = true };
        var diagnostics = new ServerDiagnostics();
        var listener = new CountingListener();
        node.AddChangeWatcher(item, listener);
        item.QueueCurrentValue(DateTime.UtcNow, diagnostics);

        for (var i = 1; i <= 5; i++)
        {
            node.SetValue(new Variant((double)i), DateTime.UtcNow);
        }

        node.TakeChangeSignal();
        Assert.True(item.ReportChanges(node, new DataValue[VariableNode.ChangeHistoryLength], DateTime.UtcNow, diagnostics));
        var buffer = new DataValue[16];
        var values = buffer[..item.Drain(buffer)].Select(v => v.Value.ToDouble());

        Assert.Equal(1, listener.Signals);
        Assert.Equal([0.0, 4.0, 5.0], values);
        Assert.Equal(5 - VariableNode.ChangeHistoryLength, diagnostics.ChangesMissed);
    }

    private sealed class CountingListener : IVariableChangeListener
    {
        public int Signals { get; private set; }

        public void VariableChanged(VariableNode variable) => Signals++;
    }
}
