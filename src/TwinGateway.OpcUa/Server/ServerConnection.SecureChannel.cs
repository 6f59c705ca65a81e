using Microsoft.Extensions.Logging;
using TwinGateway.OpcUa.Channel;
using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Transport;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Server;

/// <summary>
/// The server's end of the secure channel: chunks checked against the channel (<see cref="SecureChannelState"/>, shared
/// with the client) and joined into requests, a request over our limits aborted without losing the channel, tokens
/// issued and renewed on OpenSecureChannel, responses chunked within the client's limits.
/// </summary>
internal sealed partial class ServerConnection
{
    /// <summary>Aborted requests whose remaining chunks may be awaited at once; a client that leaves more unfinished is closed.</summary>
    private const int MaxDiscardedRequests = 16;

    private static int s_nextChannelId;

    private readonly SecureChannelState _channel = new(ChannelSide.Server);

    /// <summary>Requests aborted for exceeding our limits whose remaining chunks are still coming (discarded up to the final one).</summary>
    private readonly HashSet<uint> _discarding = [];
    private long _tokenExpiresTicks;

    private void CheckChunk(in SecureChunk chunk) => _channel.CheckIncoming(chunk);

    /// <summary>
    /// Adds a checked chunk to its message. Returns the message once complete; null while more chunks are expected, for
    /// the rest of a request already aborted, and for a request over our limits, which is aborted here (the channel stays).
    /// </summary>
    private async ValueTask<AssembledMessage?> AssembleAsync(SecureChunk secure, CancellationToken token)
    {
        var header = secure.Header;
        if (_discarding.Count > 0 && header.MessageType == UaMessageType.Message && _discarding.Contains(secure.RequestId))
        {
            // The rest of a request we already aborted: drop it up to its final (or abort) chunk.
            if (header.ChunkType != ChunkType.Intermediate)
            {
                _discarding.Remove(secure.RequestId);
            }

            return null;
        }

        try
        {
            return _assembler!.Add(secure);
        }
        catch (ServiceResultException ex) when (ex.StatusCode.Code == StatusCodes.BadTcpMessageTooLarge && header.MessageType == UaMessageType.Message)
        {
            // Too large for our limits: abort that request (OPC 10000-6 §6.7.3) and keep the channel. Its remaining
            // chunks are discarded, not assembled into a second message (which would be answered again).
            _server.Diagnostics.CountRejected(ex.StatusCode);
            if (header.ChunkType == ChunkType.Intermediate)
            {
                if (_discarding.Count >= MaxDiscardedRequests)
                {
                    throw new ServiceResultException(StatusCodes.BadTcpMessageTooLarge,
                        $"more than {MaxDiscardedRequests} requests over the limits in progress at once; last: {ex.Reason}");
                }

                _discarding.Add(secure.RequestId);
            }

            await SendAbortAsync(secure.RequestId, StatusCodes.BadRequestTooLarge, ex.Reason, token).ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>A request (MSG) needs an open channel whose token has not expired.</summary>
    private void CheckTokenValid()
    {
        if (ChannelId == 0)
        {
            throw new ServiceResultException(StatusCodes.BadSecureChannelIdInvalid, "MSG before OpenSecureChannel");
        }

        if (_server.Time.GetTimestamp() > _tokenExpiresTicks)
        {
            throw new ServiceResultException(StatusCodes.BadSecureChannelTokenUnknown,
                $"token {_channel.TokenId} of channel {ChannelId} expired without renewal");
        }
    }

    private async Task OpenSecureChannelAsync(AssembledMessage message, CancellationToken token)
    {
        var reader = new UaReader(message.Body, _server.Options.EncodingLimits);
        var typeId = reader.ReadNodeId();
        if (typeId != OpenSecureChannelRequest.BinaryEncodingNodeId)
        {
            throw new ServiceResultException(StatusCodes.BadTcpMessageTypeInvalid, $"OPN carried {typeId}, not an OpenSecureChannelRequest");
        }

        var request = reader.ReadEncodeable(new OpenSecureChannelRequest());
        var opened = _opening;
        CheckSecurityMode(request, opened);
        if (request.RequestType == SecurityTokenRequestType.Renew && ChannelId == 0)
        {
            throw new ServiceResultException(StatusCodes.BadSecureChannelIdInvalid, "Renew before Issue");
        }

        if (request.RequestType == SecurityTokenRequestType.Issue && ChannelId != 0)
        {
            throw new ServiceResultException(StatusCodes.BadSecureChannelIdInvalid, $"Issue on channel {ChannelId}, which is already open");
        }

        byte[] serverNonce = [];
        if (opened is { } secured)
        {
            var clientNonce = request.ClientNonce ?? [];
            if (clientNonce.Length != secured.Policy.NonceLength)
            {
                throw new ServiceResultException(StatusCodes.BadNonceInvalid,
                    $"client nonce of {clientNonce.Length} bytes; {secured.Policy.Name} needs {secured.Policy.NonceLength}");
            }

            if (Security is null)
            {
                Security = new ServerChannelSecurity(secured.Policy, request.SecurityMode, secured.Certificate, secured.PublicKey, _server.Options.Certificate!);
                _opening = null;
            }
            else
            {
                secured.Dispose();
                _opening = null;
            }

            serverNonce = Security.Policy.CreateNonce();
            Security.AddToken(_channel.TokenId + 1, clientNonce, serverNonce);
        }

        var channelId = ChannelId == 0 ? (uint)Interlocked.Increment(ref s_nextChannelId) : ChannelId;
        var options = _server.Options;
        var lifetime = TimeSpan.FromMilliseconds(Math.Clamp(request.RequestedLifetime, options.MinChannelLifetime.TotalMilliseconds, options.MaxChannelLifetime.TotalMilliseconds));
        _channel.AdoptToken(channelId, _channel.TokenId + 1);
        // A token stays valid for 125% of its lifetime so a client renewing at 75% is never cut off.
        _tokenExpiresTicks = _server.Time.GetTimestamp() + (long)(lifetime.TotalSeconds * 1.25 * _server.Time.TimestampFrequency);
        var now = _server.Time.GetUtcNow().UtcDateTime;
        var response = new OpenSecureChannelResponse
        {
            ResponseHeader = new ResponseHeader { Timestamp = now, RequestHandle = request.RequestHeader.RequestHandle },
            ServerProtocolVersion = 0,
            SecurityToken = new ChannelSecurityToken { ChannelId = channelId, TokenId = _channel.TokenId, CreatedAt = now, RevisedLifetime = (uint)lifetime.TotalMilliseconds },
            ServerNonce = serverNonce,
        };
        Log.ChannelOpened(_logger, RemoteEndPoint, channelId, _channel.TokenId, request.RequestType.ToString(), (long)lifetime.TotalMilliseconds);
        await SendAsync(UaMessageType.OpenSecureChannel, message.RequestId, response, token).ConfigureAwait(false);
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
            using var message = Security is { } security
                ? security.Chunk(type, ChannelId, requestId, writer.WrittenSpan, _remote)
                : _channel.Chunk(type, requestId, writer.WrittenSpan, _remote);
            await _stream.WriteAsync(message.All, token).ConfigureAwait(false);
            _server.Diagnostics.CountSent(message.Length);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task SendAbortAsync(uint requestId, uint status, string reason, CancellationToken token)
    {
        await _sendLock.WaitAsync(token).ConfigureAwait(false);
        try
        {
            var abort = Security is { } security ? security.Abort(ChannelId, requestId, status, reason) : _channel.Abort(requestId, status, reason);
            await _stream.WriteAsync(abort, token).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }
}
