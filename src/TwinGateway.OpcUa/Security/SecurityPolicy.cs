using System.Security.Cryptography;
using TwinGateway.OpcUa.Channel;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Security;

/// <summary>
/// One security policy of OPC 10000-7 and the algorithms it names: the asymmetric signature and encryption used by
/// OpenSecureChannel, CreateSession/ActivateSession signatures and user token secrets; HMAC-SHA256 and AES-CBC for the
/// symmetric chunks; P_SHA256 for the channel keys (OPC 10000-6 §6.7.5). One instance per policy; all cryptography is
/// the framework's (<see cref="System.Security.Cryptography"/>).
/// </summary>
public sealed class SecurityPolicy
{
    private const string RsaSha256Uri = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
    private const string RsaPssSha256Uri = "http://opcfoundation.org/UA/security/rsa-pss-sha2-256";
    private const string RsaOaepUri = "http://www.w3.org/2001/04/xmlenc#rsa-oaep";
    private const string RsaOaepSha256Uri = "http://opcfoundation.org/UA/security/rsa-oaep-sha2-256";

    private readonly RSASignaturePadding? _signaturePadding;
    private readonly RSAEncryptionPadding? _encryptionPadding;
    private readonly int _oaepOverhead;

    private SecurityPolicy(string uri, int encryptionKeyLength, RSASignaturePadding? signaturePadding, RSAEncryptionPadding? encryptionPadding,
        string signatureUri, string encryptionUri)
    {
        Uri = uri;
        SymmetricEncryptionKeyLength = encryptionKeyLength;
        _signaturePadding = signaturePadding;
        _encryptionPadding = encryptionPadding;
        AsymmetricSignatureAlgorithmUri = signatureUri;
        AsymmetricEncryptionAlgorithmUri = encryptionUri;
        // OAEP takes 2 * hash length + 2 bytes of every block: 42 with SHA-1, 66 with SHA-256.
        _oaepOverhead = encryptionPadding == RSAEncryptionPadding.OaepSHA256 ? 66 : 42;
    }

    public static SecurityPolicy None { get; } = new(SecurityPolicies.None, 0, null, null, "", "");

    /// <summary>RSA PKCS#1 v1.5 SHA-256 signatures, RSA-OAEP (SHA-1), AES-256-CBC.</summary>
    public static SecurityPolicy Basic256Sha256 { get; } = new(SecurityPolicies.Basic256Sha256, 32,
        RSASignaturePadding.Pkcs1, RSAEncryptionPadding.OaepSHA1, RsaSha256Uri, RsaOaepUri);

    /// <summary>RSA PKCS#1 v1.5 SHA-256 signatures, RSA-OAEP (SHA-1), AES-128-CBC.</summary>
    public static SecurityPolicy Aes128Sha256RsaOaep { get; } = new(SecurityPolicies.Aes128Sha256RsaOaep, 16,
        RSASignaturePadding.Pkcs1, RSAEncryptionPadding.OaepSHA1, RsaSha256Uri, RsaOaepUri);

    /// <summary>RSA-PSS SHA-256 signatures, RSA-OAEP SHA-256, AES-256-CBC.</summary>
    public static SecurityPolicy Aes256Sha256RsaPss { get; } = new(SecurityPolicies.Aes256Sha256RsaPss, 32,
        RSASignaturePadding.Pss, RSAEncryptionPadding.OaepSHA256, RsaPssSha256Uri, RsaOaepSha256Uri);

    /// <summary>The secured policies, strongest first.</summary>
    public static IReadOnlyList<SecurityPolicy> Secured { get; } = [Aes256Sha256RsaPss, Basic256Sha256, Aes128Sha256RsaOaep];

    public static bool TryGet(string? uri, out SecurityPolicy policy)
    {
        policy = uri switch
        {
            SecurityPolicies.None => None,
            SecurityPolicies.Basic256Sha256 => Basic256Sha256,
            SecurityPolicies.Aes128Sha256RsaOaep => Aes128Sha256RsaOaep,
            SecurityPolicies.Aes256Sha256RsaPss => Aes256Sha256RsaPss,
            _ => null!,
        };
        return policy is not null;
    }

    public string Uri { get; }

    public bool IsNone => _signaturePadding is null;

    /// <summary>The short name after '#' in the URI (Basic256Sha256...).</summary>
    public string Name => Uri[(Uri.LastIndexOf('#') + 1)..];

    public int SymmetricSignatureKeyLength => IsNone ? 0 : 32;

    public int SymmetricEncryptionKeyLength { get; }

    public int SymmetricBlockSize => IsNone ? 1 : 16;

    public int SymmetricSignatureSize => IsNone ? 0 : 32;

    public int NonceLength => IsNone ? 0 : 32;

    /// <summary>For SignatureData.Algorithm (CreateSession/ActivateSession).</summary>
    public string AsymmetricSignatureAlgorithmUri { get; }

    /// <summary>For UserNameIdentityToken.EncryptionAlgorithm.</summary>
    public string AsymmetricEncryptionAlgorithmUri { get; }

    public override string ToString() => Name;

    public byte[] Sign(RSA privateKey, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(privateKey);
        return privateKey.SignData(data, HashAlgorithmName.SHA256, RequireSecured());
    }

    public bool Verify(RSA publicKey, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        try
        {
            return publicKey.VerifyData(data, signature, HashAlgorithmName.SHA256, RequireSecured());
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>An RSA signature is as long as the key's modulus.</summary>
    public int AsymmetricSignatureSize(RSA key)
    {
        ArgumentNullException.ThrowIfNull(key);
        _ = RequireSecured();
        return key.KeySize / 8;
    }

    /// <summary>Plain text bytes per RSA-OAEP block: key bytes less the OAEP overhead (SHA-1: 42, SHA-256: 66).</summary>
    public int AsymmetricPlainBlockSize(RSA key)
    {
        ArgumentNullException.ThrowIfNull(key);
        _ = RequireSecured();
        return (key.KeySize / 8) - _oaepOverhead;
    }

    public int AsymmetricCipherBlockSize(RSA key)
    {
        ArgumentNullException.ThrowIfNull(key);
        _ = RequireSecured();
        return key.KeySize / 8;
    }

    /// <summary>Encrypts block by block: each plain block of <see cref="AsymmetricPlainBlockSize"/> bytes becomes one cipher block.</summary>
    public byte[] Encrypt(RSA publicKey, ReadOnlySpan<byte> plain)
    {
        var plainBlock = AsymmetricPlainBlockSize(publicKey);
        var cipherBlock = AsymmetricCipherBlockSize(publicKey);
        var blocks = Math.Max(1, (plain.Length + plainBlock - 1) / plainBlock);
        var output = new byte[blocks * cipherBlock];
        for (var i = 0; i < blocks; i++)
        {
            var part = plain.Slice(i * plainBlock, Math.Min(plainBlock, plain.Length - (i * plainBlock)));
            if (!publicKey.TryEncrypt(part, output.AsSpan(i * cipherBlock, cipherBlock), _encryptionPadding!, out var written) || written != cipherBlock)
            {
                throw new CryptographicException($"RSA encryption of a {part.Length}-byte block gave an unexpected length");
            }
        }

        return output;
    }

    /// <summary>Decrypts block by block.</summary>
    /// <exception cref="ServiceResultException">BadSecurityChecksFailed: the length is not whole blocks or a block does not decrypt.</exception>
    public byte[] Decrypt(RSA privateKey, ReadOnlySpan<byte> cipher)
    {
        var cipherBlock = AsymmetricCipherBlockSize(privateKey);
        var plainBlock = AsymmetricPlainBlockSize(privateKey);
        if (cipher.Length == 0 || cipher.Length % cipherBlock != 0)
        {
            throw new ServiceResultException(StatusCodes.BadSecurityChecksFailed,
                $"{Name}: {cipher.Length} bytes of cipher text are not whole {cipherBlock}-byte RSA blocks");
        }

        var output = new byte[cipher.Length / cipherBlock * plainBlock];
        var length = 0;
        var scratch = new byte[cipherBlock];
        for (var offset = 0; offset < cipher.Length; offset += cipherBlock)
        {
            try
            {
                if (!privateKey.TryDecrypt(cipher.Slice(offset, cipherBlock), scratch, _encryptionPadding!, out var written) || written > plainBlock)
                {
                    throw new CryptographicException("block too large");
                }

                scratch.AsSpan(0, written).CopyTo(output.AsSpan(length));
                length += written;
            }
            catch (CryptographicException ex)
            {
                throw new ServiceResultException(StatusCodes.BadSecurityChecksFailed,
                    $"{Name}: RSA block at offset {offset} does not decrypt with our private key ({ex.Message})", ex);
            }
        }

        return length == output.Length ? output : output.AsSpan(0, length).ToArray();
    }

    /// <summary>
    /// P_SHA256(secret, seed) split as signing key | encrypting key | IV (OPC 10000-6 §6.7.5). The client's keys are
    /// DeriveKeys(serverNonce, clientNonce), the server's DeriveKeys(clientNonce, serverNonce).
    /// </summary>
    public ChannelKeys DeriveKeys(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> seed)
    {
        _ = RequireSecured();
        var bytes = PSha256(secret, seed, SymmetricSignatureKeyLength + SymmetricEncryptionKeyLength + SymmetricBlockSize);
        return new ChannelKeys(
            bytes[..SymmetricSignatureKeyLength],
            bytes[SymmetricSignatureKeyLength..(SymmetricSignatureKeyLength + SymmetricEncryptionKeyLength)],
            bytes[(SymmetricSignatureKeyLength + SymmetricEncryptionKeyLength)..]);
    }

    /// <summary>The TLS 1.2 PRF (RFC 5246 §5): A(0) = seed, A(i) = HMAC(secret, A(i-1)), output HMAC(secret, A(i) | seed)...</summary>
    public static byte[] PSha256(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> seed, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var output = new byte[length];
        var a = seed.ToArray();
        var input = new byte[32 + seed.Length];
        seed.CopyTo(input.AsSpan(32));
        Span<byte> block = stackalloc byte[32];
        for (var offset = 0; offset < length; offset += 32)
        {
            a = HMACSHA256.HashData(secret, a);
            a.CopyTo(input, 0);
            HMACSHA256.HashData(secret, input, block);
            block[..Math.Min(32, length - offset)].CopyTo(output.AsSpan(offset));
        }

        return output;
    }

    public byte[] CreateNonce() => IsNone ? [] : RandomNumberGenerator.GetBytes(NonceLength);

    /// <summary>HMAC-SHA256 of the symmetric chunk signature.</summary>
    public static void SymmetricSign(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> signature) =>
        HMACSHA256.HashData(key, data, signature);

    private RSASignaturePadding RequireSecured() => _signaturePadding
        ?? throw new ServiceResultException(StatusCodes.BadSecurityPolicyRejected, "SecurityPolicy None has no cryptography");
}

/// <summary>The keys one side uses for the symmetric chunks it sends (and the other side to check them).</summary>
public sealed record ChannelKeys(byte[] SigningKey, byte[] EncryptingKey, byte[] InitializationVector);
