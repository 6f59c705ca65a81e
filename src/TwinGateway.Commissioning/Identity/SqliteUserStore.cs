using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using TwinGateway.Core.Identity;

namespace TwinGateway.Commissioning.Identity;

/// <summary>
/// Users and token hashes in SQLite: <c>users.db</c> in the data folder, WAL (the gateway reads while
/// <c>twingw users add</c> writes from another process), <c>synchronous=FULL</c>. Nothing is cached: every token
/// lookup is one indexed query (tens of microseconds), so a removed user's token fails on the next call.
/// </summary>
public sealed class SqliteUserStore : IUserStore
{
    public const string FileName = "users.db";

    /// <summary><c>PRAGMA user_version</c> of the schema below; a newer file is refused rather than misread.</summary>
    private const int SchemaVersion = 1;

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS users (
            name            TEXT    NOT NULL PRIMARY KEY COLLATE NOCASE,
            roles           TEXT    NOT NULL CHECK (length(roles) > 0),
            created_ticks   INTEGER NOT NULL,
            token_hash      BLOB    NOT NULL UNIQUE CHECK (length(token_hash) = 32),
            token_prefix    TEXT    NOT NULL,
            last_used_ticks INTEGER
        );
        """;

    private const string Columns = "name, roles, created_ticks, token_prefix, last_used_ticks";

    /// <summary>
    /// Last use is written at most this often per user: a write per call would put an fsync (synchronous=FULL) on
    /// every RPC, and a minute is as precise as "when was this token last used" needs to be.
    /// </summary>
    private static readonly TimeSpan s_lastUsedResolution = TimeSpan.FromMinutes(1);

    private readonly SqliteConnection _connection;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);

    private SqliteUserStore(SqliteConnection connection, string path, TimeProvider time)
    {
        _connection = connection;
        _time = time;
        Path = path;
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <summary>
    /// Opens (or creates) <c>users.db</c> in <paramref name="dataFolder"/>. Synchronous: Microsoft.Data.Sqlite's
    /// async methods run synchronously anyway, and the host opens the store while it is being built.
    /// </summary>
    /// <param name="dataFolder">The gateway's data folder (created when missing).</param>
    /// <param name="time">The clock of created and last-used times (the system's by default).</param>
    /// <param name="busyTimeout">How long a write waits for another process's transaction (default 30 s).</param>
    /// <exception cref="UserStoreException">The file cannot be opened or was written by a newer twingw.</exception>
    public static SqliteUserStore Open(string dataFolder, TimeProvider? time = null, TimeSpan? busyTimeout = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataFolder);
        var path = System.IO.Path.GetFullPath(System.IO.Path.Combine(dataFolder, FileName));
        var connection = SqliteRecordFile.Open(path, "the user store", Schema, SchemaVersion, busyTimeout ?? TimeSpan.FromSeconds(30),
            (message, inner) => inner is null ? new UserStoreException(message) : new UserStoreException(message, inner));
        return new SqliteUserStore(connection, path, time ?? TimeProvider.System);
    }

    public async Task<NewUser> AddAsync(string name, IReadOnlyCollection<Role> roles, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(roles);
        if (UserNames.Problem(name) is { } problem)
        {
            throw new UserRefusedException(problem);
        }

        if (roles.Count == 0)
        {
            throw new UserRefusedException($"the user '{name}' needs at least one role ({string.Join(", ", Roles.All.Select(r => r.ToText()))})");
        }

        ImmutableArray<Role> sorted = [.. roles.Distinct().Order()];
        var token = ApiTokens.Create();
        var user = new UserRecord(name, sorted, Truncate(_time.GetUtcNow()), ApiTokens.DisplayPrefix(token), null);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var insert = _connection.CreateCommand();
            insert.CommandText = "INSERT INTO users (name, roles, created_ticks, token_hash, token_prefix) VALUES ($name, $roles, $created, $hash, $prefix)";
            insert.Parameters.AddWithValue("$name", name);
            insert.Parameters.AddWithValue("$roles", RolesText(sorted));
            insert.Parameters.AddWithValue("$created", user.Created.UtcTicks);
            insert.Parameters.AddWithValue("$hash", ApiTokens.Hash(token));
            insert.Parameters.AddWithValue("$prefix", user.TokenPrefix);
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode == SQLitePCL.raw.SQLITE_CONSTRAINT)
        {
            // The only constraint a valid request can break is the name's uniqueness (a token hash colliding is 2^-128).
            throw new UserRefusedException($"a user named '{name}' already exists (names are compared without case); remove it first with `twingw users remove {name}` or pick another name");
        }
        catch (SqliteException ex)
        {
            throw new UserStoreException($"the user store '{Path}' cannot add '{name}': {ex.Message}", ex);
        }
        finally
        {
            _gate.Release();
        }

        return new NewUser(user, token);
    }

    public async Task<IReadOnlyList<UserRecord>> ListAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = $"SELECT {Columns} FROM users ORDER BY name";
            var users = new List<UserRecord>();
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    users.Add(ReadUser(reader));
                }
            }

            return users;
        }
        catch (SqliteException ex)
        {
            throw new UserStoreException($"the user store '{Path}' cannot be read: {ex.Message}", ex);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<bool> RemoveAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var delete = _connection.CreateCommand();
            delete.CommandText = "DELETE FROM users WHERE name = $name";
            delete.Parameters.AddWithValue("$name", name);
            return await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }
        catch (SqliteException ex)
        {
            throw new UserStoreException($"the user store '{Path}' cannot remove '{name}': {ex.Message}", ex);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<UserRecord?> FindByTokenAsync(string token, CancellationToken cancellationToken = default)
    {
        if (!ApiTokens.IsWellFormed(token))
        {
            return null;
        }

        var hash = ApiTokens.Hash(token);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            UserRecord user;
            using (var find = _connection.CreateCommand())
            {
                // The index lookup compares hashes in variable time; that is safe because what it could leak is
                // about the SHA-256 of the caller's own guess, and learning a stored hash does not give the token.
                // The fixed-time comparison below is the usual belt to those braces.
                find.CommandText = $"SELECT {Columns}, token_hash FROM users WHERE token_hash = $hash";
                find.Parameters.AddWithValue("$hash", hash);
                var reader = await find.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                        || !CryptographicOperations.FixedTimeEquals(reader.GetFieldValue<byte[]>(5), hash))
                    {
                        return null;
                    }

                    user = ReadUser(reader);
                }
            }

            var now = Truncate(_time.GetUtcNow());
            if (user.LastUsed is not { } last || now - last >= s_lastUsedResolution)
            {
                using var touch = _connection.CreateCommand();
                touch.CommandText = "UPDATE users SET last_used_ticks = $now WHERE token_hash = $hash";
                touch.Parameters.AddWithValue("$now", now.UtcTicks);
                touch.Parameters.AddWithValue("$hash", hash);
                await touch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                user = user with { LastUsed = now };
            }

            return user;
        }
        catch (SqliteException ex)
        {
            throw new UserStoreException($"the user store '{Path}' cannot be read to check a token: {ex.Message}", ex);
        }
        finally
        {
            _gate.Release();
        }
    }

    private UserRecord ReadUser(SqliteDataReader reader)
    {
        var name = reader.GetString(0);
        var roles = ImmutableArray.CreateBuilder<Role>();
        foreach (var text in reader.GetString(1).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            roles.Add(Roles.TryParse(text, out var role)
                ? role
                : throw new UserStoreException($"the user store '{Path}' gives user '{name}' the unknown role '{text}'; remove the user and add it again"));
        }

        return new UserRecord(
            name,
            roles.ToImmutable(),
            new DateTimeOffset(reader.GetInt64(2), TimeSpan.Zero),
            reader.GetString(3),
            reader.IsDBNull(4) ? null : new DateTimeOffset(reader.GetInt64(4), TimeSpan.Zero));
    }

    private static string RolesText(IEnumerable<Role> roles) => string.Join(",", roles.Select(r => r.ToText()));

    /// <summary>To the millisecond, so a time reads back equal to the one written.</summary>
    private static DateTimeOffset Truncate(DateTimeOffset time) => new(time.UtcTicks - (time.UtcTicks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);

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
