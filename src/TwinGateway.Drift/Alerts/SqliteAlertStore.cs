using System.Collections.Immutable;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using TwinGateway.Core;
using TwinGateway.Core.Alerts;

namespace TwinGateway.Drift.Alerts;

/// <summary>
/// <see cref="IAlertStore"/> on SQLite: tables <c>drift_alerts</c> and <c>drift_alert_episodes</c> in the record file the
/// host names (the gateway's <c>changes.db</c>), opened as <see cref="DriftRecordFile"/> describes; one connection
/// serialised by a lock. Times are stored as UTC ticks, contributors as JSON.
/// </summary>
public sealed class SqliteAlertStore : IAlertStore, IDisposable
{
    private const string Component = "alerts";

    private const int SchemaVersion = 1;

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS drift_alerts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            line TEXT NOT NULL,
            authority INTEGER NOT NULL,
            detector TEXT NOT NULL,
            model_version TEXT,
            severity INTEGER NOT NULL,
            state INTEGER NOT NULL,
            onset INTEGER NOT NULL,
            last_seen INTEGER NOT NULL,
            peak REAL NOT NULL,
            contributors TEXT NOT NULL,
            acknowledged_by TEXT,
            acknowledged_at INTEGER,
            acknowledge_note TEXT,
            resolved_by TEXT,
            resolved_at INTEGER,
            resolve_note TEXT,
            plot_link TEXT NOT NULL,
            suppressed_episodes INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS drift_alerts_line ON drift_alerts(line, onset);
        CREATE TABLE IF NOT EXISTS drift_alert_episodes (
            line TEXT NOT NULL,
            authority INTEGER NOT NULL,
            detector TEXT NOT NULL,
            alert_id INTEGER REFERENCES drift_alerts(id),
            onset INTEGER NOT NULL,
            PRIMARY KEY (line, authority, detector));
        """;

    private const string Columns = "id, line, authority, detector, model_version, severity, state, onset, last_seen, peak, contributors, " +
        "acknowledged_by, acknowledged_at, acknowledge_note, resolved_by, resolved_at, resolve_note, plot_link, suppressed_episodes";

    private const string Values = "$line, $authority, $detector, $modelVersion, $severity, $state, $onset, $lastSeen, $peak, $contributors, " +
        "$ackBy, $ackAt, $ackNote, $resolvedBy, $resolvedAt, $resolveNote, $plotLink, $suppressed";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private readonly SqliteConnection _connection;
    private readonly Lock _lock = new();

    private SqliteAlertStore(SqliteConnection connection, string path)
    {
        _connection = connection;
        Path = path;
    }

    public string Path { get; }

    /// <summary>Opens (or creates) the alert tables in the record file <paramref name="path"/>.</summary>
    /// <exception cref="AlertStoreException">The file is not a database, its folder cannot be created, or its alert tables are of a newer schema.</exception>
    public static SqliteAlertStore Open(string path, TimeSpan? busyTimeout = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = System.IO.Path.GetFullPath(path);
        var connection = DriftRecordFile.Open(full, "the drift alert store", Component, Schema, SchemaVersion, busyTimeout ?? TimeSpan.FromSeconds(30),
            (message, inner) => inner is null ? new AlertStoreException(message) : new AlertStoreException(message, inner));
        return new SqliteAlertStore(connection, full);
    }

    public DriftAlert Insert(DriftAlert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        return Run("store a new alert", () =>
        {
            using var command = _connection.CreateCommand();
            command.CommandText = $"INSERT INTO drift_alerts ({Columns[4..]}) VALUES ({Values}) RETURNING id";
            Bind(command, alert);
            var id = (long)command.ExecuteScalar()!;
            return alert with { Id = id };
        });
    }

    public void Update(DriftAlert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        Run($"update alert {alert.Id}", () =>
        {
            UpdateIn(null, alert);
            return 0;
        });
    }

    public DriftAlert? Get(long id) => Run($"read alert {id}", () =>
    {
        using var command = _connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM drift_alerts WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        var found = Read(command);
        return found.Count == 0 ? null : found[0];
    });

    public IReadOnlyList<DriftAlert> List(AlertFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(filter.Limit, 1, nameof(filter));
        return Run("list alerts", () =>
        {
            using var command = _connection.CreateCommand();
            var where = new List<string>();
            if (filter.Line is not null)
            {
                where.Add("line = $line");
                command.Parameters.AddWithValue("$line", filter.Line);
            }

            if (filter.State is { } state)
            {
                where.Add("state = $state");
                command.Parameters.AddWithValue("$state", (int)state);
            }

            if (filter.Since is { } since)
            {
                where.Add("last_seen >= $since");
                command.Parameters.AddWithValue("$since", since.UtcTicks);
            }

            command.CommandText = $"SELECT {Columns} FROM drift_alerts{(where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "")} ORDER BY onset DESC, id DESC LIMIT $limit";
            command.Parameters.AddWithValue("$limit", filter.Limit);
            return (IReadOnlyList<DriftAlert>)Read(command);
        });
    }

    public DriftAlert? StartEpisode(AlertEpisode episode, DriftAlert? alert)
    {
        ArgumentNullException.ThrowIfNull(episode);
        return Run($"record the episode of '{episode.Detector}' on line '{episode.Line}'", () =>
        {
            using var transaction = _connection.BeginTransaction();
            DriftAlert? stored = null;
            if (alert is not null)
            {
                using var insert = _connection.CreateCommand();
                insert.Transaction = transaction;
                insert.CommandText = $"INSERT INTO drift_alerts ({Columns[4..]}) VALUES ({Values}) RETURNING id";
                Bind(insert, alert);
                stored = alert with { Id = (long)insert.ExecuteScalar()! };
            }

            using var command = _connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = """
                INSERT INTO drift_alert_episodes (line, authority, detector, alert_id, onset) VALUES ($line, $authority, $detector, $alert, $onset)
                    ON CONFLICT (line, authority, detector) DO UPDATE SET alert_id = excluded.alert_id, onset = excluded.onset
                """;
            command.Parameters.AddWithValue("$line", episode.Line);
            command.Parameters.AddWithValue("$authority", (int)episode.Authority);
            command.Parameters.AddWithValue("$detector", episode.Detector);
            command.Parameters.AddWithValue("$alert", (object?)stored?.Id ?? (object?)episode.AlertId ?? DBNull.Value);
            command.Parameters.AddWithValue("$onset", episode.Onset.UtcTicks);
            command.ExecuteNonQuery();
            transaction.Commit();
            return stored;
        });
    }

    public void EndEpisode(string line, Authority authority, string detector, DriftAlert? alert) => Run($"end the episode of '{detector}' on line '{line}'", () =>
    {
        using var transaction = _connection.BeginTransaction();
        if (alert is not null)
        {
            UpdateIn(transaction, alert);
        }

        using var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "DELETE FROM drift_alert_episodes WHERE line = $line AND authority = $authority AND detector = $detector";
        command.Parameters.AddWithValue("$line", line);
        command.Parameters.AddWithValue("$authority", (int)authority);
        command.Parameters.AddWithValue("$detector", detector);
        command.ExecuteNonQuery();
        transaction.Commit();
        return 0;
    });

    public IReadOnlyList<AlertEpisode> Episodes() => Run("read the open episodes", () =>
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT line, authority, detector, alert_id, onset FROM drift_alert_episodes ORDER BY line, authority, detector";
        using var reader = command.ExecuteReader();
        var list = new List<AlertEpisode>();
        while (reader.Read())
        {
            list.Add(new AlertEpisode(reader.GetString(0), (Authority)reader.GetInt32(1), reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetInt64(3), Time(reader.GetInt64(4))));
        }

        return (IReadOnlyList<AlertEpisode>)list;
    });

    public void Dispose() => _connection.Dispose();

    private void UpdateIn(SqliteTransaction? transaction, DriftAlert alert)
    {
        using var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            UPDATE drift_alerts SET line = $line, authority = $authority, detector = $detector, model_version = $modelVersion,
                severity = $severity, state = $state, onset = $onset, last_seen = $lastSeen, peak = $peak, contributors = $contributors,
                acknowledged_by = $ackBy, acknowledged_at = $ackAt, acknowledge_note = $ackNote, resolved_by = $resolvedBy,
                resolved_at = $resolvedAt, resolve_note = $resolveNote, plot_link = $plotLink, suppressed_episodes = $suppressed
            WHERE id = $id
            """;
        Bind(command, alert);
        command.Parameters.AddWithValue("$id", alert.Id);
        if (command.ExecuteNonQuery() != 1)
        {
            throw new AlertStoreException($"alert {alert.Id} is not in the drift alert store '{Path}'; only a stored alert can be updated");
        }
    }

    private static void Bind(SqliteCommand command, DriftAlert alert)
    {
        var p = command.Parameters;
        p.AddWithValue("$line", alert.Line);
        p.AddWithValue("$authority", (int)alert.Authority);
        p.AddWithValue("$detector", alert.Detector);
        p.AddWithValue("$modelVersion", (object?)alert.ModelVersion ?? DBNull.Value);
        p.AddWithValue("$severity", (int)alert.Severity);
        p.AddWithValue("$state", (int)alert.State);
        p.AddWithValue("$onset", alert.Onset.UtcTicks);
        p.AddWithValue("$lastSeen", alert.LastSeen.UtcTicks);
        p.AddWithValue("$peak", alert.PeakScore);
        p.AddWithValue("$contributors", JsonSerializer.Serialize(alert.Contributors.IsDefault ? [] : alert.Contributors, Json));
        p.AddWithValue("$ackBy", (object?)alert.AcknowledgedBy ?? DBNull.Value);
        p.AddWithValue("$ackAt", (object?)alert.AcknowledgedAt?.UtcTicks ?? DBNull.Value);
        p.AddWithValue("$ackNote", (object?)alert.AcknowledgeNote ?? DBNull.Value);
        p.AddWithValue("$resolvedBy", (object?)alert.ResolvedBy ?? DBNull.Value);
        p.AddWithValue("$resolvedAt", (object?)alert.ResolvedAt?.UtcTicks ?? DBNull.Value);
        p.AddWithValue("$resolveNote", (object?)alert.ResolveNote ?? DBNull.Value);
        p.AddWithValue("$plotLink", alert.PlotLink);
        p.AddWithValue("$suppressed", alert.SuppressedEpisodes);
    }

    private static List<DriftAlert> Read(SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        var list = new List<DriftAlert>();
        while (reader.Read())
        {
            list.Add(new DriftAlert
            {
                Id = reader.GetInt64(0),
                Line = reader.GetString(1),
                Authority = (Authority)reader.GetInt32(2),
                Detector = reader.GetString(3),
                ModelVersion = reader.IsDBNull(4) ? null : reader.GetString(4),
                Severity = (AlertSeverity)reader.GetInt32(5),
                State = (AlertState)reader.GetInt32(6),
                Onset = Time(reader.GetInt64(7)),
                LastSeen = Time(reader.GetInt64(8)),
                PeakScore = reader.GetDouble(9),
                Contributors = JsonSerializer.Deserialize<ImmutableArray<AlertContributor>>(reader.GetString(10), Json),
                AcknowledgedBy = reader.IsDBNull(11) ? null : reader.GetString(11),
                AcknowledgedAt = reader.IsDBNull(12) ? null : Time(reader.GetInt64(12)),
                AcknowledgeNote = reader.IsDBNull(13) ? null : reader.GetString(13),
                ResolvedBy = reader.IsDBNull(14) ? null : reader.GetString(14),
                ResolvedAt = reader.IsDBNull(15) ? null : Time(reader.GetInt64(15)),
                ResolveNote = reader.IsDBNull(16) ? null : reader.GetString(16),
                PlotLink = reader.GetString(17),
                SuppressedEpisodes = reader.GetInt32(18),
            });
        }

        return list;
    }

    private static DateTimeOffset Time(long utcTicks) => new(utcTicks, TimeSpan.Zero);

    private T Run<T>(string what, Func<T> action)
    {
        lock (_lock)
        {
            try
            {
                return action();
            }
            catch (SqliteException ex)
            {
                throw new AlertStoreException($"the drift alert store '{Path}' could not {what}: {ex.Message}", ex);
            }
        }
    }
}
