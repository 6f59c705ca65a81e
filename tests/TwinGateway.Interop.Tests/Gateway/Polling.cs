namespace TwinGateway.Interop.Tests.Gateway;

/// <summary>Waiting for a running gateway to get somewhere, as the gateway tests do.</summary>
internal static class Polling
{
    /// <summary>Calls <paramref name="probe"/> every 100 ms until <paramref name="done"/> holds; fails after 30 s with the last value seen.</summary>
    public static async Task<T> Eventually<T>(Func<Task<T>> probe, Func<T, bool> done, string what)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var last = await probe();
        while (!done(last))
        {
            await Task.Delay(100, cts.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            if (cts.IsCancellationRequested)
            {
                Assert.Fail($"{what} did not happen within 30 s; last seen: {last}");
            }

            last = await probe();
        }

        return last;
    }
}
