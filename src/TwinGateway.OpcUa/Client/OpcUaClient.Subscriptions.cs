using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Client;

/// <summary>
/// Subscriptions and their monitored items: create, modify, delete, in batches the server accepts.
/// </summary>
public sealed partial class OpcUaClient
{
    private readonly Lock _subscriptionsLock = new();
    private readonly Dictionary<uint, Subscription> _subscriptionsById = [];
    private readonly List<Subscription> _subscriptions = [];
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
        subscription.LastPublishTime = _time.GetUtcNow();
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

    private void CompleteSubscriptions()
    {
        foreach (var s in Subscriptions)
        {
            s.Complete();
        }
    }

    private Subscription? FindSubscription(uint id)
    {
        lock (_subscriptionsLock)
        {
            return _subscriptionsById.GetValueOrDefault(id);
        }
    }
}
