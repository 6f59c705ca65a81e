namespace TwinGateway.Gateway.Supervision;

/// <summary>How a supervisor restarts a failed component.</summary>
/// <param name="InitialDelay">The wait before the first restart of an episode.</param>
/// <param name="MaxDelay">The longest wait; the delay doubles from <paramref name="InitialDelay"/> up to it.</param>
/// <param name="HealthyAfter">A component that ran this long before failing starts over at <paramref name="InitialDelay"/>.</param>
public sealed record RestartPolicy(TimeSpan InitialDelay, TimeSpan MaxDelay, TimeSpan HealthyAfter)
{
    /// <summary>0.5 s doubling to 30 s: a crash loop costs a few log lines a minute, a one-off failure half a second.</summary>
    public static RestartPolicy Default { get; } = new(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(1));
}

/// <summary>
/// Runs a component's loop and restarts it with backoff when it throws or ends while the line still runs, so that no
/// part of a line can end without anyone noticing: its <see cref="ComponentHealth"/> says Failed with the exception's
/// message until it recovers, and the health checks read that.
/// </summary>
internal static class Supervisor
{
    /// <param name="health">The component's state, which the supervisor sets to Failed and Stopped.</param>
    /// <param name="body">One life of the component.</param>
    /// <param name="policy">The restart delays.</param>
    /// <param name="time">The clock of the delays.</param>
    /// <param name="stopping">The line's stop.</param>
    /// <param name="finished">
    /// For a component with an end of its own (a sink whose queue was completed and drained): a normal return while
    /// this says true ends the supervision; any other normal return while the line runs is a failure.
    /// </param>
    public static async Task RunAsync(ComponentHealth health, Func<CancellationToken, Task> body, RestartPolicy policy, TimeProvider time, CancellationToken stopping, Func<bool>? finished = null)
    {
        var delay = policy.InitialDelay;
        while (!stopping.IsCancellationRequested)
        {
            var started = time.GetTimestamp();
            Exception failure;
            try
            {
                await body(stopping).ConfigureAwait(false);
                if (stopping.IsCancellationRequested || finished?.Invoke() == true)
                {
                    break;
                }

                failure = new InvalidOperationException("it ended on its own while the line runs");
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                failure = ex;
            }

            if (time.GetElapsedTime(started) >= policy.HealthyAfter)
            {
                delay = policy.InitialDelay;
            }

            health.MarkFailed(failure, delay);
            try
            {
                await Task.Delay(delay, time, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, policy.MaxDelay.Ticks));
        }

        health.MarkStopped();
    }
}
