using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using TwinGateway.Api.V1;
using TwinGateway.Interop.Tests.Cli;
using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Types;
using Xunit.Abstractions;
using StatusCode = Grpc.Core.StatusCode;

namespace TwinGateway.Interop.Tests.Commissioning;

/// <summary>
/// The demo line as real processes: its simulated PLC as its own <c>twingw plc-sim</c> (so it outlives a gateway) and
/// <c>twingw run</c> gateways on one working directory (settings with free loopback ports and no simulated controllers,
/// its own data folder, the demo line pointing at the PLC process, the demo line's validation policy with a 60 s
/// verification window). Every process it started is killed on dispose, and the folder deleted.
/// </summary>
internal sealed class ProcessLine(ITestOutputHelper output) : IAsyncDisposable
{
    public static readonly TimeSpan CliTimeout = TimeSpan.FromSeconds(120);

    /// <summary>The node <c>config/changes/robot2-speed-90.yaml</c> writes.</summary>
    public const string SpeedNode = "ns=1;s=DemoLine.robot2.speedOverride";

    private readonly List<TwingwBackground> _processes = [];
    private GrpcChannel? _channel;

    public string Folder { get; } = Directory.CreateTempSubdirectory("twingw-crash-").FullName;

    public int PlcPort { get; } = FreePort.Next();

    public int ApiPort { get; } = FreePort.Next();

    public int HealthPort { get; } = FreePort.Next();

    public string Server => $"http://127.0.0.1:{ApiPort}";

    public string DataFolder => Path.Combine(Folder, "data");

    public string LineFile => Path.Combine(Folder, "config", "lines", "line.yaml");

    public static string ChangeFile(string name) => Path.Combine(RepositoryPaths.Root, "config", "changes", name);

    /// <summary>Writes the working directory (see the class).</summary>
    public void WriteWorkingDirectory(double verificationWindowSeconds = 60)
    {
        var config = Directory.CreateDirectory(Path.Combine(Folder, "config"));
        Directory.CreateDirectory(Path.GetDirectoryName(LineFile)!);
        var validation = Directory.CreateDirectory(Path.Combine(config.FullName, "validation"));
        File.WriteAllText(LineFile, File.ReadAllText(RepositoryPaths.DemoLine)
            .Replace("opc.tcp://127.0.0.1:4841", $"opc.tcp://127.0.0.1:{PlcPort}", StringComparison.Ordinal));
        var policy = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "config", "validation", "demo-line.yaml"));
        Assert.Contains("windowSeconds: 20", policy, StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(validation.FullName, "demo-line.yaml"),
            policy.Replace("windowSeconds: 20", "windowSeconds: " + verificationWindowSeconds.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));
        var settings = new
        {
            Gateway = new
            {
                LinesDirectory = Path.GetDirectoryName(LineFile),
                SimulateControllers = false,
                ApiUrl = Server,
                HealthUrl = $"http://127.0.0.1:{HealthPort}",
                ReconnectSeconds = 0.5,
            },
            Telemetry = new { DataFolder },
            Commissioning = new { ValidationDirectory = validation.FullName, RecoveryRetrySeconds = 0.5 },
        };
        File.WriteAllText(Path.Combine(config.FullName, "appsettings.json"), JsonSerializer.Serialize(settings));
    }

    /// <summary>Starts <c>twingw ARGS</c> in the working directory, in the background; stopped on dispose at the latest.</summary>
    public TwingwBackground Start(string? token, params string[] args)
    {
        var process = TwingwBackground.Start(Folder, token, args);
        _processes.Add(process);
        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} started {process}");
        return process;
    }

    /// <summary>Starts the PLC process (the simulator seed the gateway's embedded one uses) and waits until it listens.</summary>
    public async Task<TwingwBackground> StartPlcAsync()
    {
        var plc = Start(null, "plc-sim", "--line", LineFile, "--port", PlcPort.ToString(CultureInfo.InvariantCulture), "--seed", "7");
        await plc.WaitForOutputAsync("listening on", TimeSpan.FromSeconds(60));
        return plc;
    }

    /// <summary>Starts a gateway on the working directory and waits until its line is connected (<paramref name="token"/>: any reader's).</summary>
    public async Task<TwingwBackground> StartGatewayAsync(string token)
    {
        var gateway = Start(null, "run");
        await WaitForLineAsync(Invoker(token), gateway, TimeSpan.FromSeconds(90));
        return gateway;
    }

    /// <summary>Runs <c>twingw ARGS</c> in the working directory to its end (bounded).</summary>
    public async Task<TwingwProcess.Result> CliAsync(string? token, params string[] args)
    {
        var watch = Stopwatch.StartNew();
        var result = await TwingwProcess.RunInAsync(Folder, CliTimeout, args, token);
        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} twingw {string.Join(' ', args)}: exit {result.ExitCode} in {watch.Elapsed.TotalSeconds:0.0} s");
        return result;
    }

    /// <summary><c>twingw users add NAME --role ROLE --json --data DIR</c>; returns the token.</summary>
    public async Task<string> AddUserAsync(string name, string role)
    {
        var result = await CliAsync(null, "users", "add", name, "--role", role, "--json", "--data", DataFolder);
        Assert.True(result.ExitCode == 0, result.ToString());
        return Assert.Single(result.JsonLines).GetProperty("token").GetString()!;
    }

    /// <summary>Calls to the gateway's API with <paramref name="token"/>.</summary>
    public CallInvoker Invoker(string token)
    {
        _channel ??= GrpcChannel.ForAddress(Server);
        return _channel.Intercept(metadata =>
        {
            metadata.Add("authorization", "Bearer " + token);
            return metadata;
        });
    }

    /// <summary>The robot 2 speed override, read straight from the PLC process with our OPC UA client.</summary>
    public async Task<double> ReadPlcSpeedAsync()
    {
        await using var plc = await OpcUaClient.ConnectAsync($"opc.tcp://127.0.0.1:{PlcPort}");
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
            Assert.False(gateway.HasExited, $"the gateway exited:\n{gateway.Output}");
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
    public async Task<Change?> TryGetChangeAsync(string token, string id)
    {
        try
        {
            return await new CommissioningService.CommissioningServiceClient(Invoker(token)).GetChangeAsync(new GetChangeRequest { Id = id }, deadline: DateTime.UtcNow.AddSeconds(5));
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
        {
            return null;
        }
    }

    /// <summary>
    /// Submits <paramref name="changeFile"/> as <paramref name="engineer"/>, validates it and has <paramref name="approver"/>
    /// approve it (each with its <c>twingw change</c> command); returns the change's id.
    /// </summary>
    public async Task<string> SubmitValidateApproveAsync(string changeFile, string engineer, string? approver)
    {
        var submitted = await CliAsync(engineer, "change", "submit", changeFile, "--server", Server, "--json");
        Assert.True(submitted.ExitCode == 0, submitted.ToString());
        var id = submitted.JsonLines[^1].GetProperty("id").GetString()!;
        Assert.Equal("draft", submitted.JsonLines[^1].GetProperty("state").GetString());

        var validated = await CliAsync(engineer, "change", "validate", id, "--server", Server, "--json");
        Assert.True(validated.ExitCode == 0, validated.ToString());
        Assert.Equal("validated", validated.JsonLines[^1].GetProperty("state").GetString());
        if (approver is null)
        {
            return id;
        }

        var approved = await CliAsync(approver, "change", "approve", id, "--comment", "palletizer has headroom", "--server", Server, "--json");
        Assert.True(approved.ExitCode == 0, approved.ToString());
        Assert.Equal("approved", approved.JsonLines[^1].GetProperty("state").GetString());
        return id;
    }

    public async ValueTask DisposeAsync()
    {
        _channel?.Dispose();

        // Last started first: a gateway and an apply before the PLC.
        foreach (var process in Enumerable.Reverse(_processes))
        {
            await process.DisposeAsync();
        }

        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a process that is going away; the OS temp cleaner gets it.
        }
    }
}
