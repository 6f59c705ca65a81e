using System.Diagnostics;
using System.Text.Json;

namespace TwinGateway.Interop.Tests.Cli;

/// <summary>Runs the built <c>twingw</c> (copied next to the tests by the project reference) as a real process.</summary>
internal static class TwingwProcess
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr)
    {
        public IReadOnlyList<JsonElement> JsonLines => [.. StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l.StartsWith('{'))
            .Select(l => JsonDocument.Parse(l).RootElement.Clone())];

        public override string ToString() => $"exit {ExitCode}\nstdout:\n{StdOut}\nstderr:\n{StdErr}";
    }

    public static Task<Result> RunAsync(TimeSpan timeout, params string[] args) => RunInAsync(null, timeout, args);

    /// <summary>Runs twingw with <paramref name="workingDirectory"/> as its working directory (the test's own when null).</summary>
    public static async Task<Result> RunInAsync(string? workingDirectory, TimeSpan timeout, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "twingw.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null)
        {
            start.WorkingDirectory = workingDirectory;
        }

        start.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"twingw {string.Join(' ', args)} did not finish within {timeout.TotalSeconds} s");
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
