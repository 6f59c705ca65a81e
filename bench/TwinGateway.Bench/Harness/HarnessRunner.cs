namespace TwinGateway.Bench.Harness;

/// <summary>
/// The frame every load harness runs in (<c>e2e</c>, <c>server-load</c>, <c>gateway-load</c>, <c>telemetry</c>): its
/// arguments parsed first (<see cref="HarnessArguments"/>), Ctrl+C turned into cancellation so the finally blocks stop
/// every child process (<see cref="ChildProcess"/>), and one exit-code convention. The harness itself collects the
/// machine facts (<see cref="MachineFacts"/>), measures, writes its report (<see cref="HarnessReport"/>) and prints a
/// summary.
/// </summary>
internal static class HarnessRunner
{
    /// <summary>Exit code for bad arguments (the usage is printed).</summary>
    public const int BadArguments = 2;

    /// <summary>Exit code of a run that failed with an exception <c>isFailure</c> accepts (its message is printed).</summary>
    public const int Failed = 1;

    /// <summary>Exit code after Ctrl+C.</summary>
    public const int Cancelled = 130;

    /// <summary>
    /// Runs <paramref name="run"/> with the parsed <paramref name="options"/> (or prints <paramref name="error"/> and
    /// returns <see cref="BadArguments"/> when parsing failed) and returns its exit code. Exceptions
    /// <paramref name="isFailure"/> accepts are reported as <c>NAME: failed: message</c>; others propagate.
    /// </summary>
    public static async Task<int> RunAsync<TOptions>(string name, TOptions? options, string? error,
        Func<TOptions, CancellationToken, Task<int>> run, Func<Exception, bool> isFailure)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(isFailure);
        if (options is null)
        {
            Console.Error.WriteLine(error);
            return BadArguments;
        }

        // Ctrl+C ends the run through the finally blocks, which stop every child process.
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            return await run(options, cancel.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            Console.Error.WriteLine($"{name}: cancelled");
            return Cancelled;
        }
        catch (Exception ex) when (isFailure(ex))
        {
            Console.Error.WriteLine($"{name}: failed: {ex.Message}");
            return Failed;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
