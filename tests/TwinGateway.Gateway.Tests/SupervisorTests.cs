using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using TwinGateway.Gateway.Supervision;

namespace TwinGateway.Gateway.Tests;

/// <summary>
/// The supervisor on a clock the test moves: restarts with the policy's delays (doubling, capped), Failed with the
/// exception's message until the component recovers, the failure logged once per episode, Stopped at the stop.
/// </summary>
public sealed class SupervisorTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);
    private static readonly RestartPolicy s_policy = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4), TimeSpan.FromMinutes(1));

    private readonly TimerSignallingClock _time = new();
    private readonly TestLogger _log = new();
    private readonly SemaphoreSlim _attempted = new(0);
    private int _attempts;

    private async Task NextAttemptAsync(int expected)
    {
        Assert.True(await _attempted.WaitAsync(s_wait), $"attempt {expected} did not come");
        Assert.Equal(expected, Volatile.Read(ref _attempts));
    }

    /// <summary>Waits until the supervisor has started its backoff timer, then moves the clock.</summary>
    private async Task AdvanceAfterFailureAsync(TimeSpan by)
    {
        Assert.True(await _time.TimerCreated.WaitAsync(s_wait), "the supervisor never started its backoff");
        _time.Advance(by);
    }

    /// <summary>The delays the supervisor announced, in order (the failure log and its repeats state them).</summary>
    private double[] AnnouncedDelays() =>
        [.. _log.Entries.Where(e => e.Event.Id is 4301 or 4302).Select(e => double.Parse(System.Text.RegularExpressions.Regex.Match(e.Message, @"in (\d+) ms").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>A clock the test moves, which says when a timer was started on it.</summary>
    private sealed class TimerSignallingClock() : FakeTimeProvider(new DateTimeOffset(2026, 12, 3, 8, 0, 0, TimeSpan.Zero))
    {
        public SemaphoreSlim TimerCreated { get; } = new(0);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            TimerCreated.Release();
            return timer;
        }
    }

    [Fact]
    public async Task A_failing_component_is_restarted_with_doubling_capped_delays_and_logged_once_per_episode()
    {
        var health = new ComponentHealth("test component", _time, _log);
        using var stop = new CancellationTokenSource();
        var running = Supervisor.RunAsync(health, _ =>
        {
            Interlocked.Increment(ref _attempts);
            _attempted.Release();
            throw new IOException("disk gone");
        }, s_policy, _time, stop.Token);

        await NextAttemptAsync(1);
        // Moving the clock by exactly the policy's delay brings the next attempt (the fake clock never moves by itself).
        foreach (var (attempt, delay) in new[] { (2, 1), (3, 2), (4, 4), (5, 4) })
        {
            await AdvanceAfterFailureAsync(TimeSpan.FromSeconds(delay));
            await NextAttemptAsync(attempt);
        }

        await WaitForRestartsAsync(health, 5);
        var status = health.Status;
        Assert.Equal(ComponentState.Failed, status.State);
        Assert.Equal("IOException: disk gone", status.Reason);
        Assert.Equal(5, status.Restarts);
        Assert.Equal([1000.0, 2000, 4000, 4000, 4000], AnnouncedDelays());
        Assert.Equal(1, _log.Count(LogLevel.Error));

        await stop.CancelAsync();
        await running.WaitAsync(s_wait);
        Assert.Equal(ComponentState.Stopped, health.Status.State);
    }

    private static async Task<int> WaitForRestartsAsync(ComponentHealth health, int restarts)
    {
        using var cts = new CancellationTokenSource(s_wait);
        while (health.Status.Restarts < restarts)
        {
            await Task.Delay(5, cts.Token);
        }

        return health.Status.Restarts;
    }

    [Fact]
    public async Task A_recovered_component_ends_the_episode_and_the_next_failure_is_logged_again()
    {
        var health = new ComponentHealth("test component", _time, _log);
        using var stop = new CancellationTokenSource();
        var failNext = 1;
        var ran = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = Supervisor.RunAsync(health, async token =>
        {
            Interlocked.Increment(ref _attempts);
            _attempted.Release();
            if (Interlocked.Exchange(ref failNext, 0) == 1)
            {
                throw new InvalidOperationException("first life fails");
            }

            health.MarkRunning();
            ran.TrySetResult();
            await Task.Delay(Timeout.Infinite, token);
        }, s_policy, _time, stop.Token);

        await NextAttemptAsync(1);
        await AdvanceAfterFailureAsync(TimeSpan.FromSeconds(1));
        await NextAttemptAsync(2);
        await ran.Task.WaitAsync(s_wait);

        Assert.Equal(ComponentState.Running, health.Status.State);
        Assert.Equal(1, health.Status.Restarts);
        Assert.Equal(1, _log.Count(LogLevel.Error));
        Assert.Contains(_log.Entries, e => e.Level == LogLevel.Information && e.Message.Contains("recovered", StringComparison.Ordinal));

        await stop.CancelAsync();
        await running.WaitAsync(s_wait);
        Assert.Equal(ComponentState.Stopped, health.Status.State);
    }

    [Fact]
    public async Task A_component_that_ends_on_its_own_while_the_line_runs_is_a_failure()
    {
        var health = new ComponentHealth("test component", _time, _log);
        using var stop = new CancellationTokenSource();
        var running = Supervisor.RunAsync(health, _ =>
        {
            Interlocked.Increment(ref _attempts);
            _attempted.Release();
            return Task.CompletedTask;
        }, s_policy, _time, stop.Token);

        await NextAttemptAsync(1);
        await WaitForRestartsAsync(health, 1);

        Assert.Equal(ComponentState.Failed, health.Status.State);
        Assert.Contains("ended on its own", health.Status.Reason, StringComparison.Ordinal);
        await stop.CancelAsync();
        await running.WaitAsync(s_wait);
    }
}
