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

    [Fact]
    public async Task Read_prints_ServerStatus_as_a_json_object_with_its_fields_and_the_table_lists_them()
    {
        var json = await Twingw("read", server.EndpointUrl, "i=2256", "--json");
        var table = await Twingw("read", server.EndpointUrl, "i=2256");

        Assert.True(json.ExitCode == 0, json.ToString());
        var value = json.JsonLines[0].GetProperty("value");
        Assert.Equal(System.Text.Json.JsonValueKind.Object, value.ValueKind);
        Assert.Equal("Running", value.GetProperty("State").GetString());
        Assert.True(value.GetProperty("CurrentTime").GetString()!.Length > 0);
        Assert.Equal(System.Text.Json.JsonValueKind.Object, value.GetProperty("BuildInfo").ValueKind);
        Assert.True(value.GetProperty("BuildInfo").TryGetProperty("ProductUri", out _));
        Assert.Equal("ServerStatusDataType", json.JsonLines[0].GetProperty("dataType").GetString());
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("State = Running", table.StdOut, StringComparison.Ordinal);
        Assert.Contains("BuildInfo.ProductUri = ", table.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Write_of_a_nested_json_array_writes_a_matrix_with_its_dimensions_and_reads_it_back()
    {
        var ok = await Twingw("write", server.EndpointUrl, Ns("Writable.Matrix"), "[[1,2,3],[4,5,6]]", "--json");
        var readBack = await Twingw("read", server.EndpointUrl, Ns("Writable.Matrix"), "--json");
        var ragged = await Twingw("write", server.EndpointUrl, Ns("Writable.Matrix"), "[[1,2,3],[4,5]]");
        var flat = await Twingw("write", server.EndpointUrl, Ns("Writable.Matrix"), "[1,2,3]");

        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Equal("Int32[,]", ok.JsonLines[0].GetProperty("dataType").GetString());
        Assert.True(readBack.ExitCode == 0, readBack.ToString());
        Assert.Equal("Int32[,]", readBack.JsonLines[0].GetProperty("dataType").GetString());
        var rows = readBack.JsonLines[0].GetProperty("value").EnumerateArray().Select(r => r.EnumerateArray().Select(e => e.GetInt32()).ToArray()).ToArray();
        Assert.Equal([1, 2, 3], rows[0]);
        Assert.Equal([4, 5, 6], rows[1]);
        Assert.Equal(2, ragged.ExitCode);
        Assert.Contains("rows of equal length", ragged.StdErr, StringComparison.Ordinal);
        Assert.Equal(2, flat.ExitCode);
        Assert.Contains("2 dimensions", flat.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Write_of_a_json_object_encodes_a_structure_from_the_DataTypeDefinition_and_read_prints_its_fields()
    {
        var ok = await Twingw("write", server.EndpointUrl, Ns("Writable.Point"), """{"X":1.5,"Y":-2,"Label":"p1"}""", "--json");
        var readBack = await Twingw("read", server.EndpointUrl, Ns("Writable.Point"), "--json");
        var table = await Twingw("read", server.EndpointUrl, Ns("Writable.Point"));

        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Equal("Good", ok.JsonLines[0].GetProperty("status").GetString());
        Assert.True(readBack.ExitCode == 0, readBack.ToString());
        var value = readBack.JsonLines[0].GetProperty("value");
        Assert.Equal(1.5, value.GetProperty("X").GetDouble());
        Assert.Equal(-2, value.GetProperty("Y").GetDouble());
        Assert.Equal("p1", value.GetProperty("Label").GetString());
        Assert.Equal("TestPointType", readBack.JsonLines[0].GetProperty("dataType").GetString());
        Assert.Contains("Label = p1", table.StdOut, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"X":"abc","Y":2,"Label":"p"}""", "field 'X'")]
    [InlineData("""{"X":1,"Label":"p"}""", "field 'Y' of TestPointType is missing")]
    [InlineData("""{"X":1,"Y":2,"Label":"p","Z":3}""", "no field 'Z'")]
    [InlineData("[1,2]", "give a JSON object")]
    public async Task A_wrong_structure_is_a_usage_error_that_names_the_field(string value, string expected)
    {
        var result = await Twingw("write", server.EndpointUrl, Ns("Writable.Point"), value);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(expected, result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_of_a_method_that_does_not_exist_reports_the_servers_status_not_an_argument_count()
    {
        var result = await Twingw("call", server.EndpointUrl, Ns("Methods"), Ns("Methods.Nope"), "1", "2");

        Assert.Equal(1, result.ExitCode);
        Assert.True(result.StdErr.Contains("BadMethodInvalid", StringComparison.Ordinal) || result.StdErr.Contains("BadNodeIdUnknown", StringComparison.Ordinal), result.ToString());
        Assert.DoesNotContain("argument(s)", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_raw_sends_the_arguments_as_given_so_the_server_checks_them()
    {
        var typed = await Twingw("call", server.EndpointUrl, Ns("Methods"), Ns("Methods.Add"), "2", "three");
        var raw = await Twingw("call", server.EndpointUrl, Ns("Methods"), Ns("Methods.Add"), "2", "three", "--raw", "--json");
        var rawGood = await Twingw("call", server.EndpointUrl, Ns("Methods"), Ns("Methods.Add"), "2.5", "3.5", "--raw", "--json");

        Assert.Equal(2, typed.ExitCode);
        Assert.Contains("argument 1 (b: Double)", typed.StdErr, StringComparison.Ordinal);
        Assert.Equal(1, raw.ExitCode);
        Assert.StartsWith("Bad", raw.JsonLines[0].GetProperty("status").GetString(), StringComparison.Ordinal);
        Assert.Contains(raw.JsonLines[0].GetProperty("inputArgumentResults").EnumerateArray(), r => r.GetString() == "BadTypeMismatch");
        Assert.True(rawGood.ExitCode == 0, rawGood.ToString());
        Assert.Equal(6.0, rawGood.JsonLines[0].GetProperty("outputs")[0].GetDouble());
    }

    [Theory]
    [InlineData("read", "ns=1;s=")]
    [InlineData("read", "ns=1;i=")]
    [InlineData("read", "ns=1;g=")]
    [InlineData("read", "ns=1;b=")]
    [InlineData("write", "ns=1;s=")]
    public async Task An_empty_node_id_is_a_usage_error_with_one_clean_line(string verb, string nodeId)
    {
        var result = verb == "write"
            ? await Twingw("write", server.EndpointUrl, nodeId, "1")
            : await Twingw("read", server.EndpointUrl, nodeId);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains($"'{nodeId}' is not a node id", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("is empty", result.StdErr, StringComparison.Ordinal);
        Assert.Single(result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
