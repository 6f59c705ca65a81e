using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Server;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Tests.Server;

/// <summary>
/// DeleteSubscriptions of a session's last subscription answers the Publish requests still parked for that session with
/// BadNoSubscription at once (OPC 10000-4 §5.13.8.1), instead of leaving them until CloseSession (found by open62541 1.5).
/// Raw service calls: our client's own publish loop is not involved.
/// </summary>
public sealed class DeleteSubscriptionsTests : InProcessServerTest
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>A subscription whose first publishing cycle (and so its first keep-alive) is an hour away: nothing answers a Publish but the test.</summary>
    private async Task<uint> CreateQuietSubscriptionAsync()
    {
        var response = await Client.CallAsync<CreateSubscriptionResponse>(new CreateSubscriptionRequest
        {
            RequestedPublishingInterval = TimeSpan.FromHours(1).TotalMilliseconds,
            RequestedMaxKeepAliveCount = 10,
            RequestedLifetimeCount = 30,
            PublishingEnabled = true,
        });
        return response.SubscriptionId;
    }

    private Task<PublishResponse> PublishAsync() =>
        Client.CallAsync<PublishResponse>(new PublishRequest { SubscriptionAcknowledgements = [] }, TimeSpan.FromMinutes(2));

    private async Task WaitForParkedAsync(int count)
    {
        using var cts = new CancellationTokenSource(Bound);
        while (Server.Sessions.All.Sum(s => s.PublishQueue.Count) < count)
        {
            await Task.Delay(10, cts.Token);
        }
    }

    private Task<DeleteSubscriptionsResponse> DeleteAsync(params uint[] ids) =>
        Client.CallAsync<DeleteSubscriptionsResponse>(new DeleteSubscriptionsRequest { SubscriptionIds = ids });

    [Fact]
    public async Task Deleting_the_last_subscription_answers_the_parked_Publish_requests_with_BadNoSubscription()
    {
        var id = await CreateQuietSubscriptionAsync();
        var first = PublishAsync();
        var second = PublishAsync();
        await WaitForParkedAsync(2);

        var deleted = await DeleteAsync(id);

        Assert.True(deleted.Results![0].IsGood);
        foreach (var publish in new[] { first, second })
        {
            var ex = await Assert.ThrowsAsync<ServiceResultException>(() => publish.WaitAsync(Bound));
            Assert.Equal(StatusCodes.BadNoSubscription, ex.StatusCode.Code);
        }

        Assert.Equal(0, Server.Sessions.All.Sum(s => s.PublishQueue.Count));
        // The session goes on: a later Publish is refused at once, as the session has no subscription.
        var later = await Assert.ThrowsAsync<ServiceResultException>(() => PublishAsync().WaitAsync(Bound));
        Assert.Equal(StatusCodes.BadNoSubscription, later.StatusCode.Code);
    }

    [Fact]
    public async Task Deleting_one_of_two_subscriptions_leaves_the_Publish_requests_parked_for_the_other()
    {
        var kept = await CreateQuietSubscriptionAsync();
        var gone = await CreateQuietSubscriptionAsync();
        var publish = PublishAsync();
        await WaitForParkedAsync(1);

        var deleted = await DeleteAsync(gone);

        Assert.True(deleted.Results![0].IsGood);
        // Parked requests are answered inside DeleteSubscriptions, before its response: still parked now means kept.
        Assert.Equal(1, Server.Sessions.All.Sum(s => s.PublishQueue.Count));
        Assert.False(publish.IsCompleted);

        await DeleteAsync(kept);
        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => publish.WaitAsync(Bound));
        Assert.Equal(StatusCodes.BadNoSubscription, ex.StatusCode.Code);
    }

    [Fact]
    public async Task Deleting_an_unknown_subscription_leaves_the_parked_requests_alone()
    {
        var id = await CreateQuietSubscriptionAsync();
        var publish = PublishAsync();
        await WaitForParkedAsync(1);

        var deleted = await DeleteAsync(id + 1000);

        Assert.Equal(StatusCodes.BadSubscriptionIdInvalid, deleted.Results![0].Code);
        Assert.Equal(1, Server.Sessions.All.Sum(s => s.PublishQueue.Count));
        Assert.False(publish.IsCompleted);
        await DeleteAsync(id);
        await Assert.ThrowsAsync<ServiceResultException>(() => publish.WaitAsync(Bound));
    }
}
