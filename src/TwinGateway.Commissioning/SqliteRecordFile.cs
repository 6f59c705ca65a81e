using System.Globalization;
using Microsoft.Data.Sqlite;

namespace TwinGateway.Commissioning;

/// <summary>
/// How the gateway's record files (<c>users.db</c>, <c>changes.db</c>) are opened: one unpooled connection for the store's
/// lifetime (disposing the store really closes the file), WAL, <c>synchronous=FULL</c> (a record is on disk before the
/// gateway acts on it), and a schema version in <c>PRAGMA user_version</c>: a file of a newer version is refused rather
/// than misread.
/// </summary>
internal static class SqliteRecordFile
{
    /// <summary>Opens (or creates) <paramref name="path"/> and brings its schema to <paramref name="schemaVersion"/>.</summary>
    /// <param name="path">The database file.</param>
    /// <param name="what">What the file is, for messages ("the user store").</param>
    /// <param name="schema">Idempotent DDL (<c>CREATE ... IF NOT EXISTS</c>).</param>
    /// <param name="schemaVersion">The version the schema is.</param>
    /// <param name="busyTimeout">How long a write waits for another process's transaction.</param>
    /// <param name="fail">Makes the store's own exception from a message (and the SQLite error, when there is one).</param>
    public static SqliteConnection Open(string path, string what, string schema, int schemaVersion, TimeSpan busyTimeout, Func<string, Exception?, Exception> fail)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw fail($"{what}'s folder '{Path.GetDirectoryName(path)}' cannot be created: {ex.Message}", ex);
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = (int)Math.Ceiling(busyTimeout.TotalSeconds),
        }.ToString());
        try
        {
            connection.Open();
            Execute(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
            using (var version = connection.CreateCommand())
            {
                version.CommandText = "PRAGMA user_version";
                var found = Convert.ToInt32(version.ExecuteScalar(), CultureInfo.InvariantCulture);
                if (found > schemaVersion)
                {
                    throw fail($"{what} '{path}' has schema version {found}, newer than this twingw's {schemaVersion}: run the twingw that wrote it, or a newer one", null);
                }
            }

            Execute(connection, schema + $"PRAGMA user_version = {schemaVersion};");
            return connection;
        }
        catch (SqliteException ex)
        {
            connection.Dispose();
            throw fail($"{what} '{path}' cannot be opened: {ex.Message}", ex);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
