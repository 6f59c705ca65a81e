using TwinGateway.Core.Alerts;
using TwinGateway.Drift.Alerts;

namespace TwinGateway.Host.Drift;

/// <summary>What a person does to a drift alert, in one place for every way in (gRPC, the web console).</summary>
internal sealed partial class DriftRuntime
{
    /// <summary>Records that <paramref name="user"/> has seen alert <paramref name="id"/>, tells every watcher, and logs it.</summary>
    /// <exception cref="KeyNotFoundException">There is no such alert ("there is no drift alert 12").</exception>
    /// <exception cref="AlertActionException">The engine refuses it (already acknowledged or resolved): the message says why.</exception>
    /// <exception cref="AlertStoreException">The alert store cannot be read or written.</exception>
    public DriftAlert AcknowledgeAlert(long id, string user, string? note) =>
        ActOnAlert(id, user, "acknowledge", () => Engine.Acknowledge(id, user, note, _time.GetUtcNow()));

    /// <summary>Closes alert <paramref name="id"/> on behalf of <paramref name="user"/>, tells every watcher, and logs it.</summary>
    /// <exception cref="KeyNotFoundException">There is no such alert.</exception>
    /// <exception cref="AlertActionException">The engine refuses it (already resolved): the message says by whom.</exception>
    /// <exception cref="AlertStoreException">The alert store cannot be read or written.</exception>
    public DriftAlert ResolveAlert(long id, string user, string? note) =>
        ActOnAlert(id, user, "resolve", () => Engine.Resolve(id, user, note, _time.GetUtcNow()));

    private DriftAlert ActOnAlert(long id, string user, string action, Func<AlertEvent> act)
    {
        if (Alerts.Get(id) is null)
        {
            throw new KeyNotFoundException($"there is no drift alert {id}");
        }

        var done = act();
        Monitor.Publish(done);
        Log.Acted(_logger, user, action, id, done.Alert.Line);
        return done.Alert;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7121, Level = LogLevel.Information, Message = "{User} did {Action} drift alert {Id} of line {Line}")]
        public static partial void Acted(ILogger logger, string user, string action, long id, string line);
    }
}
