using TwinGateway.Interop.Tests.Client;
using TwinGateway.OpcUa.Channel;
using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Transport;
using TwinGateway.OpcUa.Security;
using TwinGateway.OpcUa.Types;
using TwinGateway.Testing;

namespace TwinGateway.Interop.Tests.Security;

/// <summary>
/// A node-opcua server offering None plus Basic256Sha256, Aes128_Sha256_RsaOaep and Aes256_Sha256_RsaPss in Sign and
/// SignAndEncrypt, trusting exactly our client certificate (put in its trusted store through --trusted-certificates).
/// </summary>
public sealed class SecuredNodeOpcUaServerFixture : IAsyncLifetime
{
    private readonly TempFolder _folder = new();

    public NodeOpcUaServer Server { get; private set; } = null!;

    /// <summary>Our client's certificate, trusted by the server.</summary>
    public ApplicationCertificate ClientCertificate { get; } =
        ApplicationCertificate.CreateSelfSigned("urn:twingateway:test:secure-client", "TwinGateway secure test client", ["localhost", "127.0.0.1"], TimeSpan.FromDays(2));

    /// <summary>The server's certificate, read from its endpoints.</summary>
    public byte[] ServerCertificate { get; private set; } = [];

    public async Task InitializeAsync()
    {
        var trusted = Directory.CreateDirectory(_folder.File("trusted")).FullName;
        await File.WriteAllBytesAsync(Path.Combine(trusted, "client.der"), ClientCertificate.Der);
        Server = await NodeOpcUaServer.StartAsync(new NodeOpcUaServerOptions
        {
            ExtraArguments =
            [
                "--security-policies", "None,Basic256Sha256,Aes128_Sha256_RsaOaep,Aes256_Sha256_RsaPss",
                "--security-modes", "None,Sign,SignAndEncrypt",
                "--trusted-certificates", trusted,
            ],
        });
        var endpoints = await OpcUaClient.GetEndpointsAsync(Server.EndpointUrl);
        ServerCertificate = endpoints.First(e => e.SecurityMode == MessageSecurityMode.SignAndEncrypt).ServerCertificate!;
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        _folder.Dispose();
    }
}

/// <summary>
/// OUR client on secured channels to node-opcua 2.186.4's server: every policy in Sign and SignAndEncrypt, large
/// messages chunked with padding and signature per chunk, subscriptions, user names, and an untrusted server.
/// </summary>
public sealed class ClientSecurityTests(SecuredNodeOpcUaServerFixture fixture) : IClassFixture<SecuredNodeOpcUaServerFixture>, IDisposable
{
    private readonly TestLog _log = new();

    public static TheoryData<string, MessageSecurityMode> PoliciesAndModes()
    {
        var data = new TheoryData<string, MessageSecurityMode>();
        foreach (var policy in new[] { "Basic256Sha256", "Aes128Sha256RsaOaep", "Aes256Sha256RsaPss" })
        {
            data.Add(policy, MessageSecurityMode.Sign);
            data.Add(policy, MessageSecurityMode.SignAndEncrypt);
        }

        return data;
    }

    private static SecurityPolicy Policy(string name) => name switch
    {
        "Basic256Sha256" => SecurityPolicy.Basic256Sha256,
        "Aes128Sha256RsaOaep" => SecurityPolicy.Aes128Sha256RsaOaep,
        _ => SecurityPolicy.Aes256Sha256RsaPss,
    };

    private OpcUaClientOptions Options(string policy, MessageSecurityMode mode, UserIdentity? identity = null, ICertificateValidator? validator = null) => new()
    {
        SecurityPolicy = Policy(policy),
        SecurityMode = mode,
        Certificate = fixture.ClientCertificate,
        CertificateValidator = validator ?? new PinnedCertificateValidator([System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(fixture.ServerCertificate)]),
        Identity = identity ?? UserIdentity.Anonymous,
    };

    private NodeId Test(string name) => new("Test." + name, (ushort)fixture.Server.NamespaceIndex);

    [Theory]
    [MemberData(nameof(PoliciesAndModes))]
    public async Task Connects_reads_and_browses_large_messages_and_gets_notifications(string policy, MessageSecurityMode mode)
    {
        // 8 KB chunks both ways: the 1500-node Read request and its response each span several chunks.
        var small = new TransportLimits { ReceiveBufferSize = 8192, SendBufferSize = 8192 };
        var options = Options(policy, mode) with { Channel = new ClientChannelOptions { Limits = small } };
        await using var client = await OpcUaClient.ConnectAsync(fixture.Server.EndpointUrl, options, logger: _log);
        Assert.Equal(Policy(policy), client.SecurityPolicy);
        Assert.Equal(mode, client.SecurityMode);

        // 1500 values come back in a response of several 8 KB chunks, each padded and signed (and encrypted).
        var nodes = Enumerable.Range(0, 1500).Select(i => new NodeId($"Test.Big.{i:D4}", (ushort)fixture.Server.NamespaceIndex)).ToList();
        var values = await client.ReadValuesAsync(nodes);
        Assert.Equal(1500, values.Length);
        Assert.All(values, v => Assert.True(v.StatusCode.IsGood, v.StatusCode.Name));

        var references = await client.BrowseAsync(new NodeId(ObjectIds.ObjectsFolder));
        Assert.Contains(references, r => r.BrowseName.Name == "Server");

        var subscription = await client.CreateSubscriptionAsync(new SubscriptionOptions { PublishingInterval = TimeSpan.FromMilliseconds(50), KeepAliveCount = 5, LifetimeCount = 100 });
        var items = await subscription.AddItemsAsync([new MonitoredItemOptions(Test("Counter")) { SamplingInterval = TimeSpan.FromMilliseconds(20), QueueSize = 10 }]);
        Assert.True(items[0].IsCreated, items[0].Status.Name);
        var batches = await SubscriptionTests.Collect<DataChangeBatch>(subscription, 3);
        Assert.Equal(3, batches.Count);
        await client.CloseAsync();
    }

    [Theory]
    [MemberData(nameof(PoliciesAndModes))]
    public async Task User_name_logs_in_with_the_encrypted_password_and_a_wrong_one_is_refused(string policy, MessageSecurityMode mode)
    {
        await using (var client = await OpcUaClient.ConnectAsync(fixture.Server.EndpointUrl, Options(policy, mode, UserIdentity.ForUser("operator", "secret1")), logger: _log))
        {
            var value = await client.ReadAttributeAsync(new NodeId(VariableIds.Server_ServerStatus_State), Attributes.Value);
            Assert.True(value.StatusCode.IsGood);
        }

        var ex = await Assert.ThrowsAsync<ServiceResultException>(() =>
            OpcUaClient.ConnectAsync(fixture.Server.EndpointUrl, Options(policy, mode, UserIdentity.ForUser("operator", "wrong")), logger: _log));
        Assert.True(ex.StatusCode.Code is StatusCodes.BadUserAccessDenied or StatusCodes.BadIdentityTokenRejected, ex.ToString());
    }

    [Fact]
    public async Task A_server_certificate_our_validator_does_not_trust_is_refused_before_the_secured_channel_opens()
    {
        var stranger = ApplicationCertificate.CreateSelfSigned("urn:stranger", "Stranger", ["localhost"], TimeSpan.FromDays(1));
        var options = Options("Aes256Sha256RsaPss", MessageSecurityMode.SignAndEncrypt, validator: new PinnedCertificateValidator([stranger.Certificate]));

        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => OpcUaClient.ConnectAsync(fixture.Server.EndpointUrl, options, logger: _log));

        Assert.Equal(StatusCodes.BadCertificateUntrusted, ex.StatusCode.Code);
        Assert.Contains("not pinned", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_certificate_the_server_does_not_trust_cannot_open_a_secured_channel()
    {
        var untrusted = ApplicationCertificate.CreateSelfSigned("urn:twingateway:test:untrusted", "Untrusted client", ["localhost"], TimeSpan.FromDays(1));
        var options = Options("Basic256Sha256", MessageSecurityMode.SignAndEncrypt) with { Certificate = untrusted };

        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => OpcUaClient.ConnectAsync(fixture.Server.EndpointUrl, options, logger: _log));

        // node-opcua answers the OPN of a certificate outside its trusted store with a bare BadSecurityChecksFailed.
        Assert.Equal(StatusCodes.BadSecurityChecksFailed, ex.StatusCode.Code);
        Assert.Contains("OpenSecureChannel", ex.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Basic256Sha256", MessageSecurityMode.SignAndEncrypt)]
    [InlineData("Aes256Sha256RsaPss", MessageSecurityMode.Sign)]
    public async Task The_token_is_renewed_with_new_keys_and_requests_keep_flowing(string policy, MessageSecurityMode mode)
    {
        var options = new ClientChannelOptions
        {
            RequestedLifetime = TimeSpan.FromSeconds(2),
            SecurityPolicy = Policy(policy),
            SecurityMode = mode,
            ClientCertificate = fixture.ClientCertificate,
            ServerCertificate = fixture.ServerCertificate,
            CertificateValidator = new PinnedCertificateValidator([System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(fixture.ServerCertificate)]),
        };
        await using var channel = await ClientSecureChannel.OpenAsync(fixture.Server.EndpointUrl, options, logger: _log);
        var firstToken = channel.TokenId;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var requests = 0;
        while (channel.RenewCount < 2)
        {
            timeout.Token.ThrowIfCancellationRequested();
            var response = (GetEndpointsResponse)await channel.SendRequestAsync(new GetEndpointsRequest
            {
                RequestHeader = new RequestHeader(),
                EndpointUrl = fixture.Server.EndpointUrl,
            }, cancellationToken: timeout.Token);
            Assert.NotEmpty(response.Endpoints ?? []);
            requests++;
            await Task.Delay(50, timeout.Token);
        }

        Assert.NotEqual(firstToken, channel.TokenId);
        Assert.True(channel.IsOpen);
        Assert.True(requests > 2);
    }

    public void Dispose() => _log.Dispose();
}
