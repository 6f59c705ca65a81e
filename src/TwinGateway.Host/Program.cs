using System.CommandLine;
using TwinGateway.Host.Cli;

var root = new RootCommand("TwinGateway: digital-twin integration gateway for factory lines (OPC UA, twin validation, replay, drift)");
root.Subcommands.Add(LinesCommands.Create());
root.Subcommands.Add(OpcUaCommands.Create());
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
