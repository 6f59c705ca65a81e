using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TwinGateway.OpcUa.Channel;
using TwinGateway.OpcUa.Security;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Tests.Security;

/// <summary>P_SHA256 against the published TLS 1.2 PRF vector, and the policies' asymmetric round trips and sizes.</summary>
public sealed class SecurityPolicyTests
{
    private static readonly ApplicationCertificate s_certificate = ApplicationCertificate.CreateSelfSigned(
        "urn:test:policy", "PolicyTest", ["localhost", "127.0.0.1"], TimeSpan.FromDays(1));

    public static TheoryData<string> SecuredPolicies() => [SecurityPolicies.Basic256Sha256, SecurityPolicies.Aes128Sha256RsaOaep, SecurityPolicies.Aes256Sha256RsaPss];

    [Fact]
    public void PSha256_matches_the_published_TLS12_PRF_vector()
    {
        // The IETF TLS working group's P_SHA256 test vector: secret, "test label" + seed, 100 bytes of output.
        var secret = Convert.FromHexString("9bbe436ba940f017b17652849a71db35");
        var seed = "test label"u8.ToArray().Concat(Convert.FromHexString("a0ba9f936cda311827a6f796ffd5198c")).ToArray();
        var expected = Convert.FromHexString(
            "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66");
        Assert.Equal(expected, SecurityPolicy.PSha256(secret, seed, 100));
    }

    [Theory]
    [InlineData(SecurityPolicies.Basic256Sha256, 32)]
    [InlineData(SecurityPolicies.Aes128Sha256RsaOaep, 16)]
    [InlineData(SecurityPolicies.Aes256Sha256RsaPss, 32)]
    public void DeriveKeys_splits_signing_encrypting_and_iv_from_PSha256(string uri, int encryptingKeyLength)
    {
        Assert.True(SecurityPolicy.TryGet(uri, out var policy));
        var clientNonce = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var serverNonce = Enumerable.Range(100, 32).Select(i => (byte)i).ToArray();
        var keys = policy.DeriveKeys(serverNonce, clientNonce);
        var all = SecurityPolicy.PSha256(serverNonce, clientNonce, 32 + encryptingKeyLength + 16);
        Assert.Equal(all[..32], keys.SigningKey);
        Assert.Equal(all[32..(32 + encryptingKeyLength)], keys.EncryptingKey);
        Assert.Equal(all[(32 + encryptingKeyLength)..], keys.InitializationVector);
        Assert.NotEqual(keys.SigningKey, policy.DeriveKeys(clientNonce, serverNonce).SigningKey);
    }

    [Theory]
    [MemberData(nameof(SecuredPolicies))]
    public void Sign_verifies_and_a_flipped_bit_does_not(string uri)
    {
        Assert.True(SecurityPolicy.TryGet(uri, out var policy));
        var data = RandomNumberGenerator.GetBytes(1000);
        using var publicKey = s_certificate.Certificate.GetRSAPublicKey()!;
        var signature = policy.Sign(s_certificate.PrivateKey, data);
        Assert.Equal(256, signature.Length);
        Assert.Equal(256, policy.AsymmetricSignatureSize(publicKey));
        Assert.True(policy.Verify(publicKey, data, signature));
        data[500] ^= 1;
        Assert.False(policy.Verify(publicKey, data, signature));
        Assert.False(policy.Verify(publicKey, data, signature.AsSpan(1)));
    }

    [Theory]
    [InlineData(SecurityPolicies.Basic256Sha256, 214)]
    [InlineData(SecurityPolicies.Aes128Sha256RsaOaep, 214)]
    [InlineData(SecurityPolicies.Aes256Sha256RsaPss, 190)]
    public void Encrypt_works_block_by_block_and_decrypts_back(string uri, int plainBlock)
    {
        Assert.True(SecurityPolicy.TryGet(uri, out var policy));
        using var publicKey = s_certificate.Certificate.GetRSAPublicKey()!;
        Assert.Equal(plainBlock, policy.AsymmetricPlainBlockSize(publicKey));
        Assert.Equal(256, policy.AsymmetricCipherBlockSize(publicKey));
        var plain = RandomNumberGenerator.GetBytes((plainBlock * 2) + 1);
        var cipher = policy.Encrypt(publicKey, plain);
        Assert.Equal(3 * 256, cipher.Length);
        Assert.Equal(plain, policy.Decrypt(s_certificate.PrivateKey, cipher));
        cipher[300] ^= 0x40;
        var ex = Assert.Throws<ServiceResultException>(() => policy.Decrypt(s_certificate.PrivateKey, cipher));
        Assert.Equal(StatusCodes.BadSecurityChecksFailed, ex.StatusCode.Code);
        ex = Assert.Throws<ServiceResultException>(() => policy.Decrypt(s_certificate.PrivateKey, cipher.AsSpan(1)));
        Assert.Equal(StatusCodes.BadSecurityChecksFailed, ex.StatusCode.Code);
    }

    [Fact]
    public void Policies_carry_the_part7_algorithm_uris()
    {
        Assert.Equal("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", SecurityPolicy.Basic256Sha256.AsymmetricSignatureAlgorithmUri);
        Assert.Equal("http://www.w3.org/2001/04/xmlenc#rsa-oaep", SecurityPolicy.Aes128Sha256RsaOaep.AsymmetricEncryptionAlgorithmUri);
        Assert.Equal("http://opcfoundation.org/UA/security/rsa-pss-sha2-256", SecurityPolicy.Aes256Sha256RsaPss.AsymmetricSignatureAlgorithmUri);
        Assert.Equal("http://opcfoundation.org/UA/security/rsa-oaep-sha2-256", SecurityPolicy.Aes256Sha256RsaPss.AsymmetricEncryptionAlgorithmUri);
        Assert.True(SecurityPolicy.None.IsNone);
        Assert.Empty(SecurityPolicy.None.CreateNonce());
        Assert.Equal(32, SecurityPolicy.Basic256Sha256.CreateNonce().Length);
        Assert.False(SecurityPolicy.TryGet("http://opcfoundation.org/UA/SecurityPolicy#Basic128Rsa15", out _));
        Assert.Equal(SecurityPolicy.Aes256Sha256RsaPss, SecurityPolicy.Secured[0]);
    }

    [Fact]
    public void Self_signed_certificate_carries_uri_key_usages_and_thumbprint()
    {
        Assert.Equal("urn:test:policy", s_certificate.ApplicationUri);
        Assert.Equal(2048, s_certificate.PrivateKey.KeySize);
        Assert.Equal(Convert.FromHexString(s_certificate.Certificate.Thumbprint), s_certificate.Thumbprint);
        var usage = s_certificate.Certificate.Extensions.OfType<System.Security.Cryptography.X509Certificates.X509KeyUsageExtension>().Single();
        Assert.True(usage.KeyUsages.HasFlag(System.Security.Cryptography.X509Certificates.X509KeyUsageFlags.DataEncipherment));
        Assert.True(usage.KeyUsages.HasFlag(System.Security.Cryptography.X509Certificates.X509KeyUsageFlags.KeyCertSign));
    }

    [Fact]
    public void CertificateChain_splits_concatenated_der_and_refuses_garbage_and_bombs()
    {
        var other = ApplicationCertificate.CreateSelfSigned("urn:test:other", "Other", ["localhost"], TimeSpan.FromDays(1));
        var chain = CertificateChain.Parse(s_certificate.Der.Concat(other.Der).ToArray());
        Assert.Equal(2, chain.Count);
        Assert.Equal(s_certificate.Certificate.Thumbprint, chain[0].Thumbprint);
        Assert.Equal(other.Certificate.Thumbprint, chain[1].Thumbprint);

        Assert.Equal(StatusCodes.BadCertificateInvalid, Assert.Throws<ServiceResultException>(() => CertificateChain.Parse([])).StatusCode.Code);
        Assert.Equal(StatusCodes.BadCertificateInvalid, Assert.Throws<ServiceResultException>(() => CertificateChain.Parse(s_certificate.Der.Concat(new byte[] { 1, 2, 3 }).ToArray())).StatusCode.Code);
        Assert.Equal(StatusCodes.BadCertificateInvalid, Assert.Throws<ServiceResultException>(() => CertificateChain.Parse(s_certificate.Der.AsSpan(0, 100))).StatusCode.Code);
        var bomb = Enumerable.Repeat(other.Der, CertificateChain.MaxCertificates + 1).SelectMany(d => d).ToArray();
        Assert.Equal(StatusCodes.BadCertificateInvalid, Assert.Throws<ServiceResultException>(() => CertificateChain.Parse(bomb)).StatusCode.Code);
    }
}
