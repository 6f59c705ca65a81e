using System.Buffers.Binary;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using TwinGateway.OpcUa.Channel;
using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Security;
using TwinGateway.OpcUa.Server;
using TwinGateway.OpcUa.Server.Demo;
using TwinGateway.OpcUa.Transport;
using TwinGateway.OpcUa.Types;
using Xunit.Abstractions;

namespace TwinGateway.Interop.Tests.Security;

/// <summary>
/// Our server on secured channels. A self-signed server certificate; a validator that pins the certificates of the
/// trusted clients (node-opcua's, made here and handed to it as PEM files, and the raw client's of these tests); user
/// operator / secret1. node-opcua's client (tests/node/secure-client.js) connects in every policy and mode, reads,
/// browses, subscribes and logs in; an untrusted certificate and a wrong password are refused. A raw client (the
/// chunks built here with the shared ChunkSecurity) sends tampered, replayed and malformed chunks: each closes its
/// channel with the precise status, and the server serves the next client.
/// </summary>
public sealed class ServerSecurityTests : IClassFixture<ServerSecurityTests.SecureServerFixture>
{
    private const string Script = "secure-client.js";
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromSeconds(60);
    private readonly SecureServerFixture _fixture;
    private readonly ITestOutputHelper _output;

    public ServerSecurityTests(SecureServerFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
    }

    public static TheoryData<string, string> PoliciesAndModes => new()
    {
        { "Basic256Sha256", "Sign" },
        { "Basic256Sha256", "SignAndEncrypt" },
        { "Aes128_Sha256_RsaOaep", "Sign" },
        { "Aes128_Sha256_RsaOaep", "SignAndEncrypt" },
        { "Aes256_Sha256_RsaPss", "Sign" },
        { "Aes256_Sha256_RsaPss", "SignAndEncrypt" },
    };

    private async Task<JsonElement> RunNodeAsync(string policy, string mode, SecureServerFixture.PemFiles client, params string[] extra)
    {
        string[] args =
        [
            "--endpoint", _fixture.Server.EndpointUrl, "--policy", policy, "--mode", mode,
            "--cert", client.Certificate, "--key", client.Key, "--application-uri", client.ApplicationUri,
            "--pki", _fixture.Folder.File("node-pki"), .. extra,
        ];
        var result = await NodeScript.RunAsync(Script, args, ScriptTimeout);
        foreach (var line in result.StdoutLines)
        {
            _output.WriteLine(line);
        }

        return result.SingleJson;
    }

    // ---- node-opcua's client ----

    [Theory]
    [MemberData(nameof(PoliciesAndModes))]
    public async Task Node_client_reads_browses_subscribes_and_logs_in(string policy, string mode)
    {
        var json = await RunNodeAsync(policy, mode, _fixture.NodeClient,
            "--user", "operator:secret1", "--read", "ns=1;s=Test.ReadOnly", "--browse", "i=85", "--subscribe", "ns=1;s=Test.Counter", "--notifications", "3");

        Assert.True(json.GetProperty("ok").GetBoolean(), json.ToString());
        Assert.Equal("Good", json.GetProperty("read").GetProperty("status").GetString());
        Assert.Equal(42.5, json.GetProperty("read").GetProperty("value").GetDouble());
        var names = json.GetProperty("browse").GetProperty("names").EnumerateArray().Select(n => n.GetString()).ToList();
        Assert.Contains("Server", names);
        Assert.Contains("Test", names);
        var counts = json.GetProperty("notifications").EnumerateArray().Select(v => v.GetInt32()).ToList();
        Assert.True(counts.Count >= 3, $"{counts.Count} notifications");
        Assert.True(counts[^1] > counts[0], $"Test.Counter did not advance: {string.Join(", ", counts)}");
        Assert.Equal(_fixture.ServerCertificate.Der.Length, json.GetProperty("serverCertificateLength").GetInt32());
        Assert.True(_fixture.Log.Contains("user operator"), "the session was not activated as operator");
    }

    [Fact]
    public async Task Node_client_with_a_wrong_password_is_refused_with_BadUserAccessDenied()
    {
        var json = await RunNodeAsync("Aes256_Sha256_RsaPss", "SignAndEncrypt", _fixture.NodeClient, "--user", "operator:wrong", "--read", "ns=1;s=Test.ReadOnly");

        Assert.False(json.GetProperty("ok").GetBoolean());
        Assert.Equal("session", json.GetProperty("stage").GetString());
        Assert.Contains("BadUserAccessDenied", json.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.True(_fixture.Log.Contains("user 'operator' gave a wrong password"), _fixture.Log.ToString());
    }

    [Fact]
    public async Task Node_client_whose_certificate_is_not_trusted_is_refused_with_BadCertificateUntrusted()
    {
        var json = await RunNodeAsync("Basic256Sha256", "SignAndEncrypt", _fixture.UntrustedNodeClient, "--read", "ns=1;s=Test.ReadOnly");

        Assert.False(json.GetProperty("ok").GetBoolean());
        Assert.Equal("connect", json.GetProperty("stage").GetString());
        Assert.True(_fixture.Log.Contains("BadCertificateUntrusted"), _fixture.Log.ToString());
        Assert.True(_fixture.Log.Contains(_fixture.UntrustedNodeClient.Thumbprint), "the refusal does not name the certificate");
    }

    // ---- our client ----

    private OpcUaClientOptions OurClient(string policy, string mode, UserIdentity identity) => new()
    {
        ApplicationUri = _fixture.OurClient.ApplicationUri,
        SecurityPolicy = Policy(policy),
        SecurityMode = Enum.Parse<MessageSecurityMode>(mode),
        Certificate = _fixture.OurClient,
        CertificateValidator = new PinnedCertificateValidator([_fixture.ServerCertificate.Certificate]),
        Identity = identity,
        // 8 KB chunks both ways: the 1,500-node Read and its response span several chunks, each padded and signed.
        Channel = new ClientChannelOptions { Limits = new TransportLimits { ReceiveBufferSize = 8192, SendBufferSize = 8192 } },
    };

    [Theory]
    [MemberData(nameof(PoliciesAndModes))]
    public async Task Our_client_reads_large_messages_browses_subscribes_and_logs_in(string policy, string mode)
    {
        await using var client = await OpcUaClient.ConnectAsync(_fixture.Server.EndpointUrl, OurClient(policy, mode, UserIdentity.ForUser("operator", "secret1")), logger: _fixture.Log);
        Assert.Equal(Policy(policy), client.SecurityPolicy);
        Assert.Equal(Enum.Parse<MessageSecurityMode>(mode), client.SecurityMode);

        var nodes = Enumerable.Range(0, 1500).Select(i => new NodeId($"Test.Big.{i:D4}", 1)).ToList();
        var values = await client.ReadValuesAsync(nodes);
        Assert.Equal(1500, values.Length);
        Assert.All(values, v => Assert.True(v.StatusCode.IsGood, v.StatusCode.Name));
        Assert.Equal(1499.0, values[^1].Value.Value);

        var references = await client.BrowseAsync(new NodeId(ObjectIds.ObjectsFolder));
        Assert.Contains(references, r => r.BrowseName.Name == "Test");

        var subscription = await client.CreateSubscriptionAsync(new SubscriptionOptions { PublishingInterval = TimeSpan.FromMilliseconds(50), KeepAliveCount = 5, LifetimeCount = 100 });
        var items = await subscription.AddItemsAsync([new MonitoredItemOptions(new NodeId("Test.Counter", 1)) { SamplingInterval = TimeSpan.FromMilliseconds(20), QueueSize = 10 }]);
        Assert.True(items[0].IsCreated, items[0].Status.Name);
        var batches = await Client.SubscriptionTests.Collect<DataChangeBatch>(subscription, 3);
        Assert.Equal(3, batches.Count);
        await client.CloseAsync();
    }

    [Fact]
    public async Task Our_client_with_a_wrong_password_is_refused_with_BadUserAccessDenied()
    {
        var ex = await Assert.ThrowsAsync<ServiceResultException>(() =>
            OpcUaClient.ConnectAsync(_fixture.Server.EndpointUrl, OurClient("Aes128_Sha256_RsaOaep", "SignAndEncrypt", UserIdentity.ForUser("operator", "nope")), logger: _fixture.Log));
        Assert.Equal(StatusCodes.BadUserAccessDenied, ex.StatusCode.Code);
    }

    // ---- the simulated PLC with a PKI folder ----

    [Fact]
    public async Task Simulated_PLC_with_a_PKI_folder_creates_its_certificate_once_and_serves_our_client_encrypted()
    {
        using var pki = new TempFolder();
        var trusted = Directory.CreateDirectory(Path.Combine(pki.Path, "trusted", "certs"));
        await File.WriteAllBytesAsync(Path.Combine(trusted.FullName, "our-client.der"), _fixture.OurClient.Der);
        var options = new TwinGateway.PlcSim.SimulatedPlcOptions { Port = 0, Seed = 1, PkiFolder = pki.Path };
        byte[] der;
        await using (var plc = new TwinGateway.PlcSim.SimulatedPlc(PlcSim.SimulatedPlcFixture.Line, options))
        {
            await plc.StartAsync();
            der = await File.ReadAllBytesAsync(Path.Combine(pki.Path, "own", "certs", "certificate.der"));
            var endpoints = await OpcUaClient.GetEndpointsAsync(plc.EndpointUrl);
            Assert.Equal(7, endpoints.Length);
            Assert.All(endpoints.Where(e => e.SecurityMode != MessageSecurityMode.None), e => Assert.Equal(der, e.ServerCertificate));
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(pki.Path, "own", "private", "certificate.pfx")));
            }

            var client = new OpcUaClientOptions
            {
                ApplicationUri = _fixture.OurClient.ApplicationUri,
                SecurityPolicy = SecurityPolicy.Aes256Sha256RsaPss,
                SecurityMode = MessageSecurityMode.SignAndEncrypt,
                Certificate = _fixture.OurClient,
                CertificateValidator = new PinnedCertificateValidator([X509CertificateLoader.LoadCertificate(der)]),
            };
            await using var connected = await OpcUaClient.ConnectAsync(plc.EndpointUrl, client);
            var state = await connected.ReadAttributeAsync(new NodeId(VariableIds.Server_ServerStatus_State), Attributes.Value);
            Assert.True(state.StatusCode.IsGood, state.StatusCode.Name);
            Assert.Equal(MessageSecurityMode.SignAndEncrypt, connected.SecurityMode);
        }

        // A second start keeps the certificate it made.
        await using (var again = new TwinGateway.PlcSim.SimulatedPlc(PlcSim.SimulatedPlcFixture.Line, options))
        {
            await again.StartAsync();
            var endpoints = await OpcUaClient.GetEndpointsAsync(again.EndpointUrl);
            Assert.Equal(der, endpoints.First(e => e.SecurityMode == MessageSecurityMode.SignAndEncrypt).ServerCertificate);
        }
    }

    // ---- None switched off ----

    [Fact]
    public async Task With_None_switched_off_a_None_channel_serves_discovery_only()
    {
        var options = new UaServerOptions
        {
            Port = 0,
            ApplicationUri = _fixture.ServerCertificate.ApplicationUri,
            Certificate = _fixture.ServerCertificate,
            ClientCertificateValidator = new PinnedCertificateValidator([_fixture.OurClient.Certificate]),
            AllowSecurityPolicyNone = false,
        };
        await using var server = new UaServer(options);
        await server.StartAsync();

        var endpoints = await OpcUaClient.GetEndpointsAsync(server.EndpointUrl);
        Assert.Equal(6, endpoints.Length);
        Assert.DoesNotContain(endpoints, e => e.SecurityMode == MessageSecurityMode.None);

        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => OpcUaClient.ConnectAsync(server.EndpointUrl, new OpcUaClientOptions()));
        Assert.True(ex.StatusCode.Code is StatusCodes.BadSecurityPolicyRejected or StatusCodes.BadSecurityModeRejected, ex.ToString());

        await using var secured = await OpcUaClient.ConnectAsync(server.EndpointUrl, OurClient("Basic256Sha256", "SignAndEncrypt", UserIdentity.Anonymous) with
        {
            CertificateValidator = new PinnedCertificateValidator([_fixture.ServerCertificate.Certificate]),
        });
        Assert.True((await secured.ReadAttributeAsync(new NodeId(VariableIds.Server_ServerStatus_State), Attributes.Value)).StatusCode.IsGood);
    }

    // ---- endpoints ----

    [Fact]
    public async Task GetEndpoints_offers_None_and_three_policies_in_two_modes_with_our_certificate()
    {
        var endpoints = await OpcUaClient.GetEndpointsAsync(_fixture.Server.EndpointUrl);

        Assert.Equal(7, endpoints.Length);
        Assert.Single(endpoints, e => e.SecurityMode == MessageSecurityMode.None && e.SecurityPolicyUri == SecurityPolicies.None);
        foreach (var policy in new[] { SecurityPolicies.Basic256Sha256, SecurityPolicies.Aes128Sha256RsaOaep, SecurityPolicies.Aes256Sha256RsaPss })
        {
            foreach (var mode in new[] { MessageSecurityMode.Sign, MessageSecurityMode.SignAndEncrypt })
            {
                var endpoint = Assert.Single(endpoints, e => e.SecurityPolicyUri == policy && e.SecurityMode == mode);
                Assert.Equal(_fixture.ServerCertificate.Der, endpoint.ServerCertificate);
                var user = Assert.Single(endpoint.UserIdentityTokens!, t => t.TokenType == UserTokenType.UserName);
                Assert.Equal(policy, user.SecurityPolicyUri);
                Assert.Contains(endpoint.UserIdentityTokens!, t => t.TokenType == UserTokenType.Anonymous);
                Assert.True(endpoint.SecurityLevel > 0);
            }
        }
    }

    // ---- hostile input, raw chunks ----

    [Theory]
    [MemberData(nameof(PoliciesAndModes))]
    public async Task Raw_client_opens_a_channel_and_gets_endpoints(string policy, string mode)
    {
        await using var client = await RawSecureClient.OpenAsync(_fixture, Policy(policy), Enum.Parse<MessageSecurityMode>(mode));
        var response = await client.GetEndpointsAsync();
        Assert.Equal(7, response.Endpoints!.Length);
        var second = await client.GetEndpointsAsync();
        Assert.Equal(7, second.Endpoints!.Length);
    }

    [Fact]
    public async Task A_tampered_ciphertext_byte_closes_the_channel_with_BadSecurityChecksFailed()
    {
        await using var client = await RawSecureClient.OpenAsync(_fixture, SecurityPolicy.Aes256Sha256RsaPss, MessageSecurityMode.SignAndEncrypt);
        var chunk = client.BuildGetEndpoints();
        chunk[^40] ^= 0x01;
        await client.SendAsync(chunk);

        await client.ExpectErrorAsync(StatusCodes.BadSecurityChecksFailed);
        await AssertServerStillServesAsync();
    }

    [Fact]
    public async Task A_wrong_signature_in_Sign_mode_closes_the_channel_with_BadSecurityChecksFailed()
    {
        await using var client = await RawSecureClient.OpenAsync(_fixture, SecurityPolicy.Basic256Sha256, MessageSecurityMode.Sign);
        var chunk = client.BuildGetEndpoints();
        chunk[^1] ^= 0x80;
        await client.SendAsync(chunk);

        await client.ExpectErrorAsync(StatusCodes.BadSecurityChecksFailed);
        await AssertServerStillServesAsync();
    }

    [Fact]
    public async Task A_replayed_sequence_number_closes_the_channel_with_BadSequenceNumberInvalid()
    {
        await using var client = await RawSecureClient.OpenAsync(_fixture, SecurityPolicy.Aes128Sha256RsaOaep, MessageSecurityMode.SignAndEncrypt);
        var chunk = client.BuildGetEndpoints();
        await client.SendAsync(chunk);
        Assert.Equal(7, (await client.ReadResponseAsync<GetEndpointsResponse>()).Endpoints!.Length);
        await client.SendAsync(chunk);

        await client.ExpectErrorAsync(StatusCodes.BadSequenceNumberInvalid);
        await AssertServerStillServesAsync();
    }

    [Fact]
    public async Task An_OPN_signed_with_another_key_is_refused_with_BadSecurityChecksFailed()
    {
        await using var client = await RawSecureClient.ConnectAsync(_fixture);
        using var otherKey = RSA.Create(2048);
        await client.SendAsync(client.BuildOpen(SecurityPolicy.Basic256Sha256, MessageSecurityMode.SignAndEncrypt, signingKey: otherKey));

        await client.ExpectErrorAsync(StatusCodes.BadSecurityChecksFailed);
        await AssertServerStillServesAsync();
    }

    [Fact]
    public async Task An_OPN_for_another_receiver_is_refused_with_BadCertificateInvalid()
    {
        await using var client = await RawSecureClient.ConnectAsync(_fixture);
        await client.SendAsync(client.BuildOpen(SecurityPolicy.Basic256Sha256, MessageSecurityMode.SignAndEncrypt, receiverThumbprint: new byte[20]));

        await client.ExpectErrorAsync(StatusCodes.BadCertificateInvalid);
        await AssertServerStillServesAsync();
    }

    [Fact]
    public async Task An_OPN_with_a_garbage_certificate_is_refused_with_BadCertificateInvalid()
    {
        await using var client = await RawSecureClient.ConnectAsync(_fixture);
        await client.SendAsync(client.BuildOpen(SecurityPolicy.Basic256Sha256, MessageSecurityMode.SignAndEncrypt, senderCertificate: RandomNumberGenerator.GetBytes(700)));

        await client.ExpectErrorAsync(StatusCodes.BadCertificateInvalid);
        await AssertServerStillServesAsync();
    }

    [Fact]
    public async Task An_OPN_whose_ciphertext_is_cut_short_is_refused_with_BadSecurityChecksFailed()
    {
        await using var client = await RawSecureClient.ConnectAsync(_fixture);
        var chunk = client.BuildOpen(SecurityPolicy.Aes256Sha256RsaPss, MessageSecurityMode.Sign);
        var cut = chunk[..^100];
        BinaryPrimitives.WriteUInt32LittleEndian(cut.AsSpan(4), (uint)cut.Length);
        await client.SendAsync(cut);

        await client.ExpectErrorAsync(StatusCodes.BadSecurityChecksFailed);
        await AssertServerStillServesAsync();
    }

    [Fact]
    public async Task An_OPN_with_an_unknown_policy_is_refused_with_BadSecurityPolicyRejected()
    {
        await using var client = await RawSecureClient.ConnectAsync(_fixture);
        var chunk = client.BuildOpen(SecurityPolicy.Basic256Sha256, MessageSecurityMode.Sign);
        var uri = System.Text.Encoding.UTF8.GetBytes(SecurityPolicies.Basic256Sha256);
        var at = chunk.AsSpan().IndexOf(uri);
        chunk[at + uri.Length - 1] = (byte)'7';
        await client.SendAsync(chunk);

        await client.ExpectErrorAsync(StatusCodes.BadSecurityPolicyRejected);
        await AssertServerStillServesAsync();
    }

    // ---- sessions on a secured channel, raw ----

    [Theory]
    [MemberData(nameof(PoliciesAndModes))]
    public async Task Raw_session_checks_our_signature_signs_back_and_logs_in_with_an_encrypted_password(string policy, string mode)
    {
        await using var client = await RawSecureClient.OpenAsync(_fixture, Policy(policy), Enum.Parse<MessageSecurityMode>(mode));
        var created = await client.CreateSessionAsync(_fixture.RawClient.ApplicationUri);
        Assert.Equal(_fixture.ServerCertificate.Der, created.ServerCertificate);
        Assert.Equal(32, created.ServerNonce!.Length);
        using (var serverKey = _fixture.ServerCertificate.Certificate.GetRSAPublicKey()!)
        {
            Assert.Equal(client.Policy.AsymmetricSignatureAlgorithmUri, created.ServerSignature.Algorithm);
            Assert.True(client.Policy.Verify(serverKey, [.. _fixture.RawClient.Der, .. client.SessionNonce], created.ServerSignature.Signature),
                "our server's signature over clientCertificate | clientNonce does not verify");
        }

        var activated = await client.ActivateAsync(created, client.EncryptedUser("operator", "secret1", created.ServerNonce));
        var response = Assert.IsType<ActivateSessionResponse>(activated);
        Assert.Equal(32, response.ServerNonce!.Length);
        Assert.NotEqual(created.ServerNonce, response.ServerNonce);
        var read = Assert.IsType<ReadResponse>(await client.CallAsync(new ReadRequest
        {
            RequestHeader = client.Header(created.AuthenticationToken),
            NodesToRead = [new ReadValueId { NodeId = new NodeId("Test.ReadOnly", 1), AttributeId = Attributes.Value }],
        }));
        Assert.Equal(42.5, read.Results![0].Value.Value);
    }

    [Fact]
    public async Task CreateSession_with_an_ApplicationUri_not_in_the_certificate_is_refused_with_BadCertificateUriInvalid()
    {
        await using var client = await RawSecureClient.OpenAsync(_fixture, SecurityPolicy.Basic256Sha256, MessageSecurityMode.SignAndEncrypt);
        var fault = Assert.IsType<ServiceFault>(await client.CallAsync(client.CreateSessionRequest("urn:someone:else")));
        Assert.Equal(StatusCodes.BadCertificateUriInvalid, fault.ResponseHeader.ServiceResult.Code);
    }

    [Fact]
    public async Task ActivateSession_with_a_wrong_client_signature_is_refused_with_BadApplicationSignatureInvalid()
    {
        await using var client = await RawSecureClient.OpenAsync(_fixture, SecurityPolicy.Aes256Sha256RsaPss, MessageSecurityMode.SignAndEncrypt);
        var created = await client.CreateSessionAsync(_fixture.RawClient.ApplicationUri);
        var fault = Assert.IsType<ServiceFault>(await client.ActivateAsync(created, null, signedNonce: RandomNumberGenerator.GetBytes(32)));
        Assert.Equal(StatusCodes.BadApplicationSignatureInvalid, fault.ResponseHeader.ServiceResult.Code);
    }

    [Fact]
    public async Task ActivateSession_with_a_clear_password_on_a_secured_channel_is_refused_with_BadIdentityTokenInvalid()
    {
        await using var client = await RawSecureClient.OpenAsync(_fixture, SecurityPolicy.Basic256Sha256, MessageSecurityMode.SignAndEncrypt);
        var created = await client.CreateSessionAsync(_fixture.RawClient.ApplicationUri);
        var clear = new UserNameIdentityToken { PolicyId = "username_Basic256Sha256", UserName = "operator", Password = "secret1"u8.ToArray() };
        var fault = Assert.IsType<ServiceFault>(await client.ActivateAsync(created, clear));
        Assert.Equal(StatusCodes.BadIdentityTokenInvalid, fault.ResponseHeader.ServiceResult.Code);
    }

    [Fact]
    public async Task ActivateSession_with_a_password_encrypted_with_another_nonce_is_refused_with_BadIdentityTokenInvalid()
    {
        await using var client = await RawSecureClient.OpenAsync(_fixture, SecurityPolicy.Aes128Sha256RsaOaep, MessageSecurityMode.Sign);
        var created = await client.CreateSessionAsync(_fixture.RawClient.ApplicationUri);
        var fault = Assert.IsType<ServiceFault>(await client.ActivateAsync(created, client.EncryptedUser("operator", "secret1", RandomNumberGenerator.GetBytes(32))));
        Assert.Equal(StatusCodes.BadIdentityTokenInvalid, fault.ResponseHeader.ServiceResult.Code);
    }

    [Fact]
    public async Task ActivateSession_with_an_encrypted_wrong_password_is_refused_with_BadUserAccessDenied()
    {
        await using var client = await RawSecureClient.OpenAsync(_fixture, SecurityPolicy.Aes256Sha256RsaPss, MessageSecurityMode.Sign);
        var created = await client.CreateSessionAsync(_fixture.RawClient.ApplicationUri);
        var fault = Assert.IsType<ServiceFault>(await client.ActivateAsync(created, client.EncryptedUser("operator", "secret2", created.ServerNonce!)));
        Assert.Equal(StatusCodes.BadUserAccessDenied, fault.ResponseHeader.ServiceResult.Code);
    }

    [Fact]
    public async Task ActivateSession_with_a_trusted_user_certificate_logs_in_and_refuses_a_wrong_signature_and_an_untrusted_one()
    {
        await using var client = await RawSecureClient.OpenAsync(_fixture, SecurityPolicy.Aes256Sha256RsaPss, MessageSecurityMode.SignAndEncrypt);
        var created = await client.CreateSessionAsync(_fixture.RawClient.ApplicationUri);

        var wrongSignature = await client.ActivateAsync(created, client.UserCertificate(_fixture.User), userSignatureKey: _fixture.RawClient.PrivateKey);
        Assert.Equal(StatusCodes.BadUserSignatureInvalid, Assert.IsType<ServiceFault>(wrongSignature).ResponseHeader.ServiceResult.Code);

        var stranger = ApplicationCertificate.CreateSelfSigned("urn:stranger", "CN=stranger", ["localhost"], TimeSpan.FromDays(1));
        var untrusted = await client.ActivateAsync(created, client.UserCertificate(stranger), userSignatureKey: stranger.PrivateKey);
        Assert.Equal(StatusCodes.BadIdentityTokenRejected, Assert.IsType<ServiceFault>(untrusted).ResponseHeader.ServiceResult.Code);

        var activated = await client.ActivateAsync(created, client.UserCertificate(_fixture.User), userSignatureKey: _fixture.User.PrivateKey);
        Assert.IsType<ActivateSessionResponse>(activated);
        Assert.True(_fixture.Log.Contains("user CN=TwinGateway test user"), "the session was not activated as the certificate's subject");
    }

    // ---- token renewal, raw ----

    [Fact]
    public async Task Renewal_keeps_the_old_token_until_the_client_uses_the_new_one_then_refuses_the_old()
    {
        await using var client = await RawSecureClient.OpenAsync(_fixture, SecurityPolicy.Basic256Sha256, MessageSecurityMode.SignAndEncrypt);
        var firstToken = client.TokenId;
        await client.RenewAsync();
        Assert.Equal(firstToken + 1, client.TokenId);

        // Still on the old token: accepted, and answered with the old token.
        client.UseToken(old: true);
        Assert.Equal(7, (await client.GetEndpointsAsync()).Endpoints!.Length);

        // The new token: accepted, answered with the new one from now on.
        client.UseToken(old: false);
        Assert.Equal(7, (await client.GetEndpointsAsync()).Endpoints!.Length);

        // Back to the old token after the new one was used: refused.
        client.UseToken(old: true);
        await client.SendAsync(client.BuildGetEndpoints());
        await client.ExpectErrorAsync(StatusCodes.BadSecureChannelTokenUnknown);
    }

    private async Task AssertServerStillServesAsync()
    {
        await using var client = await RawSecureClient.OpenAsync(_fixture, SecurityPolicy.Basic256Sha256, MessageSecurityMode.SignAndEncrypt);
        Assert.Equal(7, (await client.GetEndpointsAsync()).Endpoints!.Length);
    }

    private static SecurityPolicy Policy(string name) =>
        SecurityPolicy.TryGet("http://opcfoundation.org/UA/SecurityPolicy#" + name, out var policy) ? policy : throw new ArgumentException(name);

    /// <summary>Our server with a certificate, the pinned client certificates and the interop test nodes.</summary>
    public sealed class SecureServerFixture : IAsyncLifetime
    {
        private DemoNodes? _nodes;
        private UaServer? _server;

        public TempFolder Folder { get; } = new();

        public TestLog Log { get; } = new();

        public ApplicationCertificate ServerCertificate { get; } =
            ApplicationCertificate.CreateSelfSigned("urn:twingateway:test:secure-server", "CN=TwinGateway secure test server", ["localhost"], TimeSpan.FromDays(1));

        /// <summary>The certificate of the raw client of these tests (trusted).</summary>
        public ApplicationCertificate RawClient { get; } =
            ApplicationCertificate.CreateSelfSigned("urn:twingateway:test:raw-client", "CN=TwinGateway raw test client", ["localhost"], TimeSpan.FromDays(1));

        /// <summary>Our own client's certificate (trusted).</summary>
        public ApplicationCertificate OurClient { get; } =
            ApplicationCertificate.CreateSelfSigned("urn:twingateway:test:our-client", "CN=TwinGateway test client", ["localhost"], TimeSpan.FromDays(1));

        /// <summary>An X.509 user's certificate (trusted by the user certificate validator).</summary>
        public ApplicationCertificate User { get; } =
            ApplicationCertificate.CreateSelfSigned("urn:twingateway:test:user", "CN=TwinGateway test user", ["localhost"], TimeSpan.FromDays(1));

        public PemFiles NodeClient { get; private set; } = null!;

        public PemFiles UntrustedNodeClient { get; private set; } = null!;

        public UaServer Server => _server ?? throw new InvalidOperationException("not started");

        public async Task InitializeAsync()
        {
            NodeClient = Write("node-client", "urn:twingateway:test:node-client");
            UntrustedNodeClient = Write("untrusted-node-client", "urn:twingateway:test:untrusted-node-client");
            var trusted = new[] { NodeClient.Loaded.Certificate, RawClient.Certificate, OurClient.Certificate };
            _server = new UaServer(
                new UaServerOptions
                {
                    Port = 0,
                    ApplicationUri = ServerCertificate.ApplicationUri,
                    Certificate = ServerCertificate,
                    ClientCertificateValidator = new PinnedCertificateValidator(trusted),
                    UserCertificateValidator = new PinnedCertificateValidator([User.Certificate]),
                    Authenticator = new StaticUserAuthenticator(new Dictionary<string, string> { ["operator"] = "secret1" }),
                },
                loggerFactory: Log);
            _nodes = DemoNodes.Add(_server, scaleCount: 0, interopTestFolder: true);
            await _server.StartAsync();
        }

        private PemFiles Write(string name, string applicationUri)
        {
            var certificate = ApplicationCertificate.CreateSelfSigned(applicationUri, "CN=" + name, ["localhost"], TimeSpan.FromDays(1));
            var pem = Folder.File(name + ".pem");
            var key = Folder.File(name + "-key.pem");
            File.WriteAllText(pem, certificate.Certificate.ExportCertificatePem());
            File.WriteAllText(key, certificate.PrivateKey.ExportPkcs8PrivateKeyPem());
            return new PemFiles(pem, key, applicationUri, certificate.Certificate.Thumbprint, certificate);
        }

        public async Task DisposeAsync()
        {
            if (_nodes is not null)
            {
                await _nodes.DisposeAsync();
            }

            if (_server is not null)
            {
                await _server.DisposeAsync();
            }

            Log.Dispose();
            Folder.Dispose();
        }

        public sealed record PemFiles(string Certificate, string Key, string ApplicationUri, string Thumbprint, ApplicationCertificate Loaded);
    }

    /// <summary>
    /// A secured channel built by hand, chunk by chunk, so tests can tamper with what our server receives: Hello, an
    /// asymmetric OPN (its parts overridable), then symmetric MSG chunks with the derived client keys.
    /// </summary>
    private sealed class RawSecureClient : IAsyncDisposable
    {
        private readonly SecureServerFixture _fixture;
        private readonly TcpClient _tcp;
        private readonly NetworkStream _stream;
        private readonly ChunkReader _reader;
        private SecurityPolicy _policy = SecurityPolicy.None;
        private ChunkCrypto _send = ChunkCrypto.None;
        private ChunkCrypto _receive = ChunkCrypto.None;
        private byte[] _clientNonce = [];
        private uint _channelId;
        private uint _tokenId;
        private uint _sequence;
        private uint _requestId;
        private (uint TokenId, ChunkCrypto Send, ChunkCrypto Receive) _old;
        private (uint TokenId, ChunkCrypto Send, ChunkCrypto Receive) _new;
        private MessageSecurityMode _mode;

        public SecurityPolicy Policy => _policy;

        public uint TokenId => _tokenId;

        /// <summary>The client nonce of the last CreateSession.</summary>
        public byte[] SessionNonce { get; private set; } = [];

        private RawSecureClient(SecureServerFixture fixture, TcpClient tcp)
        {
            _fixture = fixture;
            _tcp = tcp;
            _stream = tcp.GetStream();
            _reader = new ChunkReader(_stream, 1 << 16);
        }

        public static async Task<RawSecureClient> ConnectAsync(SecureServerFixture fixture)
        {
            var tcp = new TcpClient();
            await tcp.ConnectAsync("127.0.0.1", fixture.Server.Port);
            var client = new RawSecureClient(fixture, tcp);
            await client.SendAsync(new HelloMessage(0, 65535, 65535, 0, 0, fixture.Server.EndpointUrl).Encode());
            var ack = await client.ReadAsync();
            Assert.Equal(UaMessageType.Acknowledge, ack.Header.MessageType);
            return client;
        }

        public static async Task<RawSecureClient> OpenAsync(SecureServerFixture fixture, SecurityPolicy policy, MessageSecurityMode mode)
        {
            var client = await ConnectAsync(fixture);
            await client.SendAsync(client.BuildOpen(policy, mode));
            await client.ReadOpenResponseAsync(mode);
            return client;
        }

        public byte[] BuildOpen(SecurityPolicy policy, MessageSecurityMode mode, RSA? signingKey = null, byte[]? receiverThumbprint = null, byte[]? senderCertificate = null, bool renew = false)
        {
            _policy = policy;
            _mode = mode;
            _clientNonce = policy.CreateNonce();
            var request = new OpenSecureChannelRequest
            {
                RequestHeader = new RequestHeader { RequestHandle = 1, Timestamp = DateTime.UtcNow, TimeoutHint = 10_000 },
                RequestType = renew ? SecurityTokenRequestType.Renew : SecurityTokenRequestType.Issue,
                SecurityMode = mode,
                ClientNonce = _clientNonce,
                RequestedLifetime = 600_000,
            };
            using var header = new UaWriter(4096);
            header.Reserve(ChunkHeader.Size);
            header.WriteUInt32(_channelId);
            header.WriteString(policy.Uri);
            header.WriteByteString(senderCertificate ?? _fixture.RawClient.Der);
            header.WriteByteString(receiverThumbprint ?? _fixture.ServerCertificate.Thumbprint);
            using var serverKey = _fixture.ServerCertificate.Certificate.GetRSAPublicKey()!;
            var crypto = ChunkCrypto.Asymmetric(policy, signingKey ?? _fixture.RawClient.PrivateKey, serverKey);
            return Build(UaMessageType.OpenSecureChannel, header, crypto, request);
        }

        public byte[] BuildGetEndpoints()
        {
            using var header = new UaWriter(64);
            header.Reserve(ChunkHeader.Size);
            header.WriteUInt32(_channelId);
            header.WriteUInt32(_tokenId);
            var request = new GetEndpointsRequest
            {
                RequestHeader = new RequestHeader { RequestHandle = _requestId + 1, Timestamp = DateTime.UtcNow, TimeoutHint = 10_000 },
                EndpointUrl = _fixture.Server.EndpointUrl,
            };
            return Build(UaMessageType.Message, header, _send, request);
        }

        private byte[] Build(UaMessageType type, UaWriter header, ChunkCrypto crypto, IEncodeable request)
        {
            using var body = new UaWriter(1024);
            body.WriteNodeId(request.BinaryEncodingId);
            request.Encode(body);
            var securityHeaderEnd = header.Position;
            var chunk = new byte[ChunkSecurity.ChunkSize(crypto, securityHeaderEnd, body.Position)];
            header.WrittenSpan.CopyTo(chunk);
            ChunkHeader.Write(chunk, type, ChunkType.Final, (uint)chunk.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(securityHeaderEnd), ++_sequence);
            BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(securityHeaderEnd + 4), ++_requestId);
            body.WrittenSpan.CopyTo(chunk.AsSpan(securityHeaderEnd + 8));
            ChunkSecurity.Protect(crypto, chunk, securityHeaderEnd, body.Position);
            return chunk;
        }

        private async Task ReadOpenResponseAsync(MessageSecurityMode mode)
        {
            var chunk = await ReadAsync();
            Assert.True(chunk.Header.MessageType == UaMessageType.OpenSecureChannel, Describe(chunk));
            var bytes = chunk.Bytes.ToArray();
            var (securityHeaderEnd, senderCertificate) = ReadAsymmetricHeader(bytes);
            Assert.Equal(_fixture.ServerCertificate.Der, senderCertificate);
            using var serverKey = _fixture.ServerCertificate.Certificate.GetRSAPublicKey()!;
            var length = ChunkSecurity.Unprotect(ChunkCrypto.Asymmetric(_policy, _fixture.RawClient.PrivateKey, serverKey), bytes, securityHeaderEnd);
            var response = Decode<OpenSecureChannelResponse>(bytes.AsSpan((securityHeaderEnd + 8)..(securityHeaderEnd + length)));
            _channelId = response.SecurityToken.ChannelId;
            _tokenId = response.SecurityToken.TokenId;
            var serverNonce = response.ServerNonce!;
            Assert.Equal(32, serverNonce.Length);
            _send = ChunkCrypto.Symmetric(_policy, mode, _policy.DeriveKeys(serverNonce, _clientNonce));
            _receive = ChunkCrypto.Symmetric(_policy, mode, _policy.DeriveKeys(_clientNonce, serverNonce));
            _old = _new;
            _new = (_tokenId, _send, _receive);
        }

        public async Task RenewAsync()
        {
            await SendAsync(BuildOpen(_policy, _mode, renew: true));
            await ReadOpenResponseAsync(_mode);
        }

        public void UseToken(bool old) => (_tokenId, _send, _receive) = old ? _old : _new;

        public RequestHeader Header(NodeId? authenticationToken = null) => new()
        {
            AuthenticationToken = authenticationToken ?? default,
            RequestHandle = _requestId + 1,
            Timestamp = DateTime.UtcNow,
            TimeoutHint = 10_000,
        };

        public CreateSessionRequest CreateSessionRequest(string applicationUri)
        {
            SessionNonce = RandomNumberGenerator.GetBytes(32);
            return new CreateSessionRequest
            {
                RequestHeader = Header(),
                ClientDescription = new ApplicationDescription { ApplicationUri = applicationUri, ApplicationType = ApplicationType.Client },
                EndpointUrl = _fixture.Server.EndpointUrl,
                SessionName = "raw",
                ClientNonce = SessionNonce,
                ClientCertificate = _fixture.RawClient.Der,
                RequestedSessionTimeout = 30_000,
            };
        }

        public async Task<CreateSessionResponse> CreateSessionAsync(string applicationUri)
        {
            var response = await CallAsync(CreateSessionRequest(applicationUri));
            return Assert.IsType<CreateSessionResponse>(response);
        }

        /// <summary>ActivateSession signed over serverCertificate | serverNonce (or <paramref name="signedNonce"/> instead of the nonce).</summary>
        public Task<IEncodeable> ActivateAsync(CreateSessionResponse created, IEncodeable? userToken, byte[]? signedNonce = null, RSA? userSignatureKey = null)
        {
            byte[] signed = [.. _fixture.ServerCertificate.Der, .. signedNonce ?? created.ServerNonce!];
            var signature = _policy.Sign(_fixture.RawClient.PrivateKey, signed);
            return CallAsync(new ActivateSessionRequest
            {
                RequestHeader = Header(created.AuthenticationToken),
                ClientSignature = new SignatureData { Algorithm = _policy.AsymmetricSignatureAlgorithmUri, Signature = signature },
                UserTokenSignature = userSignatureKey is null
                    ? new SignatureData()
                    : new SignatureData { Algorithm = _policy.AsymmetricSignatureAlgorithmUri, Signature = _policy.Sign(userSignatureKey, signed) },
                UserIdentityToken = new ExtensionObject(userToken ?? new AnonymousIdentityToken { PolicyId = "anonymous" }),
            });
        }

        /// <summary>A user name token whose secret (length | password | nonce) is encrypted with the server's key and the policy's algorithm.</summary>
        public UserNameIdentityToken EncryptedUser(string user, string password, byte[] nonce)
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(password);
            var secret = new byte[4 + bytes.Length + nonce.Length];
            BinaryPrimitives.WriteInt32LittleEndian(secret, bytes.Length + nonce.Length);
            bytes.CopyTo(secret, 4);
            nonce.CopyTo(secret, 4 + bytes.Length);
            using var serverKey = _fixture.ServerCertificate.Certificate.GetRSAPublicKey()!;
            return new UserNameIdentityToken
            {
                PolicyId = "username_" + _policy.Name,
                UserName = user,
                Password = _policy.Encrypt(serverKey, secret),
                EncryptionAlgorithm = _policy.AsymmetricEncryptionAlgorithmUri,
            };
        }

        public X509IdentityToken UserCertificate(ApplicationCertificate user) =>
            new() { PolicyId = "certificate_" + _policy.Name, CertificateData = user.Der };

        /// <summary>Sends a request on the channel and returns the decoded answer (the response or a ServiceFault).</summary>
        public async Task<IEncodeable> CallAsync(IEncodeable request)
        {
            using var header = new UaWriter(64);
            header.Reserve(ChunkHeader.Size);
            header.WriteUInt32(_channelId);
            header.WriteUInt32(_tokenId);
            await SendAsync(Build(UaMessageType.Message, header, _send, request));
            var chunk = await ReadAsync();
            Assert.True(chunk.Header.MessageType == UaMessageType.Message, Describe(chunk));
            var bytes = chunk.Bytes.ToArray();
            var length = ChunkSecurity.Unprotect(_receive, bytes, 16);
            var reader = new UaReader(bytes.AsSpan(24, length - 8), EncodingLimits.Default);
            var response = reader.Factory.Create(reader.ReadNodeId()) ?? throw new InvalidOperationException("unknown response type");
            response.Decode(ref reader);
            return response;
        }

        public async Task<GetEndpointsResponse> GetEndpointsAsync()
        {
            await SendAsync(BuildGetEndpoints());
            return await ReadResponseAsync<GetEndpointsResponse>();
        }

        public async Task<T> ReadResponseAsync<T>()
            where T : IEncodeable, new()
        {
            var chunk = await ReadAsync();
            Assert.True(chunk.Header.MessageType == UaMessageType.Message, Describe(chunk));
            var bytes = chunk.Bytes.ToArray();
            Assert.Equal(_tokenId, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12)));
            var length = ChunkSecurity.Unprotect(_receive, bytes, 16);
            return Decode<T>(bytes.AsSpan(24, length - 8));
        }

        public async Task ExpectErrorAsync(uint status)
        {
            var chunk = await ReadAsync();
            Assert.True(chunk.Header.MessageType == UaMessageType.Error, Describe(chunk));
            var error = ErrorMessage.Decode(chunk.Bytes.Span[ChunkHeader.Size..]);
            Assert.True(error.Error.Code == status, $"expected 0x{status:X8}, got {error.Error} ({error.Reason})");
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            Assert.Null(await _reader.ReadChunkAsync(timeout.Token));
        }

        private static string Describe(RawChunk chunk) => chunk.Header.MessageType == UaMessageType.Error
            ? $"Error {ErrorMessage.Decode(chunk.Bytes.Span[ChunkHeader.Size..])}"
            : chunk.Header.MessageType.ToString();

        private static (int SecurityHeaderEnd, byte[]? SenderCertificate) ReadAsymmetricHeader(byte[] bytes)
        {
            var reader = new UaReader(bytes.AsSpan(ChunkHeader.Size), EncodingLimits.Default);
            reader.ReadUInt32();
            reader.ReadString();
            var sender = reader.ReadByteString();
            reader.ReadByteString();
            return (ChunkHeader.Size + reader.Position, sender);
        }

        private static T Decode<T>(ReadOnlySpan<byte> body)
            where T : IEncodeable, new()
        {
            var reader = new UaReader(body, EncodingLimits.Default);
            reader.ReadNodeId();
            return reader.ReadEncodeable(new T());
        }

        public async Task SendAsync(byte[] bytes) => await _stream.WriteAsync(bytes);

        private async Task<RawChunk> ReadAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var chunk = await _reader.ReadChunkAsync(timeout.Token) ?? throw new InvalidOperationException("the server closed the connection");
            return new RawChunk(chunk.Header, chunk.Bytes.ToArray());
        }

        public ValueTask DisposeAsync()
        {
            _reader.Dispose();
            _stream.Dispose();
            _tcp.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
