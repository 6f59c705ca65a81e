using System.CommandLine;
using TwinGateway.Host.Cli;

var root = new RootCommand("TwinGateway: digital-twin integration gateway for factory lines (OPC UA, twin validation, replay, drift). Without a command it runs the gateway.");
RunCommand.AddOptions(root);
root.SetAction(RunCommand.RunAsync);
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(LinesCommands.Create());
root.Subcommands.Add(PlcSimCommand.Create());
root.Subcommands.Add(OpcUaCommands.Create());
root.Subcommands.Add(TelemetryCommands.Create());
root.Subcommands.Add(ReplayCommand.Create());
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
