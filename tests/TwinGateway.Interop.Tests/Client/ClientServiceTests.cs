using TwinGateway.Interop.Tests.Fixtures;
using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.Interop.Tests.Client;

/// <summary>Our client against node-opcua's server (an independent stack).</summary>
public sealed class ClientServiceTestsOnNodeOpcUa(NodeOpcUaPeerFixture fixture) : ClientServiceTests(fixture.Peer), IClassFixture<NodeOpcUaPeerFixture>;

/// <summary>Our client against our own server: the same suite.</summary>
public sealed class ClientServiceTestsOnOurServer(OurServerPeerFixture fixture) : ClientServiceTests(fixture.Peer), IClassFixture<OurServerPeerFixture>;

/// <summary>Our client's services, written once and bound to each server.</summary>
public abstract class ClientServiceTests(ITestPeer server) : IAsyncLifetime
{
    private readonly TestLog _log = new();
    private OpcUaClient _client = null!;

    private ITestPeer Server => server;

    private NodeId Test(string name) => new("Test." + name, Server.NamespaceIndex);

    public async Task InitializeAsync() => _client = await OpcUaClient.ConnectAsync(Server.EndpointUrl, logger: _log);

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        _log.Dispose();
    }

    [Fact]
    public async Task GetEndpoints_lists_a_None_endpoint_with_anonymous_and_user_name_tokens()
    {
        var endpoints = await OpcUaClient.GetEndpointsAsync(Server.EndpointUrl);

        var none = endpoints.First(e => e.SecurityMode == MessageSecurityMode.None);
        Assert.Equal("http://opcfoundation.org/UA/SecurityPolicy#None", none.SecurityPolicyUri);
        var tokens = (none.UserIdentityTokens ?? []).Select(t => t.TokenType).ToList();
        Assert.Contains(UserTokenType.Anonymous, tokens);
        Assert.Contains(UserTokenType.UserName, tokens);
    }

    [Fact]
    public async Task FindServers_returns_the_server_application()
    {
        var servers = await OpcUaClient.FindServersAsync(Server.EndpointUrl);

        Assert.Contains(servers, s => s.ApplicationType == ApplicationType.Server && (s.ApplicationUri ?? "").Length > 0);
    }

    [Fact]
    public async Task Read_returns_values_with_types_timestamps_and_per_item_status()
    {
        var values = await _client.ReadAsync(
        [
            new ReadValueId { NodeId = new NodeId(VariableIds.Server_ServerStatus_CurrentTime), AttributeId = Attributes.Value },
            new ReadValueId { NodeId = new NodeId(VariableIds.Server_NamespaceArray), AttributeId = Attributes.Value },
            new ReadValueId { NodeId = Test("ReadOnly"), AttributeId = Attributes.Value },
            new ReadValueId { NodeId = Test("ReadOnly"), AttributeId = Attributes.DisplayName },
            new ReadValueId { NodeId = new NodeId("Test.DoesNotExist", Server.NamespaceIndex), AttributeId = Attributes.Value },
            new ReadValueId { NodeId = Test("ReadOnly"), AttributeId = 999 },
        ]);

        Assert.Equal(BuiltInType.DateTime, values[0].Value.Type);
        Assert.InRange((DateTime)values[0].Value.Value!, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(1));
        Assert.True(((string[])values[1].Value.Value!).Length > Server.NamespaceIndex);
        Assert.Equal(42.5, values[2].Value.ToDouble());
        Assert.NotEqual(default, values[2].SourceTimestamp);
        Assert.Equal("ReadOnly", ((LocalizedText)values[3].Value.Value!).Text);
        Assert.Equal("BadNodeIdUnknown", values[4].StatusCode.Name);
        Assert.Equal("BadAttributeIdInvalid", values[5].StatusCode.Name);
    }

    [Fact]
    public async Task Browse_follows_continuation_points_through_a_folder_of_1500_children()
    {
        var references = await _client.BrowseAsync(Test("Big"), maxReferencesPerNode: 100);

        var names = references.Where(r => r.NodeClass == NodeClass.Variable).Select(r => r.BrowseName.Name).ToList();
        Assert.Equal(1500, names.Count);
        Assert.Equal(1500, names.Distinct().Count());
        Assert.Contains("V0000", names);
        Assert.Contains("V1499", names);
    }

    [Fact]
    public async Task Browse_of_an_unknown_node_names_the_node_and_the_status()
    {
        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => _client.BrowseAsync(new NodeId("Nope", Server.NamespaceIndex)));

        Assert.Equal(StatusCodes.BadNodeIdUnknown, ex.StatusCode.Code);
        Assert.Contains("s=Nope", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BrowseTree_descends_the_requested_depth()
    {
        var found = await _client.BrowseTreeAsync(new NodeId(ObjectIds.ObjectsFolder), 2);

        Assert.Contains(found, r => r.NodeId == Test("Counter") && r.Parent == new NodeId("Test", Server.NamespaceIndex));
        Assert.Contains(found, r => r.NodeId == new NodeId(ObjectIds.Server));
    }

    [Fact]
    public async Task TranslateBrowsePaths_resolves_names_and_reports_no_match()
    {
        var ns = Server.NamespaceIndex;
        var results = await _client.TranslateBrowsePathsAsync(
        [
            OpcUaClient.MakeBrowsePath(new NodeId(ObjectIds.ObjectsFolder), new QualifiedName(ns, "Test"), new QualifiedName(ns, "ReadOnly")),
            OpcUaClient.MakeBrowsePath(new NodeId(ObjectIds.ObjectsFolder), new QualifiedName(ns, "Test"), new QualifiedName(ns, "Missing")),
        ]);

        Assert.Equal(Test("ReadOnly"), Assert.Single(results[0].Targets!).TargetId.NodeId);
        Assert.Equal("BadNoMatch", results[1].StatusCode.Name);
    }

    [Fact]
    public async Task Write_changes_values_and_reports_not_writable_and_type_mismatch()
    {
        var value = Random.Shared.NextDouble() * 1000;
        var statuses = await _client.WriteAsync(
        [
            new WriteValue { NodeId = Test("Writable.Double"), AttributeId = Attributes.Value, Value = new DataValue(new Variant(value)) },
            new WriteValue { NodeId = Test("Writable.Int32Array"), AttributeId = Attributes.Value, Value = new DataValue(Variant.FromArray(BuiltInType.Int32, new[] { 3, 1, 4, 1, 5 })) },
            new WriteValue { NodeId = Test("ReadOnly"), AttributeId = Attributes.Value, Value = new DataValue(new Variant(1.0)) },
            new WriteValue { NodeId = Test("Writable.Double"), AttributeId = Attributes.Value, Value = new DataValue(new Variant("not a number")) },
        ]);

        Assert.True(statuses[0].IsGood, statuses[0].Name);
        Assert.True(statuses[1].IsGood, statuses[1].Name);
        Assert.Equal("BadNotWritable", statuses[2].Name);
        Assert.Equal("BadTypeMismatch", statuses[3].Name);
        var read = await _client.ReadValuesAsync([Test("Writable.Double"), Test("Writable.Int32Array")]);
        Assert.Equal(value, read[0].Value.ToDouble());
        Assert.Equal(new[] { 3, 1, 4, 1, 5 }, (int[])read[1].Value.Value!);
    }

    [Fact]
    public async Task Call_runs_a_method_and_reports_bad_results_per_call()
    {
        var ok = await _client.CallMethodAsync(Test("Methods"), Test("Methods.Add"), new Variant(2.0), new Variant(3.5));
        var failing = await _client.CallMethodAsync(Test("Methods"), Test("Methods.Fail"));
        var missing = await _client.CallMethodAsync(Test("Methods"), Test("Methods.Add"), new Variant(2.0));

        Assert.True(ok.StatusCode.IsGood, ok.StatusCode.Name);
        Assert.Equal(5.5, Assert.Single(ok.OutputArguments!).ToDouble());
        Assert.Equal("BadInvalidArgument", failing.StatusCode.Name);
        Assert.Equal("BadArgumentsMissing", missing.StatusCode.Name);
    }

    [Fact]
    public async Task RegisterNodes_returns_ids_that_can_be_read()
    {
        var registered = await _client.RegisterNodesAsync([Test("ReadOnly")]);

        var value = Assert.Single(await _client.ReadValuesAsync(registered));
        Assert.Equal(42.5, value.Value.ToDouble());
        await _client.UnregisterNodesAsync(registered);
    }

    [Fact]
    public async Task User_name_and_password_are_accepted_and_a_wrong_password_is_refused_with_a_clear_error()
    {
        await using (var user = await OpcUaClient.ConnectAsync(Server.EndpointUrl, new OpcUaClientOptions { Identity = UserIdentity.ForUser("operator", "secret1") }))
        {
            Assert.Equal(42.5, (await user.ReadAttributeAsync(Test("ReadOnly"), Attributes.Value)).Value.ToDouble());
        }

        var ex = await Assert.ThrowsAsync<ServiceResultException>(() =>
            OpcUaClient.ConnectAsync(Server.EndpointUrl, new OpcUaClientOptions { Identity = UserIdentity.ForUser("operator", "wrong") }));
        Assert.True(ex.StatusCode.IsBad);
        Assert.Contains("operator", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connecting_to_a_closed_port_fails_with_BadNotConnected_naming_the_endpoint()
    {
        var url = $"opc.tcp://127.0.0.1:{FreePort.Next()}";

        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => OpcUaClient.ConnectAsync(url));

        Assert.Equal(StatusCodes.BadNotConnected, ex.StatusCode.Code);
        Assert.Contains(url, ex.Message, StringComparison.Ordinal);
    }
}
