using System.Diagnostics;
using System.Text;

namespace TwinGateway.Interop.Tests.Commissioning;

/// <summary>
/// The built <c>twingw</c> as a real process that runs until stopped (<c>twingw run</c>, <c>twingw plc-sim</c>, a
/// <c>twingw change apply</c> in the background), its output captured. Disposing kills it (and its children) if it
/// still runs, so no test leaves one behind.
/// </summary>
internal sealed class TwingwBackground : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly string _name;

    private TwingwBackground(Process process, string name)
    {
        _process = process;
        _name = name;
    }

    /// <summary>Starts <c>twingw ARGS</c> in <paramref name="workingDirectory"/> (the test's own when null), with <paramref name="token"/> in TWINGW_TOKEN (removed when null).</summary>
    public static TwingwBackground Start(string? workingDirectory, string? token, params string[] args)
    {
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

        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "twingw.dll"));
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        var process = new Process { StartInfo = start };
        var background = new TwingwBackground(process, "twingw " + string.Join(' ', args));
        process.OutputDataReceived += (_, e) => background.Append(e.Data);
        process.ErrorDataReceived += (_, e) => background.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return background;
    }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Everything it wrote so far, standard output and error interleaved.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    /// <summary>Waits until its output holds <paramref name="text"/>; fails when it exits first or <paramref name="timeout"/> passes.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{_name} exited ({_process.ExitCode}) before it wrote '{text}':\n{Output}");
            }

            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"{_name} did not write '{text}' within {timeout.TotalSeconds} s:\n{Output}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Waits for it to exit by itself; kills it and fails after <paramref name="timeout"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
            throw new TimeoutException($"{_name} did not exit within {timeout.TotalSeconds} s:\n{Output}");
        }

        return _process.ExitCode;
    }

    /// <summary>SIGKILL to it and every child it started (no shutdown of any kind runs), then waits (bounded) until it is gone.</summary>
    public async Task KillAsync()
    {
        if (_process.HasExited)
        {
            return;
        }

        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited in between.
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await KillAsync();
        }
        finally
        {
            _process.Dispose();
        }
    }

    public override string ToString() => $"{_name} (pid {_process.Id})";
}
