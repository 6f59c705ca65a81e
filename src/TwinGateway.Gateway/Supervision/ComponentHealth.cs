using Microsoft.Extensions.Logging;

namespace TwinGateway.Gateway.Supervision;

/// <summary>Where a supervised part of a line (a controller link, the twin loop, a sink) stands.</summary>
public enum ComponentState
{
    Starting,
    Running,

    /// <summary>It threw; it is being restarted with backoff, and the reason names the exception.</summary>
    Failed,
    Stopped,
}

/// <summary>A supervised component's state, the reason when it is failed, and how often it was restarted.</summary>
public sealed record ComponentStatus(string Name, ComponentState State, string Reason, DateTimeOffset Since, int Restarts);

/// <summary>
/// The state of one supervised component. A failure starts an episode: it is logged once, with the exception, when the
/// episode starts; further failures of the same episode only update the reason and the restart count (and log at debug);
/// the recovery ends the episode and is logged with how long it lasted.
/// </summary>
public sealed partial class ComponentHealth
{
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private ComponentStatus _status;

    public ComponentHealth(string name, TimeProvider time, ILogger logger)
    {
        _time = time;
        _logger = logger;
        _status = new ComponentStatus(name, ComponentState.Starting, "starting", time.GetUtcNow(), 0);
    }

    public string Name => Status.Name;

    public ComponentStatus Status => Volatile.Read(ref _status);

    /// <summary>The component works (again); ends a failure episode.</summary>
    public void MarkRunning(string reason = "running")
    {
        var previous = Status;
        if (previous.State == ComponentState.Running && previous.Reason == reason)
        {
            return;
        }

        var now = _time.GetUtcNow();
        Volatile.Write(ref _status, previous with { State = ComponentState.Running, Reason = reason, Since = now });
        if (previous.State == ComponentState.Failed)
        {
            Log.Recovered(_logger, previous.Name, now - previous.Since, previous.Restarts);
        }
    }

    /// <summary>Records a failure; logs it when it starts a new episode.</summary>
    internal void MarkFailed(Exception exception, TimeSpan retryIn)
    {
        var previous = Status;
        var reason = $"{exception.GetType().Name}: {exception.Message}";
        var episodeStarts = previous.State != ComponentState.Failed;
        Volatile.Write(ref _status, previous with
        {
            State = ComponentState.Failed,
            Reason = reason,
            Since = episodeStarts ? _time.GetUtcNow() : previous.Since,
            Restarts = previous.Restarts + 1,
        });
        if (episodeStarts)
        {
            Log.Failed(_logger, exception, previous.Name, reason, retryIn.TotalMilliseconds);
        }
        else
        {
            Log.FailedAgain(_logger, previous.Name, reason, retryIn.TotalMilliseconds);
        }
    }

    internal void MarkStopped() => Volatile.Write(ref _status, Status with { State = ComponentState.Stopped, Reason = "stopped", Since = _time.GetUtcNow() });

    private static partial class Log
    {
        [LoggerMessage(EventId = 4301, Level = LogLevel.Error, Message = "{Component} failed ({Reason}); restarting in {DelayMs} ms, and again with backoff until it recovers")]
        public static partial void Failed(ILogger logger, Exception exception, string component, string reason, double delayMs);

        [LoggerMessage(EventId = 4302, Level = LogLevel.Debug, Message = "{Component} failed again ({Reason}); next restart in {DelayMs} ms")]
        public static partial void FailedAgain(ILogger logger, string component, string reason, double delayMs);

        [LoggerMessage(EventId = 4303, Level = LogLevel.Information, Message = "{Component} recovered after {Duration} and {Restarts} restart(s)")]
        public static partial void Recovered(ILogger logger, string component, TimeSpan duration, int restarts);
    }
}
