using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TwinGateway.OpcUa.Channel;
using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Security;
using TwinGateway.OpcUa.Transport;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Server;

/// <summary>
/// What a secured channel adds to the connection (OPC 10000-6 §6.7): an OPN's sender certificate validated, the
/// receiver thumbprint checked to be ours, the chunk decrypted with our private key and its signature verified with the
/// client's; MSG and CLO chunks verified (HMAC-SHA256), decrypted (AES-CBC) and their padding checked with the keys of
/// the token they name, all before the sequence number is looked at. Any failure throws the precise status; the receive
/// loop answers it with an Error message and closes the connection, having processed nothing of the chunk.
/// </summary>
internal sealed partial class ServerConnection
{
    private static readonly EncodingLimits s_headerLimits = EncodingLimits.Default with { MaxByteStringLength = 1 << 16, MaxStringLength = 4096 };

    /// <summary>The policy and client certificate of the OPN being received, until <see cref="OpenSecureChannelAsync"/> takes them.</summary>
    private PendingOpen? _opening;

    /// <summary>The channel's security once a secured OPN has been answered; null on a None channel.</summary>
    public ServerChannelSecurity? Security { get; private set; }

    /// <summary>
    /// Parses an OPN, MSG or CLO chunk; on a secured channel (or for a secured OPN) decrypts and verifies it in place
    /// first. The result's body aliases the reader's buffer.
    /// </summary>
    private SecureChunk Unprotect(RawChunk raw)
    {
        if (raw.Header.MessageType == UaMessageType.OpenSecureChannel)
        {
            return UnprotectOpen(raw);
        }

        if (Security is not { } security)
        {
            return SecureChunk.Parse(raw);
        }

        var bytes = MemoryMarshal.AsMemory(raw.Bytes);
        var span = bytes.Span;
        const int securityHeaderEnd = ChunkHeader.Size + 8;
        if (span.Length < securityHeaderEnd + ChunkSecurity.SequenceHeaderSize)
        {
            throw new ServiceResultException(StatusCodes.BadTcpMessageTypeInvalid, $"{raw.Header.MessageType} chunk of {span.Length} bytes is too short for its headers");
        }

        var channelId = BinaryPrimitives.ReadUInt32LittleEndian(span[ChunkHeader.Size..]);
        var tokenId = BinaryPrimitives.ReadUInt32LittleEndian(span[(ChunkHeader.Size + 4)..]);
        if (channelId != ChannelId)
        {
            throw new ServiceResultException(StatusCodes.BadTcpSecureChannelUnknown, $"{raw.Header.MessageType} chunk for channel {channelId} arrived on channel {ChannelId}");
        }

        var crypto = security.ReceiveCrypto(tokenId)
            ?? throw new ServiceResultException(StatusCodes.BadSecureChannelTokenUnknown,
                $"{raw.Header.MessageType} chunk secured with token {tokenId}, which channel {ChannelId} does not hold (current {_channel.TokenId})");
        var length = ChunkSecurity.Unprotect(crypto, span, securityHeaderEnd);
        return Plain(raw, bytes, channelId, tokenId, null, securityHeaderEnd, length);
    }

    private SecureChunk UnprotectOpen(RawChunk raw)
    {
        var bytes = MemoryMarshal.AsMemory(raw.Bytes);
        var reader = new UaReader(bytes.Span[ChunkHeader.Size..], s_headerLimits);
        var channelId = reader.ReadUInt32();
        var header = new AsymmetricSecurityHeader(reader.ReadString(), reader.ReadByteString(), reader.ReadByteString());
        var securityHeaderEnd = ChunkHeader.Size + reader.Position;
        var options = _server.Options;
        var policyUri = header.SecurityPolicyUri ?? "";
        // A None channel is always open to discovery (GetEndpoints, FindServers: OPC 10000-4 §5.4), even with None
        // switched off; the services then refuse everything else on it (UaServer.DispatchAsync).
        if (!SecurityPolicy.TryGet(policyUri, out var policy) || !(policy.IsNone || options.OfferedSecurity.Any(s => s.PolicyUri == policyUri)))
        {
            throw new ServiceResultException(StatusCodes.BadSecurityPolicyRejected,
                $"security policy '{policyUri}' is not offered; this server offers {string.Join(", ", options.OfferedSecurity.Select(s => s.PolicyUri).Distinct())}");
        }

        if (ChannelId != 0 && (Security?.Policy.Uri ?? SecurityPolicies.None) != policyUri)
        {
            throw new ServiceResultException(StatusCodes.BadSecurityPolicyRejected,
                $"OPN with {policyUri} on channel {ChannelId}, which was opened with {Security?.Policy.Uri ?? SecurityPolicies.None}");
        }

        if (policy.IsNone)
        {
            return SecureChunk.Parse(raw);
        }

        var pending = Validate(policy, header);
        try
        {
            var crypto = ChunkCrypto.Asymmetric(policy, options.Certificate!.PrivateKey, pending.PublicKey);
            var length = ChunkSecurity.Unprotect(crypto, bytes.Span, securityHeaderEnd);
            var chunk = Plain(raw, bytes, channelId, 0, header, securityHeaderEnd, length);
            _opening?.Dispose();
            _opening = pending;
            return chunk;
        }
        catch
        {
            pending.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The OPN's sender certificate: parsed, the same as the channel's on a renewal, else trusted by the validator; and
    /// the receiver thumbprint: ours.
    /// </summary>
    private PendingOpen Validate(SecurityPolicy policy, AsymmetricSecurityHeader header)
    {
        var options = _server.Options;
        if (header.SenderCertificate is not { Length: > 0 } sender)
        {
            throw new ServiceResultException(StatusCodes.BadCertificateInvalid, $"OPN with {policy.Name} carries no sender certificate");
        }

        IReadOnlyList<X509Certificate2> chain;
        try
        {
            chain = CertificateChain.Parse(sender);
        }
        catch (CryptographicException ex)
        {
            throw new ServiceResultException(StatusCodes.BadCertificateInvalid, $"the OPN's sender certificate does not parse: {ex.Message}");
        }

        var keep = false;
        try
        {
            if (chain.Count == 0)
            {
                throw new ServiceResultException(StatusCodes.BadCertificateInvalid, "the OPN's sender certificate is empty");
            }

            var certificate = chain[0];
            if (Security is { } current)
            {
                if (!certificate.RawDataMemory.Span.SequenceEqual(current.ClientCertificate.RawDataMemory.Span))
                {
                    throw new ServiceResultException(StatusCodes.BadCertificateInvalid,
                        $"renewal of channel {ChannelId} with certificate {certificate.Subject} ({certificate.Thumbprint}), not the channel's ({current.ClientCertificate.Thumbprint})");
                }
            }
            else
            {
                var verdict = options.ClientCertificateValidator?.Validate(chain, null)
                    ?? new CertificateVerdict(StatusCodes.BadCertificateUntrusted, $"certificate {certificate.Subject} ({certificate.Thumbprint}): this server trusts no client certificates (no validator)");
                if (!verdict.IsTrusted)
                {
                    throw new ServiceResultException(verdict.Status, verdict.Reason);
                }
            }

            if (header.ReceiverCertificateThumbprint is not { } thumbprint || !thumbprint.AsSpan().SequenceEqual(options.Certificate!.Thumbprint))
            {
                throw new ServiceResultException(StatusCodes.BadCertificateInvalid,
                    $"the OPN is encrypted for certificate {Convert.ToHexString(header.ReceiverCertificateThumbprint ?? [])}, not ours ({Convert.ToHexString(options.Certificate!.Thumbprint)})");
            }

            var key = certificate.GetRSAPublicKey()
                ?? throw new ServiceResultException(StatusCodes.BadCertificateInvalid, $"certificate {certificate.Subject} has no RSA key");
            if (key.KeySize is < 2048 or > 4096)
            {
                key.Dispose();
                throw new ServiceResultException(StatusCodes.BadCertificatePolicyCheckFailed,
                    $"certificate {certificate.Subject} has a {key.KeySize}-bit key; {policy.Name} needs 2048 to 4096 bits");
            }

            keep = true;
            return new PendingOpen(policy, certificate, key);
        }
        finally
        {
            for (var i = keep ? 1 : 0; i < chain.Count; i++)
            {
                chain[i].Dispose();
            }
        }
    }

    /// <summary>The mode an OPN asks for must be offered with its policy, and a renewal must keep the channel's.</summary>
    private void CheckSecurityMode(OpenSecureChannelRequest request, PendingOpen? opened)
    {
        var policyUri = opened?.Policy.Uri ?? SecurityPolicies.None;
        if (Security is { } current && request.SecurityMode != current.Mode)
        {
            throw new ServiceResultException(StatusCodes.BadSecurityModeRejected,
                $"renewal asks for security mode {request.SecurityMode}; channel {ChannelId} was opened with {current.Mode}");
        }

        var asked = new EndpointSecurity(policyUri, request.SecurityMode);
        if (!_server.Options.OfferedSecurity.Contains(asked) && asked != new EndpointSecurity(SecurityPolicies.None, MessageSecurityMode.None))
        {
            throw new ServiceResultException(StatusCodes.BadSecurityModeRejected,
                $"security mode {request.SecurityMode} is not offered with {policyUri}");
        }
    }

    private static SecureChunk Plain(RawChunk raw, Memory<byte> bytes, uint channelId, uint tokenId, AsymmetricSecurityHeader? header, int securityHeaderEnd, int length)
    {
        if (length < ChunkSecurity.SequenceHeaderSize)
        {
            throw new ServiceResultException(StatusCodes.BadSecurityChecksFailed, $"{raw.Header.MessageType} chunk holds {length} bytes, no sequence header");
        }

        var span = bytes.Span;
        var sequenceNumber = BinaryPrimitives.ReadUInt32LittleEndian(span[securityHeaderEnd..]);
        var requestId = BinaryPrimitives.ReadUInt32LittleEndian(span[(securityHeaderEnd + 4)..]);
        var bodyStart = securityHeaderEnd + ChunkSecurity.SequenceHeaderSize;
        return new SecureChunk(raw.Header, channelId, tokenId, header, sequenceNumber, requestId, bytes[bodyStart..(securityHeaderEnd + length)]);
    }

    /// <summary>A secured OPN's policy and the client's certificate and key, between its chunk and its request.</summary>
    private sealed class PendingOpen(SecurityPolicy policy, X509Certificate2 certificate, RSA publicKey) : IDisposable
    {
        public SecurityPolicy Policy => policy;

        public X509Certificate2 Certificate => certificate;

        public RSA PublicKey => publicKey;

        public void Dispose()
        {
            publicKey.Dispose();
            certificate.Dispose();
        }
    }
}
