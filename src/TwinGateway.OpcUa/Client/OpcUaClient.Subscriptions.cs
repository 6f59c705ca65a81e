using System.Collections.Concurrent;
using TwinGateway.OpcUa.Channel;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Client;

public sealed partial class OpcUaClient
{
    /// <summary>Beyond this many missing messages we report a gap instead of asking for each one.</summary>
    private const int MaxRepublishPerGap = 256;

    /// <summary>Values per <see cref="DataChangeBatch"/>; one NotificationMessage may become several batches with the same sequence number.</summary>
    private const int MaxValuesPerBatch = 1000;

    private readonly Lock _subscriptionsLock = new();
    private readonly Dictionary<uint, Subscription> _subscriptionsById = [];
    private readonly List<Subscription> _subscriptions = [];
    private readonly ConcurrentQueue<SubscriptionAcknowledgement> _acknowledgements = new();
    private CancellationTokenSource? _publishing;
    private Task[] _publishLoops = [];
    private uint _nextClientHandle;
    private uint _maxMonitoredItemsPerCall;

    public IReadOnlyList<Subscription> Subscriptions
    {
        get
        {
            lock (_subscriptionsLock)
            {
                return [.. _subscriptions];
            }
        }
    }

    /// <summary>Creates a subscription; publishing starts with the first one.</summary>
    public async Task<Subscription> CreateSubscriptionAsync(SubscriptionOptions? options = null, CancellationToken cancellationToken = default)
    {
        var subscription = new Subscription(this, options ?? new SubscriptionOptions());
        var response = await CallAsync<CreateSubscriptionResponse>(NewCreateSubscriptionRequest(subscription.Options), cancellationToken: cancellationToken).ConfigureAwait(false);
        Apply(subscription, response);
        lock (_subscriptionsLock)
        {
            _subscriptions.Add(subscription);
            _subscriptionsById[subscription.Id] = subscription;
        }

        StartPublishing();
        return subscription;
    }

    private static CreateSubscriptionRequest NewCreateSubscriptionRequest(SubscriptionOptions options) => new()
    {
        RequestedPublishingInterval = options.PublishingInterval.TotalMilliseconds,
        RequestedLifetimeCount = Math.Max(options.LifetimeCount, options.KeepAliveCount * 3),
        RequestedMaxKeepAliveCount = options.KeepAliveCount,
        MaxNotificationsPerPublish = options.MaxNotificationsPerPublish,
        PublishingEnabled = options.PublishingEnabled,
        Priority = options.Priority,
    };

    private void Apply(Subscription subscription, CreateSubscriptionResponse response)
    {
        subscription.Id = response.SubscriptionId;
        subscription.RevisedPublishingInterval = response.RevisedPublishingInterval;
        subscription.RevisedKeepAliveCount = response.RevisedMaxKeepAliveCount;
        subscription.RevisedLifetimeCount = response.RevisedLifetimeCount;
        // A new subscription's first message is 1 (OPC 10000-4 §5.13.1.1): expecting it means a message 2 that overtakes
        // message 1 among the outstanding Publish responses makes us republish 1 instead of skipping it as old.
        subscription.LastSequenceNumber = 0;
        subscription.LastHeardTicks = _time.GetTimestamp();
    }

    private async Task ReadServerLimitsAsync(CancellationToken cancellationToken)
    {
        try
        {
            var response = await CallAsync<ReadResponse>(new ReadRequest
            {
                NodesToRead = [new ReadValueId { NodeId = new NodeId(VariableIds.Server_ServerCapabilities_OperationLimits_MaxMonitoredItemsPerCall), AttributeId = Attributes.Value }],
            }, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (response.Results is [{ StatusCode.IsGood: true } result] && result.Value.IsNumeric)
            {
                _maxMonitoredItemsPerCall = (uint)result.Value.ToDouble();
            }
        }
        catch (ServiceResultException)
        {
            // Optional node: servers without it get the default batch size.
        }
    }

    private int MonitoredItemsPerCall => _maxMonitoredItemsPerCall is > 0 and < int.MaxValue
        ? (int)_maxMonitoredItemsPerCall
        : _options.DefaultMonitoredItemsPerCall;

    private static MonitoredItemCreateRequest ToCreateRequest(MonitoredItem item) => new()
    {
        ItemToMonitor = new ReadValueId { NodeId = item.Options.NodeId, AttributeId = item.Options.AttributeId, IndexRange = item.Options.IndexRange },
        MonitoringMode = item.Options.MonitoringMode,
        RequestedParameters = ToParameters(item.ClientHandle, item.Options),
    };

    private static MonitoringParameters ToParameters(uint clientHandle, MonitoredItemOptions options) => new()
    {
        ClientHandle = clientHandle,
        SamplingInterval = options.SamplingInterval.TotalMilliseconds,
        QueueSize = options.QueueSize,
        DiscardOldest = options.DiscardOldest,
        Filter = options.Filter is null ? null : new ExtensionObject(options.Filter),
    };

    internal async Task<IReadOnlyList<MonitoredItem>> CreateMonitoredItemsAsync(Subscription subscription, IEnumerable<MonitoredItemOptions> options, CancellationToken cancellationToken)
    {
        var items = options.Select(o => new MonitoredItem(subscription, Interlocked.Increment(ref _nextClientHandle), o)).ToList();
        foreach (var item in items)
        {
            subscription.AddItem(item);
        }

        foreach (var batch in items.Chunk(MonitoredItemsPerCall))
        {
            var response = await CallAsync<CreateMonitoredItemsResponse>(new CreateMonitoredItemsRequest
            {
                SubscriptionId = subscription.Id,
                TimestampsToReturn = TimestampsToReturn.Both,
                ItemsToCreate = [.. batch.Select(ToCreateRequest)],
            }, cancellationToken: cancellationToken).ConfigureAwait(false);
            ApplyCreateResults(batch, response.Results);
        }

        return items;
    }

    private static void ApplyCreateResults(MonitoredItem[] batch, MonitoredItemCreateResult[]? results)
    {
        for (var i = 0; i < batch.Length; i++)
        {
            var result = results is not null && i < results.Length ? results[i] : null;
            batch[i].Status = result?.StatusCode ?? new StatusCode(StatusCodes.BadUnexpectedError);
            batch[i].ServerId = result?.MonitoredItemId ?? 0;
            batch[i].RevisedSamplingInterval = result?.RevisedSamplingInterval ?? 0;
            batch[i].RevisedQueueSize = result?.RevisedQueueSize ?? 0;
        }
    }

    internal async Task<IReadOnlyList<StatusCode>> ModifyMonitoredItemsAsync(Subscription subscription, IReadOnlyList<(MonitoredItem Item, MonitoredItemOptions Options)> changes, CancellationToken cancellationToken)
    {
        var statuses = new List<StatusCode>(changes.Count);
        foreach (var batch in changes.Chunk(MonitoredItemsPerCall))
        {
            var response = await CallAsync<ModifyMonitoredItemsResponse>(new ModifyMonitoredItemsRequest
            {
                SubscriptionId = subscription.Id,
                TimestampsToReturn = TimestampsToReturn.Both,
                ItemsToModify = [.. batch.Select(c => new MonitoredItemModifyRequest { MonitoredItemId = c.Item.ServerId, RequestedParameters = ToParameters(c.Item.ClientHandle, c.Options) })],
            }, cancellationToken: cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < batch.Length; i++)
            {
                var result = response.Results is { } r && i < r.Length ? r[i] : null;
                var status = result?.StatusCode ?? new StatusCode(StatusCodes.BadUnexpectedError);
                if (status.IsGood && result is not null)
                {
                    batch[i].Item.Options = batch[i].Options with { MonitoringMode = batch[i].Item.Options.MonitoringMode };
                    batch[i].Item.RevisedSamplingInterval = result.RevisedSamplingInterval;
                    batch[i].Item.RevisedQueueSize = result.RevisedQueueSize;
                }

                statuses.Add(status);
            }
        }

        return statuses;
    }

    internal async Task<IReadOnlyList<StatusCode>> DeleteMonitoredItemsAsync(Subscription subscription, IReadOnlyList<MonitoredItem> items, CancellationToken cancellationToken)
    {
        var statuses = new List<StatusCode>(items.Count);
        foreach (var batch in items.Chunk(MonitoredItemsPerCall))
        {
            var response = await CallAsync<DeleteMonitoredItemsResponse>(new DeleteMonitoredItemsRequest
            {
                SubscriptionId = subscription.Id,
                MonitoredItemIds = [.. batch.Select(i => i.ServerId)],
            }, cancellationToken: cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < batch.Length; i++)
            {
                var status = response.Results is { } r && i < r.Length ? r[i] : new StatusCode(StatusCodes.BadUnexpectedError);
                if (status.IsGood || status.Code == StatusCodes.BadMonitoredItemIdInvalid)
                {
                    subscription.RemoveItem(batch[i]);
                }

                statuses.Add(status);
            }
        }

        return statuses;
    }

    internal async Task<IReadOnlyList<StatusCode>> SetMonitoringModeAsync(Subscription subscription, MonitoringMode mode, IReadOnlyList<MonitoredItem> items, CancellationToken cancellationToken)
    {
        var statuses = new List<StatusCode>(items.Count);
        foreach (var batch in items.Chunk(MonitoredItemsPerCall))
        {
            var response = await CallAsync<SetMonitoringModeResponse>(new SetMonitoringModeRequest
            {
                SubscriptionId = subscription.Id,
                MonitoringMode = mode,
                MonitoredItemIds = [.. batch.Select(i => i.ServerId)],
            }, cancellationToken: cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < batch.Length; i++)
            {
                var status = response.Results is { } r && i < r.Length ? r[i] : new StatusCode(StatusCodes.BadUnexpectedError);
                if (status.IsGood)
                {
                    batch[i].Options = batch[i].Options with { MonitoringMode = mode };
                }

                statuses.Add(status);
            }
        }

        return statuses;
    }

    internal async Task ModifySubscriptionAsync(Subscription subscription, SubscriptionOptions options, CancellationToken cancellationToken)
    {
        var response = await CallAsync<ModifySubscriptionResponse>(new ModifySubscriptionRequest
        {
            SubscriptionId = subscription.Id,
            RequestedPublishingInterval = options.PublishingInterval.TotalMilliseconds,
            RequestedLifetimeCount = Math.Max(options.LifetimeCount, options.KeepAliveCount * 3),
            RequestedMaxKeepAliveCount = options.KeepAliveCount,
            MaxNotificationsPerPublish = options.MaxNotificationsPerPublish,
            Priority = options.Priority,
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
        subscription.Options = options with { PublishingEnabled = subscription.Options.PublishingEnabled };
        subscription.RevisedPublishingInterval = response.RevisedPublishingInterval;
        subscription.RevisedKeepAliveCount = response.RevisedMaxKeepAliveCount;
        subscription.RevisedLifetimeCount = response.RevisedLifetimeCount;
    }

    internal async Task<StatusCode> SetPublishingModeAsync(Subscription subscription, bool enabled, CancellationToken cancellationToken)
    {
        var response = await CallAsync<SetPublishingModeResponse>(new SetPublishingModeRequest
        {
            PublishingEnabled = enabled,
            SubscriptionIds = [subscription.Id],
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
        var status = response.Results is [var s] ? s : new StatusCode(StatusCodes.BadUnexpectedError);
        if (status.IsGood)
        {
            subscription.Options = subscription.Options with { PublishingEnabled = enabled };
        }

        return status;
    }

    internal async Task DeleteSubscriptionAsync(Subscription subscription, CancellationToken cancellationToken)
    {
        lock (_subscriptionsLock)
        {
            _subscriptions.Remove(subscription);
            _subscriptionsById.Remove(subscription.Id);
        }

        subscription.IsDeleted = true;
        subscription.Complete();
        var response = await CallAsync<DeleteSubscriptionsResponse>(new DeleteSubscriptionsRequest { SubscriptionIds = [subscription.Id] }, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (response.Results is [{ IsBad: true } bad] && bad.Code != StatusCodes.BadSubscriptionIdInvalid)
        {
            throw new ServiceResultException(bad, $"DeleteSubscriptions({subscription.Id}) failed");
        }
    }

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

    private void CompleteSubscriptions()
    {
        foreach (var s in Subscriptions)
        {
            s.Complete();
        }
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
                return false;
            case StatusCodes.BadNoSubscription:
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

    private Subscription? FindSubscription(uint id)
    {
        lock (_subscriptionsLock)
        {
            return _subscriptionsById.GetValueOrDefault(id);
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
            var isKeepAlive = message.NotificationData is null or { Length: 0 };
            if (subscription.LastSequenceNumber is { } last)
            {
                var expected = NextSequence(last);
                if (isKeepAlive)
                {
                    // A keep-alive carries the sequence number the next message will have.
                    if (sequence != expected && IsNewer(sequence, expected))
                    {
                        await RepublishRangeAsync(channel, subscription, expected, PreviousSequence(sequence), token).ConfigureAwait(false);
                        subscription.LastSequenceNumber = PreviousSequence(sequence);
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
                    await RepublishRangeAsync(channel, subscription, expected, PreviousSequence(sequence), token).ConfigureAwait(false);
                }
            }
            else if (isKeepAlive)
            {
                return;
            }

            Deliver(subscription, message, republished: false);
            subscription.LastSequenceNumber = sequence;
            _acknowledgements.Enqueue(new SubscriptionAcknowledgement { SubscriptionId = subscription.Id, SequenceNumber = sequence });
        }
        finally
        {
            subscription.ProcessingLock.Release();
        }
    }

    /// <summary>Sequence numbers run 1..UInt32.MaxValue and wrap to 1, never 0 (OPC 10000-4 §7.25).</summary>
    internal static uint NextSequence(uint sequence) => sequence == uint.MaxValue ? 1 : sequence + 1;

    internal static uint PreviousSequence(uint sequence) => sequence <= 1 ? uint.MaxValue : sequence - 1;

    /// <summary>True when <paramref name="a"/> comes after <paramref name="b"/>, across the wrap.</summary>
    internal static bool IsNewer(uint a, uint b)
    {
        if (a == b)
        {
            return false;
        }

        var forward = a > b ? a - b : (uint.MaxValue - b) + a; // zero is skipped on the wrap
        return forward < uint.MaxValue / 2;
    }

    private async Task RepublishRangeAsync(ClientSecureChannel channel, Subscription subscription, uint first, uint last, CancellationToken token)
    {
        var count = 0;
        for (var sequence = first; ; sequence = NextSequence(sequence))
        {
            if (++count > MaxRepublishPerGap)
            {
                ReportGap(subscription, sequence, last, $"more than {MaxRepublishPerGap} messages missing; not republished");
                return;
            }

            try
            {
                var response = (RepublishResponse)await channel.SendRequestAsync(new RepublishRequest
                {
                    RequestHeader = NewHeader(),
                    SubscriptionId = subscription.Id,
                    RetransmitSequenceNumber = sequence,
                }, _options.RequestTimeout, token).ConfigureAwait(false);
                Deliver(subscription, response.NotificationMessage, republished: true);
                _acknowledgements.Enqueue(new SubscriptionAcknowledgement { SubscriptionId = subscription.Id, SequenceNumber = sequence });
            }
            catch (ServiceResultException ex) when (ex.StatusCode.Code is StatusCodes.BadMessageNotAvailable or StatusCodes.BadSequenceNumberUnknown)
            {
                ReportGap(subscription, sequence, sequence, $"the server no longer holds message {sequence} ({ex.StatusCode.Name})");
            }

            if (sequence == last)
            {
                return;
            }
        }
    }

    private void ReportGap(Subscription subscription, uint first, uint last, string reason)
    {
        Log.Gap(_logger, EndpointUrl, subscription.Id, first, last, reason);
        subscription.Deliver(new NotificationGap(subscription, first, last, reason));
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

    private readonly ConcurrentDictionary<Subscription, uint[]> _pendingRepublish = new();

    private async Task RecreateSubscriptionAsync(ClientSecureChannel channel, Subscription subscription, StatusCode? transferStatus, CancellationToken token)
    {
        var oldId = subscription.Id;
        var lastSequence = subscription.LastSequenceNumber;
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
        ReportGap(subscription, lastSequence is { } l ? NextSequence(l) : 0, 0,
            $"subscription {oldId} was lost with its session ({why}); recreated as {subscription.Id}: changes while disconnected are missing, current values follow");
        Log.SubscriptionRecovered(_logger, EndpointUrl, oldId, "recreated", subscription.Id);
    }

    private T WithHeader<T>(T request)
        where T : IServiceRequest
    {
        request.RequestHeader = NewHeader();
        return request;
    }

    /// <summary>After a transfer, republish the messages the server still holds that we have not delivered, in order.</summary>
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
                var last = subscription.LastSequenceNumber;
                foreach (var sequence in available.Where(s => last is null || IsNewer(s, last.Value)).Order())
                {
                    await RepublishRangeAsync(channel, subscription, sequence, sequence, token).ConfigureAwait(false);
                    subscription.LastSequenceNumber = sequence;
                }
            }
            finally
            {
                subscription.ProcessingLock.Release();
            }
        }
    }
}
