using System.Collections.Immutable;
using System.Globalization;
using TwinGateway.Core;
using TwinGateway.Core.Alerts;

namespace TwinGateway.Drift.Alerts;

/// <summary>
/// Turns detectors' normalised drift scores into alerts an operator can act on: one state machine per line, authority
/// and detector, with a minimum duration (a spike raises nothing), hysteresis (an alert ends only after the score stayed
/// below the clear level for the hold time, so a score hovering around the threshold does not flood), one alert per
/// episode, and a per-line rate limit. Time comes only from the observations, never from a clock, so a replay gives the
/// same alerts. Thread-safe: one lock; the store is written on state changes only.
/// </summary>
public sealed class AlertEngine
{
    private static readonly TimeSpan RateWindow = TimeSpan.FromHours(1);

    private readonly IAlertStore _store;
    private readonly Lock _lock = new();
    private readonly Dictionary<TrackKey, Track> _tracks = [];
    private readonly Dictionary<string, LineHistory> _lines = new(StringComparer.Ordinal);

    /// <summary>Starts over <paramref name="store"/>, continuing the episodes it holds (their alerts are updated, not opened again).</summary>
    /// <exception cref="ArgumentException">The rules are not usable (the message lists every problem).</exception>
    public AlertEngine(IAlertStore store, AlertRules? rules = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        rules ??= AlertRules.Default;
        rules.Validate();
        _store = store;
        Rules = rules;
        foreach (var episode in store.Episodes())
        {
            var alert = episode.AlertId is { } id ? store.Get(id) : null;
            _tracks[new TrackKey(episode.Line, episode.Authority, episode.Detector)] = new Track
            {
                Episode = episode,
                Alert = alert,
                LastEmitted = alert?.LastSeen ?? episode.Onset,
            };
        }
    }

    public AlertRules Rules { get; }

    /// <summary>
    /// Feeds one score of one detector. Scores of one line, authority and detector must come in time order; a NaN score
    /// (a frame that could not be scored) is skipped.
    /// </summary>
    /// <param name="line">The line.</param>
    /// <param name="authority">Physics for the twin's rules, Statistical for a learned model.</param>
    /// <param name="detector"><c>physics</c>, or the model kind (<c>pca</c>, <c>autoencoder</c>).</param>
    /// <param name="modelVersion">The model's registry version; null for physics.</param>
    /// <param name="time">The observation's time: the only clock the engine knows.</param>
    /// <param name="normalisedScore">The score divided by its threshold (1 = the threshold).</param>
    /// <param name="contributors">Each signal's share of this score (the engine keeps the top few at the peak).</param>
    /// <returns>What happened to alerts (opened, updated, resolved by itself), in order; usually nothing.</returns>
    public IReadOnlyList<AlertEvent> Observe(string line, Authority authority, string detector, string? modelVersion, DateTimeOffset time, double normalisedScore, IReadOnlyList<AlertContributor> contributors)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(line);
        ArgumentException.ThrowIfNullOrWhiteSpace(detector);
        ArgumentNullException.ThrowIfNull(contributors);
        if (double.IsNaN(normalisedScore))
        {
            return [];
        }

        // An infinite score is drift all the same; kept finite so that it can be stored and compared.
        var score = Math.Clamp(normalisedScore, double.MinValue, double.MaxValue);
        lock (_lock)
        {
            var key = new TrackKey(line, authority, detector);
            if (!_tracks.TryGetValue(key, out var track))
            {
                track = new Track();
                _tracks[key] = track;
            }

            if (track.LastTime is { } last && time < last)
            {
                throw new ArgumentException(
                    $"the score of '{detector}' on line '{line}' at {time:O} is older than its previous one at {last:O}; feed each detector's scores in time order",
                    nameof(time));
            }

            track.LastTime = time;
            var events = new List<AlertEvent>();
            if (track.Episode is null)
            {
                BeforeEpisode(key, track, modelVersion, time, score, contributors, events);
            }
            else
            {
                InEpisode(key, track, modelVersion, time, score, contributors, events);
            }

            return events;
        }
    }

    /// <summary>Records that <paramref name="user"/> has seen alert <paramref name="id"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="user"/> is empty.</exception>
    /// <exception cref="AlertActionException">There is no such alert, or it is already acknowledged or resolved.</exception>
    public AlertEvent Acknowledge(long id, string user, string? note, DateTimeOffset at)
    {
        RequireUser(user, "acknowledge", id);
        lock (_lock)
        {
            var (alert, track) = Find(id);
            if (alert.State == AlertState.Resolved)
            {
                throw new AlertActionException($"alert {id} cannot be acknowledged: {ResolvedText(alert)}");
            }

            if (alert.State == AlertState.Acknowledged)
            {
                throw new AlertActionException($"alert {id} was already acknowledged by {alert.AcknowledgedBy} at {alert.AcknowledgedAt:O}");
            }

            var acknowledged = alert with { State = AlertState.Acknowledged, AcknowledgedBy = user, AcknowledgedAt = at, AcknowledgeNote = note };
            Save(acknowledged, track);
            return new AlertEvent(AlertEventKind.Acknowledged, acknowledged);
        }
    }

    /// <summary>
    /// Closes alert <paramref name="id"/> on behalf of <paramref name="user"/>. When its episode still goes on, the episode
    /// is done: no new alert opens for it until the score has cleared (stayed below the clear level for the hold time).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="user"/> is empty.</exception>
    /// <exception cref="AlertActionException">There is no such alert, or it is already resolved (the message says by whom).</exception>
    public AlertEvent Resolve(long id, string user, string? note, DateTimeOffset at)
    {
        RequireUser(user, "resolve", id);
        lock (_lock)
        {
            var (alert, track) = Find(id);
            if (alert.State == AlertState.Resolved)
            {
                throw new AlertActionException($"alert {id} cannot be resolved again: {ResolvedText(alert)}");
            }

            var resolved = alert with { State = AlertState.Resolved, ResolvedBy = user, ResolvedAt = at, ResolveNote = note };
            Save(resolved, track);
            return new AlertEvent(AlertEventKind.Resolved, resolved);
        }
    }

    private void BeforeEpisode(TrackKey key, Track track, string? modelVersion, DateTimeOffset time, double score, IReadOnlyList<AlertContributor> contributors, List<AlertEvent> events)
    {
        if (score < Rules.Threshold)
        {
            track.AboveSince = null;
            return;
        }

        if (track.AboveSince is null)
        {
            track.AboveSince = time;
            track.PendingPeak = double.NegativeInfinity;
        }

        if (score > track.PendingPeak)
        {
            track.PendingPeak = score;
            track.PendingContributors = Top(contributors);
        }

        if (time - track.AboveSince.Value >= Rules.MinDuration)
        {
            StartEpisode(key, track, modelVersion, time, events);
        }
    }

    private void StartEpisode(TrackKey key, Track track, string? modelVersion, DateTimeOffset time, List<AlertEvent> events)
    {
        var onset = track.AboveSince!.Value;
        var history = History(key.Line);
        history.Onsets.RemoveAll(o => o <= onset - RateWindow);
        var episode = new AlertEpisode(key.Line, key.Authority, key.Detector, null, onset);
        DriftAlert? alert = null;
        if (history.Onsets.Count >= Rules.MaxAlertsPerHour && history.LastAlertId is { } lastId && Current(lastId) is var (last, lastTrack))
        {
            _store.StartEpisode(episode, null);
            var counted = last with { SuppressedEpisodes = last.SuppressedEpisodes + 1 };
            Save(counted, lastTrack);
            events.Add(new AlertEvent(AlertEventKind.Updated, counted));
        }
        else
        {
            alert = _store.StartEpisode(episode, new DriftAlert
            {
                Line = key.Line,
                Authority = key.Authority,
                Detector = key.Detector,
                ModelVersion = modelVersion,
                Severity = SeverityOf(track.PendingPeak),
                State = AlertState.Open,
                Onset = onset,
                LastSeen = time,
                PeakScore = track.PendingPeak,
                Contributors = track.PendingContributors,
                PlotLink = PlotLink(key.Line, track.PendingContributors, onset, time),
            })!;
            episode = episode with { AlertId = alert.Id };
            history.Onsets.Add(onset);
            history.LastAlertId = alert.Id;
            events.Add(new AlertEvent(AlertEventKind.Opened, alert));
        }

        track.Episode = episode;
        track.Alert = alert;
        track.AboveSince = null;
        track.BelowClearSince = null;
        track.LastEmitted = time;
    }

    private void InEpisode(TrackKey key, Track track, string? modelVersion, DateTimeOffset time, double score, IReadOnlyList<AlertContributor> contributors, List<AlertEvent> events)
    {
        if (score >= Rules.Threshold && track.Alert is { State: not AlertState.Resolved } alert)
        {
            var peak = score > alert.PeakScore;
            var updated = peak
                ? alert with
                {
                    LastSeen = time,
                    PeakScore = score,
                    Severity = SeverityOf(score),
                    Contributors = Top(contributors),
                    ModelVersion = modelVersion ?? alert.ModelVersion,
                }
                : alert with { LastSeen = time };
            updated = updated with { PlotLink = PlotLink(key.Line, updated.Contributors, updated.Onset, time) };
            track.Alert = updated;
            if (peak || time - track.LastEmitted >= Rules.UpdateInterval)
            {
                _store.Update(updated);
                track.LastEmitted = time;
                events.Add(new AlertEvent(AlertEventKind.Updated, updated));
            }
        }

        if (score >= Rules.ClearLevel)
        {
            track.BelowClearSince = null;
            return;
        }

        track.BelowClearSince ??= time;
        if (time - track.BelowClearSince.Value >= Rules.HoldTime)
        {
            EndEpisode(key, track, time, events);
        }
    }

    private void EndEpisode(TrackKey key, Track track, DateTimeOffset time, List<AlertEvent> events)
    {
        DriftAlert? final = null;
        if (track.Alert is { State: not AlertState.Resolved } alert)
        {
            final = alert with
            {
                State = AlertState.Resolved,
                ResolvedBy = DriftAlert.AutoResolver,
                ResolvedAt = time,
                ResolveNote = string.Create(CultureInfo.InvariantCulture,
                    $"the score stayed below {Rules.ClearLevel} for {Rules.HoldTime.TotalSeconds} s"),
                PlotLink = PlotLink(key.Line, alert.Contributors, alert.Onset, time),
            };
            events.Add(new AlertEvent(AlertEventKind.Resolved, final));
        }

        // An alert a person resolved during the episode is left as they closed it (the engine stopped updating it then).

        _store.EndEpisode(key.Line, key.Authority, key.Detector, final);
        track.Episode = null;
        track.Alert = null;
        track.BelowClearSince = null;
        track.AboveSince = null;
    }

    private LineHistory History(string line)
    {
        if (!_lines.TryGetValue(line, out var history))
        {
            // The rate limit only needs the line's last MaxAlertsPerHour onsets: more cannot fall in one hour.
            var recent = _store.List(new AlertFilter(Line: line, Limit: Rules.MaxAlertsPerHour));
            history = new LineHistory
            {
                Onsets = [.. recent.Select(a => a.Onset).Order()],
                LastAlertId = recent.Count > 0 ? recent.MaxBy(a => (a.Onset, a.Id))!.Id : null,
            };
            _lines[line] = history;
        }

        return history;
    }

    /// <summary>The freshest copy of an alert: an episode's in memory (it may be ahead of the store), else the stored one.</summary>
    private (DriftAlert Alert, Track? Track)? Current(long id)
    {
        foreach (var track in _tracks.Values)
        {
            if (track.Alert is { } alert && alert.Id == id)
            {
                return (alert, track);
            }
        }

        return _store.Get(id) is { } stored ? (stored, null) : null;
    }

    private (DriftAlert Alert, Track? Track) Find(long id) =>
        Current(id) ?? throw new AlertActionException($"there is no drift alert {id}");

    private void Save(DriftAlert alert, Track? track)
    {
        _store.Update(alert);
        if (track is not null)
        {
            track.Alert = alert;
        }
    }

    private AlertSeverity SeverityOf(double peak) => peak >= Rules.CriticalFactor ? AlertSeverity.Critical : AlertSeverity.Warning;

    private ImmutableArray<AlertContributor> Top(IReadOnlyList<AlertContributor> contributors) =>
        [.. contributors
            .Where(c => c is not null && double.IsFinite(c.Share))
            .OrderByDescending(c => c.Share)
            .ThenBy(c => c.Signal, StringComparer.Ordinal)
            .Take(Rules.MaxContributors)];

    private string PlotLink(string line, IEnumerable<AlertContributor> contributors, DateTimeOffset from, DateTimeOffset to) =>
        AlertPlotLink.For(line, contributors, from - Rules.PlotMargin, to + Rules.PlotMargin);

    private static void RequireUser(string user, string action, long id)
    {
        if (string.IsNullOrWhiteSpace(user))
        {
            throw new ArgumentException($"a user name is required to {action} alert {id}", nameof(user));
        }
    }

    private static string ResolvedText(DriftAlert alert) =>
        $"it was already resolved by {alert.ResolvedBy} at {alert.ResolvedAt:O}" + (string.IsNullOrEmpty(alert.ResolveNote) ? "" : $" ({alert.ResolveNote})");

    private readonly record struct TrackKey(string Line, Authority Authority, string Detector);

    /// <summary>One detector of one line: waiting for an episode (maybe above the threshold since a time), or in one.</summary>
    private sealed class Track
    {
        public DateTimeOffset? LastTime { get; set; }

        public DateTimeOffset? AboveSince { get; set; }

        public double PendingPeak { get; set; }

        public ImmutableArray<AlertContributor> PendingContributors { get; set; } = [];

        public AlertEpisode? Episode { get; set; }

        /// <summary>The episode's alert; null when the rate limit suppressed it.</summary>
        public DriftAlert? Alert { get; set; }

        public DateTimeOffset? BelowClearSince { get; set; }

        public DateTimeOffset LastEmitted { get; set; }
    }

    private sealed class LineHistory
    {
        public required List<DateTimeOffset> Onsets { get; init; }

        public long? LastAlertId { get; set; }
    }
}
