using TwinGateway.Core;
using TwinGateway.Core.Alerts;
using TwinGateway.Drift.Alerts;

namespace TwinGateway.Drift.Tests.Alerts;

public sealed class AlertEngineTests : IDisposable
{
    private const string Line = "press-1";
    private static readonly DateTimeOffset T0 = new(2026, 12, 3, 8, 0, 0, TimeSpan.Zero);
    private static readonly AlertContributor[] Usual = [new("temp:residual", 0.6, 80, 79), new("force:residual", 0.4, 10, 9.5)];

    private readonly TempFolder _folder = new();
    private SqliteAlertStore _store;
    private AlertEngine _engine;

    public AlertEngineTests()
    {
        _store = SqliteAlertStore.Open(_folder.Database);
        _engine = new AlertEngine(_store);
    }

    public void Dispose()
    {
        _store.Dispose();
        _folder.Dispose();
    }

    [Fact]
    public void A_spike_shorter_than_the_minimum_duration_raises_nothing()
    {
        var events = new List<AlertEvent>();
        events.AddRange(Feed(0, Repeat(0.3, 5)));
        events.AddRange(Feed(5, Repeat(5.0, 10)));  // t = 5..14 s: 9 s at or above the threshold
        events.AddRange(Feed(15, Repeat(0.3, 120)));
        events.AddRange(Feed(135, Repeat(1.5, 10)));
        events.AddRange(Feed(145, [0.99]));
        events.AddRange(Feed(146, Repeat(1.5, 5)));

        Assert.Empty(events);
        Assert.Empty(_store.List(new AlertFilter()));
    }

    [Fact]
    public void A_sustained_excursion_raises_exactly_one_alert_with_the_contributors_at_its_peak()
    {
        var events = new List<AlertEvent>();
        events.AddRange(Feed(0, Repeat(0.2, 5)));
        for (var s = 5; s < 5 + 3600; s++)
        {
            var peak = s == 1000;
            events.AddRange(Observe(s, peak ? 3.0 : 1.2 + 0.1 * Math.Sin(s / 10.0),
                peak ? [new("temp:residual", 0.2, 95, 79), new("force:residual", 0.7, 14, 9.5), new("speed", 0.1, null, null)] : Usual));
        }

        var opened = Assert.Single(events, e => e.Kind == AlertEventKind.Opened);
        Assert.Equal(T0.AddSeconds(15), opened.Alert.LastSeen);
        Assert.Equal(T0.AddSeconds(5), opened.Alert.Onset);
        Assert.Equal(AlertSeverity.Warning, opened.Alert.Severity);
        Assert.DoesNotContain(events, e => e.Kind == AlertEventKind.Resolved);

        var alert = Assert.Single(_store.List(new AlertFilter()));
        Assert.Equal(opened.Alert.Id, alert.Id);
        Assert.Equal(3.0, alert.PeakScore);
        Assert.Equal(AlertSeverity.Critical, alert.Severity);
        Assert.Equal(AlertState.Open, alert.State);
        Assert.Equal(["force:residual", "temp:residual", "speed"], alert.Contributors.Select(c => c.Signal));
        Assert.Equal(new AlertContributor("force:residual", 0.7, 14, 9.5), alert.Contributors[0]);
        Assert.StartsWith("/lines/press-1?signals=force,temp,speed&from=2026-12-03T07:55:05.000Z&to=", alert.PlotLink, StringComparison.Ordinal);
        Assert.Equal(Authority.Statistical, alert.Authority);
        Assert.Equal("pca", alert.Detector);
        Assert.Equal("3", alert.ModelVersion);

        // Updates are throttled: one per new peak, else one per UpdateInterval (30 s), not one per score.
        var updates = events.Count(e => e.Kind == AlertEventKind.Updated);
        Assert.InRange(updates, 100, 3600 / 30 + 20);
    }

    [Fact]
    public void Noisy_scores_around_the_threshold_raise_one_alert_thanks_to_hysteresis()
    {
        var random = new Random(7);
        var events = new List<AlertEvent>();
        var crossings = 0;
        var previous = 0.0;
        for (var s = 0; s < 2 * 3600; s++)
        {
            // Around 1 with a slow swing of +-0.15 and noise of +-0.05: it crosses the threshold hundreds of times
            // but never stays below the clear level (0.8) for the hold time (60 s).
            var score = 1.0 + 0.15 * Math.Sin(s / 20.0) + 0.1 * (random.NextDouble() - 0.5);
            crossings += (score >= 1) != (previous >= 1) ? 1 : 0;
            previous = score;
            events.AddRange(Observe(s, score, Usual));
        }

        Assert.True(crossings > 200, $"the scores crossed the threshold only {crossings} times: not the noise this test needs");
        Assert.Single(events, e => e.Kind == AlertEventKind.Opened);
        Assert.Single(_store.List(new AlertFilter()));

        events.Clear();
        events.AddRange(Feed(2 * 3600, Repeat(0.5, 61)));
        var resolved = Assert.Single(events);
        Assert.Equal(AlertEventKind.Resolved, resolved.Kind);
        Assert.Equal(DriftAlert.AutoResolver, resolved.Alert.ResolvedBy);
    }

    [Fact]
    public void Episodes_beyond_the_hourly_rate_limit_are_counted_on_the_last_alert()
    {
        var events = new List<AlertEvent>();
        var t = 0;
        for (var episode = 0; episode < 9; episode++)
        {
            events.AddRange(Feed(t, Repeat(1.5, 15)));
            events.AddRange(Feed(t + 15, Repeat(0.1, 61)));
            t += 76;
        }

        Assert.Equal(6, events.Count(e => e.Kind == AlertEventKind.Opened));
        var alerts = _store.List(new AlertFilter(Line: Line));
        Assert.Equal(6, alerts.Count);
        Assert.Equal(3, alerts[0].SuppressedEpisodes);
        Assert.All(alerts.Skip(1), a => Assert.Equal(0, a.SuppressedEpisodes));

        // Another line has its own budget.
        Assert.Contains(FeedOn("press-2", 0, Repeat(1.5, 15)), e => e.Kind == AlertEventKind.Opened);

        // An hour after the first onset, the first alert leaves the window: a new one opens.
        events.Clear();
        events.AddRange(Feed(3600 + 1, Repeat(1.5, 15)));
        Assert.Single(events, e => e.Kind == AlertEventKind.Opened);
        Assert.Equal(7, _store.List(new AlertFilter(Line: Line)).Count);
    }

    [Fact]
    public void An_alert_resolves_by_itself_once_the_score_stayed_below_the_clear_level_for_the_hold_time()
    {
        var opened = Assert.Single(Feed(0, Repeat(1.5, 20)));
        Assert.Empty(Feed(20, Repeat(0.5, 30)));          // 20..49: below 0.8
        Assert.Empty(Feed(50, [0.9]));                     // at the clear level: the hold starts again
        Assert.Empty(Feed(51, Repeat(0.5, 60)));           // 51..110: 59 s below
        var resolved = Assert.Single(Feed(111, [0.5]));    // 60 s below

        Assert.Equal(AlertEventKind.Resolved, resolved.Kind);
        Assert.Equal(opened.Alert.Id, resolved.Alert.Id);
        Assert.Equal(AlertState.Resolved, resolved.Alert.State);
        Assert.Equal(DriftAlert.AutoResolver, resolved.Alert.ResolvedBy);
        Assert.Equal(T0.AddSeconds(111), resolved.Alert.ResolvedAt);
        Assert.Equal(T0.AddSeconds(19), resolved.Alert.LastSeen);
        AssertSame(resolved.Alert, _store.Get(resolved.Alert.Id)!);
    }

    [Fact]
    public void Acknowledge_and_resolve_record_user_and_note_and_a_second_resolve_is_refused_with_the_reason()
    {
        var id = Assert.Single(Feed(0, Repeat(1.5, 11))).Alert.Id;

        var acknowledged = _engine.Acknowledge(id, "alice", "looking at the heater", T0.AddMinutes(2));
        Assert.Equal(AlertEventKind.Acknowledged, acknowledged.Kind);
        Assert.Equal(AlertState.Acknowledged, _store.Get(id)!.State);
        Assert.Equal(("alice", "looking at the heater", T0.AddMinutes(2)),
            (_store.Get(id)!.AcknowledgedBy, _store.Get(id)!.AcknowledgeNote, _store.Get(id)!.AcknowledgedAt));

        var resolved = _engine.Resolve(id, "bob", "heater replaced", T0.AddMinutes(5));
        Assert.Equal(AlertEventKind.Resolved, resolved.Kind);
        var stored = _store.Get(id)!;
        Assert.Equal((AlertState.Resolved, "bob", "heater replaced", T0.AddMinutes(5)), (stored.State, stored.ResolvedBy, stored.ResolveNote, stored.ResolvedAt));
        Assert.Equal("alice", stored.AcknowledgedBy);

        var again = Assert.Throws<AlertActionException>(() => _engine.Resolve(id, "carol", null, T0.AddMinutes(6)));
        Assert.Contains("already resolved by bob", again.Message, StringComparison.Ordinal);
        Assert.Contains("heater replaced", again.Message, StringComparison.Ordinal);
        Assert.Contains("already resolved by bob", Assert.Throws<AlertActionException>(() => _engine.Acknowledge(id, "carol", null, T0)).Message, StringComparison.Ordinal);
        Assert.Contains("no drift alert 999", Assert.Throws<AlertActionException>(() => _engine.Resolve(999, "carol", null, T0)).Message, StringComparison.Ordinal);
        Assert.Contains("user name", Assert.Throws<ArgumentException>(() => _engine.Acknowledge(id, " ", null, T0)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_person_resolving_during_the_episode_ends_it_without_a_flood_of_new_alerts()
    {
        var id = Assert.Single(Feed(0, Repeat(1.5, 11))).Alert.Id;
        _engine.Resolve(id, "alice", "known: recipe change", T0.AddSeconds(12));

        // The excursion goes on for an hour: nothing new, the resolved alert is left alone.
        var during = Feed(11, Repeat(1.6, 3600));
        Assert.Empty(during);
        Assert.Equal("alice", _store.Get(id)!.ResolvedBy);

        // Once the score has cleared (hold time), a new excursion is a new episode.
        Assert.Empty(Feed(3611, Repeat(0.2, 61)));
        var next = Assert.Single(Feed(3672, Repeat(1.5, 11)));
        Assert.Equal(AlertEventKind.Opened, next.Kind);
        Assert.NotEqual(id, next.Alert.Id);
    }

    [Fact]
    public void Alerts_and_open_episodes_survive_reopening_the_store()
    {
        var opened = Assert.Single(Feed(0, Repeat(1.5, 11)));
        _engine.Acknowledge(opened.Alert.Id, "alice", null, T0.AddSeconds(20));
        Reopen();

        var events = Feed(11, Repeat(1.5, 100));
        events.AddRange(Feed(111, [2.5]));
        Assert.DoesNotContain(events, e => e.Kind == AlertEventKind.Opened);
        var update = Assert.Single(events, e => e.Alert.PeakScore == 2.5);
        Assert.Equal(opened.Alert.Id, update.Alert.Id);
        Assert.Equal(AlertState.Acknowledged, update.Alert.State);

        Reopen();
        var resolved = Assert.Single(Feed(112, Repeat(0.1, 61)));
        Assert.Equal((AlertEventKind.Resolved, opened.Alert.Id, DriftAlert.AutoResolver), (resolved.Kind, resolved.Alert.Id, resolved.Alert.ResolvedBy));
        Assert.Single(_store.List(new AlertFilter()));
        Assert.Empty(_store.Episodes());
    }

    [Fact]
    public void The_rate_limit_survives_reopening_the_store()
    {
        for (var episode = 0; episode < 6; episode++)
        {
            Feed(episode * 76, Repeat(1.5, 15));
            Feed(episode * 76 + 15, Repeat(0.1, 61));
        }

        Reopen();
        var events = Feed(6 * 76, Repeat(1.5, 15));
        Assert.DoesNotContain(events, e => e.Kind == AlertEventKind.Opened);
        Assert.Equal(1, Assert.Single(events).Alert.SuppressedEpisodes);
    }

    [Fact]
    public void Each_detector_of_a_line_has_its_own_episode()
    {
        var pca = Feed(0, Repeat(1.5, 11));
        var physics = new List<AlertEvent>();
        for (var s = 0; s < 11; s++)
        {
            physics.AddRange(_engine.Observe(Line, Authority.Physics, "physics", null, T0.AddSeconds(s), 1.5, Usual));
        }

        Assert.Single(pca, e => e.Kind == AlertEventKind.Opened);
        var alert = Assert.Single(physics, e => e.Kind == AlertEventKind.Opened).Alert;
        Assert.Equal((Authority.Physics, "physics", (string?)null), (alert.Authority, alert.Detector, alert.ModelVersion));
    }

    [Fact]
    public void Scores_out_of_time_order_are_refused()
    {
        Feed(10, [0.5]);
        var error = Assert.Throws<ArgumentException>(() => Feed(9, [0.5]));
        Assert.Contains("time order", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unusable_rules_are_refused_naming_each_field()
    {
        var error = Assert.Throws<ArgumentException>(() => new AlertEngine(_store, new AlertRules { ClearLevel = 1.2, MaxAlertsPerHour = 0, HoldTime = TimeSpan.FromSeconds(-1) }));
        Assert.Contains("ClearLevel (1.2)", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxAlertsPerHour (0)", error.Message, StringComparison.Ordinal);
        Assert.Contains("HoldTime", error.Message, StringComparison.Ordinal);
        Assert.Empty(AlertRules.Default.Problems());
    }

    // DriftAlert compares its contributors (an ImmutableArray) by reference; compare them as sequences.
    private static void AssertSame(DriftAlert expected, DriftAlert actual)
    {
        Assert.Equal(expected with { Contributors = [] }, actual with { Contributors = [] });
        Assert.Equal(expected.Contributors.ToArray(), actual.Contributors.ToArray());
    }

    private void Reopen()
    {
        _store.Dispose();
        _store = SqliteAlertStore.Open(_folder.Database);
        _engine = new AlertEngine(_store);
    }

    private List<AlertEvent> Observe(int second, double score, IReadOnlyList<AlertContributor> contributors) =>
        [.. _engine.Observe(Line, Authority.Statistical, "pca", "3", T0.AddSeconds(second), score, contributors)];

    private List<AlertEvent> Feed(int firstSecond, IEnumerable<double> scores) => FeedOn(Line, firstSecond, scores);

    private List<AlertEvent> FeedOn(string line, int firstSecond, IEnumerable<double> scores)
    {
        var events = new List<AlertEvent>();
        var s = firstSecond;
        foreach (var score in scores)
        {
            events.AddRange(_engine.Observe(line, Authority.Statistical, "pca", "3", T0.AddSeconds(s++), score, Usual));
        }

        return events;
    }

    private static IEnumerable<double> Repeat(double score, int seconds) => Enumerable.Repeat(score, seconds);
}
