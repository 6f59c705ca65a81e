using System.Collections.Concurrent;
using TwinGateway.OpcUa.Channel;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Client;

/// <summary>
/// The publish pipeline: Publish requests kept outstanding, acknowledgements, responses checked for missing
/// sequence numbers and delivered to the subscriptions as batches.
/// </summary>
public sealed partial class OpcUaClient
{
    /// <summary>Values per <see cref="DataChangeBatch"/>; one NotificationMessage may become several batches with the same sequence number.</summary>
    private const int MaxValuesPerBatch = 1000;

    private readonly ConcurrentQueue<SubscriptionAcknowledgement> _acknowledgements = new();
    private CancellationTokenSource? _publishing;
    private Task[] _publishLoops = [];

    private void StartPublishing()
    {
        lock (_subscriptionsLock)
        {
            if (_publishing is not null || _stopping.IsCancellationRequested)
            {
                return;
            }

            _publishing = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            var token = _publishing.Token;
            _publishLoops = [.. Enumerable.Range(0, Math.Max(1, _options.PublishRequestCount)).Select(_ => Task.Run(() => PublishLoopAsync(token), CancellationToken.None))];
        }
    }

    private void StopPublishing()
    {
        lock (_subscriptionsLock)
        {
            _publishing?.Cancel();
        }
    }

    /// <summary>After a reconnect the loops are still running; they pick up the new channel by themselves.</summary>
    private void RestartPublishing()
    {
        lock (_subscriptionsLock)
        {
            foreach (var s in _subscriptions)
            {
                s.LastHeardTicks = _time.GetTimestamp();
            }
        }
    }

    private async Task WaitForPublishLoopsAsync()
    {
        var loops = _publishLoops;
        try
        {
            await Task.WhenAll(loops).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }

        _publishing?.Dispose();
    }

    private bool HasLivePublishing()
    {
        lock (_subscriptionsLock)
        {
            return _subscriptions.Count > 0;
        }
    }

    /// <summary>
    /// A subscription that has heard nothing (not even a keep-alive) for three keep-alive periods plus the keep-alive
    /// interval means a dead server. Three, not two: a loaded 2-core machine was seen to stall a healthy server past two.
    /// </summary>
    private string? SubscriptionsSilentTooLong()
    {
        lock (_subscriptionsLock)
        {
            foreach (var s in _subscriptions)
            {
                var keepAlive = TimeSpan.FromMilliseconds(s.RevisedPublishingInterval * Math.Max(1, s.RevisedKeepAliveCount));
                var allowed = (keepAlive * 3) + _options.KeepAliveInterval;
                var silent = _time.GetElapsedTime(s.LastHeardTicks);
                if (silent > allowed)
                {
                    return $"subscription {s.Id} heard nothing for {silent.TotalSeconds:0.#} s (keep-alive every {keepAlive.TotalSeconds:0.#} s)";
                }
            }
        }

        return null;
    }

    private async Task PublishLoopAsync(CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            if (!HasLivePublishing())
            {
                await Task.Delay(50, token).ConfigureAwait(false);
                continue;
            }

            ClientSecureChannel channel;
            try
            {
                channel = await WaitForChannelAsync(Timeout.InfiniteTimeSpan, token).ConfigureAwait(false);
            }
            catch (ServiceResultException)
            {
                return;
            }

            var acks = new List<SubscriptionAcknowledgement>();
            while (acks.Count < 1000 && _acknowledgements.TryDequeue(out var ack))
            {
                acks.Add(ack);
            }

            var timeout = PublishTimeout();
            var request = new PublishRequest { RequestHeader = NewHeader(timeout), SubscriptionAcknowledgements = [.. acks] };
            PublishResponse response;
            try
            {
                response = (PublishResponse)await channel.SendRequestAsync(request, timeout, token).ConfigureAwait(false);
                MarkHeard();
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (ServiceResultException ex)
            {
                // Acknowledgements not delivered are sent again; the server ignores ones it has already seen.
                foreach (var ack in acks)
                {
                    _acknowledgements.Enqueue(ack);
                }

                if (!await HandlePublishFailureAsync(channel, ex, token).ConfigureAwait(false))
                {
                    return;
                }

                continue;
            }

            await ProcessPublishResponseAsync(channel, response, token).ConfigureAwait(false);
        }
    }

    private TimeSpan PublishTimeout()
    {
        var longest = 0.0;
        lock (_subscriptionsLock)
        {
            foreach (var s in _subscriptions)
            {
                longest = Math.Max(longest, s.RevisedPublishingInterval * Math.Max(1, s.RevisedKeepAliveCount));
            }
        }

        return TimeSpan.FromMilliseconds((longest * 2) + 5000);
    }

    /// <summary>Returns false when this publish loop should end.</summary>
    private async Task<bool> HandlePublishFailureAsync(ClientSecureChannel channel, ServiceResultException ex, CancellationToken token)
    {
        switch (ex.StatusCode.Code)
        {
            case StatusCodes.BadTooManyPublishRequests:
                // The server holds as many as it wants; this loop retires.
                MarkHeard();
                return false;
            case StatusCodes.BadNoSubscription:
                MarkHeard();
                await Task.Delay(100, token).ConfigureAwait(false);
                return true;
            case StatusCodes.BadTimeout or StatusCodes.BadRequestTimeout:
                return true;
            case StatusCodes.BadSessionIdInvalid or StatusCodes.BadSessionClosed or StatusCodes.BadSessionNotActivated:
                Log.PublishFailed(_logger, EndpointUrl, ex.StatusCode.Name, ex.Reason);
                channel.AbortSocket();
                await Task.Delay(50, token).ConfigureAwait(false);
                return true;
            default:
                if (channel.IsOpen)
                {
                    Log.PublishFailed(_logger, EndpointUrl, ex.StatusCode.Name, ex.Reason);
                    await Task.Delay(100, token).ConfigureAwait(false);
                }
                else
                {
                    // The supervisor reconnects; wait for it.
                    await Task.Delay(20, token).ConfigureAwait(false);
                }

                return true;
        }
    }

    private async Task ProcessPublishResponseAsync(ClientSecureChannel channel, PublishResponse response, CancellationToken token)
    {
        var subscription = FindSubscription(response.SubscriptionId);
        if (subscription is null || subscription.IsDeleted)
        {
            return;
        }

        var message = response.NotificationMessage;
        await subscription.ProcessingLock.WaitAsync(token).ConfigureAwait(false);
        try
        {
            subscription.LastHeardTicks = _time.GetTimestamp();
            var sequence = message.SequenceNumber;
            var published = AsUtc(message.PublishTime);
            var isKeepAlive = message.NotificationData is null or { Length: 0 };
            if (subscription.LastSequenceNumber is { } last)
            {
                var expected = NextSequence(last);
                if (isKeepAlive)
                {
                    // A keep-alive carries the sequence number the next message will have.
                    if (sequence != expected && IsNewer(sequence, expected))
                    {
                        await RepublishRangeAsync(channel, subscription, expected, PreviousSequence(sequence), published, token).ConfigureAwait(false);
                        subscription.LastSequenceNumber = PreviousSequence(sequence);
                    }

                    if (sequence == expected || IsNewer(sequence, expected))
                    {
                        // Nothing was missing up to this keep-alive: a gap found later starts here.
                        subscription.LastPublishTime = published;
                    }

                    return;
                }

                if (!IsNewer(sequence, last))
                {
                    // Already delivered (a republished copy arrived first): acknowledge and skip.
                    _acknowledgements.Enqueue(new SubscriptionAcknowledgement { SubscriptionId = subscription.Id, SequenceNumber = sequence });
                    return;
                }

                if (sequence != expected)
                {
                    await RepublishRangeAsync(channel, subscription, expected, PreviousSequence(sequence), published, token).ConfigureAwait(false);
                }
            }
            else if (isKeepAlive)
            {
                return;
            }

            Deliver(subscription, message, republished: false);
            subscription.LastSequenceNumber = sequence;
            subscription.LastPublishTime = published;
            _acknowledgements.Enqueue(new SubscriptionAcknowledgement { SubscriptionId = subscription.Id, SequenceNumber = sequence });
        }
        finally
        {
            subscription.ProcessingLock.Release();
        }
    }

    private static void Deliver(Subscription subscription, NotificationMessage message, bool republished)
    {
        foreach (var data in message.NotificationData ?? [])
        {
            switch (data?.Body)
            {
                case DataChangeNotification change:
                    // Batches of at most 1,000 values keep every array under the large-object-heap threshold (85 KB):
                    // at 10,000 values per message one array per message cost a gen2 collection every second (bench/README.md).
                    var notifications = change.MonitoredItems ?? [];
                    for (var start = 0; start < notifications.Length || start == 0; start += MaxValuesPerBatch)
                    {
                        var end = Math.Min(notifications.Length, start + MaxValuesPerBatch);
                        var values = new MonitoredItemValue[end - start];
                        var count = 0;
                        for (var i = start; i < end; i++)
                        {
                            if (subscription.TryGetItem(notifications[i].ClientHandle, out var item))
                            {
                                values[count++] = new MonitoredItemValue(item, notifications[i].Value);
                            }
                        }

                        if (count != values.Length)
                        {
                            Array.Resize(ref values, count);
                        }

                        subscription.Deliver(new DataChangeBatch(subscription, message.SequenceNumber, message.PublishTime, republished, values));
                        if (notifications.Length == 0)
                        {
                            break;
                        }
                    }

                    break;
                case EventNotificationList events:
                    var list = new List<(MonitoredItem, Variant[])>();
                    foreach (var e in events.Events ?? [])
                    {
                        if (subscription.TryGetItem(e.ClientHandle, out var item))
                        {
                            list.Add((item, e.EventFields ?? []));
                        }
                    }

                    subscription.Deliver(new EventBatch(subscription, message.SequenceNumber, message.PublishTime, [.. list]));
                    break;
                case StatusChangeNotification status:
                    subscription.Deliver(new SubscriptionStatusChanged(subscription, status.Status));
                    break;
            }
        }
    }
}
