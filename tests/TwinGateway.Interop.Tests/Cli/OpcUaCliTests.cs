using TwinGateway.Interop.Tests.Fixtures;

namespace TwinGateway.Interop.Tests.Cli;

/// <summary>
/// <c>twingw opcua</c> as an engineer runs it, against node-opcua and against our server: the JSON line formats the
/// issue fixes, tables, exit codes, and errors that name the node and the status.
/// </summary>
public sealed class OpcUaCliTestsOnNodeOpcUa(NodeOpcUaPeerFixture fixture) : OpcUaCliTests(fixture.Peer), IClassFixture<NodeOpcUaPeerFixture>;

public sealed class OpcUaCliTestsOnOurServer(OurServerPeerFixture fixture) : OpcUaCliTests(fixture.Peer), IClassFixture<OurServerPeerFixture>;

public abstract class OpcUaCliTests(ITestPeer server)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private string Ns(string name) => $"ns={server.NamespaceIndex};s=Test.{name}";

    private Task<TwingwProcess.Result> Twingw(params string[] args) => TwingwProcess.RunAsync(Timeout, ["opcua", .. args]);

    [Fact]
    public async Task Read_prints_one_json_object_per_node_with_the_documented_fields()
    {
        var result = await Twingw("read", server.EndpointUrl, "i=2258", Ns("ReadOnly"), "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.JsonLines;
        Assert.Equal(2, lines.Count);
        Assert.Equal("ns=" + server.NamespaceIndex + ";s=Test.ReadOnly", lines[1].GetProperty("nodeId").GetString());
        Assert.Equal(42.5, lines[1].GetProperty("value").GetDouble());
        Assert.Equal("Double", lines[1].GetProperty("dataType").GetString());
        Assert.Equal("Good", lines[1].GetProperty("status").GetString());
        Assert.True(lines[0].TryGetProperty("sourceTimestamp", out _));
        Assert.True(lines[0].TryGetProperty("serverTimestamp", out _));
        Assert.Equal("DateTime", lines[0].GetProperty("dataType").GetString());
    }

    [Fact]
    public async Task Read_of_an_unknown_node_exits_1_naming_the_node_and_the_status()
    {
        var result = await Twingw("read", server.EndpointUrl, Ns("Missing"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{Ns("Missing")}: BadNodeIdUnknown", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Write_types_the_value_from_the_node_and_reports_not_writable()
    {
        var ok = await Twingw("write", server.EndpointUrl, Ns("Writable.Int32Array"), "[4,5,6]", "--json");
        var readBack = await Twingw("read", server.EndpointUrl, Ns("Writable.Int32Array"), "--json");
        var refused = await Twingw("write", server.EndpointUrl, Ns("ReadOnly"), "1.5");

        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Equal("Int32[]", ok.JsonLines[0].GetProperty("dataType").GetString());
        Assert.Equal([4, 5, 6], readBack.JsonLines[0].GetProperty("value").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("BadNotWritable", refused.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_types_arguments_from_the_method_and_prints_outputs()
    {
        var result = await Twingw("call", server.EndpointUrl, Ns("Methods"), Ns("Methods.Add"), "2", "3.5", "--json");
        var failing = await Twingw("call", server.EndpointUrl, Ns("Methods"), Ns("Methods.Fail"));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(5.5, result.JsonLines[0].GetProperty("outputs")[0].GetDouble());
        Assert.Equal(1, failing.ExitCode);
        Assert.Contains("BadInvalidArgument", failing.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Browse_prints_the_documented_fields_and_subscribe_stops_after_count()
    {
        var browse = await Twingw("browse", server.EndpointUrl, "--node", $"ns={server.NamespaceIndex};s=Test", "--json");
        var subscribe = await Twingw("subscribe", server.EndpointUrl, Ns("Counter"), "--interval", "50", "--count", "5", "--json");

        Assert.True(browse.ExitCode == 0, browse.ToString());
        var counter = browse.JsonLines.Single(l => l.GetProperty("nodeId").GetString() == Ns("Counter"));
        Assert.Equal("Variable", counter.GetProperty("nodeClass").GetString());
        Assert.Equal($"ns={server.NamespaceIndex};s=Test", counter.GetProperty("parent").GetString());
        Assert.Equal("Counter", counter.GetProperty("displayName").GetString());
        Assert.True(subscribe.ExitCode == 0, subscribe.ToString());
        Assert.Equal(5, subscribe.JsonLines.Count);
        Assert.All(subscribe.JsonLines, l => Assert.Equal("Int32", l.GetProperty("dataType").GetString()));
    }

    [Fact]
    public async Task Endpoints_lists_the_none_endpoint_and_a_refused_password_is_a_clear_error()
    {
        var endpoints = await Twingw("endpoints", server.EndpointUrl);
        var refused = await Twingw("read", server.EndpointUrl, "i=2258", "--user", "operator", "--password", "wrong");

        Assert.True(endpoints.ExitCode == 0, endpoints.ToString());
        Assert.Contains("None", endpoints.StdOut, StringComparison.Ordinal);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("operator", refused.StdErr, StringComparison.Ordinal);
    }
}
