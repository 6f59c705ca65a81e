using System.Globalization;
using Microsoft.Data.Sqlite;

namespace TwinGateway.Drift.Alerts;

/// <summary>
/// How drift opens its tables in a gateway record file (the host passes <c>changes.db</c>, which the commissioning store
/// shares): one unpooled connection per store (disposing the store closes the file), WAL, <c>synchronous=FULL</c> (an
/// alert or a registry row is on disk before anyone acts on it), a busy timeout for the other writers of the file, and
/// a schema version per drift component in a table of drift's own (<c>drift_schema</c>): <c>PRAGMA user_version</c>
/// belongs to the file's owner. A component of a newer version is refused rather than misread. The alert store and
/// the model registry both open through here.
/// </summary>
internal static class DriftRecordFile
{
    /// <summary>Opens (or creates) <paramref name="path"/> and brings <paramref name="component"/>'s tables to <paramref name="schemaVersion"/>.</summary>
    /// <param name="path">The database file.</param>
    /// <param name="what">What the store is, for messages ("the drift alert store").</param>
    /// <param name="component">The component's row in <c>drift_schema</c> ("alerts", "models").</param>
    /// <param name="schema">Idempotent DDL (<c>CREATE ... IF NOT EXISTS</c>), table names prefixed <c>drift_</c>.</param>
    /// <param name="schemaVersion">The version that DDL is.</param>
    /// <param name="busyTimeout">How long a write waits for another connection's transaction.</param>
    /// <param name="fail">Makes the store's own exception from a message and the cause, when there is one.</param>
    public static SqliteConnection Open(string path, string what, string component, string schema, int schemaVersion, TimeSpan busyTimeout, Func<string, Exception?, Exception> fail)
    {
        var folder = Path.GetDirectoryName(path);
        try
        {
            if (!string.IsNullOrEmpty(folder))
            {
                Directory.CreateDirectory(folder);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw fail($"{what}'s folder '{folder}' cannot be created: {ex.Message}", ex);
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
            Execute(connection, string.Create(CultureInfo.InvariantCulture,
                $"PRAGMA busy_timeout = {(long)busyTimeout.TotalMilliseconds}; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"));
            Execute(connection, "CREATE TABLE IF NOT EXISTS drift_schema (component TEXT PRIMARY KEY, version INTEGER NOT NULL);");
            using var transaction = connection.BeginTransaction();
            using (var read = connection.CreateCommand())
            {
                read.Transaction = transaction;
                read.CommandText = "SELECT version FROM drift_schema WHERE component = $component";
                read.Parameters.AddWithValue("$component", component);
                if (read.ExecuteScalar() is { } found && Convert.ToInt32(found, CultureInfo.InvariantCulture) is var version && version > schemaVersion)
                {
                    throw fail($"{what} in '{path}' has schema version {version}, newer than this twingw's {schemaVersion}: run the twingw that wrote it, or a newer one", null);
                }
            }

            using (var write = connection.CreateCommand())
            {
                write.Transaction = transaction;
                write.CommandText = schema + """

                    INSERT INTO drift_schema (component, version) VALUES ($component, $version)
                        ON CONFLICT (component) DO UPDATE SET version = excluded.version;
                    """;
                write.Parameters.AddWithValue("$component", component);
                write.Parameters.AddWithValue("$version", schemaVersion);
                write.ExecuteNonQuery();
            }

            transaction.Commit();
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
