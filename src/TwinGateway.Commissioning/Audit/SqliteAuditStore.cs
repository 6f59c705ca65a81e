using Microsoft.Data.Sqlite;
using TwinGateway.Core;

namespace TwinGateway.Commissioning.Audit;

/// <summary>
/// The audit chain in SQLite: one file, <c>audit.db</c> in the data folder, WAL, <c>synchronous=FULL</c> (an entry
/// that was acknowledged survives a power cut). Appends are serialised by the database, not only in this process:
/// each runs in a <c>BEGIN IMMEDIATE</c> transaction that checks the expected head, <c>seq</c> is the primary key (unique),
/// and a trigger refuses a row whose sequence is not the head's + 1 or whose previous hash is not the head's hash.
/// Two more triggers refuse UPDATE and DELETE: defence in depth only, since anyone with the file can drop them, which
/// is why verification never trusts the store.
/// </summary>
public sealed class SqliteAuditStore : IAuditStore
{
    public const string FileName = "audit.db";

    private const string Columns = "seq, time_ticks, line_id, change_id, kind, actor, authority, payload, previous_hash, hash, signature";

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS audit_entries (
            seq           INTEGER PRIMARY KEY CHECK (seq >= 1),
            time_ticks    INTEGER NOT NULL,
            line_id       TEXT    NOT NULL,
            change_id     TEXT,
            kind          INTEGER NOT NULL,
            actor         TEXT    NOT NULL,
            authority     INTEGER NOT NULL,
            payload       TEXT    NOT NULL,
            previous_hash BLOB    NOT NULL,
            hash          BLOB    NOT NULL,
            signature     BLOB    NOT NULL
        );
        CREATE TRIGGER IF NOT EXISTS audit_entries_chain BEFORE INSERT ON audit_entries
        BEGIN
            SELECT RAISE(ABORT, 'audit chain: the sequence is not the head''s + 1')
             WHERE NEW.seq IS NOT COALESCE((SELECT MAX(seq) FROM audit_entries), 0) + 1;
            SELECT RAISE(ABORT, 'audit chain: the previous hash is not the head''s hash')
             WHERE NEW.previous_hash IS NOT COALESCE((SELECT hash FROM audit_entries ORDER BY seq DESC LIMIT 1), zeroblob(32));
        END;
        CREATE TRIGGER IF NOT EXISTS audit_entries_no_update BEFORE UPDATE ON audit_entries
        BEGIN
            SELECT RAISE(ABORT, 'audit entries are append-only');
        END;
        CREATE TRIGGER IF NOT EXISTS audit_entries_no_delete BEFORE DELETE ON audit_entries
        BEGIN
            SELECT RAISE(ABORT, 'audit entries are append-only');
        END;
        """;

    private readonly SqliteConnection _connection;
    private readonly SemaphoreSlim _gate = new(1, 1);

    private SqliteAuditStore(SqliteConnection connection, string path)
    {
        _connection = connection;
        Path = path;
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <summary>Opens (or creates) <c>audit.db</c> in <paramref name="dataFolder"/>.</summary>
    /// <param name="dataFolder">The gateway's data folder (created when missing).</param>
    /// <param name="busyTimeout">How long an append waits for another writer's transaction before it fails with a
    /// retry-able <see cref="AuditAppendConflictException"/> (default 30 s).</param>
    /// <param name="cancellationToken">Cancels the open.</param>
    public static async Task<SqliteAuditStore> OpenAsync(string dataFolder, TimeSpan? busyTimeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataFolder);
        Directory.CreateDirectory(dataFolder);
        var path = System.IO.Path.Combine(dataFolder, FileName);
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,

            // One connection for the store's lifetime; no pool, so disposing the store really closes the file.
            Pooling = false,
            DefaultTimeout = (int)Math.Ceiling((busyTimeout ?? TimeSpan.FromSeconds(30)).TotalSeconds),
        };
        var connection = new SqliteConnection(builder.ToString());
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, Schema, cancellationToken).ConfigureAwait(false);
        }
        catch (SqliteException ex)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new AuditStoreException($"the audit store '{path}' cannot be opened: {ex.Message}", ex);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new SqliteAuditStore(connection, path);
    }

    public async Task AppendAsync(IReadOnlyList<AuditEntry> entries, long expectedPreviousSequence, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0)
        {
            return;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            SqliteTransaction transaction;
            try
            {
                // BEGIN IMMEDIATE: the write lock is taken now, so the head read below cannot change before the commit.
                transaction = _connection.BeginTransaction(deferred: false);
            }
            catch (SqliteException ex) when (ex.SqliteErrorCode is SQLitePCL.raw.SQLITE_BUSY or SQLitePCL.raw.SQLITE_LOCKED)
            {
                throw new AuditAppendConflictException($"the audit store '{Path}' stayed locked by another writer: {ex.Message}", ex);
            }

            await using (transaction.ConfigureAwait(false))
            {
                using (var head = _connection.CreateCommand())
                {
                    head.Transaction = transaction;
                    head.CommandText = "SELECT COALESCE(MAX(seq), 0) FROM audit_entries";
                    var actual = (long)(await head.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
                    if (actual != expectedPreviousSequence)
                    {
                        throw new AuditAppendConflictException(
                            $"the audit chain's head is entry {actual}, not {expectedPreviousSequence}: another writer appended first");
                    }
                }

                using var insert = _connection.CreateCommand();
                insert.Transaction = transaction;
                insert.CommandText = $"INSERT INTO audit_entries ({Columns}) VALUES ($seq, $time, $line, $change, $kind, $actor, $authority, $payload, $previous, $hash, $signature)";
                var seq = insert.Parameters.Add("$seq", SqliteType.Integer);
                var time = insert.Parameters.Add("$time", SqliteType.Integer);
                var line = insert.Parameters.Add("$line", SqliteType.Text);
                var change = insert.Parameters.Add("$change", SqliteType.Text);
                var kind = insert.Parameters.Add("$kind", SqliteType.Integer);
                var actor = insert.Parameters.Add("$actor", SqliteType.Text);
                var authority = insert.Parameters.Add("$authority", SqliteType.Integer);
                var payload = insert.Parameters.Add("$payload", SqliteType.Text);
                var previous = insert.Parameters.Add("$previous", SqliteType.Blob);
                var hash = insert.Parameters.Add("$hash", SqliteType.Blob);
                var signature = insert.Parameters.Add("$signature", SqliteType.Blob);
                foreach (var entry in entries)
                {
                    seq.Value = entry.Sequence;
                    time.Value = AuditEncoding.ToUnixTicks(entry.Time);
                    line.Value = entry.LineId;
                    change.Value = (object?)entry.ChangeId ?? DBNull.Value;
                    kind.Value = (int)entry.Kind;
                    actor.Value = entry.Actor;
                    authority.Value = (int)entry.Authority;
                    payload.Value = entry.Payload;
                    previous.Value = entry.PreviousHash.ToArray();
                    hash.Value = entry.Hash.ToArray();
                    signature.Value = entry.Signature.ToArray();
                    try
                    {
                        await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }
                    catch (SqliteException ex) when (ex.SqliteErrorCode == SQLitePCL.raw.SQLITE_CONSTRAINT)
                    {
                        throw new AuditAppendConflictException($"entry {entry.Sequence} was refused by the audit store: {ex.Message}", ex);
                    }
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode is SQLitePCL.raw.SQLITE_BUSY or SQLitePCL.raw.SQLITE_LOCKED)
        {
            throw new AuditAppendConflictException($"the audit store '{Path}' stayed locked by another writer: {ex.Message}", ex);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<IReadOnlyList<AuditEntry>> ReadAsync(long fromSequence, int maxCount, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxCount);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = $"SELECT {Columns} FROM audit_entries WHERE seq >= $from ORDER BY seq LIMIT $count";
            command.Parameters.AddWithValue("$from", fromSequence);
            command.Parameters.AddWithValue("$count", maxCount);
            var entries = new List<AuditEntry>(Math.Min(maxCount, 4096));
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    entries.Add(ReadEntry(reader));
                }
            }

            return entries;
        }
        catch (SqliteException ex)
        {
            throw new AuditStoreException($"the audit store '{Path}' cannot be read from entry {fromSequence}: {ex.Message}", ex);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<long> CountAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM audit_entries";
            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<AuditEntry?> GetHeadAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = $"SELECT {Columns} FROM audit_entries ORDER BY seq DESC LIMIT 1";
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadEntry(reader) : null;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private static AuditEntry ReadEntry(SqliteDataReader reader) => new(
        Sequence: reader.GetInt64(0),
        Time: AuditEncoding.FromUnixTicks(reader.GetInt64(1)),
        LineId: reader.GetString(2),
        ChangeId: reader.IsDBNull(3) ? null : reader.GetString(3),
        Kind: (AuditEventKind)reader.GetInt64(4),
        Actor: reader.GetString(5),
        Authority: (Authority)reader.GetInt64(6),
        Payload: reader.GetString(7),
        PreviousHash: GetBytes(reader, 8),
        Hash: GetBytes(reader, 9),
        Signature: GetBytes(reader, 10));

    // A tampered row may hold text or NULL where a hash belongs; it must still read so that verification can name it.
    private static byte[] GetBytes(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? [] : reader.GetFieldValue<byte[]>(ordinal);

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
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
