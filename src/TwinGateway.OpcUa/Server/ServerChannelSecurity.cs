using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TwinGateway.OpcUa.Channel;
using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Security;
using TwinGateway.OpcUa.Transport;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Server;

/// <summary>
/// The security of one secured channel on the server (OPC 10000-6 §6.7): the policy and mode, the client's certificate
/// and public key, our certificate, and the symmetric keys of each token. Keys come from the nonces of the OPN that
/// issued or renewed the token: the client's keys (what we verify and decrypt with) from P_SHA256(serverNonce,
/// clientNonce), ours (what we sign and encrypt with) from P_SHA256(clientNonce, serverNonce).
/// </summary>
/// <remarks>
/// Renewal: a new token's keys verify the client's chunks from its first chunk with the new token id; the previous
/// token is accepted until then, and refused afterwards. We keep sending with the previous token until that first
/// chunk arrives (§6.7.4: "the Server shall use the existing SecurityToken ... until it receives a Message secured with
/// the new SecurityToken"). <see cref="ReceiveCrypto"/> belongs to the receive loop; <see cref="Sending"/> is read under
/// the connection's send lock; the token fields are swapped under <see cref="_sync"/>.
/// </remarks>
internal sealed class ServerChannelSecurity : IDisposable
{
    private readonly Lock _sync = new();
    private Token? _current;
    private Token? _previous;
    private Token? _sending;
    private uint _sendSequence;

    public ServerChannelSecurity(SecurityPolicy policy, MessageSecurityMode mode, X509Certificate2 clientCertificate, RSA clientPublicKey, ApplicationCertificate ours)
    {
        Policy = policy;
        Mode = mode;
        ClientCertificate = clientCertificate;
        ClientPublicKey = clientPublicKey;
        Ours = ours;
        Asymmetric = ChunkCrypto.Asymmetric(policy, ours.PrivateKey, clientPublicKey);
        ClientThumbprint = clientCertificate.GetCertHash();
    }

    public SecurityPolicy Policy { get; }

    public MessageSecurityMode Mode { get; }

    /// <summary>The client's application instance certificate (the first of the chain it sent in its OPN).</summary>
    public X509Certificate2 ClientCertificate { get; }

    public RSA ClientPublicKey { get; }

    public ApplicationCertificate Ours { get; }

    /// <summary>OPN chunks both ways: signed with our key, encrypted with the client's; decrypted with ours, verified with its.</summary>
    public ChunkCrypto Asymmetric { get; }

    /// <summary>SHA-1 of the client's certificate: the receiver thumbprint of the OPN responses we send.</summary>
    public byte[] ClientThumbprint { get; }

    /// <summary>Adds the keys of a token just issued or renewed.</summary>
    public void AddToken(uint tokenId, ReadOnlySpan<byte> clientNonce, ReadOnlySpan<byte> serverNonce)
    {
        var token = new Token(
            tokenId,
            ChunkCrypto.Symmetric(Policy, Mode, Policy.DeriveKeys(serverNonce, clientNonce)),
            ChunkCrypto.Symmetric(Policy, Mode, Policy.DeriveKeys(clientNonce, serverNonce)));
        lock (_sync)
        {
            _previous = _current;
            _current = token;
            _sending ??= token;
        }
    }

    /// <summary>
    /// The keys to check a client chunk of <paramref name="tokenId"/> with; null for a token we do not know (or the old
    /// one after the client moved to the new). The client's first chunk with a renewed token moves our sending to it.
    /// </summary>
    public ChunkCrypto? ReceiveCrypto(uint tokenId)
    {
        lock (_sync)
        {
            if (_current is { } current && current.TokenId == tokenId)
            {
                if (!ReferenceEquals(_sending, current))
                {
                    _sending = current;
                    _previous = null;
                }

                return current.Receive;
            }

            return _previous is { } previous && previous.TokenId == tokenId ? previous.Receive : null;
        }
    }

    /// <summary>The token id and keys for the MSG and CLO chunks we send now.</summary>
    public (uint TokenId, ChunkCrypto Crypto) Sending
    {
        get
        {
            lock (_sync)
            {
                var token = _sending ?? throw new InvalidOperationException("no token issued yet");
                return (token.TokenId, token.Send);
            }
        }
    }

    /// <summary>The next sequence number we send: from 1, wrapping below 1024 after <c>UInt32.MaxValue - 1024</c>. Call under the send lock.</summary>
    public uint NextSequenceNumber()
    {
        _sendSequence = _sendSequence >= uint.MaxValue - 1024 ? 1 : _sendSequence + 1;
        return _sendSequence;
    }

    /// <summary>
    /// Chunks, pads, signs and encrypts a message we send (an OPN with the asymmetric keys and header, MSG and CLO with
    /// the sending token's) within the client's buffer size, MaxChunkCount and MaxMessageSize. Call under the send lock.
    /// </summary>
    public OutgoingMessage Chunk(UaMessageType messageType, uint channelId, uint requestId, ReadOnlySpan<byte> body, TransportLimits remote)
    {
        // The chunker the client uses, with this channel's header and protection: an OPN with the asymmetric keys and
        // header, MSG and CLO with the sending token's keys.
        if (messageType == UaMessageType.OpenSecureChannel)
        {
            return MessageChunker.Chunk(messageType, channelId, 0, new AsymmetricSecurityHeader(Policy.Uri, Ours.Der, ClientThumbprint),
                NextSequenceNumber, requestId, body, remote, isRequest: false, Asymmetric);
        }

        var (tokenId, sending) = Sending;
        return MessageChunker.Chunk(messageType, channelId, tokenId, null, NextSequenceNumber, requestId, body, remote, isRequest: false, sending);
    }

    /// <summary>A secured abort chunk for a request we give up (OPC 10000-6 §6.7.3). Call under the send lock.</summary>
    public byte[] Abort(uint channelId, uint requestId, StatusCode error, string reason)
    {
        using var payload = new UaWriter(128);
        payload.WriteStatusCode(error);
        payload.WriteString(reason);
        var (tokenId, crypto) = Sending;
        const int securityHeaderEnd = ChunkHeader.Size + 8;
        var body = payload.WrittenSpan;
        var chunk = new byte[ChunkSecurity.ChunkSize(crypto, securityHeaderEnd, body.Length)];
        ChunkHeader.Write(chunk, UaMessageType.Message, ChunkType.Abort, (uint)chunk.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(8), channelId);
        BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(12), tokenId);
        BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(securityHeaderEnd), NextSequenceNumber());
        BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(securityHeaderEnd + 4), requestId);
        body.CopyTo(chunk.AsSpan(securityHeaderEnd + ChunkSecurity.SequenceHeaderSize));
        ChunkSecurity.Protect(crypto, chunk, securityHeaderEnd, body.Length);
        return chunk;
    }

    public void Dispose()
    {
        ClientPublicKey.Dispose();
        ClientCertificate.Dispose();
    }

    private sealed record Token(uint TokenId, ChunkCrypto Receive, ChunkCrypto Send);
}
