using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Server;
using TwinGateway.OpcUa.Server.AddressSpace;
using TwinGateway.OpcUa.Server.Subscriptions;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Tests.Server;

/// <summary>The engine's queue, overflow and sequence rules, tested on the types themselves.</summary>
public sealed class SubscriptionEngineUnitTests
{
    private static (ServerMonitoredItem Item, VariableNode Node, ServerDiagnostics Diagnostics) NewItem(uint queueSize, bool discardOldest, DataChangeFilter? filter = null)
    {
        var space = new UaAddressSpace("urn:test");
        var node = space.AddVariable(new NodeId(ObjectIds.ObjectsFolder), new NodeId("v", 1), "v", new NodeId(DataTypeIds.Double), new Variant(0.0));
        var item = new ServerMonitoredItem(1, null!, node, Attributes.Value, 7, 100, queueSize, discardOldest, MonitoringMode.Reporting, filter);
        return (item, node, new ServerDiagnostics());
    }

    private static DataValue[] Drain(ServerMonitoredItem item)
    {
        var buffer = new DataValue[64];
        var n = item.Drain(buffer);
        return buffer[..n];
    }

    [Fact]
    public void A_full_queue_discarding_oldest_keeps_the_newest_values_and_flags_the_oldest_kept_with_overflow()
    {
        var (item, node, diagnostics) = NewItem(queueSize: 3, discardOldest: true);
        for (var i = 1; i <= 5; i++)
        {
            node.SetValue(new Variant((double)i), DateTime.UtcNow);
            Assert.True(item.Sample(DateTime.UtcNow, diagnostics));
        }

        var values = Drain(item);

        Assert.Equal([3.0, 4.0, 5.0], values.Select(v => v.Value.ToDouble()));
        Assert.True(values[0].StatusCode.Overflow);
        Assert.False(values[1].StatusCode.Overflow);
        Assert.Equal(2, diagnostics.QueueOverflows);
    }

    [Fact]
    public void A_full_queue_discarding_newest_keeps_the_oldest_values_and_flags_the_last_with_overflow()
    {
        var (item, node, diagnostics) = NewItem(queueSize: 3, discardOldest: false);
        for (var i = 1; i <= 5; i++)
        {
            node.SetValue(new Variant((double)i), DateTime.UtcNow);
            item.Sample(DateTime.UtcNow, diagnostics);
        }

        var values = Drain(item);

        Assert.Equal([1.0, 2.0, 5.0], values.Select(v => v.Value.ToDouble()));
        Assert.True(values[2].StatusCode.Overflow);
    }

    [Fact]
    public void A_queue_of_one_keeps_the_latest_value_without_the_overflow_bit()
    {
        var (item, node, diagnostics) = NewItem(queueSize: 1, discardOldest: true);
        node.SetValue(new Variant(1.0), DateTime.UtcNow);
        item.Sample(DateTime.UtcNow, diagnostics);
        node.SetValue(new Variant(2.0), DateTime.UtcNow);
        item.Sample(DateTime.UtcNow, diagnostics);

        var value = Assert.Single(Drain(item));

        Assert.Equal(2.0, value.Value.ToDouble());
        Assert.False(value.StatusCode.Overflow);
    }

    [Fact]
    public void An_unchanged_value_is_not_sampled_again_and_a_deadband_filters_small_changes()
    {
        var (item, node, diagnostics) = NewItem(queueSize: 10, discardOldest: true,
            new DataChangeFilter { Trigger = DataChangeTrigger.StatusValue, DeadbandType = (uint)DeadbandType.Absolute, DeadbandValue = 1.0 });
        node.SetValue(new Variant(10.0), DateTime.UtcNow);
        Assert.True(item.Sample(DateTime.UtcNow, diagnostics));
        Assert.False(item.Sample(DateTime.UtcNow, diagnostics));
        node.SetValue(new Variant(10.5), DateTime.UtcNow);
        Assert.False(item.Sample(DateTime.UtcNow, diagnostics));
        node.SetValue(new Variant(11.6), DateTime.UtcNow);
        Assert.True(item.Sample(DateTime.UtcNow, diagnostics));
        node.SetValue(new Variant(11.6), DateTime.UtcNow, StatusCodes.BadNoCommunication);
        Assert.True(item.Sample(DateTime.UtcNow, diagnostics));

        Assert.Equal([10.0, 11.6, 11.6], Drain(item).Select(v => v.Value.ToDouble()));
    }

    [Fact]
    public void Sequence_numbers_wrap_from_the_maximum_to_one_never_zero()
    {
        var subscription = new ServerSubscription(1, null!);
        var field = typeof(ServerSubscription).GetField("_nextSequenceNumber", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        field.SetValue(subscription, uint.MaxValue - 1);

        var taken = Enumerable.Range(0, 3).Select(_ => subscription.TakeSequenceNumber()).ToArray();

        Assert.Equal([uint.MaxValue - 1, uint.MaxValue, 1u], taken);
        Assert.Equal(2u, subscription.NextSequenceNumber);
    }

    [Fact]
    public void The_retransmission_queue_keeps_the_newest_messages_up_to_its_limit_and_forgets_acknowledged_ones()
    {
        var subscription = new ServerSubscription(1, null!);
        for (var i = 0; i < 5; i++)
        {
            subscription.Retain(new NotificationMessage { SequenceNumber = subscription.TakeSequenceNumber() }, maxRetained: 3);
        }

        Assert.Equal([3u, 4u, 5u], subscription.AvailableSequenceNumbers);
        Assert.Null(subscription.Retransmit(1));
        Assert.True(subscription.Acknowledge(4));
        Assert.False(subscription.Acknowledge(4));
        Assert.Equal([3u, 5u], subscription.AvailableSequenceNumbers);
    }

    private static (NotificationMessage Message, EncodedDataChanges Body) EncodedMessage(uint sequenceNumber, int bytes)
    {
        var body = new EncodedDataChanges(System.Buffers.ArrayPool<byte>.Shared.Rent(bytes), bytes, count: bytes / 32);
        return (new NotificationMessage { SequenceNumber = sequenceNumber, NotificationData = [new ExtensionObject(body)] }, body);
    }

    [Fact]
    public void The_retransmission_queue_is_bounded_in_bytes_keeps_the_newest_message_and_lets_go_of_what_it_drops()
    {
        var subscription = new ServerSubscription(1, null!);
        var bodies = new List<EncodedDataChanges>();
        for (var i = 0; i < 5; i++)
        {
            var (message, body) = EncodedMessage(subscription.TakeSequenceNumber(), 1000);
            bodies.Add(body);
            subscription.Retain(message, maxRetained: 100, maxRetainedBytes: 2500);
        }

        Assert.Equal([4u, 5u], subscription.AvailableSequenceNumbers);
        Assert.Equal(2000, subscription.RetainedBytes);
        Assert.Equal([false, false, false, true, true], bodies.Select(b => b.IsAlive));

        var (huge, hugeBody) = EncodedMessage(subscription.TakeSequenceNumber(), 10_000);
        subscription.Retain(huge, maxRetained: 100, maxRetainedBytes: 2500);

        Assert.Equal([6u], subscription.AvailableSequenceNumbers);
        Assert.True(hugeBody.IsAlive);
    }

    [Fact]
    public void A_pooled_body_goes_back_only_when_the_queue_and_every_response_that_carries_it_let_go()
    {
        var subscription = new ServerSubscription(1, null!);
        var (message, body) = EncodedMessage(subscription.TakeSequenceNumber(), 64);
        Assert.True(EncodedDataChanges.TryHoldAll(message)); // the Publish response being sent
        subscription.Retain(message, maxRetained: 10);

        var republished = subscription.Retransmit(1); // a Republish answer, held until encoded
        Assert.Same(message, republished);
        Assert.True(subscription.Acknowledge(1));
        EncodedDataChanges.ReleaseAll(message);
        Assert.True(body.IsAlive);

        using (var writer = new TwinGateway.OpcUa.Encoding.UaWriter())
        {
            body.Encode(writer); // still encodable by the Republish answer
            Assert.Equal(64, writer.Position);
        }

        EncodedDataChanges.ReleaseAll(republished);
        Assert.False(body.IsAlive);
        Assert.False(body.TryHold());
        Assert.Throws<ObjectDisposedException>(() => body.Encode(new TwinGateway.OpcUa.Encoding.UaWriter()));
        Assert.Throws<InvalidOperationException>(body.Release);
    }

    [Fact]
    public void Acknowledged_messages_do_not_pile_up_in_the_retransmission_order()
    {
        var subscription = new ServerSubscription(1, null!);
        for (var i = 0; i < 10_000; i++)
        {
            var sequenceNumber = subscription.TakeSequenceNumber();
            subscription.Retain(new NotificationMessage { SequenceNumber = sequenceNumber }, maxRetained: 100);
            subscription.Acknowledge(sequenceNumber);
        }

        var order = (Queue<uint>)typeof(ServerSubscription).GetField("_retransmissionOrder", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(subscription)!;
        Assert.InRange(order.Count, 0, 20);
        Assert.Empty(subscription.AvailableSequenceNumbers);
    }

    [Theory]
    [InlineData(1u, 1u, false)]
    [InlineData(2u, 1u, true)]
    [InlineData(1u, uint.MaxValue, true)]
    [InlineData(uint.MaxValue, 1u, false)]
    [InlineData(5u, uint.MaxValue - 3, true)]
    public void The_client_orders_sequence_numbers_across_the_wrap(uint a, uint b, bool newer)
    {
        Assert.Equal(newer, OpcUaClient.IsNewer(a, b));
    }

    [Fact]
    public void The_client_steps_sequence_numbers_over_zero()
    {
        Assert.Equal(1u, OpcUaClient.NextSequence(uint.MaxValue));
        Assert.Equal(uint.MaxValue, OpcUaClient.PreviousSequence(1));
    }
}
