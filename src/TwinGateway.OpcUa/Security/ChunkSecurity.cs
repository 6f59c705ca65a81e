using System.Buffers.Binary;
using System.Security.Cryptography;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Security;

/// <summary>
/// The keys and rules that protect the chunks of one direction of a secure channel (OPC 10000-6 §6.7.2):
/// <see cref="None"/>; <see cref="Asymmetric"/> for OPN chunks, always signed with our private key and encrypted with
/// the peer's public key once the policy is not None, even in Sign mode (§6.7.2: "OpenSecureChannel Messages are
/// signed and encrypted if the SecurityMode is not None (even if the SecurityMode is Sign)"); <see cref="Symmetric"/>
/// for MSG and CLO chunks: HMAC-SHA256 in Sign mode, padding + HMAC-SHA256 + AES-CBC in SignAndEncrypt.
/// One asymmetric instance serves both directions (send: sign with ours, encrypt with theirs; receive: decrypt with
/// ours, verify with theirs). A symmetric instance holds one side's keys: the client sends with the client keys and
/// receives with the server keys, and the server the other way round. Immutable; safe to share.
/// </summary>
public sealed class ChunkCrypto
{
    private ChunkCrypto(SecurityPolicy policy, bool isAsymmetric, bool encrypts, RSA? ownPrivateKey, RSA? peerPublicKey, ChannelKeys? keys)
    {
        Policy = policy;
        IsAsymmetric = isAsymmetric;
        Encrypts = encrypts;
        OwnPrivateKey = ownPrivateKey;
        PeerPublicKey = peerPublicKey;
        Keys = keys;
    }

    /// <summary>SecurityPolicy None: no signature, no padding, no encryption.</summary>
    public static ChunkCrypto None { get; } = new(SecurityPolicy.None, false, false, null, null, null);

    /// <summary>OPN chunks of a secured channel (any mode but None).</summary>
    public static ChunkCrypto Asymmetric(SecurityPolicy policy, RSA ownPrivateKey, RSA peerPublicKey)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(ownPrivateKey);
        ArgumentNullException.ThrowIfNull(peerPublicKey);
        return policy.IsNone ? None : new ChunkCrypto(policy, true, true, ownPrivateKey, peerPublicKey, null);
    }

    /// <summary>MSG/CLO chunks with one side's derived keys; <paramref name="mode"/> Sign signs only.</summary>
    public static ChunkCrypto Symmetric(SecurityPolicy policy, MessageSecurityMode mode, ChannelKeys keys)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(keys);
        return policy.IsNone || mode is not (MessageSecurityMode.Sign or MessageSecurityMode.SignAndEncrypt)
            ? None
            : new ChunkCrypto(policy, false, mode == MessageSecurityMode.SignAndEncrypt, null, null, keys);
    }

    public SecurityPolicy Policy { get; }

    public bool IsNone => Policy.IsNone;

    public bool IsAsymmetric { get; }

    public bool Encrypts { get; }

    public RSA? OwnPrivateKey { get; }

    public RSA? PeerPublicKey { get; }

    public ChannelKeys? Keys { get; }
}

/// <summary>
/// Signs, pads and encrypts outgoing chunks and checks incoming ones in place (OPC 10000-6 §6.7.2), for both the
/// client channel and the server connection. A chunk is laid out as
/// <c>[message header 8][channel id 4][security header][sequence header 8][body][padding][signature]</c>; everything
/// from the sequence header on is encrypted when the <see cref="ChunkCrypto"/> encrypts. The padding is a PaddingSize
/// byte and that many bytes equal to it, then an ExtraPaddingSize byte (the high byte of the count) when the
/// encrypting key is longer than 2048 bits; the signature covers the headers as sent (MessageSize included) and the
/// plain text up to the signature.
/// </summary>
/// <remarks>
/// <c>securityHeaderEnd</c> is the offset of the sequence header in the chunk (12 + the security header's length).
/// A sender sizes each chunk with <see cref="MaxBodySize"/> and <see cref="ChunkSize"/>, writes headers, sequence header
/// and body into a buffer of ChunkSize bytes, then calls <see cref="Protect"/>. A receiver reads the headers up to
/// securityHeaderEnd and calls <see cref="Unprotect"/>, which leaves the sequence header and body at securityHeaderEnd.
/// </remarks>
public static class ChunkSecurity
{
    /// <summary>The sequence header: sequence number and request id.</summary>
    public const int SequenceHeaderSize = 8;

    /// <summary>The most body bytes one chunk of at most <paramref name="chunkSize"/> bytes can carry; 0 or less means none fit.</summary>
    public static int MaxBodySize(ChunkCrypto crypto, int securityHeaderEnd, int chunkSize)
    {
        ArgumentNullException.ThrowIfNull(crypto);
        var space = chunkSize - securityHeaderEnd;
        if (crypto.IsNone)
        {
            return space - SequenceHeaderSize;
        }

        if (crypto.IsAsymmetric)
        {
            var (plainBlock, cipherBlock, signature, paddingOverhead) = SendSizes(crypto);
            return (space / cipherBlock * plainBlock) - SequenceHeaderSize - signature - paddingOverhead;
        }

        var policy = crypto.Policy;
        return crypto.Encrypts
            ? (space / policy.SymmetricBlockSize * policy.SymmetricBlockSize) - SequenceHeaderSize - policy.SymmetricSignatureSize - 1
            : space - SequenceHeaderSize - policy.SymmetricSignatureSize;
    }

    /// <summary>The size on the wire of a chunk carrying <paramref name="bodyLength"/> body bytes.</summary>
    public static int ChunkSize(ChunkCrypto crypto, int securityHeaderEnd, int bodyLength)
    {
        ArgumentNullException.ThrowIfNull(crypto);
        var plain = SequenceHeaderSize + bodyLength;
        if (crypto.IsNone)
        {
            return securityHeaderEnd + plain;
        }

        if (crypto.IsAsymmetric)
        {
            var (plainBlock, cipherBlock, signature, paddingOverhead) = SendSizes(crypto);
            var unpadded = plain + paddingOverhead + signature;
            var blocks = (unpadded + plainBlock - 1) / plainBlock;
            return securityHeaderEnd + (blocks * cipherBlock);
        }

        var policy = crypto.Policy;
        return securityHeaderEnd + (crypto.Encrypts ? PaddedSymmetric(policy, plain) : plain + policy.SymmetricSignatureSize);
    }

    /// <summary>
    /// Pads, signs and encrypts a chunk in place. <paramref name="chunk"/> is exactly
    /// <see cref="ChunkSize"/>(crypto, securityHeaderEnd, bodyLength) bytes, with the headers, sequence header and body
    /// written; this writes MessageSize into the message header too.
    /// </summary>
    public static void Protect(ChunkCrypto crypto, Span<byte> chunk, int securityHeaderEnd, int bodyLength)
    {
        ArgumentNullException.ThrowIfNull(crypto);
        var expected = ChunkSize(crypto, securityHeaderEnd, bodyLength);
        if (chunk.Length != expected)
        {
            throw new ArgumentException($"the chunk buffer is {chunk.Length} bytes; this chunk needs {expected}", nameof(chunk));
        }

        BinaryPrimitives.WriteUInt32LittleEndian(chunk[4..], (uint)chunk.Length);
        if (crypto.IsNone)
        {
            return;
        }

        var plainEnd = securityHeaderEnd + SequenceHeaderSize + bodyLength;
        if (crypto.IsAsymmetric)
        {
            var policy = crypto.Policy;
            var (plainBlock, _, signatureSize, paddingOverhead) = SendSizes(crypto);
            var unpadded = SequenceHeaderSize + bodyLength + paddingOverhead + signatureSize;
            var padding = ((plainBlock - (unpadded % plainBlock)) % plainBlock);
            var signedEnd = WritePadding(chunk, plainEnd, padding, paddingOverhead == 2);
            var signature = policy.Sign(crypto.OwnPrivateKey!, chunk[..signedEnd]);
            signature.CopyTo(chunk[signedEnd..]);
            var plainLength = signedEnd + signature.Length - securityHeaderEnd;
            var cipher = policy.Encrypt(crypto.PeerPublicKey!, chunk.Slice(securityHeaderEnd, plainLength));
            cipher.CopyTo(chunk[securityHeaderEnd..]);
            return;
        }

        var symmetric = crypto.Policy;
        var keys = crypto.Keys!;
        var end = plainEnd;
        if (crypto.Encrypts)
        {
            var unpaddedLength = SequenceHeaderSize + bodyLength + 1 + symmetric.SymmetricSignatureSize;
            var padding = (symmetric.SymmetricBlockSize - (unpaddedLength % symmetric.SymmetricBlockSize)) % symmetric.SymmetricBlockSize;
            end = WritePadding(chunk, plainEnd, padding, extra: false);
        }

        SecurityPolicy.SymmetricSign(keys.SigningKey, chunk[..end], chunk.Slice(end, symmetric.SymmetricSignatureSize));
        if (crypto.Encrypts)
        {
            using var aes = CreateAes(keys);
            var region = chunk[securityHeaderEnd..];
            aes.EncryptCbc(region, keys.InitializationVector, region, PaddingMode.None);
        }
    }

    /// <summary>
    /// Decrypts and verifies a received chunk in place and returns how many bytes of sequence header and body follow
    /// <paramref name="securityHeaderEnd"/> (padding and signature removed).
    /// </summary>
    /// <exception cref="ServiceResultException">BadSecurityChecksFailed with the reason: cipher text of a wrong length,
    /// a block that does not decrypt, a wrong signature, malformed padding.</exception>
    public static int Unprotect(ChunkCrypto crypto, Span<byte> chunk, int securityHeaderEnd)
    {
        ArgumentNullException.ThrowIfNull(crypto);
        if (securityHeaderEnd < 0 || securityHeaderEnd > chunk.Length)
        {
            throw Failed(crypto, $"security header ends at {securityHeaderEnd}, past the chunk's {chunk.Length} bytes");
        }

        var region = chunk.Length - securityHeaderEnd;
        if (crypto.IsNone)
        {
            return region;
        }

        var policy = crypto.Policy;
        if (crypto.IsAsymmetric)
        {
            var ownKeyBytes = crypto.OwnPrivateKey!.KeySize / 8;
            var signatureSize = policy.AsymmetricSignatureSize(crypto.PeerPublicKey!);
            var plain = policy.Decrypt(crypto.OwnPrivateKey!, chunk[securityHeaderEnd..]);
            if (plain.Length < SequenceHeaderSize + signatureSize + 1)
            {
                throw Failed(crypto, $"the decrypted OPN chunk has {plain.Length} bytes, too few for a sequence header, padding and a {signatureSize}-byte signature");
            }

            plain.CopyTo(chunk[securityHeaderEnd..]);
            var signedEnd = securityHeaderEnd + plain.Length - signatureSize;
            if (!policy.Verify(crypto.PeerPublicKey!, chunk[..signedEnd], chunk.Slice(signedEnd, signatureSize)))
            {
                throw Failed(crypto, "the OPN chunk's signature does not verify with the sender certificate's key");
            }

            return ReadPadding(crypto, chunk, securityHeaderEnd, signedEnd, ownKeyBytes > 256) - securityHeaderEnd;
        }

        var keys = crypto.Keys!;
        var signature = policy.SymmetricSignatureSize;
        if (crypto.Encrypts)
        {
            if (region == 0 || region % policy.SymmetricBlockSize != 0)
            {
                throw Failed(crypto, $"{region} bytes of cipher text are not whole {policy.SymmetricBlockSize}-byte AES blocks");
            }

            using var aes = CreateAes(keys);
            var encrypted = chunk[securityHeaderEnd..];
            aes.DecryptCbc(encrypted, keys.InitializationVector, encrypted, PaddingMode.None);
        }

        if (region < SequenceHeaderSize + signature + (crypto.Encrypts ? 1 : 0))
        {
            throw Failed(crypto, $"the chunk's {region} secured bytes are too few for a sequence header and a {signature}-byte signature");
        }

        var macEnd = chunk.Length - signature;
        Span<byte> mac = stackalloc byte[32];
        SecurityPolicy.SymmetricSign(keys.SigningKey, chunk[..macEnd], mac);
        if (!CryptographicOperations.FixedTimeEquals(mac[..signature], chunk[macEnd..]))
        {
            throw Failed(crypto, "the chunk's HMAC-SHA256 signature does not match (tampered, or keys of another token)");
        }

        return (crypto.Encrypts ? ReadPadding(crypto, chunk, securityHeaderEnd, macEnd, extra: false) : macEnd) - securityHeaderEnd;
    }

    /// <summary>Plain block, cipher block, signature size and padding bytes of an asymmetric chunk we send.</summary>
    private static (int PlainBlock, int CipherBlock, int Signature, int PaddingOverhead) SendSizes(ChunkCrypto crypto)
    {
        var policy = crypto.Policy;
        var peer = crypto.PeerPublicKey!;
        var cipherBlock = policy.AsymmetricCipherBlockSize(peer);
        return (policy.AsymmetricPlainBlockSize(peer), cipherBlock, policy.AsymmetricSignatureSize(crypto.OwnPrivateKey!), cipherBlock > 256 ? 2 : 1);
    }

    private static int PaddedSymmetric(SecurityPolicy policy, int plain)
    {
        var unpadded = plain + 1 + policy.SymmetricSignatureSize;
        var block = policy.SymmetricBlockSize;
        return (unpadded + block - 1) / block * block;
    }

    /// <summary>Writes PaddingSize, then <paramref name="padding"/> bytes equal to it, then ExtraPaddingSize; returns the end.</summary>
    private static int WritePadding(Span<byte> chunk, int offset, int padding, bool extra)
    {
        chunk.Slice(offset, padding + 1).Fill((byte)(padding & 0xFF));
        offset += padding + 1;
        if (extra)
        {
            chunk[offset++] = (byte)(padding >> 8);
        }

        return offset;
    }

    /// <summary>Checks the padding before <paramref name="paddingEnd"/> and returns where the body ends.</summary>
    private static int ReadPadding(ChunkCrypto crypto, Span<byte> chunk, int securityHeaderEnd, int paddingEnd, bool extra)
    {
        var bodyStart = securityHeaderEnd + SequenceHeaderSize;
        var overhead = extra ? 2 : 1;
        if (paddingEnd - overhead < bodyStart)
        {
            throw Failed(crypto, "the chunk has no room for its padding");
        }

        var low = chunk[paddingEnd - overhead];
        var padding = extra ? (chunk[paddingEnd - 1] << 8) | low : low;
        var start = paddingEnd - overhead - padding;
        if (start < bodyStart)
        {
            throw Failed(crypto, $"padding of {padding} bytes runs into the sequence header");
        }

        foreach (var b in chunk[start..(paddingEnd - overhead)])
        {
            if (b != low)
            {
                throw Failed(crypto, "the chunk's padding bytes are not all equal to its PaddingSize");
            }
        }

        return start;
    }

    private static Aes CreateAes(ChannelKeys keys)
    {
        var aes = Aes.Create();
        aes.Key = keys.EncryptingKey;
        return aes;
    }

    private static ServiceResultException Failed(ChunkCrypto crypto, string reason) =>
        new(StatusCodes.BadSecurityChecksFailed, $"{crypto.Policy.Name}: {reason}");
}
