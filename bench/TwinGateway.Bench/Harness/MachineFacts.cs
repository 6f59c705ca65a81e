using System.Globalization;
using System.Runtime.InteropServices;

namespace TwinGateway.Bench.Harness;

/// <summary>
/// The machine a result was measured on, as every harness records it (<c>machine</c> in the JSON): cores, OS, CPU model,
/// .NET, the architecture, and node's version where node-opcua took part (left out of the JSON otherwise).
/// </summary>
internal sealed record MachineFacts(int Cores, string Os, string Cpu, string Dotnet, string? Node, string Architecture)
{
    /// <summary>The facts now; <paramref name="withNode"/> runs <c>node --version</c> (and throws with the install hint without it).</summary>
    public static MachineFacts Collect(bool withNode) => new(
        Environment.ProcessorCount,
        RuntimeInformation.OSDescription,
        CpuModel(),
        RuntimeInformation.FrameworkDescription,
        withNode ? ChildCommands.NodeVersion() : null,
        RuntimeInformation.ProcessArchitecture.ToString());

    /// <summary>With node's version when it is installed, "not used" otherwise (a run that skips node-opcua).</summary>
    public static MachineFacts CollectNodeIfThere()
    {
        try
        {
            return Collect(withNode: true);
        }
        catch (InvalidOperationException)
        {
            return Collect(withNode: false) with { Node = "not used" };
        }
    }

    /// <summary>The 1-minute load average from /proc/loadavg; null where there is none.</summary>
    public static double? LoadAverage1m()
    {
        try
        {
            var text = File.ReadAllText("/proc/loadavg");
            return double.TryParse(text.Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var load) ? load : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line?[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim() ?? "unknown";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "unknown";
        }
    }
}
