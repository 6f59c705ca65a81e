using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using TwinGateway.Interop.Tests.Fixtures;
using Xunit.Abstractions;

namespace TwinGateway.Interop.Tests.Server;

/// <summary>
/// node-opcua's client (tests/node/ua-client.js, one JSON line per result) against our server: browse with
/// continuation points, read, write, call, 1,000 monitored items, and recovery after we drop its socket, by
/// reactivating its session and by transferring its subscription to a new one.
/// </summary>
[Collection(OurServerCollection.Name)]
public sealed class NodeClientAgainstOurServerTests(OurServerFixture fixture, ITestOutputHelper output)
{
    private const string Script = "ua-client.js";
    private const string Ns = "ns=1;";
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromSeconds(60);

    private string Endpoint => fixture.EndpointUrl;

    private async Task<NodeScriptResult> RunAsync(string mode, params string[] arguments)
    {
        string[] all = [mode, "--endpoint", Endpoint, .. arguments];
        var result = await NodeScript.RunAsync(Script, all, ScriptTimeout);
        foreach (var line in result.StdoutLines)
        {
            output.WriteLine(line.Length > 2000 ? line[..2000] + " ..." : line);
        }

        return result;
    }

    private async Task<JsonElement> RunSingleAsync(string mode, params string[] arguments) => (await RunAsync(mode, arguments)).SingleJson;

    private static string Str(JsonElement json, string property) => json.GetProperty(property).GetString() ?? "";

    // ---- Browse ----

    [Fact]
    public async Task Browse_of_Objects_finds_Server_Demo_Scale_and_Test()
    {
        var json = await RunSingleAsync("browse", "--node", "i=85");

        Assert.Equal("Good", Str(json, "status"));
        Assert.Equal(0, json.GetProperty("browseNextCalls").GetInt32());
        var references = json.GetProperty("references").EnumerateArray().ToList();
        var byName = references.Where(r => r.GetProperty("isForward").GetBoolean()).ToDictionary(r => Str(r, "browseName"), r => Str(r, "nodeId"));
        Assert.Equal("ns=0;i=2253", byName["Server"]);
        Assert.Equal("ns=1;s=Demo", byName["Demo"]);
        Assert.Equal("ns=1;s=Scale", byName["Scale"]);
        Assert.Equal("ns=1;s=Test", byName["Test"]);
        Assert.Equal("ns=0;i=61", byName["FolderType"]);
        fixture.Log.AssertNoErrors();
    }

    [Fact]
    public async Task Browse_of_Test_Big_returns_its_1500_children_through_continuation_points()
    {
        var json = await RunSingleAsync("browse", "--node", Ns + "s=Test.Big");

        Assert.Equal("Good", Str(json, "status"));
        Assert.Equal("Good", Str(json, "lastStatus"));
        var children = json.GetProperty("references").EnumerateArray()
            .Where(r => Str(r, "nodeId").StartsWith("ns=1;s=Test.Big.", StringComparison.Ordinal))
            .Select(r => (NodeId: Str(r, "nodeId"), Name: Str(r, "browseName")))
            .ToList();
        Assert.Equal(1500, children.Count);
        Assert.Equal(1500, children.Select(c => c.NodeId).Distinct().Count());
        for (var i = 0; i < 1500; i++)
        {
            var suffix = i.ToString("D4", CultureInfo.InvariantCulture);
            Assert.Contains(("ns=1;s=Test.Big." + suffix, "V" + suffix), children);
        }

        // 1,500 children and the HasTypeDefinition reference, at most 100 per answer (the fixture's MaxReferencesPerNode).
        var total = json.GetProperty("references").GetArrayLength();
        var pages = (total + OurServerFixture.MaxReferencesPerNode - 1) / OurServerFixture.MaxReferencesPerNode;
        Assert.Equal(pages - 1, json.GetProperty("browseNextCalls").GetInt32());
        Assert.Equal(pages - 1, json.GetProperty("continuationPoints").GetInt32());
        fixture.Log.AssertNoErrors();
    }

    // ---- Read ----

    [Fact]
    public async Task Read_of_CurrentTime_and_NamespaceArray()
    {
        var lines = (await RunAsync("read", "--node", "i=2258", "--node", "i=2255")).JsonLines;

        Assert.Equal(2, lines.Count);
        var time = lines[0];
        Assert.Equal("Good", Str(time, "status"));
        Assert.Equal("DateTime", Str(time, "dataType"));
        var currentTime = DateTime.Parse(Str(time, "value"), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
        Assert.InRange(currentTime, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(1));

        var namespaces = lines[1];
        Assert.Equal("Good", Str(namespaces, "status"));
        Assert.Equal("String", Str(namespaces, "dataType"));
        Assert.Equal("Array", Str(namespaces, "arrayType"));
        Assert.Equal(
            new[] { "http://opcfoundation.org/UA/", "urn:twingateway:test:our-server" },
            namespaces.GetProperty("value").EnumerateArray().Select(v => v.GetString() ?? ""));
        fixture.Log.AssertNoErrors();
    }

    /// <summary>What DemoNodes puts into Demo.Scalar.*, as ua-client.js prints it (ua-client.js's header lists the forms).</summary>
    public static TheoryData<string, uint, string> Scalars => new()
    {
        { "Boolean", 1, "true" },
        { "SByte", 2, "-8" },
        { "Byte", 3, "8" },
        { "Int16", 4, "-16" },
        { "UInt16", 5, "16" },
        { "Int32", 6, "-32" },
        { "UInt32", 7, "32" },
        { "Int64", 8, "\"-64\"" },
        { "UInt64", 9, "\"64\"" },
        { "Float", 10, "1.5" },
        { "Double", 11, "3.25" },
        { "String", 12, "\"hello\"" },
        { "DateTime", 13, "\"2026-01-01T00:00:00.000Z\"" },
        { "Guid", 14, "\"72962b91-fa75-4ae6-8d28-b404dc7daf63\"" },
        { "ByteString", 15, "\"AQID\"" },
        { "XmlElement", 16, "\"<a/>\"" },
        { "NodeId", 17, "\"ns=0;i=2253\"" },
        { "ExpandedNodeId", 18, "\"ns=0;i=2253\"" },
        { "StatusCode", 19, "\"Good\"" },
        { "QualifiedName", 20, "\"1:name\"" },
        { "LocalizedText", 21, "{\"locale\":\"en\",\"text\":\"text\"}" },
    };

    [Fact]
    public async Task Read_of_a_demo_scalar_of_every_built_in_type_returns_its_value_and_type()
    {
        var expected = Scalars.Select(row => (Name: (string)row[0], Id: (uint)row[1], Value: (string)row[2])).ToList();
        var nodeArguments = expected.SelectMany(e => new[] { "--node", $"{Ns}s=Demo.Scalar.{e.Name}" }).ToArray();

        var values = (await RunAsync("read", nodeArguments)).JsonLines;
        var dataTypes = (await RunAsync("read", [.. nodeArguments, "--attribute", "DataType"])).JsonLines;

        Assert.Equal(expected.Count, values.Count);
        Assert.Equal(expected.Count, dataTypes.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            var (name, id, value) = expected[i];
            Assert.Equal($"{Ns}s=Demo.Scalar.{name}", Str(values[i], "nodeId"));
            Assert.True(Str(values[i], "status") == "Good", $"{name}: {values[i]}");
            Assert.True(Str(values[i], "dataType") == name, $"{name}: the value arrived as {Str(values[i], "dataType")}");
            Assert.Equal("Scalar", Str(values[i], "arrayType"));
            Assert.True(
                string.Equals(value, values[i].GetProperty("value").GetRawText(), StringComparison.OrdinalIgnoreCase),
                $"{name}: expected {value}, node-opcua read {values[i].GetProperty("value").GetRawText()}");

            // The DataType attribute names the built-in type's DataType node (i=1 .. i=21).
            Assert.Equal("Good", Str(dataTypes[i], "status"));
            Assert.Equal("NodeId", Str(dataTypes[i], "dataType"));
            Assert.Equal($"ns=0;i={id}", Str(dataTypes[i], "value"));
        }

        fixture.Log.AssertNoErrors();
    }

    // ---- Write ----

    [Fact]
    public async Task Write_of_a_double_is_read_back()
    {
        var value = 1000 + Random.Shared.Next(1000) + 0.25;
        var text = value.ToString(CultureInfo.InvariantCulture);

        var write = await RunSingleAsync("write", "--node", Ns + "s=Test.Writable.Double", "--type", "Double", "--value", text);
        var read = await RunSingleAsync("read", "--node", Ns + "s=Test.Writable.Double");

        Assert.Equal("Good", Str(write, "status"));
        Assert.Equal("Good", Str(read, "status"));
        Assert.Equal("Double", Str(read, "dataType"));
        Assert.Equal(value, read.GetProperty("value").GetDouble());
        fixture.Log.AssertNoErrors();
    }

    [Fact]
    public async Task Write_of_a_read_only_variable_is_BadNotWritable()
    {
        var write = await RunSingleAsync("write", "--node", Ns + "s=Test.ReadOnly", "--type", "Double", "--value", "1");
        var read = await RunSingleAsync("read", "--node", Ns + "s=Test.ReadOnly");

        Assert.Equal("BadNotWritable", Str(write, "status"));
        Assert.Equal(42.5, read.GetProperty("value").GetDouble());
        fixture.Log.AssertNoErrors();
    }

    [Fact]
    public async Task Write_of_the_wrong_type_is_BadTypeMismatch()
    {
        var write = await RunSingleAsync("write", "--node", Ns + "s=Test.Writable.Double", "--type", "String", "--value", "not a number");

        Assert.Equal("BadTypeMismatch", Str(write, "status"));
        fixture.Log.AssertNoErrors();
    }

    // ---- Call ----

    [Fact]
    public async Task Call_of_Add_and_Echo_returns_their_outputs()
    {
        var add = await RunSingleAsync("call", "--object", Ns + "s=Test.Methods", "--method", Ns + "s=Test.Methods.Add",
            "--args", """[{"type":"Double","value":2},{"type":"Double","value":3.5}]""");
        var echo = await RunSingleAsync("call", "--object", Ns + "s=Demo.Methods", "--method", Ns + "s=Demo.Methods.Echo",
            "--args", """[{"type":"String","value":"hello from node-opcua"}]""");

        Assert.Equal("Good", Str(add, "status"));
        var sum = Assert.Single(add.GetProperty("outputArguments").EnumerateArray());
        Assert.Equal("Double", Str(sum, "dataType"));
        Assert.Equal(5.5, sum.GetProperty("value").GetDouble());

        Assert.Equal("Good", Str(echo, "status"));
        var echoed = Assert.Single(echo.GetProperty("outputArguments").EnumerateArray());
        Assert.Equal("String", Str(echoed, "dataType"));
        Assert.Equal("hello from node-opcua", Str(echoed, "value"));
        fixture.Log.AssertNoErrors();
    }

    [Fact]
    public async Task Call_of_Add_with_a_string_is_BadInvalidArgument_with_BadTypeMismatch_for_that_argument()
    {
        var json = await RunSingleAsync("call", "--object", Ns + "s=Test.Methods", "--method", Ns + "s=Test.Methods.Add",
            "--args", """[{"type":"Double","value":2},{"type":"String","value":"three"}]""");

        Assert.Equal("BadInvalidArgument", Str(json, "status"));
        Assert.Equal(new[] { "Good", "BadTypeMismatch" }, json.GetProperty("inputArgumentResults").EnumerateArray().Select(s => s.GetString() ?? ""));
        Assert.Equal(0, json.GetProperty("outputArguments").GetArrayLength());
        fixture.Log.AssertNoErrors();
    }

    [Fact]
    public async Task Call_with_missing_arguments_is_BadArgumentsMissing()
    {
        var json = await RunSingleAsync("call", "--object", Ns + "s=Test.Methods", "--method", Ns + "s=Test.Methods.Add",
            "--args", """[{"type":"Double","value":2}]""");

        Assert.Equal("BadArgumentsMissing", Str(json, "status"));
        fixture.Log.AssertNoErrors();
    }

    // ---- Subscriptions ----

    [Fact]
    public async Task Subscription_to_1000_Scale_items_at_100_ms_delivers_a_value_for_every_item()
    {
        var json = await RunSingleAsync("subscribe", "--ns", "1", "--prefix", "Scale.", "--count", "1000", "--digits", "5",
            "--interval", "100", "--duration", "3");

        Assert.Equal(1000, json.GetProperty("items").GetInt32());
        Assert.True(json.GetProperty("created").GetInt32() == 1000, $"bad CreateMonitoredItems results: {json.GetProperty("badCreates")}");
        Assert.True(json.GetProperty("itemsWithoutValue").GetInt32() == 0, $"items without a value: {json.GetProperty("firstMissing")}");
        Assert.True(!json.GetProperty("badStatuses").EnumerateObject().Any(), $"bad statuses: {json.GetProperty("badStatuses")}");
        Assert.Equal(100, json.GetProperty("revisedPublishingInterval").GetDouble());

        // The Scale values change every 100 ms: in ~3 s each item should see far more than its initial value.
        Assert.True(json.GetProperty("notifications").GetInt32() >= 10_000, $"only {json.GetProperty("notifications")} notifications in 3 s");
        await WaitForNoSessionsAsync();
        fixture.Log.AssertNoErrors();
    }

    // ---- Recovery ----

    private static readonly string[] ReconnectNodes = ["ns=1;s=Test.Counter", "ns=1;s=Test.Sine", "ns=1;s=Scale.00000"];

    [Fact]
    public async Task After_we_drop_its_socket_node_opcua_reactivates_its_session_and_values_continue()
    {
        var json = await RunReconnectAsync(["--user", "operator:secret1", "--nodes", string.Join(',', ReconnectNodes), "--duration-after", "2"]);

        Assert.True(json.GetProperty("connectionLost").GetBoolean(), "node-opcua did not notice the dropped socket");
        Assert.True(json.GetProperty("reconnected").GetBoolean(), "node-opcua did not reconnect");
        Assert.True(json.GetProperty("sessionRestored").GetBoolean(), "node-opcua did not restore its session");
        // The session outlived the socket on our side, so the client reactivated it instead of creating another.
        Assert.False(json.GetProperty("sessionIdChanged").GetBoolean(), "node-opcua had to create a new session");
        Assert.Equal(0, json.GetProperty("transferCalls").GetArrayLength());
        Assert.Equal(json.GetProperty("subscriptionIdBefore").GetUInt32(), json.GetProperty("subscriptionIdAfter").GetUInt32());
        AssertValuesContinued(json);
        await WaitForNoSessionsAsync();
        fixture.Log.AssertNoErrors();
    }

    [Fact]
    public async Task After_we_drop_its_socket_and_its_session_expires_node_opcua_transfers_its_subscription_to_a_new_session()
    {
        // node-opcua waits 4 s before reconnecting; the session (1.5 s timeout) is closed by then, its subscription is not.
        var json = await RunReconnectAsync(["--user", "operator:secret1", "--nodes", string.Join(',', ReconnectNodes), "--duration-after", "2",
            "--session-timeout", "1500", "--retry-delay", "4000"]);

        Assert.True(json.GetProperty("connectionLost").GetBoolean(), "node-opcua did not notice the dropped socket");
        Assert.True(json.GetProperty("reconnected").GetBoolean(), "node-opcua did not reconnect");
        Assert.True(json.GetProperty("sessionRepaired").GetBoolean() || json.GetProperty("sessionRestored").GetBoolean(), "node-opcua did not repair its session");
        Assert.True(json.GetProperty("sessionIdChanged").GetBoolean(), "the old session was reactivated: it should have expired");
        Assert.True(fixture.Log.Contains("timed out after 1.5 s"), "the server did not expire the session");

        var transfer = Assert.Single(json.GetProperty("transferCalls").EnumerateArray());
        var subscriptionId = json.GetProperty("subscriptionIdBefore").GetUInt32();
        Assert.Equal([subscriptionId], transfer.GetProperty("ids").EnumerateArray().Select(i => i.GetUInt32()).ToArray());
        var result = Assert.Single(transfer.GetProperty("results").EnumerateArray());
        Assert.Equal("Good", Str(result, "status"));
        Assert.Equal(subscriptionId, json.GetProperty("subscriptionIdAfter").GetUInt32());
        AssertValuesContinued(json);
        await WaitForNoSessionsAsync();
        fixture.Log.AssertNoErrors();
    }

    private static void AssertValuesContinued(JsonElement json)
    {
        Assert.True(json.GetProperty("valuesBefore").GetInt32() >= ReconnectNodes.Length, $"too few values before the drop: {json}");
        Assert.True(json.GetProperty("valuesAfter").GetInt32() >= 10, $"values did not keep arriving after the recovery: {json}");
        Assert.Equal(ReconnectNodes.Length, json.GetProperty("itemsWithValueAfter").GetInt32());
        Assert.Equal(0, json.GetProperty("badAfter").GetInt32());
    }

    /// <summary>The scripts close their sessions (deleting subscriptions) when done: nothing may stay behind.</summary>
    private async Task WaitForNoSessionsAsync()
    {
        var server = fixture.Server;
        var deadline = Stopwatch.StartNew();
        while ((server.SessionCount > 0 || server.SubscriptionCount > 0 || server.MonitoredItemCount > 0) && deadline.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(50);
        }

        Assert.True(server.SessionCount == 0, $"{server.SessionCount} sessions left");
        Assert.True(server.SubscriptionCount == 0, $"{server.SubscriptionCount} subscriptions left");
        Assert.Equal(0, server.MonitoredItemCount);
    }

    /// <summary>
    /// Runs <c>ua-client.js reconnect-transfer</c> with stdin open: once it prints its ready line, drops every
    /// connection of the server, tells the script on stdin, and returns its summary line.
    /// </summary>
    private async Task<JsonElement> RunReconnectAsync(string[] arguments)
    {
        NodeEnvironment.EnsureAvailable();
        Directory.CreateDirectory(NodeScript.ClientConfigHome);
        string[] all = ["reconnect-transfer", "--endpoint", Endpoint, "--timeout", "40", .. arguments];
        var environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["XDG_CONFIG_HOME"] = NodeScript.ClientConfigHome };
        using var process = new Process { StartInfo = NodeScript.CreateStartInfo(NodeEnvironment.Script(Script), all, environment) };
        var lines = Channel.CreateUnbounded<string>();
        var stdout = new List<string>();
        var stderr = new LineRingBuffer(200);
        process.Start();
        var stdoutPump = NodeScript.PumpLinesAsync(process.StandardOutput, line =>
        {
            stdout.Add(line);
            lines.Writer.TryWrite(line);
        });
        var stderrPump = NodeScript.PumpLinesAsync(process.StandardError, stderr.Add);
        _ = stdoutPump.ContinueWith(_ => lines.Writer.TryComplete(), TaskScheduler.Default);
        try
        {
            using var timeout = new CancellationTokenSource(ScriptTimeout);
            JsonElement? summary = null;
            await foreach (var line in lines.Reader.ReadAllAsync(timeout.Token))
            {
                output.WriteLine(line);
                if (!NodeScript.TryParseJson(line, out var json) || json.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                if (json.TryGetProperty("event", out var evt) && evt.ValueEquals("ready"))
                {
                    Assert.True(fixture.Server.ConnectionCount >= 1, "the script's connection is not on our server");
                    fixture.Server.DropAllConnections();
                    await process.StandardInput.WriteLineAsync("drop");
                    await process.StandardInput.FlushAsync(timeout.Token);
                }
                else if (json.TryGetProperty("op", out var op) && op.ValueEquals("reconnect-transfer"))
                {
                    summary = json;
                }
            }

            await process.WaitForExitAsync(timeout.Token);
            output.WriteLine("stderr tail:\n" + stderr);
            Assert.True(process.ExitCode == 0, $"ua-client.js exited with {process.ExitCode}; stderr:\n{stderr}");
            return summary ?? throw new InvalidOperationException($"ua-client.js printed no summary; stdout:\n{string.Join('\n', stdout)}\nstderr:\n{stderr}");
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"ua-client.js reconnect-transfer did not finish within {ScriptTimeout.TotalSeconds:0} s; stderr:\n{stderr}");
        }
        finally
        {
            NodeScript.KillQuietly(process);
            await Task.WhenAll(stdoutPump, stderrPump).WaitAsync(TimeSpan.FromSeconds(10));
        }
    }
}
