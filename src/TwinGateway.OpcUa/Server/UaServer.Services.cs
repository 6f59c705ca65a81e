using TwinGateway.OpcUa.Server.AddressSpace;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Server;

public sealed partial class UaServer
{
    /// <summary>Routes a decoded request to its service. Session services check the session first.</summary>
    internal ValueTask<IServiceResponse> DispatchAsync(RequestContext context, IServiceRequest request)
    {
        Diagnostics.CountRequest();
        var header = request.RequestHeader;
        try
        {
            if (context.Connection.Security is null && !Options.AllowSecurityPolicyNone && request is not (GetEndpointsRequest or FindServersRequest))
            {
                throw new ServiceResultException(StatusCodes.BadSecurityPolicyRejected,
                    $"{request.GetType().Name.Replace("Request", "", StringComparison.Ordinal)} on an unsecured channel; SecurityPolicy None is switched off on this server (discovery only)");
            }

            IServiceResponse response;
            switch (request)
            {
                case GetEndpointsRequest:
                    response = new GetEndpointsResponse { Endpoints = GetEndpointDescriptions() };
                    break;
                case FindServersRequest:
                    response = new FindServersResponse { Servers = [ApplicationDescription] };
                    break;
                case CreateSessionRequest create:
                    response = Sessions.Create(context.Connection, create);
                    break;
                case ActivateSessionRequest activate:
                    return Finish(header, Sessions.ActivateAsync(context.Connection, activate, context.Cancellation));
                case CloseSessionRequest close:
                    {
                        var session = Sessions.Find(header.AuthenticationToken)
                            ?? throw new ServiceResultException(StatusCodes.BadSessionIdInvalid, "CloseSession for an unknown session");
                        Sessions.Close(session, close.DeleteSubscriptions, "closed by the client");
                        response = new CloseSessionResponse();
                        break;
                    }

                case CancelRequest:
                    response = new CancelResponse { CancelCount = 0 };
                    break;
                default:
                    {
                        var session = Sessions.Require(context.Connection, header);
                        if (request is PublishRequest publish)
                        {
                            return FinishPublish(header, Subscriptions.Publish(session, publish, context.Connection));
                        }

                        if (request is CallRequest call)
                        {
                            return Finish(header, CallAsync(session, call, context.Cancellation));
                        }

                        response = Serve(session, request);
                        break;
                    }
            }

            Stamp(response, header);
            return ValueTask.FromResult(response);
        }
        catch (ServiceResultException ex)
        {
            Diagnostics.CountRejected(ex.StatusCode);
            throw;
        }
    }

    private void Stamp(IServiceResponse response, RequestHeader header)
    {
        response.ResponseHeader.RequestHandle = header.RequestHandle;
        response.ResponseHeader.Timestamp = Time.GetUtcNow().UtcDateTime;
    }

    private async ValueTask<IServiceResponse> Finish<T>(RequestHeader header, ValueTask<T> pending)
        where T : IServiceResponse
    {
        var response = await pending.ConfigureAwait(false);
        Stamp(response, header);
        return response;
    }

    private static async ValueTask<IServiceResponse> FinishPublish(RequestHeader header, Task<IServiceResponse> pending)
    {
        var response = await pending.ConfigureAwait(false);
        response.ResponseHeader.RequestHandle = header.RequestHandle;
        return response;
    }

    private static void Limit(int count, int max, string service)
    {
        if (count == 0)
        {
            throw new ServiceResultException(StatusCodes.BadNothingToDo, $"{service} with nothing to do");
        }

        if (count > max)
        {
            throw new ServiceResultException(StatusCodes.BadTooManyOperations, $"{service} with {count} operations; the limit is {max}");
        }
    }

    private IServiceResponse Serve(Session session, IServiceRequest request) => request switch
    {
        ReadRequest read => Read(read),
        WriteRequest write => Write(write),
        BrowseRequest browse => Browse(session, browse),
        BrowseNextRequest next => BrowseNext(session, next),
        TranslateBrowsePathsToNodeIdsRequest translate => Translate(translate),
        RegisterNodesRequest register => Register(register),
        UnregisterNodesRequest unregister => Unregister(unregister),
        CreateSubscriptionRequest create => Subscriptions.CreateSubscription(session, create),
        ModifySubscriptionRequest modify => Subscriptions.ModifySubscription(session, modify),
        DeleteSubscriptionsRequest delete => new DeleteSubscriptionsResponse { Results = Subscriptions.DeleteSubscriptions(session, NonEmpty(delete.SubscriptionIds, "DeleteSubscriptions")) },
        SetPublishingModeRequest mode => new SetPublishingModeResponse { Results = Subscriptions.SetPublishingMode(session, mode.PublishingEnabled, NonEmpty(mode.SubscriptionIds, "SetPublishingMode")) },
        TransferSubscriptionsRequest transfer => new TransferSubscriptionsResponse { Results = Subscriptions.TransferSubscriptions(session, NonEmpty(transfer.SubscriptionIds, "TransferSubscriptions"), transfer.SendInitialValues) },
        CreateMonitoredItemsRequest create => new CreateMonitoredItemsResponse { Results = Subscriptions.CreateMonitoredItems(session, create) },
        ModifyMonitoredItemsRequest modify => new ModifyMonitoredItemsResponse { Results = Subscriptions.ModifyMonitoredItems(session, modify) },
        DeleteMonitoredItemsRequest delete => new DeleteMonitoredItemsResponse { Results = Subscriptions.DeleteMonitoredItems(session, delete.SubscriptionId, delete.MonitoredItemIds ?? []) },
        SetMonitoringModeRequest mode => new SetMonitoringModeResponse { Results = Subscriptions.SetMonitoringMode(session, mode.SubscriptionId, mode.MonitoringMode, NonEmpty(mode.MonitoredItemIds, "SetMonitoringMode")) },
        RepublishRequest republish => new RepublishResponse { NotificationMessage = Subscriptions.Republish(session, republish.SubscriptionId, republish.RetransmitSequenceNumber) },
        _ => throw new ServiceResultException(StatusCodes.BadServiceUnsupported, $"{request.GetType().Name.Replace("Request", "", StringComparison.Ordinal)} is not supported by this server"),
    };

    private static T[] NonEmpty<T>(T[]? values, string service) =>
        values is { Length: > 0 } ? values : throw new ServiceResultException(StatusCodes.BadNothingToDo, $"{service} with nothing to do");

    private ReadResponse Read(ReadRequest request)
    {
        var nodes = request.NodesToRead ?? [];
        Limit(nodes.Length, Options.MaxNodesPerRead, "Read");
        if (request.MaxAge < 0)
        {
            throw new ServiceResultException(StatusCodes.BadMaxAgeInvalid, $"MaxAge {request.MaxAge} is negative");
        }

        if (request.TimestampsToReturn is < TimestampsToReturn.Source or > TimestampsToReturn.Neither)
        {
            throw new ServiceResultException(StatusCodes.BadTimestampsToReturnInvalid, $"TimestampsToReturn {(int)request.TimestampsToReturn}");
        }

        var now = Time.GetUtcNow().UtcDateTime;
        var results = new DataValue[nodes.Length];
        for (var i = 0; i < nodes.Length; i++)
        {
            var item = nodes[i];
            var node = AddressSpace.Find(item.NodeId);
            if (node is null)
            {
                results[i] = new DataValue(default, StatusCodes.BadNodeIdUnknown);
                continue;
            }

            if (!string.IsNullOrEmpty(item.IndexRange))
            {
                results[i] = new DataValue(default, StatusCodes.BadIndexRangeInvalid);
                continue;
            }

            // One clock reading per Read: it stamps the ServerTimestamp and is what values produced on read are stamped with.
            var value = node.ReadAttribute(item.AttributeId, now);
            var isValue = item.AttributeId == Attributes.Value;
            var source = isValue ? Node.SourceTimeAt(value.SourceTimestamp, now) : default;
            results[i] = request.TimestampsToReturn switch
            {
                TimestampsToReturn.Source => value with { SourceTimestamp = source, ServerTimestamp = default, ServerPicoseconds = 0 },
                TimestampsToReturn.Server => value with { SourceTimestamp = default, SourcePicoseconds = 0, ServerTimestamp = now },
                TimestampsToReturn.Neither => value with { SourceTimestamp = default, ServerTimestamp = default, SourcePicoseconds = 0, ServerPicoseconds = 0 },
                _ => value with { ServerTimestamp = now, SourceTimestamp = source },
            };
        }

        return new ReadResponse { Results = results };
    }

    private WriteResponse Write(WriteRequest request)
    {
        var nodes = request.NodesToWrite ?? [];
        Limit(nodes.Length, Options.MaxNodesPerWrite, "Write");
        var now = Time.GetUtcNow().UtcDateTime;
        var results = new StatusCode[nodes.Length];
        for (var i = 0; i < nodes.Length; i++)
        {
            results[i] = WriteOne(nodes[i], now);
        }

        return new WriteResponse { Results = results };
    }

    private StatusCode WriteOne(WriteValue write, DateTime now)
    {
        var node = AddressSpace.Find(write.NodeId);
        if (node is null)
        {
            return StatusCodes.BadNodeIdUnknown;
        }

        if (write.AttributeId != Attributes.Value)
        {
            return node.ReadAttribute(write.AttributeId).StatusCode.Code == StatusCodes.BadAttributeIdInvalid
                ? StatusCodes.BadAttributeIdInvalid
                : StatusCodes.BadNotWritable;
        }

        if (node is not VariableNode variable)
        {
            return StatusCodes.BadAttributeIdInvalid;
        }

        if (!string.IsNullOrEmpty(write.IndexRange))
        {
            return StatusCodes.BadWriteNotSupported;
        }

        if ((variable.AccessLevel & AccessLevels.CurrentWrite) == 0 || (variable.UserAccessLevel & AccessLevels.CurrentWrite) == 0)
        {
            return StatusCodes.BadNotWritable;
        }

        var value = write.Value.Value;
        var check = variable.CheckValue(value);
        if (check.IsBad)
        {
            return check;
        }

        if (variable.WriteHandler is { } handler)
        {
            return handler(value);
        }

        variable.SetValue(value, write.Value.SourceTimestamp == default ? now : write.Value.SourceTimestamp, write.Value.StatusCode);
        return StatusCodes.Good;
    }

    private async ValueTask<CallResponse> CallAsync(Session session, CallRequest request, CancellationToken cancellationToken)
    {
        var calls = request.MethodsToCall ?? [];
        Limit(calls.Length, Options.MaxNodesPerMethodCall, "Call");
        var results = new CallMethodResult[calls.Length];
        for (var i = 0; i < calls.Length; i++)
        {
            results[i] = await CallOneAsync(calls[i], cancellationToken).ConfigureAwait(false);
        }

        _ = session;
        return new CallResponse { Results = results };
    }

    private async ValueTask<CallMethodResult> CallOneAsync(CallMethodRequest call, CancellationToken cancellationToken)
    {
        if (AddressSpace.Find(call.ObjectId) is not { } owner)
        {
            return new CallMethodResult { StatusCode = StatusCodes.BadNodeIdUnknown };
        }

        if (AddressSpace.Find(call.MethodId) is not MethodNode method)
        {
            return new CallMethodResult { StatusCode = StatusCodes.BadMethodInvalid };
        }

        var hasComponent = new NodeId(ReferenceTypeIds.HasComponent);
        if (!owner.References.Any(r => !r.IsInverse && r.TargetId.IsLocal && r.TargetId.NodeId == method.NodeId && AddressSpace.IsSubtypeOf(r.ReferenceTypeId, hasComponent)))
        {
            return new CallMethodResult { StatusCode = StatusCodes.BadMethodInvalid };
        }

        if (!method.Executable || method.Handler is null)
        {
            return new CallMethodResult { StatusCode = StatusCodes.BadNotExecutable };
        }

        var inputs = call.InputArguments ?? [];
        if (inputs.Length < method.InputArguments.Length)
        {
            return new CallMethodResult { StatusCode = StatusCodes.BadArgumentsMissing };
        }

        if (inputs.Length > method.InputArguments.Length)
        {
            return new CallMethodResult { StatusCode = StatusCodes.BadTooManyArguments };
        }

        var argumentResults = new StatusCode[inputs.Length];
        var bad = false;
        for (var i = 0; i < inputs.Length; i++)
        {
            argumentResults[i] = CheckArgument(method.InputArguments[i], inputs[i]);
            bad |= argumentResults[i].IsBad;
        }

        if (bad)
        {
            return new CallMethodResult { StatusCode = StatusCodes.BadInvalidArgument, InputArgumentResults = argumentResults };
        }

        try
        {
            var result = await method.Handler(new MethodCall(call.ObjectId, call.MethodId, inputs, cancellationToken)).ConfigureAwait(false);
            return new CallMethodResult { StatusCode = result.Status, OutputArguments = result.Status.IsGood ? result.Outputs : [] };
        }
        catch (ServiceResultException ex)
        {
            return new CallMethodResult { StatusCode = ex.StatusCode };
        }
    }

    private StatusCode CheckArgument(Argument argument, Variant value)
    {
        var (builtIn, _) = AddressSpace.ResolveBuiltInType(argument.DataType);
        var isArray = argument.ValueRank >= 0;
        if (value.IsArray != isArray && argument.ValueRank != -2)
        {
            return StatusCodes.BadTypeMismatch;
        }

        return builtIn == BuiltInType.Null || value.Type == builtIn ? StatusCodes.Good : StatusCodes.BadTypeMismatch;
    }

    private RegisterNodesResponse Register(RegisterNodesRequest request)
    {
        var nodes = request.NodesToRegister ?? [];
        Limit(nodes.Length, Options.MaxNodesPerRegisterNodes, "RegisterNodes");
        // Our node lookups are already a hash lookup: the registered id is the id itself.
        return new RegisterNodesResponse { RegisteredNodeIds = nodes };
    }

    private UnregisterNodesResponse Unregister(UnregisterNodesRequest request)
    {
        Limit((request.NodesToUnregister ?? []).Length, Options.MaxNodesPerRegisterNodes, "UnregisterNodes");
        return new UnregisterNodesResponse();
    }
}
