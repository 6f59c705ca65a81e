using System.CommandLine;
using TwinGateway.Host.Cli;

var root = new RootCommand("TwinGateway: digital-twin integration gateway for factory lines (OPC UA, twin validation, replay, drift). Without a command it runs the gateway.");
RunCommand.AddOptions(root);
root.Options.Add(GatewayCalls.Ca);
root.SetAction(RunCommand.RunAsync);
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(LinesCommands.Create());
root.Subcommands.Add(PlcSimCommand.Create());
root.Subcommands.Add(OpcUaCommands.Create());
root.Subcommands.Add(TelemetryCommands.Create());
root.Subcommands.Add(ReplayCommand.Create());
root.Subcommands.Add(AuditCommands.Create());
root.Subcommands.Add(ChangeCommands.Create());
root.Subcommands.Add(UsersCommands.Create());
root.Subcommands.Add(UsersCommands.WhoAmI());
root.Subcommands.Add(DriftCommands.Create());
root.Subcommands.Add(AlertsCommands.Create());
root.Subcommands.Add(CertsCommands.Create());
var parse = root.Parse(args);
if (parse.Errors.Count > 0 && !args.Any(a => a is "-h" or "--help" or "-?"))
{
    // Usage errors exit 2 with one clean message each, as configuration errors do (1 is kept for failed operations).
    foreach (var error in parse.Errors)
    {
        await Console.Error.WriteLineAsync($"error: {error.Message}").ConfigureAwait(false);
    }

    await Console.Error.WriteLineAsync($"usage: {parse.CommandResult.Command.Name} --help").ConfigureAwait(false);
    return 2;
}

return await parse.InvokeAsync().ConfigureAwait(false);
