using BenchmarkDotNet.Running;
using TwinGateway.Bench.Audit;
using TwinGateway.Bench.Drift;
using TwinGateway.Bench.E2e;
using TwinGateway.Bench.Telemetry;
using TwinGateway.Bench.Validation;
using TwinGateway.Bench.Web;

namespace TwinGateway.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench/TwinGateway.Bench -- [BenchmarkDotNet arguments]</c> runs the
/// micro-benchmarks; <c>... -- e2e [options]</c> runs the end-to-end client load harness and
/// <c>... -- server-load [options]</c> the server load harness, <c>... -- gateway-load [options]</c> the gateway load harness
/// and <c>... -- telemetry [options]</c> the flight recorder, replay and forwarder harness, <c>... -- audit [options]</c> the
/// audit chain's append and verification rates, <c>... -- validation [options]</c> the commissioning gate's validation of
/// the demo line, <c>... -- drift [options]</c> drift detection quality and cost on the simulated demo line, <c>... -- web [options]</c>
/// the web console's cost in a browser (see bench/README.md).
/// </summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && string.Equals(args[0], "e2e", StringComparison.OrdinalIgnoreCase))
        {
            return await LoadHarness.RunAsync(args[1..]).ConfigureAwait(false);
        }

        if (args.Length > 0 && string.Equals(args[0], "server-load-dump", StringComparison.OrdinalIgnoreCase))
        {
            // Internal: server-load reads its heap dumps in a child process (see ServerLoadProfiler).
            return ServerLoadProfiler.DumpMain(args[1..]);
        }

        if (args.Length > 0 && string.Equals(args[0], "server-load", StringComparison.OrdinalIgnoreCase))
        {
            return await ServerLoadHarness.RunAsync(args[1..]).ConfigureAwait(false);
        }

        if (args.Length > 0 && string.Equals(args[0], "gateway-load", StringComparison.OrdinalIgnoreCase))
        {
            return await GatewayLoadHarness.RunAsync(args[1..]).ConfigureAwait(false);
        }

        if (args.Length > 0 && string.Equals(args[0], "audit", StringComparison.OrdinalIgnoreCase))
        {
            return await AuditMeasurement.RunAsync(args[1..]).ConfigureAwait(false);
        }

        if (args.Length > 0 && string.Equals(args[0], "validation", StringComparison.OrdinalIgnoreCase))
        {
            return await ValidationBenchmark.RunAsync(args[1..]).ConfigureAwait(false);
        }

        if (args.Length > 0 && string.Equals(args[0], "drift", StringComparison.OrdinalIgnoreCase))
        {
            return await DriftHarness.RunAsync(args[1..]).ConfigureAwait(false);
        }

        if (args.Length > 0 && string.Equals(args[0], "secure-load", StringComparison.OrdinalIgnoreCase))
        {
            return await SecureLoadHarness.RunAsync(args[1..]).ConfigureAwait(false);
        }

        if (args.Length > 0 && string.Equals(args[0], "web", StringComparison.OrdinalIgnoreCase))
        {
            return await WebConsoleHarness.RunAsync(args[1..]).ConfigureAwait(false);
        }

        if (args.Length > 0 && string.Equals(args[0], "telemetry", StringComparison.OrdinalIgnoreCase))
        {
            return await TelemetryHarness.RunAsync(args[1..]).ConfigureAwait(false);
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
