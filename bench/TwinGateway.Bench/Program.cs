using BenchmarkDotNet.Running;
using TwinGateway.Bench.E2e;

namespace TwinGateway.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench/TwinGateway.Bench -- [BenchmarkDotNet arguments]</c> runs the
/// micro-benchmarks; <c>... -- e2e [options]</c> runs the end-to-end load harness (see bench/README.md).
/// </summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && string.Equals(args[0], "e2e", StringComparison.OrdinalIgnoreCase))
        {
            return await LoadHarness.RunAsync(args[1..]).ConfigureAwait(false);
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
