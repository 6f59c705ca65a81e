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
/// What each end of one secure channel (SecurityPolicy None) keeps and checks: the channel id, the current and the
/// previous token, and the sequence numbers both ways (OPC 10000-6 §6.7.2). <see cref="ClientSecureChannel"/> and the
/// server's connection share it, so an incoming chunk is checked and an outgoing one numbered the same way on both
/// sides; where the sides differ (which channel id an OPN may carry, the status a foreign channel id is refused with),
/// <see cref="ChannelSide"/> decides.
/// </summary>
/// <remarks>
/// <see cref="CheckIncoming"/> and <see cref="AdoptToken"/> belong to the one receive loop. <see cref="Chunk"/> and
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
    private uint _sendSequence;
    private uint? _lastReceivedSequence;

    public SecureChannelState(ChannelSide side)
    {
        _side = side;
        _nextSequenceNumber = NextSequenceNumber;
    }

    /// <summary>The channel's id; 0 until the server has assigned one.</summary>
    public uint ChannelId => _channelId;

    /// <summary>The token in use for what this side sends.</summary>
    public uint TokenId => _tokenId;

    /// <summary>
    /// Takes a new token (and, on the first one, the channel id). The token it replaces stays acceptable on incoming
    /// chunks, since the peer may still send with it until it has seen the renewal.
    /// </summary>
    public void AdoptToken(uint channelId, uint tokenId)
    {
        _previousTokenId = _tokenId;
        _channelId = channelId;
        _tokenId = tokenId;
    }

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

        if (!isOpen && chunk.TokenId != _tokenId && chunk.TokenId != _previousTokenId)
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
    public OutgoingMessage Chunk(UaMessageType messageType, uint requestId, ReadOnlySpan<byte> body, TransportLimits remote) =>
        MessageChunker.Chunk(
            messageType,
            _channelId,
            _tokenId,
            messageType == UaMessageType.OpenSecureChannel ? s_noSecurity : null,
            _nextSequenceNumber,
            requestId,
            body,
            remote,
            isRequest: _side == ChannelSide.Client);

    /// <summary>An abort chunk for a message this side gives up (OPC 10000-6 §6.7.3). Call under the send lock.</summary>
    public byte[] Abort(uint requestId, StatusCode error, string reason) =>
        MessageChunker.Abort(UaMessageType.Message, _channelId, _tokenId, NextSequenceNumber(), requestId, error, reason);

    /// <summary>Sequence numbers start at 1 and wrap to a value below 1024 after <c>UInt32.MaxValue - 1024</c> (OPC 10000-6 §6.7.2.4).</summary>
    private uint NextSequenceNumber()
    {
        _sendSequence = _sendSequence >= uint.MaxValue - WrapMargin ? 1 : _sendSequence + 1;
        return _sendSequence;
    }
}
