using System.Net.Sockets;
using TwinGateway.OpcUa.Channel;
using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Server.Subscriptions;
using TwinGateway.OpcUa.Transport;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Server;

/// <summary>Service requests: decoded, dispatched to the <see cref="UaServer"/>'s services, answered as each completes (a
/// parked Publish later than the requests after it).</summary>
internal sealed partial class ServerConnection
{
    private int _pendingRequests;

    /// <summary>Requests being served asynchronously (parked Publish requests among them).</summary>
    public int PendingRequests => Volatile.Read(ref _pendingRequests);

    private void HandleRequest(AssembledMessage message)
    {
        IServiceRequest request;
        var requestId = message.RequestId;
        try
        {
            var reader = new UaReader(message.Body, _server.Options.EncodingLimits);
            var typeId = reader.ReadNodeId();
            var decoded = reader.Factory.Create(typeId);
            if (decoded is not IServiceRequest serviceRequest)
            {
                _server.Diagnostics.CountRejected(StatusCodes.BadServiceUnsupported);
                Respond(requestId, 0, UaServer.Fault(0, StatusCodes.BadServiceUnsupported), $"type {typeId}");
                return;
            }

            serviceRequest.Decode(ref reader);
            request = serviceRequest;
        }
        catch (ServiceResultException ex)
        {
            // The framing is intact; only this request is bad.
            _server.Diagnostics.CountRejected(ex.StatusCode);
            Log.RequestUndecodable(_logger, RemoteEndPoint, ChannelId, ex.StatusCode.Name, ex.Reason);
            Respond(requestId, 0, UaServer.Fault(0, ex.StatusCode.Code), ex.Reason);
            return;
        }

        var handle = request.RequestHeader.RequestHandle;
        ValueTask<IServiceResponse> pending;
        try
        {
            pending = _server.DispatchAsync(new RequestContext(this, requestId, _closing.Token), request);
        }
        catch (ServiceResultException ex)
        {
            Respond(requestId, handle, UaServer.Fault(handle, ex.StatusCode.Code), ex.Reason);
            return;
        }

        if (pending.IsCompletedSuccessfully)
        {
            Respond(requestId, handle, pending.Result, null);
            return;
        }

        if (Interlocked.Increment(ref _pendingRequests) > 10_000)
        {
            Interlocked.Decrement(ref _pendingRequests);
            Respond(requestId, handle, UaServer.Fault(handle, StatusCodes.BadTooManyOperations), "too many requests in progress");
            return;
        }

        _ = CompleteLaterAsync(pending, requestId, handle, request);
    }

    private async Task CompleteLaterAsync(ValueTask<IServiceResponse> pending, uint requestId, uint handle, IServiceRequest request)
    {
        IServiceResponse response;
        string? reason = null;
        try
        {
            response = await pending.ConfigureAwait(false);
        }
        catch (ServiceResultException ex)
        {
            response = UaServer.Fault(handle, ex.StatusCode.Code);
            reason = ex.Reason;
        }
        catch (OperationCanceledException)
        {
            response = UaServer.Fault(handle, StatusCodes.BadShutdown);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.ServiceCrashed(_logger, ex, request.GetType().Name, RemoteEndPoint);
            response = UaServer.Fault(handle, StatusCodes.BadInternalError);
        }
        finally
        {
            Interlocked.Decrement(ref _pendingRequests);
        }

        Respond(requestId, handle, response, reason);
    }

    /// <summary>Sends a response; failures to send close the connection (the client will reconnect).</summary>
    internal void Respond(uint requestId, uint handle, IServiceResponse response, string? reason)
    {
        if (reason is not null && response.ResponseHeader.ServiceResult.IsBad)
        {
            Log.ServiceFault(_logger, RemoteEndPoint, ChannelId, response.ResponseHeader.ServiceResult.Name, reason);
        }

        _ = SendResponseAsync(requestId, handle, response);
    }

    private async Task SendResponseAsync(uint requestId, uint handle, IServiceResponse response)
    {
        try
        {
            await SendAsync(UaMessageType.Message, requestId, response, _closing.Token).ConfigureAwait(false);
        }
        catch (ServiceResultException ex) when (ex.StatusCode.Code is StatusCodes.BadResponseTooLarge or StatusCodes.BadEncodingLimitsExceeded)
        {
            Log.ServiceFault(_logger, RemoteEndPoint, ChannelId, ex.StatusCode.Name, ex.Reason);
            await SendAsync(UaMessageType.Message, requestId, UaServer.Fault(handle, StatusCodes.BadResponseTooLarge), _closing.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException or ServiceResultException)
        {
            Close();
        }
        finally
        {
            // The engine held the pooled notification bodies for this response; encoded (or failed), it lets them go.
            EncodedDataChanges.ReleaseAll(response switch
            {
                PublishResponse publish => publish.NotificationMessage,
                RepublishResponse republish => republish.NotificationMessage,
                _ => null,
            });
        }
    }
}
