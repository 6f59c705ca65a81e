using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using TwinGateway.OpcUa.Channel;
using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Transport;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Server;

/// <summary>
/// One client connection: the server side of UA-TCP and the secure channel (SecurityPolicy None). It negotiates
/// limits from Hello, opens and renews the channel, reassembles requests within our limits, hands them to the
/// <see cref="UaServer"/>'s services and sends the responses chunked within the client's limits. A protocol error is
/// answered with an Error message naming the status and the reason, then the connection is closed; the process and
/// the other connections are not affected.
/// </summary>
internal sealed partial class ServerConnection : IAsyncDisposable
{
    /// <summary>Aborted requests whose remaining chunks may be awaited at once; a client that leaves more unfinished is closed.</summary>
    private const int MaxDiscardedRequests = 16;

    private static int s_nextChannelId;
    private readonly UaServer _server;
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly ChunkReader _reader;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _closing;

    /// <summary>Requests aborted for exceeding our limits whose remaining chunks are still coming (discarded up to the final one).</summary>
    private readonly HashSet<uint> _discarding = [];
    private MessageAssembler? _assembler;
    private TransportLimits _remote = TransportLimits.Default;
    private uint _tokenId;
    private uint _previousTokenId;
    private long _tokenExpiresTicks;
    private uint _sendSequence;
    private uint? _lastReceivedSequence;
    private int _pendingRequests;
    private int _closed;

    public ServerConnection(UaServer server, Socket socket, ILogger logger, CancellationToken serverStopping)
    {
        _server = server;
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = new ChunkReader(_stream, server.Options.Limits.ReceiveBufferSize);
        _logger = logger;
        _closing = CancellationTokenSource.CreateLinkedTokenSource(serverStopping);
        RemoteEndPoint = socket.RemoteEndPoint?.ToString() ?? "?";
    }

    public uint ChannelId { get; private set; }

    public string RemoteEndPoint { get; }

    public bool IsOpen => _closed == 0;

    /// <summary>Requests being served asynchronously (parked Publish requests among them).</summary>
    public int PendingRequests => Volatile.Read(ref _pendingRequests);

    public async Task RunAsync()
    {
        var token = _closing.Token;
        try
        {
            using (var handshake = CancellationTokenSource.CreateLinkedTokenSource(token))
            {
                handshake.CancelAfter(_server.Options.HandshakeTimeout);
                try
                {
                    await ReceiveHelloAsync(handshake.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!token.IsCancellationRequested)
                {
                    throw new ServiceResultException(StatusCodes.BadTimeout,
                        $"no Hello within {_server.Options.HandshakeTimeout.TotalSeconds:0.#} s");
                }
            }

            await ReceiveLoopAsync(token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Server stopping or connection closed.
        }
        catch (ServiceResultException ex)
        {
            _server.Diagnostics.CountRejected(ex.StatusCode);
            Log.ConnectionError(_logger, RemoteEndPoint, ChannelId, ex.StatusCode.Name, ex.Reason);
            await SendErrorAsync(ex.StatusCode, ex.Reason).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            Log.ConnectionLost(_logger, RemoteEndPoint, ChannelId, ex.Message);
        }
        finally
        {
            Close();
            _server.OnConnectionClosed(this);
        }
    }

    private async Task ReceiveHelloAsync(CancellationToken token)
    {
        var raw = await _reader.ReadChunkAsync(token).ConfigureAwait(false)
            ?? throw new ServiceResultException(StatusCodes.BadConnectionClosed, "closed before Hello");
        if (raw.Header.MessageType != UaMessageType.Hello)
        {
            throw new ServiceResultException(StatusCodes.BadTcpMessageTypeInvalid,
                $"expected Hello, got {raw.Header.MessageType}");
        }

        var hello = HelloMessage.Decode(raw.Bytes.Span[ChunkHeader.Size..]);
        if (hello.ReceiveBufferSize < TransportLimits.MinBufferSize || hello.SendBufferSize < TransportLimits.MinBufferSize)
        {
            throw new ServiceResultException(StatusCodes.BadTcpNotEnoughResources,
                $"Hello asks for buffers below {TransportLimits.MinBufferSize} bytes (receive {hello.ReceiveBufferSize}, send {hello.SendBufferSize})");
        }

        if (hello.EndpointUrl is { } url && !url.StartsWith("opc.tcp://", StringComparison.OrdinalIgnoreCase))
        {
            throw new ServiceResultException(StatusCodes.BadTcpEndpointUrlInvalid, $"'{url}' is not an opc.tcp URL");
        }

        var ours = _server.Options.Limits;
        var receive = Math.Min(ours.ReceiveBufferSize, hello.SendBufferSize);
        var send = Math.Min(ours.SendBufferSize, hello.ReceiveBufferSize);
        _remote = new TransportLimits
        {
            ReceiveBufferSize = send,
            SendBufferSize = receive,
            MaxMessageSize = hello.MaxMessageSize,
            MaxChunkCount = hello.MaxChunkCount,
        };
        _reader.MaxChunkSize = receive;
        _assembler = new MessageAssembler(ours with { ReceiveBufferSize = receive }, maxPartialMessages: 16);
        var ack = new AcknowledgeMessage(0, receive, send, ours.MaxMessageSize, ours.MaxChunkCount);
        await WriteAsync(ack.Encode(), token).ConfigureAwait(false);
    }

    private async Task ReceiveLoopAsync(CancellationToken token)
    {
        var idle = _server.Options.IdleChannelTimeout;
        while (!token.IsCancellationRequested)
        {
            RawChunk? next;
            using (var idleTimer = CancellationTokenSource.CreateLinkedTokenSource(token))
            {
                idleTimer.CancelAfter(ChannelId == 0 ? _server.Options.HandshakeTimeout : idle);
                try
                {
                    next = await _reader.ReadChunkAsync(idleTimer.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!token.IsCancellationRequested)
                {
                    if (ChannelId != 0 && (PendingRequests > 0 || _server.Sessions.HasActiveSessionOn(this)))
                    {
                        continue;
                    }

                    throw new ServiceResultException(StatusCodes.BadTimeout, ChannelId == 0
                        ? "no OpenSecureChannel after Hello"
                        : $"channel idle for {idle.TotalSeconds:0.#} s without a session");
                }
            }

            if (next is not { } chunk)
            {
                Log.ClientClosed(_logger, RemoteEndPoint, ChannelId);
                return;
            }

            switch (chunk.Header.MessageType)
            {
                case UaMessageType.OpenSecureChannel:
                case UaMessageType.Message:
                case UaMessageType.CloseSecureChannel:
                    break;
                default:
                    throw new ServiceResultException(StatusCodes.BadTcpMessageTypeInvalid,
                        $"unexpected {chunk.Header.MessageType} message after Hello");
            }

            var secure = SecureChunk.Parse(chunk);
            CheckChunk(secure);
            if (_discarding.Count > 0 && chunk.Header.MessageType == UaMessageType.Message && _discarding.Contains(secure.RequestId))
            {
                // The rest of a request we already aborted: drop it up to its final (or abort) chunk.
                if (chunk.Header.ChunkType != ChunkType.Intermediate)
                {
                    _discarding.Remove(secure.RequestId);
                }

                continue;
            }

            AssembledMessage? message;
            try
            {
                message = _assembler!.Add(secure);
            }
            catch (ServiceResultException ex) when (ex.StatusCode.Code == StatusCodes.BadTcpMessageTooLarge && chunk.Header.MessageType == UaMessageType.Message)
            {
                // Too large for our limits: abort that request (OPC 10000-6 §6.7.3) and keep the channel. Its remaining
                // chunks are discarded, not assembled into a second message (which would be answered again).
                _server.Diagnostics.CountRejected(ex.StatusCode);
                if (chunk.Header.ChunkType == ChunkType.Intermediate)
                {
                    if (_discarding.Count >= MaxDiscardedRequests)
                    {
                        throw new ServiceResultException(StatusCodes.BadTcpMessageTooLarge,
                            $"more than {MaxDiscardedRequests} requests over the limits in progress at once; last: {ex.Reason}");
                    }

                    _discarding.Add(secure.RequestId);
                }

                await SendAbortAsync(secure.RequestId, StatusCodes.BadRequestTooLarge, ex.Reason, token).ConfigureAwait(false);
                continue;
            }

            if (message is null)
            {
                continue;
            }

            using (message)
            {
                if (message.AbortStatus is not null)
                {
                    continue;
                }

                switch (message.MessageType)
                {
                    case UaMessageType.OpenSecureChannel:
                        await OpenSecureChannelAsync(secure.AsymmetricHeader, message, token).ConfigureAwait(false);
                        break;
                    case UaMessageType.CloseSecureChannel:
                        Log.ChannelClosedByClient(_logger, RemoteEndPoint, ChannelId);
                        return;
                    default:
                        if (ChannelId == 0)
                        {
                            throw new ServiceResultException(StatusCodes.BadSecureChannelIdInvalid, "MSG before OpenSecureChannel");
                        }

                        if (_server.Time.GetTimestamp() > _tokenExpiresTicks)
                        {
                            throw new ServiceResultException(StatusCodes.BadSecureChannelTokenUnknown,
                                $"token {_tokenId} of channel {ChannelId} expired without renewal");
                        }

                        HandleRequest(message);
                        break;
                }
            }
        }
    }

    private void CheckChunk(in SecureChunk chunk)
    {
        if (chunk.Header.MessageType == UaMessageType.OpenSecureChannel)
        {
            if (chunk.AsymmetricHeader?.SecurityPolicyUri != SecurityPolicies.None)
            {
                throw new ServiceResultException(StatusCodes.BadSecurityPolicyRejected,
                    $"security policy '{chunk.AsymmetricHeader?.SecurityPolicyUri}' is not offered; this endpoint has {SecurityPolicies.None}");
            }

            if (chunk.SecureChannelId != 0 && chunk.SecureChannelId != ChannelId)
            {
                throw new ServiceResultException(StatusCodes.BadTcpSecureChannelUnknown,
                    $"OpenSecureChannel for channel {chunk.SecureChannelId} on connection of channel {ChannelId}");
            }
        }
        else
        {
            if (chunk.SecureChannelId != ChannelId || ChannelId == 0)
            {
                throw new ServiceResultException(StatusCodes.BadTcpSecureChannelUnknown,
                    $"chunk for channel {chunk.SecureChannelId}; this connection's channel is {ChannelId}");
            }

            if (chunk.TokenId != _tokenId && chunk.TokenId != _previousTokenId)
            {
                throw new ServiceResultException(StatusCodes.BadSecureChannelTokenUnknown,
                    $"chunk uses token {chunk.TokenId}; the channel's token is {_tokenId}");
            }
        }

        if (_lastReceivedSequence is { } last)
        {
            var wrapped = last >= uint.MaxValue - 1024 && chunk.SequenceNumber < 1024;
            if (chunk.SequenceNumber != last + 1 && !wrapped)
            {
                throw new ServiceResultException(StatusCodes.BadSequenceNumberInvalid, $"sequence number {chunk.SequenceNumber} after {last}");
            }
        }

        _lastReceivedSequence = chunk.SequenceNumber;
    }

    private async Task OpenSecureChannelAsync(AsymmetricSecurityHeader? header, AssembledMessage message, CancellationToken token)
    {
        var reader = new UaReader(message.Body, _server.Options.EncodingLimits);
        var typeId = reader.ReadNodeId();
        if (typeId != OpenSecureChannelRequest.BinaryEncodingNodeId)
        {
            throw new ServiceResultException(StatusCodes.BadTcpMessageTypeInvalid, $"OPN carried {typeId}, not an OpenSecureChannelRequest");
        }

        var request = reader.ReadEncodeable(new OpenSecureChannelRequest());
        if (request.SecurityMode != MessageSecurityMode.None)
        {
            throw new ServiceResultException(StatusCodes.BadSecurityModeRejected, $"security mode {request.SecurityMode} is not offered; this endpoint has None");
        }

        if (request.RequestType == SecurityTokenRequestType.Renew && ChannelId == 0)
        {
            throw new ServiceResultException(StatusCodes.BadSecureChannelIdInvalid, "Renew before Issue");
        }

        if (request.RequestType == SecurityTokenRequestType.Issue && ChannelId != 0)
        {
            throw new ServiceResultException(StatusCodes.BadSecureChannelIdInvalid, $"Issue on channel {ChannelId}, which is already open");
        }

        if (ChannelId == 0)
        {
            ChannelId = (uint)Interlocked.Increment(ref s_nextChannelId);
        }

        var options = _server.Options;
        var lifetime = TimeSpan.FromMilliseconds(Math.Clamp(request.RequestedLifetime, options.MinChannelLifetime.TotalMilliseconds, options.MaxChannelLifetime.TotalMilliseconds));
        _previousTokenId = _tokenId;
        _tokenId++;
        // A token stays valid for 125% of its lifetime so a client renewing at 75% is never cut off.
        _tokenExpiresTicks = _server.Time.GetTimestamp() + (long)(lifetime.TotalSeconds * 1.25 * _server.Time.TimestampFrequency);
        var now = _server.Time.GetUtcNow().UtcDateTime;
        var response = new OpenSecureChannelResponse
        {
            ResponseHeader = new ResponseHeader { Timestamp = now, RequestHandle = request.RequestHeader.RequestHandle },
            ServerProtocolVersion = 0,
            SecurityToken = new ChannelSecurityToken { ChannelId = ChannelId, TokenId = _tokenId, CreatedAt = now, RevisedLifetime = (uint)lifetime.TotalMilliseconds },
            ServerNonce = [],
        };
        Log.ChannelOpened(_logger, RemoteEndPoint, ChannelId, _tokenId, request.RequestType.ToString(), (long)lifetime.TotalMilliseconds);
        _ = header;
        await SendAsync(UaMessageType.OpenSecureChannel, message.RequestId, response, token).ConfigureAwait(false);
    }

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
    }

    private async Task SendAsync(UaMessageType type, uint requestId, IEncodeable body, CancellationToken token)
    {
        if (body is IServiceResponse r && r.ResponseHeader.Timestamp == default)
        {
            r.ResponseHeader.Timestamp = _server.Time.GetUtcNow().UtcDateTime;
        }

        using var writer = new UaWriter(1024, _server.Options.EncodingLimits);
        writer.WriteNodeId(body.BinaryEncodingId);
        body.Encode(writer);
        await _sendLock.WaitAsync(token).ConfigureAwait(false);
        try
        {
            var asymmetric = type == UaMessageType.OpenSecureChannel ? new AsymmetricSecurityHeader(SecurityPolicies.None, null, null) : null;
            using var message = MessageChunker.Chunk(type, ChannelId, _tokenId, asymmetric, NextSequenceNumber, requestId, writer.WrittenSpan, _remote, isRequest: false);
            await _stream.WriteAsync(message.All, token).ConfigureAwait(false);
            _server.Diagnostics.CountSent(message.Length);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private uint NextSequenceNumber()
    {
        _sendSequence = _sendSequence >= uint.MaxValue - 1024 ? 1 : _sendSequence + 1;
        return _sendSequence;
    }

    private async Task SendAbortAsync(uint requestId, uint status, string reason, CancellationToken token)
    {
        await _sendLock.WaitAsync(token).ConfigureAwait(false);
        try
        {
            var abort = MessageChunker.Abort(UaMessageType.Message, ChannelId, _tokenId, NextSequenceNumber(), requestId, status, reason);
            await _stream.WriteAsync(abort, token).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task WriteAsync(byte[] bytes, CancellationToken token)
    {
        await _sendLock.WaitAsync(token).ConfigureAwait(false);
        try
        {
            await _stream.WriteAsync(bytes, token).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task SendErrorAsync(StatusCode status, string reason)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await WriteAsync(new ErrorMessage(status, reason).Encode(), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The peer is gone; nothing more to tell it.
        }
    }

    /// <summary>Closes the socket; pending requests complete against a closed connection and are dropped.</summary>
    public void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        try
        {
            _closing.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already disposed.
        }

        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already gone.
        }

        _socket.Close();
    }

    /// <summary>For fault tests: drops the socket abruptly, as a crash or a cable pull would.</summary>
    internal void Abort()
    {
        try
        {
            _socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already gone.
        }

        Close();
    }

    public ValueTask DisposeAsync()
    {
        Close();
        _assembler?.Dispose();
        _reader.Dispose();
        _stream.Dispose();
        _closing.Dispose();
        _sendLock.Dispose();
        return ValueTask.CompletedTask;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Closing connection from {Remote} (channel {ChannelId}) with {Status}: {Reason}")]
        public static partial void ConnectionError(ILogger logger, string remote, uint channelId, string status, string reason);

        [LoggerMessage(EventId = 2002, Level = LogLevel.Debug, Message = "Connection from {Remote} (channel {ChannelId}) lost: {Reason}")]
        public static partial void ConnectionLost(ILogger logger, string remote, uint channelId, string reason);

        [LoggerMessage(EventId = 2003, Level = LogLevel.Debug, Message = "Client {Remote} closed the connection (channel {ChannelId})")]
        public static partial void ClientClosed(ILogger logger, string remote, uint channelId);

        [LoggerMessage(EventId = 2004, Level = LogLevel.Debug, Message = "Channel {ChannelId} from {Remote}: token {TokenId} ({RequestType}) for {LifetimeMs} ms")]
        public static partial void ChannelOpened(ILogger logger, string remote, uint channelId, uint tokenId, string requestType, long lifetimeMs);

        [LoggerMessage(EventId = 2005, Level = LogLevel.Debug, Message = "Client {Remote} closed channel {ChannelId}")]
        public static partial void ChannelClosedByClient(ILogger logger, string remote, uint channelId);

        [LoggerMessage(EventId = 2006, Level = LogLevel.Warning, Message = "Undecodable request from {Remote} on channel {ChannelId}: {Status}: {Reason}")]
        public static partial void RequestUndecodable(ILogger logger, string remote, uint channelId, string status, string reason);

        [LoggerMessage(EventId = 2007, Level = LogLevel.Information, Message = "Request from {Remote} on channel {ChannelId} failed with {Status}: {Reason}")]
        public static partial void ServiceFault(ILogger logger, string remote, uint channelId, string status, string reason);

        [LoggerMessage(EventId = 2008, Level = LogLevel.Error, Message = "{Service} from {Remote} failed unexpectedly")]
        public static partial void ServiceCrashed(ILogger logger, Exception exception, string service, string remote);
    }
}

/// <summary>What a service handler knows about the request it serves.</summary>
internal readonly record struct RequestContext(ServerConnection Connection, uint RequestId, CancellationToken Cancellation);
