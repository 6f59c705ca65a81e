using TwinGateway.Interop.Tests.Fixtures;
using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.Interop.Tests.Client;

/// <summary>
/// The client's recovery against a real node-opcua server: a dropped socket, a restarted server, a silent server,
/// and a lost session whose subscriptions the server still holds. Each test runs its own server.
/// </summary>
public sealed class ReconnectTestsOnNodeOpcUa() : ReconnectTests(TestPeers.NodeOpcUa);

public sealed class ReconnectTestsOnOurServer() : ReconnectTests(TestPeers.Ours);

public abstract class ReconnectTests(string kind) : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly TestLog _log = new();
    private readonly TestLog _serverLog = new();
    private ITestPeer _server = null!;
    private TcpFaultProxy _proxy = null!;

    public async Task InitializeAsync()
    {
        _server = await TestPeers.StartAsync(kind, _serverLog);
        _proxy = new TcpFaultProxy("127.0.0.1", _server.Port);
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _server.DisposeAsync();
        _log.Dispose();
        _serverLog.Dispose();
    }

    private NodeId Counter => new("Test.Counter", _server.NamespaceIndex);

    private OpcUaClientOptions FastRecovery => new()
    {
        KeepAliveInterval = TimeSpan.FromSeconds(1),
        Reconnect = new ReconnectPolicy { InitialDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(1) },
        RequestTimeout = TimeSpan.FromSeconds(5),
    };

    private static async Task<Subscription> SubscribeCounterAsync(OpcUaClient client, NodeId counter)
    {
        var subscription = await client.CreateSubscriptionAsync(new SubscriptionOptions
        {
            PublishingInterval = TimeSpan.FromMilliseconds(100),
            KeepAliveCount = 5,
            LifetimeCount = 600,
        });
        var items = await subscription.AddItemsAsync([new MonitoredItemOptions(counter) { SamplingInterval = TimeSpan.FromMilliseconds(20), QueueSize = 100 }]);
        Assert.True(items[0].IsCreated, items[0].Status.Name);
        await SubscriptionTests.Collect<DataChangeBatch>(subscription, 2);
        return subscription;
    }

    private static async Task WaitForStateAsync(OpcUaClient client, ConnectionStatus status)
    {
        using var cts = new CancellationTokenSource(Wait);
        while (client.State.Status != status)
        {
            await Task.Delay(20, cts.Token);
        }
    }

    [Fact]
    public async Task After_a_dropped_socket_the_session_is_reactivated_and_no_message_is_lost()
    {
        await using var client = await OpcUaClient.ConnectAsync(_proxy.RewriteUrl(_server.EndpointUrl), FastRecovery, logger: _log);
        var subscription = await SubscribeCounterAsync(client, Counter);

        _proxy.DropAll();
        await WaitForStateAsync(client, ConnectionStatus.Reconnecting);
        await WaitForStateAsync(client, ConnectionStatus.Connected);
        var after = await SubscriptionTests.Collect<DataChangeBatch>(subscription, 10);

        Assert.Equal(1, client.ReconnectCount);
        Assert.Equal("reactivated", client.LastRecovery);
        Assert.Equal(0, subscription.GapCount);
        // Everything the server published arrived once: sequence numbers delivered so far have no holes.
        var all = after.Select(b => b.SequenceNumber).ToList();
        Assert.True(all.Zip(all.Skip(1)).All(p => p.Second == p.First + 1), "sequence numbers after reconnect: " + string.Join(",", all));
        var values = await client.ReadValuesAsync([Counter]);
        Assert.True(values[0].StatusCode.IsGood);
        _log.AssertNoErrors();
    }

    [Fact]
    public async Task After_a_server_restart_the_subscription_is_recreated_and_the_gap_is_reported()
    {
        await using var client = await OpcUaClient.ConnectAsync(_server.EndpointUrl, FastRecovery, logger: _log);
        var subscription = await SubscribeCounterAsync(client, Counter);
        var oldId = subscription.Id;

        await _server.RestartAsync();
        var gap = (await SubscriptionTests.Collect<NotificationGap>(subscription, 1))[0];
        var resumed = await SubscriptionTests.Collect<DataChangeBatch>(subscription, 3);

        Assert.Equal("recreated", client.LastRecovery);
        Assert.Contains($"subscription {oldId} was lost", gap.Reason, StringComparison.Ordinal);
        // The old subscription's messages from the one after the last taken are gone; how many, nobody can know.
        Assert.True(gap.FirstMissing >= 2, $"first missing {gap.FirstMissing}");
        Assert.Null(gap.LastMissing);
        Assert.Equal($"{gap.FirstMissing} onwards", gap.MissingRange);
        Assert.True(gap.Start < gap.End && gap.Duration > TimeSpan.Zero, $"gap {gap.Start:O} to {gap.End:O}");
        var warning = Assert.Single(_log.Entries, e => e.Id.Id == 1106).Message;
        Assert.DoesNotContain("..0", warning, StringComparison.Ordinal);
        Assert.Contains($"lost notifications {gap.FirstMissing} onwards covering {(long)gap.Duration.TotalMilliseconds} ms", warning, StringComparison.Ordinal);
        Assert.True(subscription.Id != 0);
        Assert.True(subscription.Items.Single().IsCreated);
        // The restarted server counts from its start again: the values are fresh, not replayed.
        Assert.NotEmpty(resumed.SelectMany(b => b.Values));
        _log.AssertNoErrors();
    }

    [Fact]
    public async Task A_silent_server_is_detected_by_the_keep_alive_and_the_client_reconnects()
    {
        await using var client = await OpcUaClient.ConnectAsync(_proxy.RewriteUrl(_server.EndpointUrl), FastRecovery, logger: _log);
        var subscription = await SubscribeCounterAsync(client, Counter);

        _proxy.Paused = true;
        await WaitForStateAsync(client, ConnectionStatus.Reconnecting);
        var reason = client.State;
        _proxy.Paused = false;
        _proxy.DropAll();
        await WaitForStateAsync(client, ConnectionStatus.Connected);
        await SubscriptionTests.Collect<DataChangeBatch>(subscription, 3);

        Assert.True(reason.Reason.IsBad, reason.ToString());
        Assert.True(client.ReconnectCount >= 1);
        _log.AssertNoErrors();
    }

    [Fact]
    public async Task A_lost_session_is_replaced_and_its_subscriptions_transferred_with_republish()
    {
        var options = FastRecovery with
        {
            Identity = UserIdentity.ForUser("operator", "secret1"),
            SessionTimeout = TimeSpan.FromSeconds(2),
        };
        await using var client = await OpcUaClient.ConnectAsync(_proxy.RewriteUrl(_server.EndpointUrl), options, logger: _log);
        var subscription = await SubscribeCounterAsync(client, Counter);
        var id = subscription.Id;

        // Silence longer than the session timeout, shorter than the subscription's lifetime (600 x 100 ms).
        _proxy.Paused = true;
        await WaitForStateAsync(client, ConnectionStatus.Reconnecting);
        await Task.Delay(client.RevisedSessionTimeout + TimeSpan.FromSeconds(2));
        _proxy.Paused = false;
        _proxy.DropAll();
        await WaitForStateAsync(client, ConnectionStatus.Connected);
        var after = await SubscriptionTests.Collect<DataChangeBatch>(subscription, 5);

        Assert.Equal("transferred", client.LastRecovery);
        Assert.Equal(id, subscription.Id);
        Assert.NotEmpty(after.SelectMany(b => b.Values));
        _log.AssertNoErrors();
    }

    [Fact]
    public async Task An_anonymous_session_lost_is_replaced_and_its_subscriptions_transferred_or_recreated_as_the_server_allows()
    {
        var options = FastRecovery with { SessionTimeout = TimeSpan.FromSeconds(2) };
        await using var client = await OpcUaClient.ConnectAsync(_proxy.RewriteUrl(_server.EndpointUrl), options, logger: _log);
        var subscription = await SubscribeCounterAsync(client, Counter);

        _proxy.Paused = true;
        await WaitForStateAsync(client, ConnectionStatus.Reconnecting);
        await Task.Delay(client.RevisedSessionTimeout + TimeSpan.FromSeconds(2));
        _proxy.Paused = false;
        _proxy.DropAll();
        await WaitForStateAsync(client, ConnectionStatus.Connected);
        await SubscriptionTests.Collect<DataChangeBatch>(subscription, 3);

        if (_server.TransfersAnonymousSubscriptions)
        {
            Assert.Equal("transferred", client.LastRecovery);
            Assert.Equal(0, subscription.GapCount);
        }
        else
        {
            // node-opcua refuses to transfer an anonymous session's subscriptions over SecurityMode None (Part 4 5.13.7).
            Assert.Equal("recreated", client.LastRecovery);
            Assert.True(subscription.GapCount >= 1);
            Assert.True(_log.Contains("transfer refused"), _log.ToString());
        }

        _log.AssertNoErrors();
    }
}
