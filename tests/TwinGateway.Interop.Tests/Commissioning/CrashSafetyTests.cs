using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using StatusCode = Grpc.Core.StatusCode;
using TwinGateway.Api.V1;
using TwinGateway.Interop.Tests.Cli;
using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Types;
using Xunit.Abstractions;

namespace TwinGateway.Interop.Tests.Commissioning;

/// <summary>
/// The commissioning gate when the gateway dies: only real processes. The demo line's simulated PLC runs as its own
/// <c>twingw plc-sim</c> process, so it outlives the gateway; the gateway is a <c>twingw run</c> process killed with
/// SIGKILL while a change is being verified and started again on the same folder and ports; the change is driven with
/// the <c>twingw change</c> commands and the PLC read straight with our OPC UA client.
/// </summary>
public sealed class CrashSafetyTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan s_cli = TimeSpan.FromSeconds(120);
    private const string SpeedNode = "ns=1;s=DemoLine.robot2.speedOverride";

    private readonly string _folder = Directory.CreateTempSubdirectory("twingw-crash-").FullName;
    private readonly int _plcPort = FreePort.Next();
    private readonly int _apiPort = FreePort.Next();
    private readonly int _healthPort = FreePort.Next();
    private readonly List<TwingwBackground> _processes = [];

    private string Server => $"http://127.0.0.1:{_apiPort}";

    private string DataFolder => Path.Combine(_folder, "data");

    private string LineFile => Path.Combine(_folder, "config", "lines", "line.yaml");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        // Last started first: the gateway and the apply before the PLC.
        foreach (var process in Enumerable.Reverse(_processes))
        {
            await process.DisposeAsync();
        }

        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a process that is going away; the OS temp cleaner gets it.
        }
    }

    /// <summary>
    /// The gateway's working directory: settings with free loopback ports, no simulated controllers, its own data
    /// folder; the demo line pointing at the PLC process; the demo line's validation policy with a 60 s verification
    /// window (time enough to kill the gateway while it verifies).
    /// </summary>
    private void WriteWorkingDirectory()
    {
        var config = Directory.CreateDirectory(Path.Combine(_folder, "config"));
        Directory.CreateDirectory(Path.GetDirectoryName(LineFile)!);
        var validation = Directory.CreateDirectory(Path.Combine(config.FullName, "validation"));
        File.WriteAllText(LineFile, File.ReadAllText(RepositoryPaths.DemoLine)
            .Replace("opc.tcp://127.0.0.1:4841", $"opc.tcp://127.0.0.1:{_plcPort}", StringComparison.Ordinal));
        var policy = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "config", "validation", "demo-line.yaml"));
        Assert.Contains("windowSeconds: 20", policy, StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(validation.FullName, "demo-line.yaml"), policy.Replace("windowSeconds: 20", "windowSeconds: 60", StringComparison.Ordinal));
        var settings = new
        {
            Gateway = new
            {
                LinesDirectory = Path.GetDirectoryName(LineFile),
                SimulateControllers = false,
                ApiUrl = Server,
                HealthUrl = $"http://127.0.0.1:{_healthPort}",
                ReconnectSeconds = 0.5,
            },
            Telemetry = new { DataFolder },
            Commissioning = new { ValidationDirectory = validation.FullName, RecoveryRetrySeconds = 0.5 },
        };
        File.WriteAllText(Path.Combine(config.FullName, "appsettings.json"), JsonSerializer.Serialize(settings));
    }

    private TwingwBackground Start(string? token, params string[] args)
    {
        var process = TwingwBackground.Start(_folder, token, args);
        _processes.Add(process);
        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} started {process}");
        return process;
    }

    private async Task<TwingwProcess.Result> CliAsync(string? token, params string[] args)
    {
        var watch = Stopwatch.StartNew();
        var result = await TwingwProcess.RunInAsync(_folder, s_cli, args, token);
        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} twingw {string.Join(' ', args)}: exit {result.ExitCode} in {watch.Elapsed.TotalSeconds:0.0} s");
        return result;
    }

    private async Task<string> AddUserAsync(string name, string role)
    {
        var result = await CliAsync(null, "users", "add", name, "--role", role, "--json", "--data", DataFolder);
        Assert.True(result.ExitCode == 0, result.ToString());
        return Assert.Single(result.JsonLines).GetProperty("token").GetString()!;
    }

    private static CallInvoker Invoker(GrpcChannel channel, string token) => channel.Intercept(metadata =>
    {
        metadata.Add("authorization", "Bearer " + token);
        return metadata;
    });

    private static async Task<double> ReadPlcAsync(int port)
    {
        await using var plc = await OpcUaClient.ConnectAsync($"opc.tcp://127.0.0.1:{port}");
        var value = await plc.ReadValuesAsync([NodeId.Parse(SpeedNode)]);
        return Convert.ToDouble(value[0].Value.Value, CultureInfo.InvariantCulture);
    }

    /// <summary>Waits (bounded) until the gateway answers and its line is connected with every signal monitored.</summary>
    private static async Task WaitForLineAsync(CallInvoker invoker, TwingwBackground gateway, TimeSpan timeout)
    {
        var lines = new LineService.LineServiceClient(invoker);
        var watch = Stopwatch.StartNew();
        while (true)
        {
            Assert.False(gateway.HasExited, $"the gateway exited ({(gateway.HasExited ? gateway.ExitCode : 0)}):\n{gateway.Output}");
            try
            {
                var line = (await lines.ListLinesAsync(new ListLinesRequest(), deadline: DateTime.UtcNow.AddSeconds(5))).Lines.Single();
                if (line.State == ConnectionState.Connected && line.MonitoredSignals == line.SignalCount)
                {
                    return;
                }
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
            {
                // Not listening yet.
            }

            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"the gateway's line was not connected within {timeout.TotalSeconds} s:\n{gateway.Output}");
            }

            await Task.Delay(250);
        }
    }

    /// <summary>The change as the gateway reports it; null while the gateway does not answer.</summary>
    private static async Task<Change?> TryGetChangeAsync(CallInvoker invoker, string id)
    {
        try
        {
            return await new CommissioningService.CommissioningServiceClient(invoker).GetChangeAsync(new GetChangeRequest { Id = id }, deadline: DateTime.UtcNow.AddSeconds(5));
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
        {
            return null;
        }
    }

    [Fact]
    public async Task The_gateway_killed_while_verifying_and_restarted_rolls_the_change_back_reports_and_audits_it()
    {
        WriteWorkingDirectory();
        var plc = Start(null, "plc-sim", "--line", LineFile, "--port", _plcPort.ToString(CultureInfo.InvariantCulture), "--seed", "7");
        var erin = await AddUserAsync("erin", "engineer");
        var ada = await AddUserAsync("ada", "approver");
        await plc.WaitForOutputAsync("listening on", TimeSpan.FromSeconds(60));
        var before = await ReadPlcAsync(_plcPort);
        Assert.Equal(100, before);

        var gateway = Start(null, "run");
        using var channel = GrpcChannel.ForAddress(Server);
        var asErin = Invoker(channel, erin);
        await WaitForLineAsync(asErin, gateway, TimeSpan.FromSeconds(90));

        // The twin's credibility needs a few seconds of real against expected values.
        await Task.Delay(TimeSpan.FromSeconds(3));

        var submitted = await CliAsync(erin, "change", "submit", Path.Combine(RepositoryPaths.Root, "config", "changes", "robot2-speed-90.yaml"), "--server", Server, "--json");
        Assert.True(submitted.ExitCode == 0, submitted.ToString());
        var id = submitted.JsonLines[^1].GetProperty("id").GetString()!;
        Assert.Equal("draft", submitted.JsonLines[^1].GetProperty("state").GetString());

        var validated = await CliAsync(erin, "change", "validate", id, "--server", Server, "--json");
        Assert.True(validated.ExitCode == 0, validated.ToString());
        Assert.Equal("validated", validated.JsonLines[^1].GetProperty("state").GetString());

        var approved = await CliAsync(ada, "change", "approve", id, "--comment", "palletizer has headroom", "--server", Server, "--json");
        Assert.True(approved.ExitCode == 0, approved.ToString());
        Assert.Equal("approved", approved.JsonLines[^1].GetProperty("state").GetString());

        var apply = Start(erin, "change", "apply", id, "--server", Server, "--json");

        // Verifying (the gateway has written 90 and started comparing the line with the twin for 60 s) and 90 on the PLC.
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var change = await TryGetChangeAsync(asErin, id);
            if (change?.State == "verifying" && await ReadPlcAsync(_plcPort) == 90)
            {
                break;
            }

            Assert.True(change?.State is null or "approved" or "applying" or "verifying", $"change {id} is {change?.State} before the kill: {change?.Outcome}\n{apply.Output}");
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(45), $"change {id} was not verifying with 90 on the PLC within 45 s: {change?.State}\n{apply.Output}\n{gateway.Output}");
            await Task.Delay(200);
        }

        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} verifying with 90 on the PLC after {watch.Elapsed.TotalSeconds:0.0} s: killing {gateway}");
        await gateway.KillAsync();
        Assert.False(plc.HasExited, "the PLC process went down with the gateway");
        Assert.Equal(90, await ReadPlcAsync(_plcPort));

        // The client loses its stream without a result: it says so and fails.
        var applyExit = await apply.WaitForExitAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"change apply exited {applyExit}:\n{apply.Output}");
        Assert.NotEqual(0, applyExit);

        // Started again on the same working directory, data folder and ports.
        var restarted = Start(null, "run");
        watch.Restart();
        Change? final = null;
        while (watch.Elapsed < TimeSpan.FromSeconds(90))
        {
            Assert.False(restarted.HasExited, $"the restarted gateway exited:\n{restarted.Output}");
            var change = await TryGetChangeAsync(asErin, id);
            if (change?.State is "rolled-back" or "applied" or "failed")
            {
                final = change;
                break;
            }

            await Task.Delay(250);
        }

        Assert.True(final is not null, $"change {id} was not final within 90 s of the restart:\n{restarted.Output}");
        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} after the restart, in {watch.Elapsed.TotalSeconds:0.0} s: {final.State}: {final.Outcome}");
        Assert.Equal("rolled-back", final.State);
        Assert.Equal(before, await ReadPlcAsync(_plcPort));

        var shown = await CliAsync(erin, "change", "show", id, "--server", Server, "--json");
        Assert.True(shown.ExitCode == 0, shown.ToString());
        var report = shown.JsonLines[^1];
        Assert.Equal("rolled-back", report.GetProperty("state").GetString());
        Assert.False(string.IsNullOrWhiteSpace(report.GetProperty("outcome").GetString()), shown.ToString());
        output.WriteLine(shown.StdOut);

        var listed = await CliAsync(erin, "audit", "list", "--change", id, "--server", Server, "--json");
        Assert.True(listed.ExitCode == 0, listed.ToString());
        var entries = listed.JsonLines.Select(e => (Kind: e.GetProperty("kind").GetString(), Actor: e.GetProperty("actor").GetString())).ToList();
        output.WriteLine(string.Join(", ", entries));
        Assert.Equal([("submitted", "erin"), ("validated", "erin"), ("approved", "ada"), ("applying", "erin"), ("rolled-back", "gateway")], entries);
        var rolledBack = listed.JsonLines.Single(e => e.GetProperty("kind").GetString() == "rolled-back");
        Assert.Contains("recovered", rolledBack.GetProperty("payload").GetString(), StringComparison.Ordinal);

        var verified = await CliAsync(erin, "audit", "verify", "--server", Server);
        Assert.True(verified.ExitCode == 0, verified.ToString());
        Assert.Contains("audit chain intact", verified.StdOut, StringComparison.Ordinal);
    }
}
