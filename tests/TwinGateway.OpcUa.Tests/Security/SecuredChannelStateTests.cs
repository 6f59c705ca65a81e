using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TwinGateway.OpcUa.Channel;
using TwinGateway.OpcUa.Security;
using TwinGateway.OpcUa.Transport;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Tests.Security;

/// <summary>
/// A client and a server <see cref="SecureChannelState"/> secured with each other's certificates: OPN and MSG chunks
/// go one way and are read the other, over several chunks; replayed, tampered and foreign-token chunks are refused
/// with their precise status.
/// </summary>
public sealed class SecuredChannelStateTests
{
    private static readonly ApplicationCertificate s_client = ApplicationCertificate.CreateSelfSigned("urn:test:client", "Client", ["localhost"], TimeSpan.FromDays(1));
    private static readonly ApplicationCertificate s_server = ApplicationCertificate.CreateSelfSigned("urn:test:server", "Server", ["localhost"], TimeSpan.FromDays(1));
    private static readonly TransportLimits s_limits = new() { ReceiveBufferSize = 8192, SendBufferSize = 8192 };

    private static (SecureChannelState Client, SecureChannelState Server) Pair(SecurityPolicy policy, MessageSecurityMode mode)
    {
        var client = new SecureChannelState(ChannelSide.Client);
        var server = new SecureChannelState(ChannelSide.Server);
        client.Secure(policy, mode, s_client, s_server.Der, s_server.Certificate.GetRSAPublicKey()!);
        server.Secure(policy, mode, s_server, s_client.Der, s_client.Certificate.GetRSAPublicKey()!);
        return (client, server);
    }

    private static void AdoptKeys(SecureChannelState client, SecureChannelState server, SecurityPolicy policy, uint tokenId)
    {
        var clientNonce = policy.CreateNonce();
        var serverNonce = policy.CreateNonce();
        var clientKeys = policy.DeriveKeys(serverNonce, clientNonce);
        var serverKeys = policy.DeriveKeys(clientNonce, serverNonce);
        client.AdoptToken(9, tokenId, clientKeys, serverKeys);
        server.AdoptToken(9, tokenId, serverKeys, clientKeys);
    }

    private static List<byte[]> Send(SecureChannelState from, UaMessageType type, byte[] body)
    {
        using var message = from.Chunk(type, 3, body, s_limits);
        return message.Chunks.Select(c => c.ToArray()).ToList();
    }

    private static byte[] Receive(SecureChannelState to, IEnumerable<byte[]> chunks)
    {
        var body = new List<byte>();
        // Receive decrypts in place (the reader's buffer): give it a copy, as a socket would.
        foreach (var bytes in chunks.Select(c => (byte[])c.Clone()))
        {
            var chunk = to.Receive(new RawChunk(ChunkHeader.Parse(bytes, 1 << 20), bytes));
            body.AddRange(chunk.Body.ToArray());
        }

        return [.. body];
    }

    [Theory]
    [InlineData(MessageSecurityMode.Sign)]
    [InlineData(MessageSecurityMode.SignAndEncrypt)]
    public void Large_OPN_and_MSG_messages_cross_in_several_protected_chunks(MessageSecurityMode mode)
    {
        foreach (var policy in SecurityPolicy.Secured)
        {
            var (client, server) = Pair(policy, mode);
            var opn = RandomNumberGenerator.GetBytes(20_000);
            var opnChunks = Send(client, UaMessageType.OpenSecureChannel, opn);
            Assert.True(opnChunks.Count >= 3);
            Assert.All(opnChunks, c => Assert.True(c.Length <= 8192));
            Assert.Equal(-1, opnChunks[0].AsSpan().IndexOf(opn.AsSpan(0, 64))); // OPN is encrypted even in Sign mode
            Assert.Equal(opn, Receive(server, opnChunks));

            AdoptKeys(client, server, policy, 1);
            var request = RandomNumberGenerator.GetBytes(30_000);
            var chunks = Send(client, UaMessageType.Message, request);
            Assert.True(chunks.Count >= 4);
            Assert.Equal(request, Receive(server, chunks));
            var response = RandomNumberGenerator.GetBytes(50_000);
            Assert.Equal(response, Receive(client, Send(server, UaMessageType.Message, response)));
        }
    }

    [Fact]
    public void Replayed_tampered_and_unknown_token_chunks_are_refused_with_their_status()
    {
        var policy = SecurityPolicy.Aes256Sha256RsaPss;
        var (client, server) = Pair(policy, MessageSecurityMode.SignAndEncrypt);
        AdoptKeys(client, server, policy, 1);
        var first = Send(client, UaMessageType.Message, [1, 2, 3]);
        Receive(server, first);
        Assert.Equal(StatusCodes.BadSequenceNumberInvalid, Assert.Throws<ServiceResultException>(() => Receive(server, first)).StatusCode.Code);

        var tampered = Send(client, UaMessageType.Message, new byte[100]);
        tampered[0][^5] ^= 1;
        Assert.Equal(StatusCodes.BadSecurityChecksFailed, Assert.Throws<ServiceResultException>(() => Receive(server, tampered)).StatusCode.Code);

        var foreign = Send(client, UaMessageType.Message, new byte[10]);
        foreign[0][12] = 77; // token id 77
        Assert.Equal(StatusCodes.BadSecureChannelTokenUnknown, Assert.Throws<ServiceResultException>(() => Receive(server, foreign)).StatusCode.Code);
    }

    [Fact]
    public void After_a_renewal_the_old_token_is_still_read_and_the_server_switches_once_the_client_used_the_new_one()
    {
        var policy = SecurityPolicy.Basic256Sha256;
        var (client, server) = Pair(policy, MessageSecurityMode.SignAndEncrypt);
        AdoptKeys(client, server, policy, 1);
        Assert.Equal([5, 5], Receive(client, Send(server, UaMessageType.Message, [5, 5])));
        Assert.Equal([6], Receive(server, Send(client, UaMessageType.Message, [6])));

        AdoptKeys(client, server, policy, 2);
        Assert.Equal(2u, client.SendTokenId);
        Assert.Equal(1u, server.SendTokenId);
        // The server still answers with token 1 (in flight): the client reads it with the old keys.
        Assert.Equal([7], Receive(client, Send(server, UaMessageType.Message, [7])));
        Assert.Equal([8], Receive(server, Send(client, UaMessageType.Message, [8])));
        Assert.Equal(2u, server.SendTokenId);
        Assert.Equal([9], Receive(client, Send(server, UaMessageType.Message, [9])));
    }

    [Fact]
    public void An_OPN_for_another_certificate_or_policy_is_refused()
    {
        var (client, server) = Pair(SecurityPolicy.Basic256Sha256, MessageSecurityMode.Sign);
        var stranger = new SecureChannelState(ChannelSide.Server);
        var other = ApplicationCertificate.CreateSelfSigned("urn:test:other", "Other", ["localhost"], TimeSpan.FromDays(1));
        stranger.Secure(SecurityPolicy.Basic256Sha256, MessageSecurityMode.Sign, other, s_client.Der, s_client.Certificate.GetRSAPublicKey()!);
        var opn = Send(client, UaMessageType.OpenSecureChannel, new byte[50]);
        Assert.Equal(StatusCodes.BadCertificateInvalid, Assert.Throws<ServiceResultException>(() => Receive(stranger, opn)).StatusCode.Code);

        var (client2, _) = Pair(SecurityPolicy.Aes128Sha256RsaOaep, MessageSecurityMode.Sign);
        Assert.Equal(StatusCodes.BadSecurityPolicyRejected,
            Assert.Throws<ServiceResultException>(() => Receive(server, Send(client2, UaMessageType.OpenSecureChannel, new byte[50]))).StatusCode.Code);
    }
}
