using System.Security.Cryptography;
using TwinGateway.OpcUa.Security;
using TwinGateway.OpcUa.Transport;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Channel;

/// <summary>Which end of a secure channel a <see cref="SecureChannelState"/> belongs to.</summary>
internal enum ChannelSide
{
    /// <summary>Sends requests, receives responses; learns the channel id from the server's first OPN response.</summary>
    Client,

    /// <summary>Receives requests, sends responses; assigns the channel id when it answers the client's Issue.</summary>
    Server,
}

/// <summary>
/// What each end of one secure channel keeps and checks: the channel id, the current and the previous token with
/// their keys, the security policy, mode and asymmetric keys, and the sequence numbers both ways (OPC 10000-6 §6.7.2). <see cref="ClientSecureChannel"/> and the
/// server's connection share it, so an incoming chunk is checked and an outgoing one numbered the same way on both
/// sides; where the sides differ (which channel id an OPN may carry, the status a foreign channel id is refused with),
/// <see cref="ChannelSide"/> decides.
/// </summary>
/// <remarks>
/// <see cref="CheckIncoming"/> and <see cref="AdoptToken(uint, uint)"/> belong to the one receive loop. <see cref="Chunk"/> and
/// <see cref="Abort"/> take the next send sequence number, so the owner calls them under its send lock, in the order
/// the bytes go out. The ids are volatile because sends read them while the receive loop renews the token.
/// </remarks>
internal sealed class SecureChannelState
{
    /// <summary>Sequence numbers wrap to a value below this after <c>UInt32.MaxValue - 1024</c> (OPC 10000-6 §6.7.2.4).</summary>
    private const uint WrapMargin = 1024;

    private static readonly AsymmetricSecurityHeader s_noSecurity = new(SecurityPolicies.None, null, null);

    private readonly ChannelSide _side;
    private readonly Func<uint> _nextSequenceNumber;
    private volatile uint _channelId;
    private volatile uint _tokenId;
    private volatile uint _previousTokenId;
    private volatile uint _sendTokenId;
    private AsymmetricSecurityHeader _openHeader = s_noSecurity;
    private ChunkCrypto _asymmetric = ChunkCrypto.None;
    private byte[]? _ownThumbprint;
    private byte[]? _peerCertificate;
    private volatile TokenKeys _current = TokenKeys.None;
    private volatile TokenKeys _previous = TokenKeys.None;
    private uint _sendSequence;
    private uint? _lastReceivedSequence;

    public SecureChannelState(ChannelSide side)
    {
        _side = side;
        _nextSequenceNumber = NextSequenceNumber;
    }

    /// <summary>The channel's id; 0 until the server has assigned one.</summary>
    public uint ChannelId => _channelId;

    /// <summary>The newest token.</summary>
    public uint TokenId => _tokenId;

    /// <summary>The token this side sends with: the client's switches on the renewal's response, the server's once the client used it.</summary>
    public uint SendTokenId => _sendTokenId;

    public SecurityPolicy Policy { get; private set; } = SecurityPolicy.None;

    public MessageSecurityMode Mode { get; private set; } = MessageSecurityMode.None;

    /// <summary>
    /// Secures the channel: OPN chunks carry <paramref name="own"/>'s certificate and the thumbprint of
    /// <paramref name="peerCertificate"/> (the peer's own certificate, first of its chain), and are signed with our key and
    /// encrypted with the peer's; MSG/CLO chunks use the keys of each token (<see cref="AdoptToken(uint, uint, ChannelKeys?, ChannelKeys?)"/>).
    /// Call before the first OPN is sent (client) or answered (server).
    /// </summary>
    public void Secure(SecurityPolicy policy, MessageSecurityMode mode, ApplicationCertificate own, byte[] peerCertificate, RSA peerPublicKey, byte[]? sentChain = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(own);
        ArgumentNullException.ThrowIfNull(peerCertificate);
        if (policy.IsNone || mode is not (MessageSecurityMode.Sign or MessageSecurityMode.SignAndEncrypt))
        {
            throw new ArgumentException($"a secured channel needs a policy and Sign or SignAndEncrypt, not {policy.Name}/{mode}");
        }

        Policy = policy;
        Mode = mode;
        _ownThumbprint = own.Thumbprint;
        _peerCertificate = peerCertificate;
        _openHeader = new AsymmetricSecurityHeader(policy.Uri, sentChain ?? own.Der, CertificateChain.Thumbprint(peerCertificate));
        _asymmetric = ChunkCrypto.Asymmetric(policy, own.PrivateKey, peerPublicKey);
    }

    /// <summary>
    /// Takes a new token (and, on the first one, the channel id). The token it replaces stays acceptable on incoming
    /// chunks, since the peer may still send with it until it has seen the renewal.
    /// </summary>
    public void AdoptToken(uint channelId, uint tokenId) => AdoptToken(channelId, tokenId, null, null);

    /// <summary>
    /// Takes a new token with the keys derived for it: <paramref name="sendKeys"/> secure what this side sends,
    /// <paramref name="receiveKeys"/> check what it receives (ignored on a None channel). A client sends with the new
    /// token at once; a server keeps sending with the old one until the client has used the new one (OPC 10000-6 §6.7.4).
    /// </summary>
    public void AdoptToken(uint channelId, uint tokenId, ChannelKeys? sendKeys, ChannelKeys? receiveKeys)
    {
        var keys = Policy.IsNone || sendKeys is null || receiveKeys is null
            ? new TokenKeys(tokenId, ChunkCrypto.None, ChunkCrypto.None)
            : new TokenKeys(tokenId, ChunkCrypto.Symmetric(Policy, Mode, sendKeys), ChunkCrypto.Symmetric(Policy, Mode, receiveKeys));
        _previous = _current;
        _current = keys;
        _previousTokenId = _tokenId;
        _channelId = channelId;
        _tokenId = tokenId;
        if (_side == ChannelSide.Client || _sendTokenId == 0)
        {
            _sendTokenId = tokenId;
        }
    }

    /// <summary>
    /// Reads a received OPN/MSG/CLO chunk: its headers, then (secured) its signature, padding and encryption with the
    /// keys its headers name, then its sequence header, and checks it against the channel (<see cref="CheckIncoming"/>).
    /// An OPN must name our policy, our certificate's thumbprint and (once known) the peer's certificate.
    /// </summary>
    /// <exception cref="ServiceResultException">BadSecurityChecksFailed, BadSecurityPolicyRejected,
    /// BadCertificateInvalid, BadSecureChannelTokenUnknown... with the reason.</exception>
    public SecureChunk Receive(RawChunk raw)
    {
        var headers = SecureChunk.ReadHeaders(raw);
        ChunkCrypto crypto;
        if (raw.Header.MessageType == UaMessageType.OpenSecureChannel)
        {
            CheckOpenHeader(headers.AsymmetricHeader!);
            crypto = _asymmetric;
        }
        else
        {
            crypto = KeysFor(headers.TokenId)?.Receive ?? ChunkCrypto.None;
            if (crypto.IsNone && !Policy.IsNone)
            {
                throw new ServiceResultException(StatusCodes.BadSecureChannelTokenUnknown,
                    $"{raw.Header.MessageType} chunk uses token {headers.TokenId}; the channel's tokens are {_tokenId} and {_previousTokenId}");
            }
        }

        var chunk = SecureChunk.ParseSecured(raw, headers, crypto);
        CheckIncoming(chunk);
        return chunk;
    }

    private void CheckOpenHeader(AsymmetricSecurityHeader header)
    {
        if (header.SecurityPolicyUri != Policy.Uri)
        {
            throw new ServiceResultException(StatusCodes.BadSecurityPolicyRejected,
                $"OPN chunk names security policy '{header.SecurityPolicyUri}'; this channel uses {Policy.Uri}");
        }

        if (Policy.IsNone)
        {
            return;
        }

        if (header.ReceiverCertificateThumbprint is not { } thumbprint || !thumbprint.AsSpan().SequenceEqual(_ownThumbprint))
        {
            throw new ServiceResultException(StatusCodes.BadCertificateInvalid,
                $"OPN chunk is encrypted for certificate {Convert.ToHexString(header.ReceiverCertificateThumbprint ?? [])}, ours is {Convert.ToHexString(_ownThumbprint!)}");
        }

        if (header.SenderCertificate is not { } sender || !sender.AsSpan().StartsWith(_peerCertificate))
        {
            throw new ServiceResultException(StatusCodes.BadCertificateInvalid,
                "OPN chunk's sender certificate is not the certificate this channel was secured for");
        }
    }

    private TokenKeys? KeysFor(uint tokenId)
    {
        var current = _current;
        if (current.TokenId == tokenId)
        {
            if (_side == ChannelSide.Server && _sendTokenId != tokenId)
            {
                // The client has used the new token: the server switches to it too.
                _sendTokenId = tokenId;
            }

            return current;
        }

        var previous = _previous;
        return previous.TokenId == tokenId ? previous : null;
    }

    private ChunkCrypto SendCrypto(uint tokenId) => (_current.TokenId == tokenId ? _current : _previous).Send;

    /// <summary>
    /// Checks an incoming OPN, MSG or CLO chunk against the channel: its channel id, its token (MSG and CLO), and that
    /// its sequence number follows the previous chunk's.
    /// </summary>
    /// <exception cref="ServiceResultException">The chunk does not belong to this channel or is out of sequence.</exception>
    public void CheckIncoming(in SecureChunk chunk)
    {
        var isOpen = chunk.Header.MessageType == UaMessageType.OpenSecureChannel;
        var channelId = _channelId;
        var accepted = (_side, isOpen) switch
        {
            // A client asks for a new channel with id 0 and renews on the id it was given.
            (ChannelSide.Server, true) => chunk.SecureChannelId == 0 || chunk.SecureChannelId == channelId,
            // The server's first OPN response names the channel it assigned.
            (ChannelSide.Client, true) => channelId == 0 || chunk.SecureChannelId == channelId,
            // Only an open channel carries requests.
            (ChannelSide.Server, false) => channelId != 0 && chunk.SecureChannelId == channelId,
            _ => chunk.SecureChannelId == channelId,
        };
        if (!accepted)
        {
            // The server answers with an Error message, whose codes are the TCP ones (OPC 10000-6 §7.1.5).
            var status = _side == ChannelSide.Server ? StatusCodes.BadTcpSecureChannelUnknown : StatusCodes.BadSecureChannelIdInvalid;
            var where = channelId == 0 ? "before a channel was opened" : $"on channel {channelId}";
            throw new ServiceResultException(status, $"{chunk.Header.MessageType} chunk for channel {chunk.SecureChannelId} arrived {where}");
        }

        if (!isOpen && chunk.TokenId != _tokenId && (chunk.TokenId != _previousTokenId || _previousTokenId == 0))
        {
            throw new ServiceResultException(StatusCodes.BadSecureChannelTokenUnknown,
                $"chunk uses token {chunk.TokenId}; the channel's tokens are {_tokenId} and {_previousTokenId}");
        }

        if (_lastReceivedSequence is { } last)
        {
            var wrapped = last >= uint.MaxValue - WrapMargin && chunk.SequenceNumber < WrapMargin;
            if (chunk.SequenceNumber != last + 1 && !wrapped)
            {
                throw new ServiceResultException(StatusCodes.BadSequenceNumberInvalid, $"sequence number {chunk.SequenceNumber} after {last}");
            }
        }

        _lastReceivedSequence = chunk.SequenceNumber;
    }

    /// <summary>
    /// Chunks an encoded message body for this channel (its id, token and the next sequence numbers) within the peer's
    /// limits; an OPN carries the asymmetric header of SecurityPolicy None. Call under the send lock.
    /// </summary>
    public OutgoingMessage Chunk(UaMessageType messageType, uint requestId, ReadOnlySpan<byte> body, TransportLimits remote)
    {
        var isOpen = messageType == UaMessageType.OpenSecureChannel;
        var token = _sendTokenId;
        return MessageChunker.Chunk(
            messageType,
            _channelId,
            token,
            isOpen ? _openHeader : null,
            _nextSequenceNumber,
            requestId,
            body,
            remote,
            isRequest: _side == ChannelSide.Client,
            isOpen ? _asymmetric : SendCrypto(token));
    }

    /// <summary>An abort chunk for a message this side gives up (OPC 10000-6 §6.7.3). Call under the send lock.</summary>
    public byte[] Abort(uint requestId, StatusCode error, string reason)
    {
        var token = _sendTokenId;
        return MessageChunker.Abort(UaMessageType.Message, _channelId, token, NextSequenceNumber(), requestId, error, reason, SendCrypto(token));
    }

    /// <summary>Sequence numbers start at 1 and wrap to a value below 1024 after <c>UInt32.MaxValue - 1024</c> (OPC 10000-6 §6.7.2.4).</summary>
    private uint NextSequenceNumber()
    {
        _sendSequence = _sendSequence >= uint.MaxValue - WrapMargin ? 1 : _sendSequence + 1;
        return _sendSequence;
    }
}

/// <summary>The symmetric keys of one token, both ways.</summary>
internal sealed record TokenKeys(uint TokenId, ChunkCrypto Send, ChunkCrypto Receive)
{
    public static TokenKeys None { get; } = new(0, ChunkCrypto.None, ChunkCrypto.None);
}
