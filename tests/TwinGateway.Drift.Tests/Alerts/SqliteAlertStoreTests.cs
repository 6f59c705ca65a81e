using Microsoft.Data.Sqlite;
using TwinGateway.Core;
using TwinGateway.Core.Alerts;
using TwinGateway.Drift.Alerts;

namespace TwinGateway.Drift.Tests.Alerts;

public sealed class SqliteAlertStoreTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 3, 8, 0, 0, TimeSpan.Zero);
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Alerts_round_trip_and_list_filters_by_line_state_since_and_limit()
    {
        using (var store = SqliteAlertStore.Open(_folder.Database))
        {
            var first = store.Insert(Alert("press-1", T0, AlertState.Open));
            var second = store.Insert(Alert("press-1", T0.AddHours(1), AlertState.Open));
            store.Insert(Alert("press-2", T0.AddHours(2), AlertState.Open));
            Assert.Equal([1L, 2L], [first.Id, second.Id]);
            store.Update(first with { State = AlertState.Resolved, ResolvedBy = "bob", ResolvedAt = T0.AddMinutes(3), ResolveNote = "done", SuppressedEpisodes = 2 });
        }

        using var reopened = SqliteAlertStore.Open(_folder.Database);
        var read = reopened.Get(1)!;
        Assert.Equal((AlertState.Resolved, "bob", "done", T0.AddMinutes(3), 2), (read.State, read.ResolvedBy, read.ResolveNote, read.ResolvedAt, read.SuppressedEpisodes));
        Assert.Equal([new AlertContributor("temp:residual", 0.75, 81.5, null), new AlertContributor("force", 0.25, null, 9.5)], read.Contributors.ToArray());
        Assert.Equal((Authority.Statistical, "autoencoder", "2", 2.25), (read.Authority, read.Detector, read.ModelVersion, read.PeakScore));
        Assert.Null(reopened.Get(42));

        Assert.Equal([2L, 1L], reopened.List(new AlertFilter(Line: "press-1")).Select(a => a.Id));
        Assert.Equal([3L, 2L], reopened.List(new AlertFilter(State: AlertState.Open)).Select(a => a.Id));
        Assert.Equal([3L, 2L], reopened.List(new AlertFilter(Since: T0.AddMinutes(30))).Select(a => a.Id));
        Assert.Equal([3L], reopened.List(new AlertFilter(Limit: 1)).Select(a => a.Id));

        var missing = Assert.Throws<AlertStoreException>(() => reopened.Update(read with { Id = 42 }));
        Assert.Contains("alert 42 is not in the drift alert store", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_store_keeps_its_schema_version_in_its_own_table_and_refuses_a_newer_one()
    {
        using (SqliteAlertStore.Open(_folder.Database))
        {
        }

        using (var connection = new SqliteConnection($"Data Source={_folder.Database};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT version FROM drift_schema WHERE component = 'alerts'; ";
            Assert.Equal(1L, command.ExecuteScalar());
            command.CommandText = "PRAGMA user_version";
            Assert.Equal(0L, command.ExecuteScalar());  // the file's owner (the change store) keeps user_version
            command.CommandText = "PRAGMA journal_mode";
            Assert.Equal("wal", command.ExecuteScalar());
            command.CommandText = "UPDATE drift_schema SET version = 9 WHERE component = 'alerts'";
            command.ExecuteNonQuery();
        }

        var error = Assert.Throws<AlertStoreException>(() => SqliteAlertStore.Open(_folder.Database));
        Assert.Contains("schema version 9, newer than this twingw's 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_is_not_a_database_is_refused_naming_it()
    {
        File.WriteAllText(_folder.Database, "this is not a database, just text that is long enough to fill a page header ...");
        var error = Assert.Throws<AlertStoreException>(() => SqliteAlertStore.Open(_folder.Database));
        Assert.Contains(_folder.Database, error.Message, StringComparison.Ordinal);
    }

    private static DriftAlert Alert(string line, DateTimeOffset onset, AlertState state) => new()
    {
        Line = line,
        Authority = Authority.Statistical,
        Detector = "autoencoder",
        ModelVersion = "2",
        Severity = AlertSeverity.Critical,
        State = state,
        Onset = onset,
        LastSeen = onset.AddMinutes(1),
        PeakScore = 2.25,
        Contributors = [new("temp:residual", 0.75, 81.5, null), new("force", 0.25, null, 9.5)],
        PlotLink = "/lines/" + line,
    };
}
