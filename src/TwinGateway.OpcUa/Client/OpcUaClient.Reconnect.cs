using TwinGateway.OpcUa.Channel;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Client;

/// <summary>
/// Connection supervision: the keep-alive that notices a dead or silent server, and the reconnect with backoff that
/// reactivates the session or replaces it (OPC 10000-4 §6.7).
/// </summary>
public sealed partial class OpcUaClient
{
    /// <summary>Watches the channel and the server; reconnects on failure. Runs until the client is disposed.</summary>
    private async Task SuperviseAsync()
    {
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            var channel = _channel;
            if (channel is null)
            {
                return;
            }

            var reason = await WaitForTroubleAsync(channel, token).ConfigureAwait(false);
            if (reason is null)
            {
                return;
            }

            await ReconnectAsync(reason, token).ConfigureAwait(false);
        }
    }

    /// <summary>Returns why the connection must be rebuilt, or null when the client is stopping.</summary>
    private async Task<ServiceResultException?> WaitForTroubleAsync(ClientSecureChannel channel, CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            var closed = channel.Closed;
            var delay = Task.Delay(_options.KeepAliveInterval, _time, token);
            var first = await Task.WhenAny(closed, delay).ConfigureAwait(false);
            if (first == closed)
            {
                return token.IsCancellationRequested ? null : closed.Result;
            }

            if (token.IsCancellationRequested)
            {
                return null;
            }

            if (SubscriptionsSilentTooLong() is { } silent)
            {
                channel.AbortSocket();
                return new ServiceResultException(StatusCodes.BadNoCommunication, silent);
            }

            if (HasLivePublishing())
            {
                continue;
            }

            try
            {
                var read = new ReadRequest
                {
                    RequestHeader = NewHeader(_options.KeepAliveInterval),
                    NodesToRead = [new ReadValueId { NodeId = new NodeId(VariableIds.Server_ServerStatus_State), AttributeId = Attributes.Value }],
                };
                var response = (ReadResponse)await channel.SendRequestAsync(read, _options.KeepAliveInterval, token).ConfigureAwait(false);
                if (response.Results is [{ StatusCode.IsBad: true } bad])
                {
                    Log.KeepAliveBadStatus(_logger, EndpointUrl, bad.StatusCode.Name);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return null;
            }
            catch (ServiceResultException ex)
            {
                if (ex.StatusCode.Code is StatusCodes.BadSessionIdInvalid or StatusCodes.BadSessionClosed or StatusCodes.BadSessionNotActivated
                    or StatusCodes.BadRequestTimeout or StatusCodes.BadTimeout || !channel.IsOpen)
                {
                    channel.AbortSocket();
                    return new ServiceResultException(ex.StatusCode, "keep-alive failed: " + ex.Reason, ex);
                }
            }
        }

        return null;
    }

    private async Task ReconnectAsync(ServiceResultException reason, CancellationToken token)
    {
        await _reconnectLock.WaitAsync(token).ConfigureAwait(false);
        try
        {
            if (_connected.Task.IsCompleted)
            {
                _connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            SetState(ConnectionStatus.Reconnecting, reason.StatusCode.Code, reason.Reason);
            var old = _channel;
            if (old is not null)
            {
                await old.DisposeAsync().ConfigureAwait(false);
            }

            var delay = _options.ReconnectMinDelay;
            var attempt = 0;
            while (!token.IsCancellationRequested)
            {
                attempt++;
                try
                {
                    await Task.Delay(delay, _time, token).ConfigureAwait(false);
                    var channel = await OpenChannelAsync(token).ConfigureAwait(false);
                    string how;
                    try
                    {
                        await ActivateSessionAsync(channel, token).ConfigureAwait(false);
                        how = "reactivated";
                    }
                    catch (ServiceResultException ex) when (channel.IsOpen && ex.StatusCode.IsBad)
                    {
                        Log.SessionLost(_logger, EndpointUrl, ex.StatusCode.Name, ex.Reason);
                        await CreateAndActivateSessionAsync(channel, token).ConfigureAwait(false);
                        how = await RecoverSubscriptionsAsync(channel, token).ConfigureAwait(false);
                    }

                    ReconnectCount++;
                    LastRecovery = how;
                    OnConnected(channel, $"reconnected after {attempt} attempt(s): session {how}");
                    await RepublishAfterReconnectAsync(token).ConfigureAwait(false);
                    RestartPublishing();
                    return;
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    return;
                }
                catch (ServiceResultException ex)
                {
                    Log.ReconnectFailed(_logger, EndpointUrl, attempt, ex.StatusCode.Name, ex.Reason, (long)delay.TotalMilliseconds);
                    SetState(ConnectionStatus.Reconnecting, ex.StatusCode.Code, $"attempt {attempt} failed: {ex.Reason}");
                }
                catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException or InvalidOperationException)
                {
                    // Never let the supervisor die: whatever a broken network throws, the next attempt follows.
                    Log.ReconnectFailed(_logger, EndpointUrl, attempt, "BadConnectionClosed", ex.Message, (long)delay.TotalMilliseconds);
                    SetState(ConnectionStatus.Reconnecting, StatusCodes.BadConnectionClosed, $"attempt {attempt} failed: {ex.Message}");
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.ReconnectMaxDelay.Ticks));
            }
        }
        finally
        {
            _reconnectLock.Release();
        }
    }
}
