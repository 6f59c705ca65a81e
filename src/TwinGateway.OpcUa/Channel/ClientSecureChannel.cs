using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Security;
using TwinGateway.OpcUa.Transport;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Channel;

/// <summary>
/// The client side of a UA-TCP connection and its secure channel (SecurityPolicy None, or one of the RSA/AES policies
/// in Sign or SignAndEncrypt mode): the server's certificate validated before anything is sent, Hello/Acknowledge,
/// OpenSecureChannel (asymmetric, with nonces and derived keys) with renewal at 75% of the token lifetime, request/response correlation with timeouts,
/// chunking both ways within the negotiated limits, and CloseSecureChannel.
/// Once faulted (socket lost, Error message, protocol violation) it stays faulted: <see cref="Closed"/> completes
/// with the reason, every pending request fails with it, and the owner opens a new channel.
/// </summary>
public sealed partial class ClientSecureChannel : IAsyncDisposable
{
    private readonly ClientChannelOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly ChunkReader _reader;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly Dictionary<uint, PendingRequest> _pending = [];
    private readonly Lock _pendingLock = new();
    private readonly CancellationTokenSource _shutdown = new();
    private readonly TaskCompletionSource<ServiceResultException> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private MessageAssembler? _assembler;
    private TransportLimits _remote = TransportLimits.Default;
    private TransportLimits _local = TransportLimits.Default;
    private Task? _receiveLoop;
    private ITimer? _renewTimer;
    private readonly SecureChannelState _channel = new(ChannelSide.Client);
    private int _nextRequestId;
    private int _disposed;
    private System.Security.Cryptography.RSA? _serverKey;

    private ClientSecureChannel(string endpointUrl, Socket socket, ClientChannelOptions options, TimeProvider time, ILogger logger)
    {
        EndpointUrl = endpointUrl;
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _options = options;
        _time = time;
        _logger = logger;
        _reader = new ChunkReader(_stream, options.Limits.ReceiveBufferSize);
    }

    public string EndpointUrl { get; }

    public uint ChannelId => _channel.ChannelId;

    public uint TokenId => _channel.TokenId;

    /// <summary>Limits the server announced in its Acknowledge (what we may send).</summary>
    public TransportLimits RemoteLimits => _remote;

    /// <summary>Limits in force for what we receive, after negotiation.</summary>
    public TransportLimits LocalLimits => _local;

    /// <summary>Completes once the channel is closed or faulted, with the reason.</summary>
    public Task<ServiceResultException> Closed => _closed.Task;

    public bool IsOpen => !_closed.Task.IsCompleted;

    public SecurityPolicy SecurityPolicy => _channel.Policy;

    public MessageSecurityMode SecurityMode => _channel.Policy.IsNone ? MessageSecurityMode.None : _channel.Mode;

    /// <summary>Times the token was renewed (for diagnostics and tests).</summary>
    public int RenewCount { get; private set; }

    /// <summary>Connects, negotiates and opens the secure channel.</summary>
    public static async Task<ClientSecureChannel> OpenAsync(
        string endpointUrl,
        ClientChannelOptions? options = null,
        TimeProvider? timeProvider = null,
        ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new ClientChannelOptions();
        options.Limits.Validate();
        if (options.ValidateSecurity() is { Count: > 0 } problems)
        {
            throw new ArgumentException("invalid secure channel options: " + string.Join("; ", problems), nameof(options));
        }

        var serverCertificate = options.IsSecured ? TrustServerCertificate(endpointUrl, options, logger ?? NullLogger.Instance) : null;
        var (host, port) = EndpointUrlParser.Parse(endpointUrl);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        ClientSecureChannel? channel = null;
        try
        {
            try
            {
                await socket.ConnectAsync(host, port, timeout.Token).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                throw new ServiceResultException(StatusCodes.BadNotConnected,
                    $"cannot connect to {endpointUrl}: {ex.SocketErrorCode} ({ex.Message})", ex);
            }

            channel = new ClientSecureChannel(endpointUrl, socket, options, timeProvider ?? TimeProvider.System, logger ?? NullLogger.Instance);
            if (serverCertificate is not null)
            {
                using var publicKey = serverCertificate.GetRSAPublicKey()
                    ?? throw new ServiceResultException(StatusCodes.BadCertificateInvalid, $"the certificate of {endpointUrl} has no RSA key");
                // The channel keeps its own copy of the key: the one above is disposed with this scope.
                var key = System.Security.Cryptography.RSA.Create(publicKey.ExportParameters(false));
                channel._serverKey = key;
                channel._channel.Secure(options.SecurityPolicy, options.SecurityMode, options.ClientCertificate!, serverCertificate.RawData, key);
            }

            await channel.HandshakeAsync(timeout.Token).ConfigureAwait(false);
            channel._receiveLoop = Task.Run(channel.ReceiveLoopAsync, CancellationToken.None);
            await channel.OpenOrRenewAsync(SecurityTokenRequestType.Issue, timeout.Token).ConfigureAwait(false);
            return channel;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            if (channel is not null)
            {
                await channel.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                socket.Dispose();
            }

            throw new ServiceResultException(StatusCodes.BadTimeout,
                $"connecting to {endpointUrl} took longer than {options.ConnectTimeout.TotalSeconds:0.#} s");
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            if (channel is not null)
            {
                await channel.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                socket.Dispose();
            }

            throw new ServiceResultException(StatusCodes.BadConnectionClosed, $"connection to {endpointUrl} failed while opening the channel: {ex.Message}", ex);
        }
        catch
        {
            if (channel is not null)
            {
                await channel.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                socket.Dispose();
            }

            throw;
        }
        finally
        {
            serverCertificate?.Dispose();
        }
    }

    /// <summary>
    /// Asks the validator whether the server's certificate is trusted, before a byte goes to the server: a refused
    /// certificate fails the open with the validator's status (BadCertificateUntrusted...) and its reason, logged here.
    /// </summary>
    private static X509Certificate2 TrustServerCertificate(string endpointUrl, ClientChannelOptions options, ILogger logger)
    {
        var chain = CertificateChain.Parse(options.ServerCertificate);
        var verdict = options.CertificateValidator!.Validate(chain, null);
        if (!verdict.IsTrusted)
        {
            foreach (var c in chain)
            {
                c.Dispose();
            }

            Log.ServerCertificateRefused(logger, endpointUrl, verdict.Status.Name, verdict.Reason);
            throw new ServiceResultException(verdict.Status, $"the certificate of {endpointUrl} is refused: {verdict.Reason}");
        }

        foreach (var c in chain.Skip(1))
        {
            c.Dispose();
        }

        return chain[0];
    }

    private async Task HandshakeAsync(CancellationToken cancellationToken)
    {
        var limits = _options.Limits;
        var hello = new HelloMessage(0, limits.ReceiveBufferSize, limits.SendBufferSize, limits.MaxMessageSize, limits.MaxChunkCount, EndpointUrl);
        await _stream.WriteAsync(hello.Encode(), cancellationToken).ConfigureAwait(false);
        var raw = await _reader.ReadChunkAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new ServiceResultException(StatusCodes.BadConnectionClosed, $"{EndpointUrl} closed the connection instead of answering Hello");
        var body = raw.Bytes.Span[ChunkHeader.Size..];
        switch (raw.Header.MessageType)
        {
            case UaMessageType.Acknowledge:
                var ack = AcknowledgeMessage.Decode(body);
                if (ack.ReceiveBufferSize < TransportLimits.MinBufferSize || ack.SendBufferSize < TransportLimits.MinBufferSize)
                {
                    throw new ServiceResultException(StatusCodes.BadTcpInternalError,
                        $"server's Acknowledge has buffers below {TransportLimits.MinBufferSize} bytes (receive {ack.ReceiveBufferSize}, send {ack.SendBufferSize})");
                }

                if (ack.SendBufferSize > limits.ReceiveBufferSize)
                {
                    throw new ServiceResultException(StatusCodes.BadTcpInternalError,
                        $"server's SendBufferSize {ack.SendBufferSize} exceeds our ReceiveBufferSize {limits.ReceiveBufferSize}");
                }

                // The server may send chunks up to its SendBufferSize; we send chunks up to its ReceiveBufferSize (and our own send buffer).
                _remote = new TransportLimits
                {
                    ReceiveBufferSize = Math.Min(ack.ReceiveBufferSize, limits.SendBufferSize),
                    SendBufferSize = ack.SendBufferSize,
                    MaxMessageSize = ack.MaxMessageSize,
                    MaxChunkCount = ack.MaxChunkCount,
                };
                _local = limits with { ReceiveBufferSize = ack.SendBufferSize };
                _reader.MaxChunkSize = ack.SendBufferSize;
                _assembler = new MessageAssembler(_local);
                Log.Connected(_logger, EndpointUrl, ack.ReceiveBufferSize, ack.SendBufferSize, ack.MaxMessageSize, ack.MaxChunkCount);
                break;
            case UaMessageType.Error:
                throw ErrorReceived(ErrorMessage.Decode(body), $"{EndpointUrl} refused Hello");
            default:
                throw new ServiceResultException(StatusCodes.BadTcpMessageTypeInvalid,
                    $"{EndpointUrl} answered Hello with a {raw.Header.MessageType} message");
        }
    }

    /// <summary>Sends a service request and waits for its response; a ServiceFault is thrown as <see cref="ServiceResultException"/>.</summary>
    public async Task<IServiceResponse> SendRequestAsync(IServiceRequest request, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var response = await SendAsync(UaMessageType.Message, request, timeout, cancellationToken).ConfigureAwait(false);
        if (response is ServiceFault fault)
        {
            var result = fault.ResponseHeader.ServiceResult;
            throw new ServiceResultException(result,
                $"{ServiceName(request)} failed: the server answered {result.Name}{DescribeDiagnostics(fault.ResponseHeader)}");
        }

        var serviceResponse = response as IServiceResponse
            ?? throw new ServiceResultException(StatusCodes.BadUnknownResponse, $"{ServiceName(request)} got a {response.GetType().Name}, which is not a response");

        // Some servers (node-opcua among them) answer a failed service with its normal response and a bad ServiceResult
        // instead of a ServiceFault; both mean the service failed.
        var serviceResult = serviceResponse.ResponseHeader.ServiceResult;
        if (serviceResult.IsBad)
        {
            throw new ServiceResultException(serviceResult,
                $"{ServiceName(request)} failed: the server answered {serviceResult.Name}{DescribeDiagnostics(serviceResponse.ResponseHeader)}");
        }

        return serviceResponse;
    }

    private static string ServiceName(IEncodeable request) => request.GetType().Name.Replace("Request", "", StringComparison.Ordinal);

    private static string DescribeDiagnostics(ResponseHeader header)
    {
        var table = header.StringTable;
        var diag = header.ServiceDiagnostics;
        if (diag is null || table is null)
        {
            return "";
        }

        var parts = new List<string>();
        if (diag.SymbolicId is { } s && s >= 0 && s < table.Length)
        {
            parts.Add(table[s] ?? "");
        }

        if (diag.AdditionalInfo is { Length: > 0 } info)
        {
            parts.Add(info);
        }

        return parts.Count == 0 ? "" : " (" + string.Join("; ", parts) + ")";
    }

    private async Task<IEncodeable> SendAsync(UaMessageType messageType, IServiceRequest request, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        if (_closed.Task.IsCompleted)
        {
            throw Reclose(_closed.Task.Result);
        }

        var requestId = (uint)Interlocked.Increment(ref _nextRequestId);
        var effectiveTimeout = timeout ?? _options.RequestTimeout;
        var header = request.RequestHeader;
        if (header.TimeoutHint == 0 && effectiveTimeout != Timeout.InfiniteTimeSpan)
        {
            header.TimeoutHint = (uint)Math.Min(effectiveTimeout.TotalMilliseconds, uint.MaxValue);
        }

        if (header.Timestamp == default)
        {
            header.Timestamp = _time.GetUtcNow().UtcDateTime;
        }

        var pending = new PendingRequest(request);
        lock (_pendingLock)
        {
            _pending[requestId] = pending;
        }

        using var timeoutSource = effectiveTimeout == Timeout.InfiniteTimeSpan
            ? new CancellationTokenSource()
            : new CancellationTokenSource(effectiveTimeout, _time);
        using var timeoutRegistration = timeoutSource.Token.Register(static state =>
        {
            var (channel, id, p) = ((ClientSecureChannel, uint, PendingRequest))state!;
            channel.Complete(id, p, new ServiceResultException(StatusCodes.BadRequestTimeout,
                $"{ServiceName(p.Request)} got no response within {p.Request.RequestHeader.TimeoutHint} ms"));
        }, (this, requestId, pending));
        using var cancelRegistration = cancellationToken.Register(static state =>
        {
            var (channel, id, p) = ((ClientSecureChannel, uint, PendingRequest))state!;
            channel.Complete(id, p, new OperationCanceledException("the caller cancelled the request"));
        }, (this, requestId, pending));

        try
        {
            await WriteMessageAsync(messageType, requestId, request, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Abandon(requestId, pending);
            throw;
        }
        catch (Exception ex) when (ex is not ServiceResultException)
        {
            var failure = new ServiceResultException(StatusCodes.BadConnectionClosed, $"sending {ServiceName(request)} failed: {ex.Message}", ex);
            Fault(failure);
            Abandon(requestId, pending);
            throw failure;
        }
        catch (ServiceResultException ex) when (ex.StatusCode.Code is StatusCodes.BadRequestTooLarge or StatusCodes.BadEncodingLimitsExceeded)
        {
            Complete(requestId, pending, ex);
        }
        catch (ServiceResultException)
        {
            Abandon(requestId, pending);
            throw;
        }

        return await pending.Completion.Task.ConfigureAwait(false);
    }

    private static ServiceResultException Reclose(ServiceResultException reason) =>
        new(reason.StatusCode.IsBad ? reason.StatusCode : new StatusCode(StatusCodes.BadSecureChannelClosed), "the secure channel is closed: " + reason.Reason, reason);

    private async Task WriteMessageAsync(UaMessageType messageType, uint requestId, IEncodeable request, CancellationToken cancellationToken)
    {
        using var writer = new UaWriter(1024, _options.EncodingLimits);
        writer.WriteNodeId(request.BinaryEncodingId);
        request.Encode(writer);
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var message = _channel.Chunk(messageType, requestId, writer.WrittenSpan, _remote);
            await _stream.WriteAsync(message.All, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task OpenOrRenewAsync(SecurityTokenRequestType requestType, CancellationToken cancellationToken)
    {
        var request = new OpenSecureChannelRequest
        {
            RequestHeader = new RequestHeader(),
            ClientProtocolVersion = 0,
            RequestType = requestType,
            SecurityMode = SecurityMode,
            ClientNonce = _channel.Policy.CreateNonce(),
            RequestedLifetime = (uint)Math.Clamp(_options.RequestedLifetime.TotalMilliseconds, 1000, uint.MaxValue),
        };
        var response = await SendAsync(UaMessageType.OpenSecureChannel, request, _options.ConnectTimeout, cancellationToken).ConfigureAwait(false);
        if (response is ServiceFault fault)
        {
            throw new ServiceResultException(fault.ResponseHeader.ServiceResult,
                $"OpenSecureChannel ({requestType}) refused by {EndpointUrl}: {fault.ResponseHeader.ServiceResult.Name}");
        }

        var open = response as OpenSecureChannelResponse
            ?? throw new ServiceResultException(StatusCodes.BadUnknownResponse, $"OpenSecureChannel got a {response.GetType().Name}");
        // The token itself was adopted by the receive loop (AdoptToken) before it read the next chunk.
        var token = open.SecurityToken;
        if (token.ChannelId != _channel.ChannelId)
        {
            throw new ServiceResultException(StatusCodes.BadSecureChannelIdInvalid,
                $"OpenSecureChannel ({requestType}) answered for channel {token.ChannelId}, ours is {_channel.ChannelId}");
        }

        var lifetime = TimeSpan.FromMilliseconds(Math.Max(token.RevisedLifetime, 1000));
        if (requestType == SecurityTokenRequestType.Renew)
        {
            RenewCount++;
        }

        Log.TokenIssued(_logger, EndpointUrl, _channel.ChannelId, _channel.TokenId, (long)lifetime.TotalMilliseconds);
        _renewTimer?.Dispose();
        _renewTimer = _time.CreateTimer(static state => ((ClientSecureChannel)state!).RenewInBackground(), this, lifetime * 0.75, Timeout.InfiniteTimeSpan);
    }

    private void RenewInBackground() => _ = Task.Run(async () =>
    {
        try
        {
            await OpenOrRenewAsync(SecurityTokenRequestType.Renew, _shutdown.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ServiceResultException or OperationCanceledException or ObjectDisposedException)
        {
            if (!_shutdown.IsCancellationRequested)
            {
                Log.RenewFailed(_logger, EndpointUrl, _channel.ChannelId, ex.Message);
                Fault(ex as ServiceResultException ?? new ServiceResultException(StatusCodes.BadSecureChannelClosed, "token renewal failed: " + ex.Message, ex));
            }
        }
    });

    private async Task ReceiveLoopAsync()
    {
        try
        {
            while (!_shutdown.IsCancellationRequested)
            {
                var raw = await _reader.ReadChunkAsync(_shutdown.Token).ConfigureAwait(false);
                if (raw is not { } chunk)
                {
                    Fault(new ServiceResultException(StatusCodes.BadConnectionClosed, $"{EndpointUrl} closed the connection"));
                    return;
                }

                if (chunk.Header.MessageType == UaMessageType.Error)
                {
                    Fault(ErrorReceived(ErrorMessage.Decode(chunk.Bytes.Span[ChunkHeader.Size..]), $"{EndpointUrl} sent Error"));
                    return;
                }

                if (chunk.Header.MessageType is not (UaMessageType.Message or UaMessageType.OpenSecureChannel or UaMessageType.CloseSecureChannel))
                {
                    throw new ServiceResultException(StatusCodes.BadTcpMessageTypeInvalid, $"unexpected {chunk.Header.MessageType} message on an open channel");
                }

                var secure = _channel.Receive(chunk);
                using var message = _assembler!.Add(secure);
                if (message is not null)
                {
                    Dispatch(message);
                }
            }
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
            Fault(new ServiceResultException(StatusCodes.BadSecureChannelClosed, "the channel was closed"));
        }
        catch (ServiceResultException ex)
        {
            Log.ChannelFaulted(_logger, EndpointUrl, _channel.ChannelId, ex.StatusCode.Name, ex.Reason);
            Fault(ex);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            Fault(new ServiceResultException(StatusCodes.BadConnectionClosed, $"connection to {EndpointUrl} lost: {ex.Message}", ex));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Anything else is a bug of ours; the channel still closes, so no request waits for its timeout.
            Log.ChannelFaulted(_logger, EndpointUrl, _channel.ChannelId, "BadInternalError", ex.ToString());
            Fault(new ServiceResultException(StatusCodes.BadInternalError, $"receive loop failed: {ex.Message}", ex));
        }
    }

    /// <summary>
    /// An Error message must carry a Bad code (OPC 10000-6 §7.1.2.5); one that carries Good or Uncertain still ends the
    /// connection, so it becomes BadTcpInternalError rather than a "failure" whose status says nothing failed.
    /// </summary>
    private static ServiceResultException ErrorReceived(ErrorMessage error, string context) => error.Error.IsBad
        ? new ServiceResultException(error.Error, $"{context}: {error.Reason}")
        : new ServiceResultException(StatusCodes.BadTcpInternalError, $"{context} with the non-error status {error.Error}: {error.Reason}");

    private void Dispatch(AssembledMessage message)
    {
        PendingRequest? pending;
        lock (_pendingLock)
        {
            _pending.Remove(message.RequestId, out pending);
        }

        if (pending is null)
        {
            // A response after its request timed out or was cancelled: expected now and then, never an error.
            Log.LateResponse(_logger, EndpointUrl, message.RequestId);
            return;
        }

        if (message.AbortStatus is { } abort)
        {
            pending.Completion.TrySetException(new ServiceResultException(abort,
                $"the server aborted the response to {ServiceName(pending.Request)}: {message.AbortReason}"));
            return;
        }

        try
        {
            var reader = new UaReader(message.Body, _options.EncodingLimits);
            var typeId = reader.ReadNodeId();
            var response = reader.Factory.Create(typeId)
                ?? throw new ServiceResultException(StatusCodes.BadUnknownResponse,
                    $"response to {ServiceName(pending.Request)} has unknown type {typeId}");
            response.Decode(ref reader);
            if (response is OpenSecureChannelResponse { ResponseHeader.ServiceResult.IsGood: true } open)
            {
                AdoptToken(open, ((OpenSecureChannelRequest)pending.Request).ClientNonce);
            }

            pending.Completion.TrySetResult(response);
        }
        catch (ServiceResultException ex)
        {
            // A response we cannot decode fails that request only; the channel's framing is still intact.
            pending.Completion.TrySetException(new ServiceResultException(ex.StatusCode,
                $"cannot decode the response to {ServiceName(pending.Request)}: {ex.Reason}", ex));
        }
    }

    /// <summary>
    /// Takes a new token in the receive loop itself: the server may use it on the very next chunk, before the renewing
    /// task has run (a race seen under load as BadSecureChannelTokenUnknown right after a renewal).
    /// </summary>
    /// <remarks>
    /// On a secured channel the keys come from both nonces (OPC 10000-6 §6.7.5): ours to send are
    /// P_SHA256(serverNonce, clientNonce), the server's P_SHA256(clientNonce, serverNonce).
    /// </remarks>
    private void AdoptToken(OpenSecureChannelResponse open, byte[]? clientNonce)
    {
        var token = open.SecurityToken;
        if (_channel.ChannelId != 0 && token.ChannelId != _channel.ChannelId)
        {
            return; // OpenOrRenewAsync reports the mismatch.
        }

        var policy = _channel.Policy;
        if (policy.IsNone)
        {
            _channel.AdoptToken(token.ChannelId, token.TokenId);
            return;
        }

        var serverNonce = open.ServerNonce ?? [];
        if (serverNonce.Length < policy.NonceLength || clientNonce is null)
        {
            throw new ServiceResultException(StatusCodes.BadNonceInvalid,
                $"OpenSecureChannel response carries a server nonce of {serverNonce.Length} bytes; {policy.Name} needs {policy.NonceLength}");
        }

        _channel.AdoptToken(token.ChannelId, token.TokenId, policy.DeriveKeys(serverNonce, clientNonce), policy.DeriveKeys(clientNonce, serverNonce));
    }

    private void Complete(uint requestId, PendingRequest pending, Exception error)
    {
        lock (_pendingLock)
        {
            _pending.Remove(requestId);
        }

        pending.Completion.TrySetException(error);
    }

    /// <summary>
    /// The request failed before it was sent and the caller gets that failure from the throw: the pending completion
    /// (which a cancellation, a timeout or a fault may already have failed) is failed and observed here, or its
    /// exception would surface later on the finalizer thread as an unobserved task exception.
    /// </summary>
    private void Abandon(uint requestId, PendingRequest pending)
    {
        Complete(requestId, pending, new OperationCanceledException("the request was not sent"));
        _ = pending.Completion.Task.Exception;
    }

    private void Fault(ServiceResultException reason)
    {
        if (!_closed.TrySetResult(reason))
        {
            return;
        }

        _renewTimer?.Dispose();
        PendingRequest[] pending;
        lock (_pendingLock)
        {
            pending = [.. _pending.Values];
            _pending.Clear();
        }

        foreach (var p in pending)
        {
            p.Completion.TrySetException(Reclose(reason));
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

    /// <summary>Sends CloseSecureChannel (no response is expected) and closes the socket.</summary>
    public async Task CloseAsync(CancellationToken cancellationToken = default)
    {
        if (_closed.Task.IsCompleted)
        {
            return;
        }

        try
        {
            var request = new CloseSecureChannelRequest { RequestHeader = new RequestHeader { Timestamp = _time.GetUtcNow().UtcDateTime } };
            await WriteMessageAsync(UaMessageType.CloseSecureChannel, (uint)Interlocked.Increment(ref _nextRequestId), request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or ServiceResultException)
        {
            Log.CloseFailed(_logger, EndpointUrl, ex.Message);
        }

        Fault(new ServiceResultException(StatusCodes.BadSecureChannelClosed, "the channel was closed by the client"));
    }

    /// <summary>For fault tests: drops the socket without a CloseSecureChannel, as a crash would.</summary>
    internal void AbortSocket() => Fault(new ServiceResultException(StatusCodes.BadConnectionClosed, "socket aborted"));

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await CloseAsync().ConfigureAwait(false);
        await _shutdown.CancelAsync().ConfigureAwait(false);
        if (_receiveLoop is not null)
        {
            await _receiveLoop.ConfigureAwait(false);
        }

        _renewTimer?.Dispose();
        _serverKey?.Dispose();
        _assembler?.Dispose();
        _reader.Dispose();
        await _stream.DisposeAsync().ConfigureAwait(false);
        _shutdown.Dispose();
        _sendLock.Dispose();
    }

    private sealed class PendingRequest(IServiceRequest request)
    {
        public IServiceRequest Request { get; } = request;

        public TaskCompletionSource<IEncodeable> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1001, Level = LogLevel.Debug, Message = "Connected to {Endpoint}: server receive buffer {Receive}, send buffer {Send}, max message {MaxMessage}, max chunks {MaxChunks}")]
        public static partial void Connected(ILogger logger, string endpoint, uint receive, uint send, uint maxMessage, uint maxChunks);

        [LoggerMessage(EventId = 1002, Level = LogLevel.Debug, Message = "Secure channel {ChannelId} to {Endpoint} has token {TokenId} for {LifetimeMs} ms")]
        public static partial void TokenIssued(ILogger logger, string endpoint, uint channelId, uint tokenId, long lifetimeMs);

        [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Renewing the token of secure channel {ChannelId} to {Endpoint} failed: {Reason}")]
        public static partial void RenewFailed(ILogger logger, string endpoint, uint channelId, string reason);

        [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "Secure channel {ChannelId} to {Endpoint} faulted with {Status}: {Reason}")]
        public static partial void ChannelFaulted(ILogger logger, string endpoint, uint channelId, string status, string reason);

        [LoggerMessage(EventId = 1005, Level = LogLevel.Debug, Message = "Response {RequestId} from {Endpoint} arrived after its request was given up")]
        public static partial void LateResponse(ILogger logger, string endpoint, uint requestId);

        [LoggerMessage(EventId = 1007, Level = LogLevel.Warning, Message = "Refused the certificate of {Endpoint} with {Status}: {Reason}")]
        public static partial void ServerCertificateRefused(ILogger logger, string endpoint, string status, string reason);

        [LoggerMessage(EventId = 1006, Level = LogLevel.Debug, Message = "CloseSecureChannel to {Endpoint} could not be sent: {Reason}")]
        public static partial void CloseFailed(ILogger logger, string endpoint, string reason);
    }
}
