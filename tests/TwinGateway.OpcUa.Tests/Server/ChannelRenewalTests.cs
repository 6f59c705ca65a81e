using TwinGateway.OpcUa.Channel;
using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Server;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Tests.Server;

/// <summary>The client renews its channel token at 75% of the lifetime; the server accepts the new token and the old one meanwhile.</summary>
public sealed class ChannelRenewalTests
{
    [Fact]
    public async Task The_token_is_renewed_before_it_expires_and_requests_keep_working()
    {
        await using var server = new UaServer(new UaServerOptions { Port = 0, MinChannelLifetime = TimeSpan.FromSeconds(4) });
        await server.StartAsync();
        await using var client = await OpcUaClient.ConnectAsync(server.EndpointUrl, new OpcUaClientOptions
        {
            // 4 s: short enough to renew twice within the test, long enough that a loaded machine renews in time
            // (renewal at 75% leaves 2 s before the server's 125% expiry; 1 s was seen to miss under the full suite).
            Channel = new ClientChannelOptions { RequestedLifetime = TimeSpan.FromSeconds(4) },
        });
        var channel = client.CurrentChannel!;
        var firstToken = channel.TokenId;

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (channel.RenewCount < 2 && DateTime.UtcNow < deadline)
        {
            var value = await client.ReadAttributeAsync(new NodeId(VariableIds.Server_ServerStatus_State), Attributes.Value);
            Assert.True(value.StatusCode.IsGood, value.StatusCode.Name);
            await Task.Delay(100);
        }

        Assert.True(channel.RenewCount >= 2, $"renewed {channel.RenewCount} times");
        Assert.True(channel.TokenId > firstToken);
        Assert.Same(channel, client.CurrentChannel);
        Assert.Equal(0, client.ReconnectCount);
    }
}
