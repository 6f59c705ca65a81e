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

    /// <summary>Runs twingw without an API token (TWINGW_TOKEN is removed from its environment).</summary>
    public static Task<Result> RunAsync(TimeSpan timeout, params string[] args) => RunInAsync(null, timeout, args);

    /// <summary>Runs twingw with <paramref name="token"/> in TWINGW_TOKEN, as a user who exported it would.</summary>
    public static Task<Result> RunAsAsync(string? token, TimeSpan timeout, params string[] args) => RunInAsync(null, timeout, args, token);

    /// <summary>Runs twingw with <paramref name="workingDirectory"/> as its working directory (the test's own when null), without a token.</summary>
    public static Task<Result> RunInAsync(string? workingDirectory, TimeSpan timeout, params string[] args) => RunInAsync(workingDirectory, timeout, args, null);

    /// <summary>
    /// Runs twingw with <paramref name="workingDirectory"/> as its working directory (the test's own when null) and
    /// <paramref name="token"/> in TWINGW_TOKEN (removed when null, so a developer's own token never leaks in).
    /// </summary>
    public static async Task<Result> RunInAsync(string? workingDirectory, TimeSpan timeout, string[] args, string? token)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "twingw.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null)
        {
            start.WorkingDirectory = workingDirectory;
        }

        if (token is null)
        {
            start.Environment.Remove("TWINGW_TOKEN");
        }
        else
        {
            start.Environment["TWINGW_TOKEN"] = token;
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
