using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Server;
using TwinGateway.OpcUa.Server.Demo;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Tests.Server;

/// <summary>The server's configured limits answer with the status the specification names, and count the refusals.</summary>
public sealed class ServerLimitsTests : IAsyncLifetime
{
    private UaServer _server = null!;
    private DemoNodes _nodes = null!;

    public async Task InitializeAsync()
    {
        _server = new UaServer(new UaServerOptions
        {
            Port = 0,
            MaxSessions = 2,
            MaxSubscriptionsPerSession = 1,
            MaxMonitoredItemsPerSubscription = 3,
            MaxNodesPerRead = 5,
            MinSessionTimeout = TimeSpan.FromMilliseconds(300),
        });
        _nodes = DemoNodes.Add(_server, scaleCount: 10);
        await _server.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _nodes.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task A_session_over_MaxSessions_is_refused_with_BadTooManySessions()
    {
        await using var first = await OpcUaClient.ConnectAsync(_server.EndpointUrl);
        await using var second = await OpcUaClient.ConnectAsync(_server.EndpointUrl);

        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => OpcUaClient.ConnectAsync(_server.EndpointUrl));

        Assert.Equal(StatusCodes.BadTooManySessions, ex.StatusCode.Code);
        Assert.Equal(2, _server.SessionCount);
        Assert.True(_server.Diagnostics.Rejected.ContainsKey("BadTooManySessions"));
    }

    [Fact]
    public async Task Subscription_and_item_limits_answer_per_operation()
    {
        await using var client = await OpcUaClient.ConnectAsync(_server.EndpointUrl);
        var subscription = await client.CreateSubscriptionAsync();

        var second = await Assert.ThrowsAsync<ServiceResultException>(() => client.CreateSubscriptionAsync());
        var items = await subscription.AddItemsAsync(Enumerable.Range(0, 5).Select(i => new MonitoredItemOptions(new NodeId($"Scale.{i:D5}", 1))));

        Assert.Equal(StatusCodes.BadTooManySubscriptions, second.StatusCode.Code);
        Assert.Equal(3, items.Count(i => i.IsCreated));
        Assert.All(items.Skip(3), i => Assert.Equal("BadTooManyMonitoredItems", i.Status.Name));
        Assert.Equal(3, _server.MonitoredItemCount);
    }

    [Fact]
    public async Task A_read_over_MaxNodesPerRead_is_BadTooManyOperations_and_the_session_goes_on()
    {
        await using var client = await OpcUaClient.ConnectAsync(_server.EndpointUrl);

        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => client.ReadValuesAsync([.. Enumerable.Range(0, 6).Select(i => new NodeId($"Scale.{i:D5}", 1))]));
        var fine = await client.ReadValuesAsync([new NodeId("Scale.00001", 1)]);

        Assert.Equal(StatusCodes.BadTooManyOperations, ex.StatusCode.Code);
        Assert.True(fine[0].StatusCode.IsGood);
        Assert.Equal(BuiltInType.Double, fine[0].Value.Type);
    }

    [Fact]
    public async Task A_silent_session_times_out_and_its_token_is_then_invalid()
    {
        await using var client = await OpcUaClient.ConnectAsync(_server.EndpointUrl, new OpcUaClientOptions
        {
            SessionTimeout = TimeSpan.FromMilliseconds(300),
            KeepAliveInterval = TimeSpan.FromMinutes(10),
        });
        Assert.Equal(1, _server.SessionCount);

        // The housekeeping runs every second; give it two rounds.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (_server.SessionCount > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Equal(0, _server.SessionCount);
        Assert.True(_server.Diagnostics.SessionsTimedOut >= 1);
    }
}
