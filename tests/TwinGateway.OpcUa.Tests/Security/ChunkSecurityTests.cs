using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TwinGateway.OpcUa.Security;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Tests.Security;

/// <summary>ChunkSecurity's padding math at block boundaries, round trips, and tampering refused with BadSecurityChecksFailed.</summary>
public sealed class ChunkSecurityTests
{
    private const int SymmetricHeaderEnd = 16; // message header 8, channel id 4, token id 4
    private static readonly ApplicationCertificate s_client = ApplicationCertificate.CreateSelfSigned("urn:test:c", "C", ["localhost"], TimeSpan.FromDays(1));
    private static readonly ApplicationCertificate s_server = ApplicationCertificate.CreateSelfSigned("urn:test:s", "S", ["localhost"], TimeSpan.FromDays(1));
    private static readonly RSA s_serverPublic = s_server.Certificate.GetRSAPublicKey()!;
    private static readonly RSA s_clientPublic = s_client.Certificate.GetRSAPublicKey()!;

    private static ChannelKeys Keys(SecurityPolicy policy) => policy.DeriveKeys(RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32));

    private static byte[] Build(ChunkCrypto crypto, int headerEnd, byte[] body)
    {
        var chunk = new byte[ChunkSecurity.ChunkSize(crypto, headerEnd, body.Length)];
        "MSGF"u8.CopyTo(chunk);
        RandomNumberGenerator.Fill(chunk.AsSpan(8, headerEnd - 8));
        BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(headerEnd), 42);
        BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(headerEnd + 4), 7);
        body.CopyTo(chunk.AsSpan(headerEnd + 8));
        ChunkSecurity.Protect(crypto, chunk, headerEnd, body.Length);
        return chunk;
    }

    [Theory]
    [InlineData(MessageSecurityMode.Sign, 0)]
    [InlineData(MessageSecurityMode.Sign, 1000)]
    [InlineData(MessageSecurityMode.SignAndEncrypt, 0)]
    [InlineData(MessageSecurityMode.SignAndEncrypt, 7)]
    [InlineData(MessageSecurityMode.SignAndEncrypt, 8)]
    [InlineData(MessageSecurityMode.SignAndEncrypt, 23)]
    [InlineData(MessageSecurityMode.SignAndEncrypt, 8111)]
    public void Symmetric_chunks_round_trip_with_whole_aes_blocks(MessageSecurityMode mode, int bodyLength)
    {
        foreach (var policy in SecurityPolicy.Secured)
        {
            var crypto = ChunkCrypto.Symmetric(policy, mode, Keys(policy));
            var body = RandomNumberGenerator.GetBytes(bodyLength);
            var chunk = Build(crypto, SymmetricHeaderEnd, body);
            Assert.Equal((uint)chunk.Length, BinaryPrimitives.ReadUInt32LittleEndian(chunk.AsSpan(4)));
            if (mode == MessageSecurityMode.SignAndEncrypt)
            {
                Assert.Equal(0, (chunk.Length - SymmetricHeaderEnd) % 16);
                Assert.False(chunk.AsSpan(SymmetricHeaderEnd + 8).IndexOf(body) >= 0 && bodyLength > 16);
            }
            else
            {
                Assert.Equal(SymmetricHeaderEnd + 8 + bodyLength + 32, chunk.Length);
            }

            var length = ChunkSecurity.Unprotect(crypto, chunk, SymmetricHeaderEnd);
            Assert.Equal(8 + bodyLength, length);
            Assert.Equal(42u, BinaryPrimitives.ReadUInt32LittleEndian(chunk.AsSpan(SymmetricHeaderEnd)));
            Assert.Equal(body, chunk.AsSpan(SymmetricHeaderEnd + 8, bodyLength).ToArray());
        }
    }

    [Theory]
    [InlineData(MessageSecurityMode.Sign)]
    [InlineData(MessageSecurityMode.SignAndEncrypt)]
    public void MaxBodySize_fills_a_chunk_exactly_and_one_more_byte_overflows(MessageSecurityMode mode)
    {
        foreach (var policy in SecurityPolicy.Secured)
        {
            var crypto = ChunkCrypto.Symmetric(policy, mode, Keys(policy));
            for (var chunkSize = 8192; chunkSize < 8192 + 17; chunkSize++)
            {
                var max = ChunkSecurity.MaxBodySize(crypto, SymmetricHeaderEnd, chunkSize);
                Assert.True(ChunkSecurity.ChunkSize(crypto, SymmetricHeaderEnd, max) <= chunkSize);
                Assert.True(ChunkSecurity.ChunkSize(crypto, SymmetricHeaderEnd, max + 1) > chunkSize || mode == MessageSecurityMode.SignAndEncrypt);
            }

            // SignAndEncrypt: 8192 - 16 = 8176 = 511 AES blocks, less sequence header 8, signature 32, padding byte 1.
            if (mode == MessageSecurityMode.SignAndEncrypt)
            {
                Assert.Equal(8176 - 8 - 32 - 1, ChunkSecurity.MaxBodySize(crypto, SymmetricHeaderEnd, 8192));
            }
            else
            {
                Assert.Equal(8192 - 16 - 8 - 32, ChunkSecurity.MaxBodySize(crypto, SymmetricHeaderEnd, 8192));
            }
        }
    }

    [Fact]
    public void Tampered_symmetric_chunks_fail_with_BadSecurityChecksFailed()
    {
        var policy = SecurityPolicy.Aes256Sha256RsaPss;
        var keys = Keys(policy);
        foreach (var mode in new[] { MessageSecurityMode.Sign, MessageSecurityMode.SignAndEncrypt })
        {
            var crypto = ChunkCrypto.Symmetric(policy, mode, keys);
            foreach (var position in new[] { 5, SymmetricHeaderEnd + 3, SymmetricHeaderEnd + 40, -1 })
            {
                var chunk = Build(crypto, SymmetricHeaderEnd, RandomNumberGenerator.GetBytes(100));
                chunk[position < 0 ? chunk.Length - 1 : position] ^= 0x10;
                var ex = Assert.Throws<ServiceResultException>(() => ChunkSecurity.Unprotect(crypto, chunk, SymmetricHeaderEnd));
                Assert.Equal(StatusCodes.BadSecurityChecksFailed, ex.StatusCode.Code);
            }

            var wrongKeys = ChunkCrypto.Symmetric(policy, mode, Keys(policy));
            var good = Build(crypto, SymmetricHeaderEnd, RandomNumberGenerator.GetBytes(100));
            Assert.Equal(StatusCodes.BadSecurityChecksFailed,
                Assert.Throws<ServiceResultException>(() => ChunkSecurity.Unprotect(wrongKeys, good, SymmetricHeaderEnd)).StatusCode.Code);
            Assert.Equal(StatusCodes.BadSecurityChecksFailed,
                Assert.Throws<ServiceResultException>(() => ChunkSecurity.Unprotect(crypto, good.AsSpan(0, good.Length - 1).ToArray(), SymmetricHeaderEnd)).StatusCode.Code);
            Assert.Equal(StatusCodes.BadSecurityChecksFailed,
                Assert.Throws<ServiceResultException>(() => ChunkSecurity.Unprotect(crypto, good.AsSpan(0, SymmetricHeaderEnd + 16).ToArray(), SymmetricHeaderEnd)).StatusCode.Code);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    [InlineData(1500)]
    public void Asymmetric_chunks_sign_with_ours_encrypt_with_theirs_and_round_trip(int bodyLength)
    {
        var headerEnd = 12 + 60 + 4 + s_client.Der.Length + 4 + 20;
        foreach (var policy in SecurityPolicy.Secured)
        {
            var send = ChunkCrypto.Asymmetric(policy, s_client.PrivateKey, s_serverPublic);
            var receive = ChunkCrypto.Asymmetric(policy, s_server.PrivateKey, s_clientPublic);
            var body = RandomNumberGenerator.GetBytes(bodyLength);
            var chunk = Build(send, headerEnd, body);
            Assert.Equal(0, (chunk.Length - headerEnd) % 256);
            Assert.Equal(8 + bodyLength, ChunkSecurity.Unprotect(receive, chunk, headerEnd));
            Assert.Equal(body, chunk.AsSpan(headerEnd + 8, bodyLength).ToArray());

            var tampered = Build(send, headerEnd, body);
            tampered[10] ^= 1; // a header byte: the signature covers it
            Assert.Equal(StatusCodes.BadSecurityChecksFailed,
                Assert.Throws<ServiceResultException>(() => ChunkSecurity.Unprotect(receive, tampered, headerEnd)).StatusCode.Code);
            var wrongSender = ChunkCrypto.Asymmetric(policy, s_server.PrivateKey, s_serverPublic);
            Assert.Equal(StatusCodes.BadSecurityChecksFailed,
                Assert.Throws<ServiceResultException>(() => ChunkSecurity.Unprotect(wrongSender, Build(send, headerEnd, body), headerEnd)).StatusCode.Code);
        }
    }

    [Fact]
    public void Asymmetric_max_body_is_whole_plain_blocks_less_overhead()
    {
        var headerEnd = 1200;
        var crypto = ChunkCrypto.Asymmetric(SecurityPolicy.Basic256Sha256, s_client.PrivateKey, s_serverPublic);
        // (8192 - 1200) / 256 = 27 blocks of 214 plain bytes, less sequence header 8, signature 256, padding byte 1.
        var max = ChunkSecurity.MaxBodySize(crypto, headerEnd, 8192);
        Assert.Equal((27 * 214) - 8 - 256 - 1, max);
        Assert.Equal(headerEnd + (27 * 256), ChunkSecurity.ChunkSize(crypto, headerEnd, max));
        Assert.Equal(headerEnd + (28 * 256), ChunkSecurity.ChunkSize(crypto, headerEnd, max + 1));
    }
}
