using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using TwinGateway.OpcUa.Channel;
using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Transport;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Server;

/// <summary>
/// One client connection: the server side of UA-TCP and the secure channel (None, Sign or SignAndEncrypt). It negotiates
/// limits from Hello, opens and renews the channel, reassembles requests within our limits, hands them to the
/// <see cref="UaServer"/>'s services and sends the responses chunked within the client's limits. A protocol error is
/// answered with an Error message naming the status and the reason, then the connection is closed; the process and
/// the other connections are not affected.
/// </summary>
/// <remarks>
/// This file holds the connection's life (Hello, the receive loop, closing); <c>ServerConnection.SecureChannel.cs</c>
/// the secure channel (chunk checks, assembly and aborts, tokens, sending); <c>ServerConnection.Security.cs</c> what a
/// secured channel adds (certificates, signatures, encryption); <c>ServerConnection.Requests.cs</c> the
/// service requests.
/// </remarks>
internal sealed partial class ServerConnection : IAsyncDisposable
{
    private readonly UaServer _server;
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly ChunkReader _reader;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _closing;
    private MessageAssembler? _assembler;
    private TransportLimits _remote = TransportLimits.Default;
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

    public uint ChannelId => _channel.ChannelId;

    public string RemoteEndPoint { get; }

    public bool IsOpen => _closed == 0;

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

            var secure = Unprotect(chunk);
            CheckChunk(secure);
            if (await AssembleAsync(secure, token).ConfigureAwait(false) is not { } message)
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
                        await OpenSecureChannelAsync(message, token).ConfigureAwait(false);
                        break;
                    case UaMessageType.CloseSecureChannel:
                        Log.ChannelClosedByClient(_logger, RemoteEndPoint, ChannelId);
                        return;
                    default:
                        CheckTokenValid();
                        HandleRequest(message);
                        break;
                }
            }
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
        Security?.Dispose();
        _opening?.Dispose();
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
