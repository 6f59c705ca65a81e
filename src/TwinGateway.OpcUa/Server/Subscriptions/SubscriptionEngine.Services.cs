using TwinGateway.OpcUa.Server.AddressSpace;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Server.Subscriptions;

internal sealed partial class SubscriptionEngine
{
    private (double Interval, uint KeepAlive, uint Lifetime) Revise(double publishingInterval, uint keepAlive, uint lifetime)
    {
        var interval = double.IsNaN(publishingInterval) || publishingInterval < Options.MinPublishingInterval.TotalMilliseconds
            ? Options.MinPublishingInterval.TotalMilliseconds
            : Math.Min(publishingInterval, TimeSpan.FromHours(1).TotalMilliseconds);
        var revisedKeepAlive = Math.Clamp(keepAlive == 0 ? 10u : keepAlive, 1u, 10_000u);
        // The lifetime must be at least three keep-alive periods (OPC 10000-4 §5.13.2.2).
        var revisedLifetime = Math.Max(lifetime, revisedKeepAlive * 3);
        return (interval, revisedKeepAlive, Math.Min(revisedLifetime, 1_000_000u));
    }

    public CreateSubscriptionResponse CreateSubscription(Session session, CreateSubscriptionRequest request)
    {
        var (interval, keepAlive, lifetime) = Revise(request.RequestedPublishingInterval, request.RequestedMaxKeepAliveCount, request.RequestedLifetimeCount);
        lock (_lock)
        {
            if (_subscriptions.Values.Count(s => s.Session == session) >= Options.MaxSubscriptionsPerSession)
            {
                throw new ServiceResultException(StatusCodes.BadTooManySubscriptions,
                    $"{session.Describe()} already has {Options.MaxSubscriptionsPerSession} subscriptions");
            }

            var subscription = new ServerSubscription(++_nextSubscriptionId, session)
            {
                PublishingInterval = interval,
                MaxKeepAliveCount = keepAlive,
                LifetimeCount = lifetime,
                MaxNotificationsPerPublish = request.MaxNotificationsPerPublish,
                PublishingEnabled = request.PublishingEnabled,
                Priority = request.Priority,
                NextPublishTicks = Time.GetTimestamp() + ToTicks(interval),
            };
            _subscriptions[subscription.Id] = subscription;
            return new CreateSubscriptionResponse
            {
                SubscriptionId = subscription.Id,
                RevisedPublishingInterval = interval,
                RevisedMaxKeepAliveCount = keepAlive,
                RevisedLifetimeCount = lifetime,
            };
        }
    }

    private ServerSubscription Owned(Session session, uint subscriptionId) =>
        _subscriptions.TryGetValue(subscriptionId, out var subscription) && subscription.Session == session
            ? subscription
            : throw new ServiceResultException(StatusCodes.BadSubscriptionIdInvalid, $"subscription {subscriptionId} does not belong to {session.Describe()}");

    public ModifySubscriptionResponse ModifySubscription(Session session, ModifySubscriptionRequest request)
    {
        var (interval, keepAlive, lifetime) = Revise(request.RequestedPublishingInterval, request.RequestedMaxKeepAliveCount, request.RequestedLifetimeCount);
        lock (_lock)
        {
            var subscription = Owned(session, request.SubscriptionId);
            subscription.PublishingInterval = interval;
            subscription.MaxKeepAliveCount = keepAlive;
            subscription.LifetimeCount = lifetime;
            subscription.MaxNotificationsPerPublish = request.MaxNotificationsPerPublish;
            subscription.Priority = request.Priority;
            return new ModifySubscriptionResponse { RevisedPublishingInterval = interval, RevisedMaxKeepAliveCount = keepAlive, RevisedLifetimeCount = lifetime };
        }
    }

    /// <summary>
    /// Deletes subscriptions of the session. When that leaves the session without any, its parked Publish requests are
    /// answered BadNoSubscription at once (OPC 10000-4 §5.13.8.1): nothing will ever answer them otherwise, and a client
    /// would wait for them until CloseSession.
    /// </summary>
    public StatusCode[] DeleteSubscriptions(Session session, uint[] ids)
    {
        StatusCode[] results;
        bool lastOneGone;
        List<PendingPublish> parked;
        lock (_lock)
        {
            results = [.. ids.Select(id =>
            {
                if (!_subscriptions.TryGetValue(id, out var subscription) || subscription.Session != session)
                {
                    return new StatusCode(StatusCodes.BadSubscriptionIdInvalid);
                }

                RemoveSubscription(subscription);
                return new StatusCode(StatusCodes.Good);
            })];
            lastOneGone = results.Any(r => r.IsGood) && !_subscriptions.Values.Any(s => s.Session == session);
            // Drained under the engine lock: Publish checks for subscriptions and parks under it too, so no request can
            // slip into the queue after this drain and wait there for a subscription that no longer exists.
            parked = lastOneGone ? session.PublishQueue.DrainAll() : [];
        }

        if (parked.Count > 0)
        {
            foreach (var publish in parked)
            {
                publish.Completion.TrySetResult(UaServer.Fault(publish.Request.RequestHeader.RequestHandle, StatusCodes.BadNoSubscription));
            }

            Log.PublishesAnsweredNoSubscription(_logger, parked.Count, session.Describe());
        }

        return results;
    }

    public StatusCode[] SetPublishingMode(Session session, bool enabled, uint[] ids)
    {
        lock (_lock)
        {
            return [.. ids.Select(id =>
            {
                if (!_subscriptions.TryGetValue(id, out var subscription) || subscription.Session != session)
                {
                    return new StatusCode(StatusCodes.BadSubscriptionIdInvalid);
                }

                subscription.PublishingEnabled = enabled;
                return new StatusCode(StatusCodes.Good);
            })];
        }
    }

    /// <summary>
    /// The queue size granted (OPC 10000-4 §5.12.2: the server returns the revised size). A change-driven item asked for a
    /// queue of one at a sampling interval no shorter than the publishing interval gets two: it receives one value per
    /// publishing cycle, and with one slot the value of a cycle whose Publish came late was replaced, silently (a queue of
    /// one sets no overflow bit), by the next one: 0.9 % of all values at 100,000 items on a busy machine (bench/README.md).
    /// With two, a late cycle costs nothing, and a loss beyond that carries the overflow bit.
    /// </summary>
    private uint ReviseQueueSize(uint requested, double sampling, ServerSubscription subscription, bool changeDriven)
    {
        var size = Math.Clamp(requested, 1u, Options.MaxQueueSize);
        return size == 1 && changeDriven && sampling >= subscription.PublishingInterval ? Math.Min(2u, Math.Max(1u, Options.MaxQueueSize)) : size;
    }

    private double ReviseSampling(double requested, ServerSubscription subscription, Node node)
    {
        var interval = requested < 0 || double.IsNaN(requested) ? subscription.PublishingInterval : requested;
        var min = Math.Max(Options.MinSamplingInterval.TotalMilliseconds, node is VariableNode v && v.MinimumSamplingInterval > 0 ? v.MinimumSamplingInterval : 0);
        interval = Math.Clamp(interval, min, TimeSpan.FromHours(1).TotalMilliseconds);
        // Items share sampling passes per distinct interval; round to whole milliseconds so near-equal requests share one.
        return Math.Round(interval);
    }

    private static StatusCode ValidateFilter(ExtensionObject? filter, Node node, uint attributeId, out DataChangeFilter? dataChange)
    {
        dataChange = null;
        if (filter is null || (filter.Body is null && filter.TypeId.IsNull))
        {
            return StatusCodes.Good;
        }

        if (filter.Body is not DataChangeFilter f)
        {
            return StatusCodes.BadMonitoredItemFilterUnsupported;
        }

        if (attributeId != Attributes.Value || node is not VariableNode variable)
        {
            return StatusCodes.BadFilterNotAllowed;
        }

        switch ((DeadbandType)f.DeadbandType)
        {
            case DeadbandType.None:
                break;
            case DeadbandType.Absolute:
                if (!(variable.BuiltInType is >= BuiltInType.SByte and <= BuiltInType.Double || variable.NumericKind != NumericKind.None) || f.DeadbandValue < 0)
                {
                    return StatusCodes.BadDeadbandFilterInvalid;
                }

                break;
            case DeadbandType.Percent:
                if (variable.EURange is null || f.DeadbandValue is < 0 or > 100)
                {
                    return StatusCodes.BadDeadbandFilterInvalid;
                }

                break;
            default:
                return StatusCodes.BadDeadbandFilterInvalid;
        }

        dataChange = f;
        return StatusCodes.Good;
    }

    public MonitoredItemCreateResult[] CreateMonitoredItems(Session session, CreateMonitoredItemsRequest request)
    {
        var items = request.ItemsToCreate ?? [];
        if (items.Length == 0)
        {
            throw new ServiceResultException(StatusCodes.BadNothingToDo, "CreateMonitoredItems with no items");
        }

        if (items.Length > Options.MaxMonitoredItemsPerCall)
        {
            throw new ServiceResultException(StatusCodes.BadTooManyOperations,
                $"{items.Length} items in one CreateMonitoredItems call; the limit is {Options.MaxMonitoredItemsPerCall}");
        }

        if (request.TimestampsToReturn is < TimestampsToReturn.Source or > TimestampsToReturn.Neither)
        {
            throw new ServiceResultException(StatusCodes.BadTimestampsToReturnInvalid, $"TimestampsToReturn {(int)request.TimestampsToReturn}");
        }

        var now = Time.GetUtcNow().UtcDateTime;
        var space = _server.AddressSpace;
        lock (_lock)
        {
            var subscription = Owned(session, request.SubscriptionId);
            var results = new MonitoredItemCreateResult[items.Length];
            for (var i = 0; i < items.Length; i++)
            {
                var create = items[i];
                var target = create.ItemToMonitor;
                var node = space.Find(target.NodeId);
                StatusCode status;
                if (node is null)
                {
                    status = StatusCodes.BadNodeIdUnknown;
                }
                else if (!string.IsNullOrEmpty(target.IndexRange))
                {
                    status = StatusCodes.BadIndexRangeInvalid;
                }
                else if (target.AttributeId == Attributes.EventNotifier)
                {
                    status = StatusCodes.BadMonitoredItemFilterUnsupported;
                }
                else if (node.ReadAttribute(target.AttributeId).StatusCode.Code == StatusCodes.BadAttributeIdInvalid)
                {
                    status = StatusCodes.BadAttributeIdInvalid;
                }
                else if (_itemCount >= Options.MaxMonitoredItems || subscription.Items.Count >= Options.MaxMonitoredItemsPerSubscription)
                {
                    status = StatusCodes.BadTooManyMonitoredItems;
                }
                else
                {
                    status = ValidateFilter(create.RequestedParameters.Filter, node, target.AttributeId, out var filter);
                    if (status.IsGood)
                    {
                        var parameters = create.RequestedParameters;
                        var sampling = ReviseSampling(parameters.SamplingInterval, subscription, node);
                        var queueSize = ReviseQueueSize(parameters.QueueSize, sampling, subscription, ServerMonitoredItem.ReportsChanges(node, target.AttributeId));
                        var item = new ServerMonitoredItem(++_nextItemId, subscription, node, target.AttributeId, parameters.ClientHandle, sampling, queueSize,
                            parameters.DiscardOldest, create.MonitoringMode, filter)
                        {
                            IsChangeDriven = ServerMonitoredItem.ReportsChanges(node, target.AttributeId),
                        };
                        subscription.Items[item.Id] = item;
                        Interlocked.Increment(ref _itemCount);
                        AddToGroup(item);
                        if (item.MonitoringMode != MonitoringMode.Disabled)
                        {
                            item.QueueCurrentValue(now, _server.Diagnostics);
                            subscription.MarkReady(item);
                        }

                        results[i] = new MonitoredItemCreateResult
                        {
                            StatusCode = StatusCodes.Good,
                            MonitoredItemId = item.Id,
                            RevisedSamplingInterval = sampling,
                            RevisedQueueSize = queueSize,
                        };
                        continue;
                    }
                }

                results[i] = new MonitoredItemCreateResult { StatusCode = status };
            }

            return results;
        }
    }

    public MonitoredItemModifyResult[] ModifyMonitoredItems(Session session, ModifyMonitoredItemsRequest request)
    {
        var items = request.ItemsToModify ?? [];
        if (items.Length == 0)
        {
            throw new ServiceResultException(StatusCodes.BadNothingToDo, "ModifyMonitoredItems with no items");
        }

        lock (_lock)
        {
            var subscription = Owned(session, request.SubscriptionId);
            return [.. items.Select(modify =>
            {
                if (!subscription.Items.TryGetValue(modify.MonitoredItemId, out var item))
                {
                    return new MonitoredItemModifyResult { StatusCode = StatusCodes.BadMonitoredItemIdInvalid };
                }

                var parameters = modify.RequestedParameters;
                var status = ValidateFilter(parameters.Filter, item.Node, item.AttributeId, out var filter);
                if (status.IsBad)
                {
                    return new MonitoredItemModifyResult { StatusCode = status };
                }

                var sampling = ReviseSampling(parameters.SamplingInterval, subscription, item.Node);
                if (sampling != item.SamplingInterval)
                {
                    RemoveFromGroup(item);
                    item.SamplingInterval = sampling;
                    AddToGroup(item);
                }

                var queueSize = ReviseQueueSize(parameters.QueueSize, sampling, subscription, item.IsChangeDriven);
                item.Resize(queueSize);
                item.ClientHandle = parameters.ClientHandle;
                item.DiscardOldest = parameters.DiscardOldest;
                item.Filter = filter;
                return new MonitoredItemModifyResult { StatusCode = StatusCodes.Good, RevisedSamplingInterval = sampling, RevisedQueueSize = queueSize };
            })];
        }
    }

    public StatusCode[] DeleteMonitoredItems(Session session, uint subscriptionId, uint[] ids)
    {
        if (ids.Length == 0)
        {
            throw new ServiceResultException(StatusCodes.BadNothingToDo, "DeleteMonitoredItems with no items");
        }

        lock (_lock)
        {
            var subscription = Owned(session, subscriptionId);
            return [.. ids.Select(id =>
            {
                if (!subscription.Items.Remove(id, out var item))
                {
                    return new StatusCode(StatusCodes.BadMonitoredItemIdInvalid);
                }

                item.IsDeleted = true;
                RemoveFromGroup(item);
                Interlocked.Decrement(ref _itemCount);
                return new StatusCode(StatusCodes.Good);
            })];
        }
    }

    public StatusCode[] SetMonitoringMode(Session session, uint subscriptionId, MonitoringMode mode, uint[] ids)
    {
        if (mode is < MonitoringMode.Disabled or > MonitoringMode.Reporting)
        {
            throw new ServiceResultException(StatusCodes.BadMonitoringModeInvalid, $"monitoring mode {(int)mode}");
        }

        var now = Time.GetUtcNow().UtcDateTime;
        lock (_lock)
        {
            var subscription = Owned(session, subscriptionId);
            return [.. ids.Select(id =>
            {
                if (!subscription.Items.TryGetValue(id, out var item))
                {
                    return new StatusCode(StatusCodes.BadMonitoredItemIdInvalid);
                }

                var wasDisabled = item.MonitoringMode == MonitoringMode.Disabled;
                item.MonitoringMode = mode;
                if (mode == MonitoringMode.Disabled)
                {
                    item.Clear();
                }
                else if (wasDisabled)
                {
                    item.QueueCurrentValue(now, _server.Diagnostics);
                }

                subscription.MarkReady(item);
                return new StatusCode(StatusCodes.Good);
            })];
        }
    }

    /// <summary>Parks a Publish request after applying its acknowledgements; the engine answers it when a subscription has something to send.</summary>
    public Task<IServiceResponse> Publish(Session session, PublishRequest request, ServerConnection connection)
    {
        var acks = request.SubscriptionAcknowledgements ?? [];
        var results = new StatusCode[acks.Length];
        PendingPublish? publish = null;
        PendingPublish? evicted = null;
        lock (_lock)
        {
            for (var i = 0; i < acks.Length; i++)
            {
                results[i] = _subscriptions.TryGetValue(acks[i].SubscriptionId, out var s) && s.Session == session
                    ? (s.Acknowledge(acks[i].SequenceNumber) ? StatusCodes.Good : StatusCodes.BadSequenceNumberUnknown)
                    : StatusCodes.BadSubscriptionIdInvalid;
            }

            if (_subscriptions.Values.Any(s => s.Session == session))
            {
                // Parked under the engine lock, so DeleteSubscriptions of the last subscription cannot miss it.
                var timeout = request.RequestHeader.TimeoutHint == 0 ? TimeSpan.FromHours(1) : TimeSpan.FromMilliseconds(request.RequestHeader.TimeoutHint);
                publish = new PendingPublish(request, Time.GetTimestamp() + ToTicks(timeout.TotalMilliseconds), connection) { AcknowledgementResults = results };
                evicted = session.PublishQueue.Enqueue(publish, Options.MaxPublishRequestsPerSession);
            }
        }

        if (publish is null)
        {
            throw new ServiceResultException(StatusCodes.BadNoSubscription, $"Publish on {session.Describe()}, which has no subscription");
        }

        if (evicted is not null)
        {
            evicted.Completion.TrySetResult(UaServer.Fault(evicted.Request.RequestHeader.RequestHandle, StatusCodes.BadTooManyPublishRequests));
        }

        return publish.Completion.Task;
    }

    public NotificationMessage Republish(Session session, uint subscriptionId, uint sequenceNumber)
    {
        lock (_lock)
        {
            var subscription = Owned(session, subscriptionId);
            return subscription.Retransmit(sequenceNumber)
                ?? throw new ServiceResultException(StatusCodes.BadMessageNotAvailable,
                    $"message {sequenceNumber} of subscription {subscriptionId} is no longer held (held: {string.Join(",", subscription.AvailableSequenceNumbers)})");
        }
    }

    /// <summary>Moves subscriptions to <paramref name="session"/> when its user owns them (OPC 10000-4 §5.13.7).</summary>
    public TransferResult[] TransferSubscriptions(Session session, uint[] ids, bool sendInitialValues)
    {
        var now = Time.GetUtcNow().UtcDateTime;
        lock (_lock)
        {
            return [.. ids.Select(id =>
            {
                if (!_subscriptions.TryGetValue(id, out var subscription))
                {
                    return new TransferResult { StatusCode = StatusCodes.BadSubscriptionIdInvalid };
                }

                // An orphaned subscription still belongs to the user whose session left it.
                var owner = subscription.Session is { } previous ? previous.UserName : subscription.OrphanedUserName;
                if (!string.Equals(owner, session.UserName, StringComparison.Ordinal))
                {
                    return new TransferResult { StatusCode = StatusCodes.BadUserAccessDenied };
                }

                subscription.Session = session;
                subscription.LifetimeCounter = 0;
                if (sendInitialValues)
                {
                    subscription.QueueInitialValues(now, _server.Diagnostics);
                }

                Log.Transferred(_logger, id, session.Describe());
                return new TransferResult { StatusCode = StatusCodes.Good, AvailableSequenceNumbers = subscription.AvailableSequenceNumbers };
            })];
        }
    }

    /// <summary>A closed session deletes its subscriptions or leaves them to expire (or be transferred) on their lifetime.</summary>
    public void OnSessionClosed(Session session, bool deleteSubscriptions)
    {
        lock (_lock)
        {
            foreach (var subscription in _subscriptions.Values.Where(s => s.Session == session).ToList())
            {
                if (deleteSubscriptions)
                {
                    RemoveSubscription(subscription);
                }
                else
                {
                    subscription.OrphanedUserName = session.UserName;
                    subscription.Session = null;
                    subscription.PendingStatusChange = null;
                }
            }
        }
    }

    public bool HasSubscriptions(Session session)
    {
        lock (_lock)
        {
            return _subscriptions.Values.Any(s => s.Session == session);
        }
    }
}
