using System.Collections.Immutable;
using Microsoft.Data.Sqlite;
using TwinGateway.Core;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Identity;

namespace TwinGateway.Commissioning.Store;

/// <summary>
/// <see cref="IChangeStore"/> on SQLite: <c>changes.db</c> in the data folder, WAL, synchronous FULL (an apply step is
/// on disk before the gateway acts on it), one connection serialised by a gate. Times are stored as UTC ticks.
/// </summary>
public sealed class SqliteChangeStore : IChangeStore
{
    public const string FileName = "changes.db";

    private const int SchemaVersion = 1;

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS changes (
            id TEXT PRIMARY KEY,
            line TEXT NOT NULL,
            title TEXT NOT NULL,
            state INTEGER NOT NULL,
            class INTEGER NOT NULL,
            class_reasons TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            submitter TEXT NOT NULL,
            submitted_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            spec TEXT NOT NULL,
            evidence TEXT,
            evidence_hash TEXT,
            outcome TEXT,
            version INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS changes_line ON changes(line, submitted_at);
        CREATE TABLE IF NOT EXISTS approvals (
            change_id TEXT NOT NULL REFERENCES changes(id),
            user TEXT NOT NULL,
            roles TEXT NOT NULL,
            authority INTEGER NOT NULL,
            comment TEXT,
            time INTEGER NOT NULL,
            content_hash TEXT NOT NULL,
            evidence_hash TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS approvals_change ON approvals(change_id);
        CREATE TABLE IF NOT EXISTS apply_journal (
            change_id TEXT NOT NULL REFERENCES changes(id),
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL,
            time INTEGER NOT NULL,
            detail TEXT NOT NULL,
            PRIMARY KEY (change_id, seq));
        """;

    private const string Columns = "id, line, title, state, class, class_reasons, content_hash, submitter, submitted_at, updated_at, spec, evidence, evidence_hash, outcome, version";

    private readonly SqliteConnection _connection;
    private readonly SemaphoreSlim _gate = new(1, 1);

    private SqliteChangeStore(SqliteConnection connection, string path)
    {
        _connection = connection;
        Path = path;
    }

    public string Path { get; }

    /// <summary>Opens (or creates) <c>changes.db</c> in <paramref name="dataFolder"/>.</summary>
    /// <exception cref="ChangeStoreException">The file is not a database, or one of a newer schema.</exception>
    public static Task<SqliteChangeStore> OpenAsync(string dataFolder, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataFolder);
        var path = System.IO.Path.GetFullPath(System.IO.Path.Combine(dataFolder, FileName));
        var connection = SqliteRecordFile.Open(path, "the change store", Schema, SchemaVersion, TimeSpan.FromSeconds(30),
            (message, inner) => inner is null ? new ChangeStoreException(message) : new ChangeStoreException(message, inner));
        return Task.FromResult(new SqliteChangeStore(connection, path));
    }

    public Task AddAsync(ChangeRecord change, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(change);
        return WithGate(async () =>
        {
            using var command = _connection.CreateCommand();
            command.CommandText = $"INSERT INTO changes ({Columns}) VALUES ($id, $line, $title, $state, $class, $reasons, $hash, $submitter, $submitted, $updated, $spec, $evidence, $evidenceHash, $outcome, $version)";
            Bind(command, change, change.Version);
            try
            {
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (SqliteException ex) when (ex.SqliteErrorCode == SQLitePCL.raw.SQLITE_CONSTRAINT)
            {
                throw new ChangeConflictException($"a change with id '{change.Id}' already exists", ex);
            }

            return 0;
        });
    }

    public Task<ChangeRecord?> GetAsync(string id, CancellationToken cancellationToken = default) => WithGate(async () =>
    {
        using var command = _connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM changes WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        var found = await ReadChangesAsync(command, cancellationToken).ConfigureAwait(false);
        return found.Count == 0 ? null : found[0];
    });

    public Task<IReadOnlyList<ChangeRecord>> ListAsync(string? lineId = null, IReadOnlyCollection<ChangeState>? states = null, CancellationToken cancellationToken = default) => WithGate(async () =>
    {
        using var command = _connection.CreateCommand();
        var where = new List<string>();
        if (!string.IsNullOrEmpty(lineId))
        {
            where.Add("line = $line");
            command.Parameters.AddWithValue("$line", lineId);
        }

        if (states is { Count: > 0 })
        {
            where.Add($"state IN ({string.Join(", ", states.Select(s => ((int)s).ToString(System.Globalization.CultureInfo.InvariantCulture)))})");
        }

        command.CommandText = $"SELECT {Columns} FROM changes{(where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "")} ORDER BY submitted_at DESC, id";
        return (IReadOnlyList<ChangeRecord>)await ReadChangesAsync(command, cancellationToken).ConfigureAwait(false);
    });

    public Task<ChangeRecord> UpdateAsync(ChangeRecord change, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(change);
        return WithGate(async () =>
        {
            var stored = change with { Version = expectedVersion + 1 };
            using var command = _connection.CreateCommand();
            command.CommandText = """
                UPDATE changes SET line = $line, title = $title, state = $state, class = $class, class_reasons = $reasons,
                    content_hash = $hash, submitter = $submitter, submitted_at = $submitted, updated_at = $updated, spec = $spec,
                    evidence = $evidence, evidence_hash = $evidenceHash, outcome = $outcome, version = $version
                WHERE id = $id AND version = $expected
                """;
            Bind(command, stored, stored.Version);
            command.Parameters.AddWithValue("$expected", expectedVersion);
            var rows = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            if (rows != 1)
            {
                throw new ChangeConflictException($"change '{change.Id}' was updated by someone else (it is no longer at version {expectedVersion}); read it again");
            }

            return stored;
        });
    }

    public Task AddApprovalAsync(ApprovalRecord approval, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(approval);
        return WithGate(async () =>
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "INSERT INTO approvals (change_id, user, roles, authority, comment, time, content_hash, evidence_hash) VALUES ($change, $user, $roles, $authority, $comment, $time, $hash, $evidence)";
            command.Parameters.AddWithValue("$change", approval.ChangeId);
            command.Parameters.AddWithValue("$user", approval.User);
            command.Parameters.AddWithValue("$roles", string.Join(',', approval.Roles.Select(r => r.ToText())));
            command.Parameters.AddWithValue("$authority", (int)approval.Authority);
            command.Parameters.AddWithValue("$comment", (object?)approval.Comment ?? DBNull.Value);
            command.Parameters.AddWithValue("$time", approval.Time.UtcTicks);
            command.Parameters.AddWithValue("$hash", approval.ContentHash);
            command.Parameters.AddWithValue("$evidence", approval.EvidenceHash);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        });
    }

    public Task<IReadOnlyList<ApprovalRecord>> GetApprovalsAsync(string changeId, CancellationToken cancellationToken = default) => WithGate(async () =>
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT change_id, user, roles, authority, comment, time, content_hash, evidence_hash FROM approvals WHERE change_id = $change ORDER BY rowid";
        command.Parameters.AddWithValue("$change", changeId);
        var list = new List<ApprovalRecord>();
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var roles = reader.GetString(2).Split(',', StringSplitOptions.RemoveEmptyEntries)
                    .Select(t => Roles.TryParse(t, out var r) ? r : (Role?)null).OfType<Role>().ToImmutableArray();
                list.Add(new ApprovalRecord(reader.GetString(0), reader.GetString(1), roles, (Authority)reader.GetInt64(3),
                    reader.IsDBNull(4) ? null : reader.GetString(4), new DateTimeOffset(reader.GetInt64(5), TimeSpan.Zero),
                    reader.GetString(6), reader.GetString(7)));
            }
        }

        return (IReadOnlyList<ApprovalRecord>)list;
    });

    public Task<JournalEntry> AppendJournalAsync(string changeId, string kind, DateTimeOffset time, string detailJson, CancellationToken cancellationToken = default) => WithGate(async () =>
    {
        using var command = _connection.CreateCommand();
        command.CommandText = """
            INSERT INTO apply_journal (change_id, seq, kind, time, detail)
            VALUES ($change, (SELECT COALESCE(MAX(seq), 0) + 1 FROM apply_journal WHERE change_id = $change), $kind, $time, $detail)
            RETURNING seq
            """;
        command.Parameters.AddWithValue("$change", changeId);
        command.Parameters.AddWithValue("$kind", kind);
        command.Parameters.AddWithValue("$time", time.UtcTicks);
        command.Parameters.AddWithValue("$detail", detailJson);
        var seq = (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        return new JournalEntry(changeId, seq, kind, time, detailJson);
    });

    public Task<IReadOnlyList<JournalEntry>> GetJournalAsync(string changeId, CancellationToken cancellationToken = default) => WithGate(async () =>
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT change_id, seq, kind, time, detail FROM apply_journal WHERE change_id = $change ORDER BY seq";
        command.Parameters.AddWithValue("$change", changeId);
        var list = new List<JournalEntry>();
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                list.Add(new JournalEntry(reader.GetString(0), reader.GetInt64(1), reader.GetString(2), new DateTimeOffset(reader.GetInt64(3), TimeSpan.Zero), reader.GetString(4)));
            }
        }

        return (IReadOnlyList<JournalEntry>)list;
    });

    private async Task<T> WithGate<T>(Func<Task<T>> body)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (SqliteException ex)
        {
            throw new ChangeStoreException($"the change store '{Path}' failed: {ex.Message}", ex);
        }
        finally
        {
            _gate.Release();
        }
    }

    private static void Bind(SqliteCommand command, ChangeRecord change, long version)
    {
        command.Parameters.AddWithValue("$id", change.Id);
        command.Parameters.AddWithValue("$line", change.LineId);
        command.Parameters.AddWithValue("$title", change.Title);
        command.Parameters.AddWithValue("$state", (int)change.State);
        command.Parameters.AddWithValue("$class", (int)change.Class);
        command.Parameters.AddWithValue("$reasons", string.Join('\n', change.ClassReasons));
        command.Parameters.AddWithValue("$hash", change.ContentHash);
        command.Parameters.AddWithValue("$submitter", change.Submitter);
        command.Parameters.AddWithValue("$submitted", change.SubmittedAt.UtcTicks);
        command.Parameters.AddWithValue("$updated", change.UpdatedAt.UtcTicks);
        command.Parameters.AddWithValue("$spec", change.SpecJson);
        command.Parameters.AddWithValue("$evidence", (object?)change.EvidenceJson ?? DBNull.Value);
        command.Parameters.AddWithValue("$evidenceHash", (object?)change.EvidenceHash ?? DBNull.Value);
        command.Parameters.AddWithValue("$outcome", (object?)change.Outcome ?? DBNull.Value);
        command.Parameters.AddWithValue("$version", version);
    }

    private static async Task<List<ChangeRecord>> ReadChangesAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        var list = new List<ChangeRecord>();
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                list.Add(new ChangeRecord
                {
                    Id = reader.GetString(0),
                    LineId = reader.GetString(1),
                    Title = reader.GetString(2),
                    State = (ChangeState)reader.GetInt64(3),
                    Class = (ChangeClass)reader.GetInt64(4),
                    ClassReasons = [.. reader.GetString(5).Split('\n', StringSplitOptions.RemoveEmptyEntries)],
                    ContentHash = reader.GetString(6),
                    Submitter = reader.GetString(7),
                    SubmittedAt = new DateTimeOffset(reader.GetInt64(8), TimeSpan.Zero),
                    UpdatedAt = new DateTimeOffset(reader.GetInt64(9), TimeSpan.Zero),
                    SpecJson = reader.GetString(10),
                    EvidenceJson = reader.IsDBNull(11) ? null : reader.GetString(11),
                    EvidenceHash = reader.IsDBNull(12) ? null : reader.GetString(12),
                    Outcome = reader.IsDBNull(13) ? null : reader.GetString(13),
                    Version = reader.GetInt64(14),
                });
            }
        }

        return list;
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
            _gate.Dispose();
        }
    }
}
