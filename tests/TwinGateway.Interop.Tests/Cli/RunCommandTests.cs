using System.Net;
using System.Net.Sockets;
using TwinGateway.Interop.Tests.Fixtures;

namespace TwinGateway.Interop.Tests.Cli;

/// <summary>
/// <c>twingw run</c> as a new user meets it: it reads the working directory's <c>config/</c>, and every usage or
/// configuration error exits 2 with clean messages (no stack trace). Each run here ends by itself on its error.
/// </summary>
public sealed class RunCommandTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(90);
    private readonly string _folder = Directory.CreateTempSubdirectory("twingw-run-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string DemoYaml(int plcPort) => File.ReadAllText(RepositoryPaths.DemoLine)
        .Replace("opc.tcp://127.0.0.1:4841", $"opc.tcp://127.0.0.1:{plcPort}", StringComparison.Ordinal);

    /// <summary>A working directory with its own settings (free ports, its own data folder) and line files.</summary>
    private void WriteConfig(string gatewayExtra, params (string Name, string Yaml)[] lines)
    {
        var config = Directory.CreateDirectory(Path.Combine(_folder, "config"));
        var linesFolder = Directory.CreateDirectory(Path.Combine(config.FullName, "lines"));
        File.WriteAllText(Path.Combine(config.FullName, "appsettings.json"), $$"""
            { "Gateway": { "ApiUrl": "http://127.0.0.1:{{FreePort.Next()}}", "HealthUrl": "http://127.0.0.1:{{FreePort.Next()}}"{{gatewayExtra}} },
              "Telemetry": { "DataFolder": "data" } }
            """);
        foreach (var (name, yaml) in lines)
        {
            File.WriteAllText(Path.Combine(linesFolder.FullName, name), yaml);
        }
    }

    private static void AssertCleanError(TwingwProcess.Result result)
    {
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.DoesNotContain("   at ", result.StdErr + result.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", result.StdErr + result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_working_directorys_settings_are_read_and_a_bad_one_is_a_clean_exit_2()
    {
        WriteConfig(""", "StepMilliseconds": 5""", ("line.yaml", DemoYaml(FreePort.Next())));

        var result = await TwingwProcess.RunInAsync(_folder, s_timeout, "run");

        AssertCleanError(result);
        Assert.Contains("Gateway:StepMilliseconds is 5", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_working_directorys_line_files_are_read_and_a_line_id_defined_twice_names_both_files()
    {
        var yaml = DemoYaml(FreePort.Next());
        WriteConfig("", ("a.yaml", yaml), ("b.yaml", yaml));

        var result = await TwingwProcess.RunInAsync(_folder, s_timeout, "run");

        AssertCleanError(result);
        Assert.Contains("duplicate line id 'demo-line'", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("a.yaml", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("b.yaml", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Settings_and_line_problems_are_listed_together_in_one_start()
    {
        var yaml = DemoYaml(FreePort.Next());
        WriteConfig(""", "StepMilliseconds": 5, "ReconnectSeconds": 0""", ("a.yaml", yaml), ("b.yaml", yaml.Replace("endpointUrl:", "credentialsRef: nobody\n    endpointUrl:", StringComparison.Ordinal).Replace("id: demo-line", "id: second-line", StringComparison.Ordinal)));

        var result = await TwingwProcess.RunInAsync(_folder, s_timeout, "run");

        AssertCleanError(result);
        Assert.Contains("Gateway:StepMilliseconds is 5", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("Gateway:ReconnectSeconds is 0", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("credentialsRef 'nobody'", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_simulated_plc_port_in_use_is_a_configuration_error_with_a_hint()
    {
        using var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        var port = ((IPEndPoint)busy.LocalEndpoint).Port;
        WriteConfig("", ("line.yaml", DemoYaml(port)));

        var result = await TwingwProcess.RunInAsync(_folder, s_timeout, "run");

        AssertCleanError(result);
        Assert.Contains("cannot start the simulated PLC for controller 'plc1'", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("--no-simulation", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_required_option_is_a_usage_error_with_exit_2()
    {
        var result = await TwingwProcess.RunInAsync(_folder, s_timeout, "plc-sim");

        AssertCleanError(result);
        Assert.Contains("--line", result.StdErr, StringComparison.Ordinal);
    }
}
