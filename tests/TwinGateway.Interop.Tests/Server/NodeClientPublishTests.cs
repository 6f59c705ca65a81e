using TwinGateway.Interop.Tests.Fixtures;

namespace TwinGateway.Interop.Tests.Server;

/// <summary>
/// node-opcua's client (tests/node/ua-client.js publish-after-delete, raw requests) against our server: the Publish
/// requests parked for a session are answered BadNoSubscription as soon as its last subscription is deleted
/// (OPC 10000-4 §5.13.8.1), not left waiting until CloseSession (found by open62541 1.5).
/// </summary>
[Collection(OurServerCollection.Name)]
public sealed class NodeClientPublishTests(OurServerFixture fixture)
{
    [Fact]
    public async Task Parked_Publish_requests_are_answered_BadNoSubscription_when_the_last_subscription_is_deleted()
    {
        var result = await NodeScript.RunAsync("ua-client.js", ["publish-after-delete", "--endpoint", fixture.EndpointUrl], TimeSpan.FromSeconds(60));

        var json = result.SingleJson;
        Assert.Equal(["Good"], json.GetProperty("deleteResults").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(System.Text.Json.JsonValueKind.Array, json.GetProperty("publishes").ValueKind);
        Assert.Equal(["BadNoSubscription", "BadNoSubscription"], json.GetProperty("publishes").EnumerateArray().Select(e => e.GetString()));
    }
}
