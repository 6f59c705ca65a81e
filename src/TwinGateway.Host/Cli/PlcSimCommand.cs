using System.CommandLine;
using System.Globalization;
using System.Net;
using TwinGateway.Core.Lines;
using TwinGateway.PlcSim;
using TwinGateway.OpcUa.Types;
using TwinGateway.Simulation;

namespace TwinGateway.Host.Cli;

/// <summary>
/// <c>twingw plc-sim --line FILE</c>: the line's simulated PLC (its "real" behaviour on our OPC UA server, at the node ids
/// of the line file), with faults switched by <c>--fault</c> and by the OPC UA methods of <c>&lt;Prefix&gt;.Faults</c>.
/// Exit codes: 0 after Ctrl+C, 2 for a bad line file (every problem printed, one per line), a bad option or a port in use.
/// </summary>
internal static class PlcSimCommand
{
    public static Command Create()
    {
        var line = new Option<string>("--line") { Description = "The line definition file (config/lines/*.yaml)", Required = true };
        var port = new Option<int?>("--port") { Description = "TCP port (default: the port of the controller's endpointUrl; 0 picks a free one)" };
        var listen = new Option<string>("--listen") { Description = "Address to listen on (loopback unless you mean otherwise)", DefaultValueFactory = _ => "127.0.0.1" };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the simulated line", DefaultValueFactory = _ => 1UL };
        var controller = new Option<string?>("--controller") { Description = "The controller to simulate (default: the line's first)" };
        var faults = new Option<string[]>("--fault")
        {
            Description = $"A fault active from the start (repeatable): {FaultSpec.Syntax}",
            AllowMultipleArgumentsPerToken = false,
        };
        var pki = new Option<string?>("--pki")
        {
            Description = "PKI folder: also offer the secured endpoints with the certificate in own/ (created when missing), trusting the client certificates in trusted/certs",
        };
        var verbose = new Option<bool>("--verbose") { Description = "Debug logging" };
        var command = new Command("plc-sim", "Run a line's simulated PLC on our OPC UA server until Ctrl+C")
        {
            line, port, listen, seed, controller, faults, pki, verbose,
        };
        command.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var loaded = LineDefinitionLoader.LoadFile(parse.GetValue(line)!);
            if (loaded.Definition is not { } definition)
            {
                foreach (var problem in loaded.Errors)
                {
                    await error.WriteLineAsync(problem.ToString()).ConfigureAwait(false);
                }

                await error.WriteLineAsync(loaded.Errors.Length == 1 ? "1 problem; nothing started" : $"{loaded.Errors.Length} problems; nothing started").ConfigureAwait(false);
                return 2;
            }

            var problems = new List<string>();
            if (!IPAddress.TryParse(parse.GetValue(listen), out var address))
            {
                problems.Add($"--listen '{parse.GetValue(listen)}' is not an IP address");
            }

            var injected = new List<TwinFault>();
            foreach (var spec in parse.GetValue(faults) ?? [])
            {
                if (FaultSpec.TryParse(spec, out var fault, out var why))
                {
                    injected.Add(fault);
                }
                else
                {
                    problems.Add(why);
                }
            }

            var options = new SimulatedPlcOptions
            {
                Seed = parse.GetValue(seed),
                Port = parse.GetValue(port),
                ListenAddress = address ?? IPAddress.Loopback,
                ControllerId = parse.GetValue(controller),
                Faults = injected,
                PkiFolder = parse.GetValue(pki),
            };
            problems.AddRange(SimulatedPlc.Check(definition, options));
            if (problems.Count > 0)
            {
                foreach (var problem in problems)
                {
                    await error.WriteLineAsync($"error: {problem}").ConfigureAwait(false);
                }

                return 2;
            }

            using var logging = ConsoleLogging.Create(parse.GetValue(verbose));
            await using var plc = new SimulatedPlc(definition, options, loggerFactory: logging);
            try
            {
                await plc.StartAsync(ct).ConfigureAwait(false);
            }
            catch (ServiceResultException ex)
            {
                await error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
                return 2;
            }

            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"simulated PLC {plc.Controller.Id} of line {definition.Id}: {plc.SignalCount} signals under ns=1;s={plc.Prefix}, listening on {plc.EndpointUrl}; faults: {plc.FaultsObjectId}; Ctrl+C stops")).ConfigureAwait(false);
            try
            {
                await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C.
            }

            return 0;
        });
        return command;
    }
}
