using TwinGateway.Core;
using TwinGateway.Core.Alerts;

namespace TwinGateway.Drift.Alerts;

/// <summary>Which alerts <see cref="IAlertStore.List"/> returns.</summary>
/// <param name="Line">Only this line's; all lines when null.</param>
/// <param name="State">Only alerts in this state; any when null.</param>
/// <param name="Since">Only alerts last seen at or after this time; any when null.</param>
/// <param name="Limit">At most this many, newest onset first.</param>
public sealed record AlertFilter(string? Line = null, AlertState? State = null, DateTimeOffset? Since = null, int Limit = 100);

/// <summary>
/// A drift episode in progress, kept so that an engine started over the same store continues it rather than opening a
/// second alert. Written when an episode starts and removed when it ends (not on every observation).
/// </summary>
/// <param name="Line">The line.</param>
/// <param name="Authority">The detector's authority.</param>
/// <param name="Detector">The detector.</param>
/// <param name="AlertId">The episode's alert; null when the rate limit suppressed it.</param>
/// <param name="Onset">When the episode's score first reached the threshold.</param>
public sealed record AlertEpisode(string Line, Authority Authority, string Detector, long? AlertId, DateTimeOffset Onset);

/// <summary>
/// Where <see cref="AlertEngine"/> keeps alerts and open episodes. Synchronous: the engine calls it under its lock on
/// state changes only (an episode starting or ending, a new peak, an update every <see cref="AlertRules.UpdateInterval"/>),
/// and the one implementation writes a local SQLite file. Implementations are thread-safe.
/// </summary>
public interface IAlertStore
{
    /// <summary>Stores a new alert and returns it with its assigned <see cref="DriftAlert.Id"/>.</summary>
    DriftAlert Insert(DriftAlert alert);

    /// <summary>Replaces the stored alert of the same id; throws <see cref="AlertStoreException"/> when there is none.</summary>
    void Update(DriftAlert alert);

    DriftAlert? Get(long id);

    IReadOnlyList<DriftAlert> List(AlertFilter filter);

    /// <summary>
    /// Records an episode that starts, with its new alert (null when the rate limit suppressed it) in the same
    /// transaction, so that a crash cannot leave an alert without its episode (a restart would open a second one).
    /// Returns the alert with its assigned id; the episode stored names it.
    /// </summary>
    DriftAlert? StartEpisode(AlertEpisode episode, DriftAlert? alert);

    /// <summary>Forgets the episode of a line, authority and detector (it ended) and, in the same transaction, stores its alert's final state when given.</summary>
    void EndEpisode(string line, Authority authority, string detector, DriftAlert? alert);

    /// <summary>Every open episode.</summary>
    IReadOnlyList<AlertEpisode> Episodes();
}
