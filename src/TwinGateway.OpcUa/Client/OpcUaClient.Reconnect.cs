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

    /// <summary>
    /// Returns why the connection must be rebuilt, or null when the client is stopping. After one
    /// <see cref="OpcUaClientOptions.KeepAliveInterval"/> without a word from the server it sends a keep-alive request;
    /// after <see cref="OpcUaClientOptions.MaxMissedKeepAlives"/> more intervals without an answer the server counts as
    /// gone even though the socket is open (a hung process keeps its TCP connections). A Publish the server holds
    /// back is no answer: only what arrives counts.
    /// </summary>
    private async Task<ServiceResultException?> WaitForTroubleAsync(ClientSecureChannel channel, CancellationToken token)
    {
        var interval = _options.KeepAliveInterval;
        var allowed = interval * (1 + _options.MaxMissedKeepAlives);
        Task<ServiceResultException?>? keepAlive = null;
        try
        {
            while (!token.IsCancellationRequested)
            {
                if (keepAlive is { IsCompleted: true })
                {
                    if (await keepAlive.ConfigureAwait(false) is { } failed)
                    {
                        channel.AbortSocket();
                        return failed;
                    }

                    keepAlive = null;
                }

                var silent = SilentFor;
                if (silent >= allowed)
                {
                    Log.ServerStoppedAnswering(_logger, EndpointUrl, (long)silent.TotalMilliseconds, (long)interval.TotalMilliseconds, _options.MaxMissedKeepAlives);
                    channel.AbortSocket();
                    return new ServiceResultException(StatusCodes.BadNoCommunication, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                        $"the server stopped answering: nothing received for {silent.TotalSeconds:0.0} s (keep-alive every {interval.TotalSeconds:0.0##} s, {_options.MaxMissedKeepAlives} unanswered allowed)"));
                }

                if (SubscriptionsSilentTooLong() is { } quiet)
                {
                    channel.AbortSocket();
                    return new ServiceResultException(StatusCodes.BadNoCommunication, quiet);
                }

                if (silent >= interval && keepAlive is null)
                {
                    keepAlive = SendKeepAliveAsync(channel, allowed - silent, token);
                }

                // Wake when the next keep-alive is due or the server's time is up, whichever is first.
                var wake = silent < interval ? interval - silent : allowed - silent;
                using var wakeUp = CancellationTokenSource.CreateLinkedTokenSource(token);
                var delay = Task.Delay(wake, _time, wakeUp.Token);
                var first = await Task.WhenAny(channel.Closed, delay, keepAlive ?? delay).ConfigureAwait(false);
                await wakeUp.CancelAsync().ConfigureAwait(false);
                if (first == channel.Closed)
                {
                    return token.IsCancellationRequested ? null : await channel.Closed.ConfigureAwait(false);
                }
            }

            return null;
        }
        finally
        {
            if (keepAlive is not null)
            {
                // It never throws, and the aborted channel or the stopping token ends it at once.
                await keepAlive.ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// A Read of ServerStatus/State that any live server answers at once. Returns a reason to reconnect when the
    /// server says the session is gone; null otherwise (no answer in time is for the caller's silence limit to judge).
    /// </summary>
    private async Task<ServiceResultException?> SendKeepAliveAsync(ClientSecureChannel channel, TimeSpan timeout, CancellationToken token)
    {
        try
        {
            var read = new ReadRequest
            {
                RequestHeader = NewHeader(timeout),
                NodesToRead = [new ReadValueId { NodeId = new NodeId(VariableIds.Server_ServerStatus_State), AttributeId = Attributes.Value }],
            };
            var response = (ReadResponse)await channel.SendRequestAsync(read, timeout, token).ConfigureAwait(false);
            MarkHeard();
            if (response.Results is [{ StatusCode.IsBad: true } bad])
            {
                Log.KeepAliveBadStatus(_logger, EndpointUrl, bad.StatusCode.Name);
            }

            return null;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        catch (ServiceResultException ex) when (ex.StatusCode.Code is StatusCodes.BadSessionIdInvalid or StatusCodes.BadSessionClosed or StatusCodes.BadSessionNotActivated)
        {
            return new ServiceResultException(ex.StatusCode, "keep-alive failed: " + ex.Reason, ex);
        }
        catch (ServiceResultException ex)
        {
            if (ex.StatusCode.Code != StatusCodes.BadRequestTimeout && channel.IsOpen)
            {
                // A fault is an answer: the server is there.
                MarkHeard();
                Log.KeepAliveBadStatus(_logger, EndpointUrl, ex.StatusCode.Name);
            }

            return null;
        }
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

            var noticed = _time.GetUtcNow();
            var outage = new ConnectionOutage(noticed - SilentFor, noticed, null, reason.StatusCode, reason.Reason);
            _outage = outage;
            SetState(ConnectionStatus.Reconnecting, reason.StatusCode.Code, reason.Reason, outage);
            var old = _channel;
            if (old is not null)
            {
                await old.DisposeAsync().ConfigureAwait(false);
            }

            var policy = _options.Reconnect;
            var delay = policy.InitialDelay;
            var attempt = 0;
            while (!token.IsCancellationRequested)
            {
                attempt++;
                StatusCode failedWith;
                string failure;
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
                    var ended = outage with { End = _time.GetUtcNow() };
                    var down = ended.Duration ?? TimeSpan.Zero;
                    Log.Reconnected(_logger, EndpointUrl, attempt, (long)down.TotalMilliseconds, ended.Start, ended.End!.Value,
                        reason.StatusCode.Name, reason.Reason, how);
                    OnConnected(channel, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                        $"reconnected after {attempt} attempt(s), {down.TotalSeconds:0.0} s without data: session {how}"), ended);
                    try
                    {
                        await RepublishAfterReconnectAsync(token).ConfigureAwait(false);
                    }
                    catch (ServiceResultException ex)
                    {
                        // The new channel broke already: the supervisor sees it closed and starts a new outage; what
                        // was not republished is found missing by the next Publish response and reported as a gap.
                        Log.PublishFailed(_logger, EndpointUrl, ex.StatusCode.Name, "republish after reconnect failed: " + ex.Reason);
                    }
                    catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException
                        || (ex is OperationCanceledException && !token.IsCancellationRequested))
                    {
                        // Whatever else a breaking channel throws here, publishing must restart below: the session is
                        // connected, and without Publish requests its subscriptions would fall silent for good.
                        Log.PublishFailed(_logger, EndpointUrl, nameof(StatusCodes.BadConnectionClosed), "republish after reconnect failed: " + ex.Message);
                    }

                    RestartPublishing();
                    return;
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    return;
                }
                catch (ServiceResultException ex)
                {
                    failedWith = ex.StatusCode;
                    failure = ex.Reason;
                }
                catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException or InvalidOperationException)
                {
                    // Never let the supervisor die: whatever a broken network throws, the next attempt follows.
                    failedWith = new StatusCode(StatusCodes.BadConnectionClosed);
                    failure = ex.Message;
                }

                // The delay logged and reported is the one waited next, exactly.
                delay = policy.NextDelay(delay);
                Log.ReconnectFailed(_logger, EndpointUrl, attempt, failedWith.Name, failure, (long)delay.TotalMilliseconds);
                SetState(ConnectionStatus.Reconnecting, failedWith.Code, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"attempt {attempt} failed: {failure}; next attempt in {delay.TotalMilliseconds:0} ms"), outage, attempt, delay);
            }
        }
        finally
        {
            _reconnectLock.Release();
        }
    }
}
