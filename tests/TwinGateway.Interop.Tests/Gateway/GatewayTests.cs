using Grpc.Core;
using Grpc.Net.Client;
using TwinGateway.Api.V1;
using TwinGateway.Core.Lines;
using TwinGateway.Gateway;
using TwinGateway.Host.Gateway;
using Microsoft.AspNetCore.Builder;
using TwinGateway.Interop.Tests.Fixtures;
using static TwinGateway.Interop.Tests.Gateway.Polling;

namespace TwinGateway.Interop.Tests.Gateway;

/// <summary>
/// The gateway service end to end: line files in, simulated PLCs (our OPC UA server), OPC UA client links, the
/// shadow twin, and the gRPC API a MES uses. Each test writes its own line folder with free loopback ports.
/// </summary>
public sealed class GatewayTests : IAsyncLifetime
{
    private readonly GatewayUnderTest _gateway = new();
    private CallInvoker? _channel;

    private string DemoYaml => _gateway.DemoYaml;

    private async Task<LineService.LineServiceClient> StartAsync(string yaml, bool simulate = true)
    {
        _channel = await _gateway.StartAsync(yaml, simulate);
        return new LineService.LineServiceClient(_channel);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task The_demo_line_connects_to_its_simulated_PLC_and_every_signal_has_a_real_and_an_expected_value()
    {
        var client = await StartAsync(DemoYaml);

        var lines = await client.ListLinesAsync(new ListLinesRequest());
        var summary = Assert.Single(lines.Lines);
        var line = await Eventually(() => client.GetLineAsync(new GetLineRequest { LineId = summary.Id }).ResponseAsync,
            l => l.Controllers.All(c => c.State == ConnectionState.Connected), "connecting the demo line");
        Assert.Empty(line.Controllers.SelectMany(c => c.Problems));
        Assert.Equal(line.Signals.Count, line.Controllers.Sum(c => c.MonitoredSignals));
        var values = await Eventually(() => client.ReadSignalsAsync(new ReadSignalsRequest { LineId = line.Id }).ResponseAsync,
            r => r.Values.All(v => v.HasReal && v.HasExpected), "a real and an expected value for every signal");
        Assert.All(values.Values, v => Assert.Equal("Good", v.Status));
        Assert.True(line.Twin.Steps > 0 || (await client.GetLineAsync(new GetLineRequest { LineId = line.Id })).Twin.Steps > 0);

        using var watch = client.WatchSignals(new WatchSignalsRequest { LineId = line.Id });
        Assert.True(await watch.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(line.Id, watch.ResponseStream.Current.LineId);
    }

    [Fact]
    public async Task A_controller_that_is_down_at_start_is_failed_with_the_reason_and_the_service_stays_up()
    {
        var client = await StartAsync(DemoYaml, simulate: false);

        var line = await Eventually(() => client.GetLineAsync(new GetLineRequest { LineId = "demo-line" }).ResponseAsync,
            l => l.Controllers.All(c => c.State == ConnectionState.Failed), "reporting the controller as failed");

        Assert.Contains("BadNotConnected", line.Controllers[0].Reason, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{_gateway.PlcPort}", line.Controllers[0].Reason, StringComparison.Ordinal);
        var listed = await client.ListLinesAsync(new ListLinesRequest());
        Assert.Equal(ConnectionState.Failed, listed.Lines[0].State);
    }

    [Fact]
    public async Task Unknown_node_ids_and_type_mismatches_are_reported_per_signal_naming_the_node_and_both_types()
    {
        // The PLC serves the real demo line; the gateway's copy has one node id that does not exist and one wrong type.
        var plcYaml = DemoYaml;
        var gatewayYaml = plcYaml
            .Replace("ns=1;s=DemoLine.cnc1.lastCycleTime\n", "ns=1;s=DemoLine.cnc1.doesNotExist\n", StringComparison.Ordinal)
            .Replace("  - id: line.ambientTemperature\n    dataType: Double", "  - id: line.ambientTemperature\n    dataType: Float", StringComparison.Ordinal);
        var plcFolder = Directory.CreateTempSubdirectory("twingw-plc-").FullName;
        await File.WriteAllTextAsync(Path.Combine(plcFolder, "line.yaml"), plcYaml);
        var plcLine = LineDefinitionLoader.LoadFile(Path.Combine(plcFolder, "line.yaml")).GetDefinitionOrThrow();
        await using var plc = new global::TwinGateway.PlcSim.SimulatedPlc(plcLine, new global::TwinGateway.PlcSim.SimulatedPlcOptions { Seed = 7, Port = _gateway.PlcPort });
        await plc.StartAsync();
        var client = await StartAsync(gatewayYaml, simulate: false);

        var line = await Eventually(() => client.GetLineAsync(new GetLineRequest { LineId = "demo-line" }).ResponseAsync,
            l => l.Controllers.All(c => c.State == ConnectionState.Connected), "connecting");

        var problems = line.Controllers[0].Problems.ToDictionary(p => p.NodeId);
        Assert.Equal(2, problems.Count);
        Assert.Contains("BadNodeIdUnknown", problems["ns=1;s=DemoLine.cnc1.doesNotExist"].Reason, StringComparison.Ordinal);
        var mismatch = problems["ns=1;s=DemoLine.line.ambientTemperature"].Reason;
        Assert.Contains("is Double on plc1", mismatch, StringComparison.Ordinal);
        Assert.Contains("says Float", mismatch, StringComparison.Ordinal);
        // The other signals are shadowed regardless.
        Assert.Equal(line.Signals.Count - 2, line.Controllers[0].MonitoredSignals);
        Directory.Delete(plcFolder, recursive: true);
    }

    [Fact]
    public async Task An_invalid_line_file_leaves_its_line_out_and_reports_it_while_the_valid_line_runs()
    {
        _gateway.Log.Expect(4205); // the line file that did not load
        var bad = DemoYaml.Replace("id: demo-line", "id: broken-line", StringComparison.Ordinal).Replace("kind: machine", "kind: robotarm", StringComparison.Ordinal);
        Directory.CreateDirectory(_gateway.LinesFolder);
        await File.WriteAllTextAsync(Path.Combine(_gateway.LinesFolder, "broken.yaml"), bad);

        var client = await StartAsync(DemoYaml);

        var list = await client.ListLinesAsync(new ListLinesRequest());
        Assert.Equal("demo-line", Assert.Single(list.Lines).Id);
        Assert.NotEmpty(list.FileProblems);
        Assert.All(list.FileProblems, p => Assert.Contains("broken.yaml:", p, StringComparison.Ordinal));
        Assert.Contains(list.FileProblems, p => p.Contains("robotarm", StringComparison.Ordinal));
        await Eventually(() => client.GetLineAsync(new GetLineRequest { LineId = "demo-line" }).ResponseAsync,
            l => l.Controllers.All(c => c.State == ConnectionState.Connected), "the valid line connecting");
        using var http = new HttpClient();
        var health = await http.GetStringAsync(new Uri(_gateway.HealthUrl));
        Assert.Contains("\"status\":\"Degraded\"", health, StringComparison.Ordinal);
        Assert.Contains("broken.yaml", health, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_line_id_defined_twice_or_undefined_credentials_stop_the_start_with_every_problem()
    {
        var withCredentials = DemoYaml.Replace("endpointUrl:", "credentialsRef: plc-login\n    endpointUrl:", StringComparison.Ordinal);
        Directory.CreateDirectory(_gateway.LinesFolder);
        await File.WriteAllTextAsync(Path.Combine(_gateway.LinesFolder, "second.yaml"), DemoYaml);

        var ex = await Assert.ThrowsAsync<GatewayConfigurationException>(() => StartAsync(withCredentials));

        Assert.Contains(ex.Problems, p => p.Contains("duplicate line id 'demo-line'", StringComparison.Ordinal));
        Assert.Contains(ex.Problems, p => p.Contains("credentialsRef 'plc-login'", StringComparison.Ordinal) && p.Contains("Gateway:Credentials", StringComparison.Ordinal));
        Assert.Equal(2, ex.Problems.Count);
    }

    [Fact]
    public async Task An_unknown_line_is_NotFound_with_the_known_lines_named()
    {
        var client = await StartAsync(DemoYaml);

        var ex = await Assert.ThrowsAsync<RpcException>(() => client.GetLineAsync(new GetLineRequest { LineId = "nope" }).ResponseAsync);

        Assert.Equal(Grpc.Core.StatusCode.NotFound, ex.StatusCode);
        Assert.Contains("demo-line", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_controller_that_goes_down_later_is_reconnecting_with_the_reason_and_comes_back()
    {
        var file = Path.Combine(_gateway.Folder, "plc.yaml.txt");
        await File.WriteAllTextAsync(file, DemoYaml);
        var plcLine = LineDefinitionLoader.Parse(DemoYaml, file).GetDefinitionOrThrow();
        var plc = new global::TwinGateway.PlcSim.SimulatedPlc(plcLine, new global::TwinGateway.PlcSim.SimulatedPlcOptions { Seed = 7, Port = _gateway.PlcPort });
        await plc.StartAsync();
        var client = await StartAsync(DemoYaml, simulate: false);
        await Eventually(() => client.GetLineAsync(new GetLineRequest { LineId = "demo-line" }).ResponseAsync,
            l => l.Controllers.All(c => c.State == ConnectionState.Connected), "connecting");

        await plc.DisposeAsync();
        var down = await Eventually(() => client.GetLineAsync(new GetLineRequest { LineId = "demo-line" }).ResponseAsync,
            l => l.Controllers.All(c => c.State is ConnectionState.Reconnecting or ConnectionState.Failed), "noticing the controller is gone");
        Assert.Matches("Bad[A-Za-z]+", down.Controllers[0].Reason);

        await using var again = new global::TwinGateway.PlcSim.SimulatedPlc(plcLine, new global::TwinGateway.PlcSim.SimulatedPlcOptions { Seed = 7, Port = _gateway.PlcPort });
        await again.StartAsync();
        await Eventually(() => client.GetLineAsync(new GetLineRequest { LineId = "demo-line" }).ResponseAsync,
            l => l.Controllers.All(c => c.State == ConnectionState.Connected), "reconnecting after the controller came back");
        var values = await Eventually(() => client.ReadSignalsAsync(new ReadSignalsRequest { LineId = "demo-line", SignalIds = { "line.ambientTemperature" } }).ResponseAsync,
            r => r.Values[0].Status == "Good", "fresh values after the reconnect");
        Assert.True(values.Values[0].HasReal);
    }

    [Fact]
    public async Task The_standard_health_service_answers_and_the_lines_cli_reads_the_same_api()
    {
        await StartAsync(DemoYaml);
        // On the bare channel, without a token: the health service is exempt from authentication, for probes.
        var health = new Grpc.Health.V1.Health.HealthClient(_gateway.Channel!);

        var status = await health.CheckAsync(new Grpc.Health.V1.HealthCheckRequest());
        await Eventually(() => new LineService.LineServiceClient(_channel!).GetLineAsync(new GetLineRequest { LineId = "demo-line" }).ResponseAsync,
            l => l.Controllers.All(c => c.State == ConnectionState.Connected), "connecting");
        var list = await Cli.TwingwProcess.RunAsAsync(_gateway.Token, TimeSpan.FromSeconds(60), "lines", "list", "--server", $"http://127.0.0.1:{_gateway.ApiPort}", "--json");
        var watch = await Cli.TwingwProcess.RunAsAsync(_gateway.Token, TimeSpan.FromSeconds(60), "lines", "watch", "demo-line", "--signal", "line.ambientTemperature", "--count", "2", "--server", $"http://127.0.0.1:{_gateway.ApiPort}", "--json");
        var missing = await Cli.TwingwProcess.RunAsAsync(_gateway.Token, TimeSpan.FromSeconds(60), "lines", "show", "nope", "--server", $"http://127.0.0.1:{_gateway.ApiPort}");

        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, status.Status);
        Assert.True(list.ExitCode == 0, list.ToString());
        var line = Assert.Single(list.JsonLines);
        Assert.Equal("demo-line", line.GetProperty("id").GetString());
        Assert.Equal("connected", line.GetProperty("state").GetString());
        Assert.True(watch.ExitCode == 0, watch.ToString());
        Assert.Equal(2, watch.JsonLines.Count);
        Assert.All(watch.JsonLines, l => Assert.Equal("line.ambientTemperature", l.GetProperty("signal").GetString()));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("NotFound", missing.StdErr, StringComparison.Ordinal);
    }
}
