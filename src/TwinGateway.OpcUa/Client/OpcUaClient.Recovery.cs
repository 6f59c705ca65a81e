using System.Collections.Concurrent;
using TwinGateway.OpcUa.Channel;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Client;

/// <summary>
/// Subscriptions after a lost session: TransferSubscriptions and republish, or recreate with a reported gap
/// (OPC 10000-4 §6.7).
/// </summary>
public sealed partial class OpcUaClient
{
    private readonly ConcurrentDictionary<Subscription, uint[]> _pendingRepublish = new();

    /// <summary>
    /// After a new session: transfer the subscriptions (sending initial values) and republish what the server still holds;
    /// recreate those that cannot be transferred, reporting the time they were gone as a gap.
    /// </summary>
    private async Task<string> RecoverSubscriptionsAsync(ClientSecureChannel channel, CancellationToken token)
    {
        var subscriptions = Subscriptions;
        if (subscriptions.Count == 0)
        {
            return "recreated";
        }

        TransferResult[] results;
        try
        {
            var response = (TransferSubscriptionsResponse)await channel.SendRequestAsync(new TransferSubscriptionsRequest
            {
                RequestHeader = NewHeader(),
                SubscriptionIds = [.. subscriptions.Select(s => s.Id)],
                SendInitialValues = true,
            }, _options.RequestTimeout, token).ConfigureAwait(false);
            results = response.Results ?? [];
        }
        catch (ServiceResultException ex) when (channel.IsOpen)
        {
            // Some servers have no TransferSubscriptions (BadServiceUnsupported) or refuse it: recreate everything.
            Log.PublishFailed(_logger, EndpointUrl, ex.StatusCode.Name, "TransferSubscriptions failed; recreating: " + ex.Reason);
            results = [];
        }

        var how = "transferred";
        for (var i = 0; i < subscriptions.Count; i++)
        {
            var subscription = subscriptions[i];
            var result = i < results.Length ? results[i] : null;
            if (result is not null && result.StatusCode.IsGood)
            {
                _pendingRepublish[subscription] = result.AvailableSequenceNumbers ?? [];
                Log.SubscriptionRecovered(_logger, EndpointUrl, subscription.Id, "transferred", subscription.Id);
                continue;
            }

            how = "recreated";
            await RecreateSubscriptionAsync(channel, subscription, result?.StatusCode, token).ConfigureAwait(false);
        }

        return how;
    }

    private async Task RecreateSubscriptionAsync(ClientSecureChannel channel, Subscription subscription, StatusCode? transferStatus, CancellationToken token)
    {
        var oldId = subscription.Id;
        var lastSequence = subscription.LastSequenceNumber;
        var lastPublished = subscription.LastPublishTime;
        var created = (CreateSubscriptionResponse)await channel.SendRequestAsync(
            WithHeader(NewCreateSubscriptionRequest(subscription.Options)), _options.RequestTimeout, token).ConfigureAwait(false);
        lock (_subscriptionsLock)
        {
            _subscriptionsById.Remove(oldId);
            Apply(subscription, created);
            _subscriptionsById[subscription.Id] = subscription;
        }

        foreach (var batch in subscription.Items.ToArray().Chunk(MonitoredItemsPerCall))
        {
            var response = (CreateMonitoredItemsResponse)await channel.SendRequestAsync(new CreateMonitoredItemsRequest
            {
                RequestHeader = NewHeader(),
                SubscriptionId = subscription.Id,
                TimestampsToReturn = TimestampsToReturn.Both,
                ItemsToCreate = [.. batch.Select(ToCreateRequest)],
            }, _options.RequestTimeout, token).ConfigureAwait(false);
            ApplyCreateResults(batch, response.Results);
        }

        var why = transferStatus is { } s ? $"transfer refused ({s.Name})" : "transfer not possible";
        // The old subscription's numbers after the last one taken are gone with it; how many there were, nobody knows.
        ReportGap(subscription, NextSequence(lastSequence ?? 0), null, _time.GetUtcNow(),
            $"subscription {oldId} was lost with its session ({why}); recreated as {subscription.Id}: changes while disconnected are missing, current values follow", lastPublished);
        Log.SubscriptionRecovered(_logger, EndpointUrl, oldId, "recreated", subscription.Id);
    }

    private T WithHeader<T>(T request)
        where T : IServiceRequest
    {
        request.RequestHeader = NewHeader();
        return request;
    }

    /// <summary>
    /// After a transfer, republish the messages we have not taken up to the newest the server still holds, in order;
    /// those in between that it no longer holds are reported as a gap (they were lost, not skipped).
    /// </summary>
    private async Task RepublishAfterReconnectAsync(CancellationToken token)
    {
        var channel = _channel;
        if (channel is null)
        {
            return;
        }

        foreach (var (subscription, available) in _pendingRepublish.ToArray())
        {
            _pendingRepublish.TryRemove(subscription, out _);
            await subscription.ProcessingLock.WaitAsync(token).ConfigureAwait(false);
            try
            {
                var last = subscription.LastSequenceNumber ?? 0;
                var newer = available.Where(s => IsNewer(s, last)).ToList();
                if (newer.Count > 0)
                {
                    var newest = newer.Aggregate((a, b) => IsNewer(a, b) ? a : b);
                    await RepublishRangeAsync(channel, subscription, NextSequence(last), newest, next: null, token).ConfigureAwait(false);
                    subscription.LastSequenceNumber = newest;
                }
            }
            finally
            {
                subscription.ProcessingLock.Release();
            }
        }
    }
}
