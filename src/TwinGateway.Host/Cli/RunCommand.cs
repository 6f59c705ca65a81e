using System.CommandLine;
using TwinGateway.Core.Lines;
using TwinGateway.Gateway;
using TwinGateway.Host.Gateway;

namespace TwinGateway.Host.Cli;

/// <summary><c>twingw run</c> (and <c>twingw</c> alone): the gateway service on its embedded defaults or the given settings.</summary>
internal static class RunCommand
{
    private static readonly Option<string?> s_lines = new("--lines") { Description = "Folder of line definitions (default: config/lines, the demo line)" };
    private static readonly Option<string?> s_api = new("--api") { Description = "gRPC listen URL (default http://127.0.0.1:5080)" };
    private static readonly Option<string?> s_data = new("--data") { Description = "Data folder of the flight recorder (default: ./data)" };
    private static readonly Option<bool> s_noSimulation = new("--no-simulation") { Description = "Do not start simulated PLCs for loopback controllers" };

    public static Command Create()
    {
        var command = new Command("run", "Run the gateway: connect each line's controllers and shadow them with the twin (the default command)");
        AddOptions(command);
        command.SetAction((parse, ct) => RunAsync(parse, ct));
        return command;
    }

    public static void AddOptions(Command command)
    {
        command.Options.Add(s_lines);
        command.Options.Add(s_api);
        command.Options.Add(s_noSimulation);
        command.Options.Add(s_data);
    }

    public static async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var overrides = new Dictionary<string, string?>();
        if (parse.GetValue(s_lines) is { } lines)
        {
            overrides["Gateway:LinesDirectory"] = Path.GetFullPath(lines);
        }

        if (parse.GetValue(s_api) is { } api)
        {
            overrides["Gateway:ApiUrl"] = api;
        }

        if (parse.GetValue(s_data) is { } data)
        {
            overrides["Telemetry:DataFolder"] = Path.GetFullPath(data);
        }

        if (parse.GetValue(s_noSimulation))
        {
            overrides["Gateway:SimulateControllers"] = "false";
        }

        try
        {
            await using var app = GatewayHost.Build(overrides);
            await app.RunAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        }
        catch (LineDefinitionException ex)
        {
            await Console.Error.WriteLineAsync("error: the line definitions have problems:").ConfigureAwait(false);
            foreach (var error in ex.Errors)
            {
                await Console.Error.WriteLineAsync("  " + error).ConfigureAwait(false);
            }

            return 2;
        }
        catch (GatewayConfigurationException ex)
        {
            await Console.Error.WriteLineAsync("error: the gateway's configuration has problems:").ConfigureAwait(false);
            foreach (var problem in ex.Problems)
            {
                await Console.Error.WriteLineAsync("  " + problem).ConfigureAwait(false);
            }

            return 2;
        }
        catch (Microsoft.Extensions.Options.OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync("error: invalid settings:").ConfigureAwait(false);
            foreach (var failure in ex.Failures)
            {
                await Console.Error.WriteLineAsync("  " + failure).ConfigureAwait(false);
            }

            return 2;
        }
        catch (TwinGateway.Telemetry.Recording.TelemetryStoreException ex)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            return 2;
        }
        catch (IOException ex) when (ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message} (another twingw running? use --api to pick another port)").ConfigureAwait(false);
            return 2;
        }
    }
}
