using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using TwinGateway.Drift.Alerts;
using TwinGateway.Drift.Models;

namespace TwinGateway.Drift.Registry;

/// <summary>
/// The trained models of each line, by version (1, 2, ... per line), and which one is active. Files live under
/// <c>&lt;dataDir&gt;/models/&lt;line&gt;/&lt;version&gt;.onnx</c>, written to a temporary file, flushed to disk and then
/// moved into place, so a crash leaves either no file or a whole one; rows (card, SHA-256, who and when) live in the
/// tables <c>drift_models</c> and <c>drift_model_activations</c> of the record file the host names (the gateway's
/// <c>changes.db</c>). Activations are kept as history: the active model is a line's latest activation. Thread-safe;
/// a version is allocated in an immediate transaction, so two processes registering at once get different versions.
/// </summary>
public sealed partial class ModelRegistry : IDisposable
{
    private const string Component = "models";

    private const int SchemaVersion = 2;

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS drift_models (
            line TEXT NOT NULL,
            version INTEGER NOT NULL,
            kind TEXT NOT NULL,
            card TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            file TEXT NOT NULL,
            registered_by TEXT NOT NULL,
            registered_at INTEGER NOT NULL,
            PRIMARY KEY (line, version));
        CREATE TABLE IF NOT EXISTS drift_model_activations (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            line TEXT NOT NULL,
            version INTEGER NOT NULL,
            activated_by TEXT NOT NULL,
            activated_at INTEGER NOT NULL,
            FOREIGN KEY (line, version) REFERENCES drift_models(line, version));
        CREATE INDEX IF NOT EXISTS drift_model_activations_line ON drift_model_activations(line, seq);
        CREATE TABLE IF NOT EXISTS drift_model_requests (
            line TEXT NOT NULL,
            version INTEGER NOT NULL,
            requested_by TEXT NOT NULL,
            requested_at INTEGER NOT NULL,
            PRIMARY KEY (line, version),
            FOREIGN KEY (line, version) REFERENCES drift_models(line, version));
        CREATE TABLE IF NOT EXISTS drift_model_approvals (
            line TEXT NOT NULL,
            version INTEGER NOT NULL,
            approved_by TEXT NOT NULL,
            approved_at INTEGER NOT NULL,
            PRIMARY KEY (line, version, approved_by));
        """;

    private const string Columns = "line, version, card, sha256, size, file, registered_by, registered_at";

    private readonly SqliteConnection _connection;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();

    private ModelRegistry(SqliteConnection connection, string path, string dataDir, TimeProvider time)
    {
        _connection = connection;
        _time = time;
        Path = path;
        DataDir = dataDir;
    }

    /// <summary>The record file holding the rows.</summary>
    public string Path { get; }

    /// <summary>The data folder; model files are under its <c>models</c> folder.</summary>
    public string DataDir { get; }

    /// <summary>Opens (or creates) the registry's tables in <paramref name="databasePath"/>, with model files under <paramref name="dataDir"/>.</summary>
    /// <exception cref="ModelRegistryException">The file is not a database, or its registry tables are of a newer schema.</exception>
    public static ModelRegistry Open(string databasePath, string dataDir, TimeProvider? time = null, TimeSpan? busyTimeout = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(databasePath);
        ArgumentException.ThrowIfNullOrEmpty(dataDir);
        var path = System.IO.Path.GetFullPath(databasePath);
        var connection = DriftRecordFile.Open(path, "the model registry", Component, Schema, SchemaVersion, busyTimeout ?? TimeSpan.FromSeconds(30),
            (message, inner) => inner is null ? new ModelRegistryException(message) : new ModelRegistryException(message, inner));
        return new ModelRegistry(connection, path, System.IO.Path.GetFullPath(dataDir), time ?? TimeProvider.System);
    }

    /// <summary>
    /// Registers a new version of <paramref name="line"/>'s model. The registry picks the version, sets it (and the line)
    /// on <paramref name="card"/>, and calls <paramref name="export"/> with that final card, so the ONNX file's embedded
    /// card carries the version it is stored under (for example <c>model.ExportOnnx</c>).
    /// </summary>
    /// <exception cref="ArgumentException">The line is not usable as a folder name, the card names another line, or <paramref name="by"/> is empty.</exception>
    /// <exception cref="ModelRegistryException">The export gave no bytes, or the file or row cannot be written.</exception>
    public RegisteredModel Register(string line, ModelCard card, Func<ModelCard, byte[]> export, string by)
    {
        RequireLine(line);
        ArgumentNullException.ThrowIfNull(card);
        ArgumentNullException.ThrowIfNull(export);
        RequireUser(by, "register a model");
        if (card.Line.Length > 0 && card.Line != line)
        {
            throw new ArgumentException($"the model card is for line '{card.Line}', not '{line}'", nameof(card));
        }

        lock (_lock)
        {
            string? written = null;
            try
            {
                // BeginTransaction() is BEGIN IMMEDIATE: the version is allocated under the file's write lock.
                using var transaction = _connection.BeginTransaction();
                long version;
                using (var next = _connection.CreateCommand())
                {
                    next.Transaction = transaction;
                    next.CommandText = "SELECT COALESCE(MAX(version), 0) + 1 FROM drift_models WHERE line = $line";
                    next.Parameters.AddWithValue("$line", line);
                    version = (long)next.ExecuteScalar()!;
                }

                var text = version.ToString(CultureInfo.InvariantCulture);
                var final = card with { Line = line, Version = text };
                var bytes = export(final);
                if (bytes is not { Length: > 0 })
                {
                    throw new ModelRegistryException($"the export of line '{line}' version {text} gave no bytes; nothing was registered");
                }

                var relative = RelativeFile(line, text);
                written = WriteDurably(System.IO.Path.Combine(DataDir, relative), bytes);
                var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
                var at = _time.GetUtcNow();
                using (var insert = _connection.CreateCommand())
                {
                    insert.Transaction = transaction;
                    insert.CommandText = """
                        INSERT INTO drift_models (line, version, kind, card, sha256, size, file, registered_by, registered_at)
                        VALUES ($line, $version, $kind, $card, $sha, $size, $file, $by, $at)
                        """;
                    insert.Parameters.AddWithValue("$line", line);
                    insert.Parameters.AddWithValue("$version", version);
                    insert.Parameters.AddWithValue("$kind", final.Kind.ToString().ToLowerInvariant());
                    insert.Parameters.AddWithValue("$card", final.ToJson());
                    insert.Parameters.AddWithValue("$sha", sha);
                    insert.Parameters.AddWithValue("$size", bytes.LongLength);
                    insert.Parameters.AddWithValue("$file", relative);
                    insert.Parameters.AddWithValue("$by", by);
                    insert.Parameters.AddWithValue("$at", at.UtcTicks);
                    insert.ExecuteNonQuery();
                }

                transaction.Commit();
                written = null;
                return new RegisteredModel(line, text, final, sha, bytes.LongLength, System.IO.Path.Combine(DataDir, relative), by, at);
            }
            catch (SqliteException ex)
            {
                throw new ModelRegistryException($"the model registry '{Path}' could not register a model of line '{line}': {ex.Message}", ex);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new ModelRegistryException($"the model file of line '{line}' cannot be written under '{System.IO.Path.Combine(DataDir, "models")}': {ex.Message}", ex);
            }
            finally
            {
                // The row was not committed: a file without a row would only be overwritten by the next registration.
                if (written is not null)
                {
                    TryDelete(written);
                }
            }
        }
    }

    /// <summary>The line's versions, oldest first.</summary>
    public IReadOnlyList<RegisteredModel> List(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        return Query($"list the models of line '{line}'", $"SELECT {Columns} FROM drift_models WHERE line = $line ORDER BY version", ("$line", line));
    }

    /// <summary>One version; null when the line has no such version.</summary>
    public RegisteredModel? Get(string line, string version)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (!TryParseVersion(version, out var number))
        {
            return null;
        }

        var found = Query($"read version {version} of line '{line}'", $"SELECT {Columns} FROM drift_models WHERE line = $line AND version = $version", ("$line", line), ("$version", number));
        return found.Count == 0 ? null : found[0];
    }

    /// <summary>The line's active model (its latest activation); null when none was ever activated.</summary>
    public RegisteredModel? Active(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var found = Query($"read the active model of line '{line}'", $"""
            SELECT {Columns} FROM drift_models
            WHERE line = $line AND version = (SELECT version FROM drift_model_activations WHERE line = $line ORDER BY seq DESC LIMIT 1)
            """, ("$line", line));
        return found.Count == 0 ? null : found[0];
    }

    /// <summary>Makes <paramref name="version"/> the line's active model, recording who and when; the previous one is no longer active (the history keeps it).</summary>
    /// <exception cref="ArgumentException"><paramref name="by"/> is empty.</exception>
    /// <exception cref="ModelRegistryException">The line has no such version, or it is already the active one.</exception>
    public ModelActivation Activate(string line, string version, string by)
    {
        ArgumentNullException.ThrowIfNull(line);
        RequireUser(by, "activate a model");
        lock (_lock)
        {
            var model = Get(line, version) ?? throw new ModelRegistryException(
                $"line '{line}' has no model version '{version}'; registered: {Registered(line)}");
            var current = Activations(line) is { Count: > 0 } history ? history[^1] : null;
            if (current is not null && current.Version == model.Version)
            {
                throw new ModelRegistryException($"version {model.Version} is already the active model of line '{line}' (activated by {current.ActivatedBy} at {current.ActivatedAt:O})");
            }

            var activation = new ModelActivation(line, model.Version, by, _time.GetUtcNow());
            Run($"activate version {model.Version} of line '{line}'", () =>
            {
                using var command = _connection.CreateCommand();
                command.CommandText = "INSERT INTO drift_model_activations (line, version, activated_by, activated_at) VALUES ($line, $version, $by, $at)";
                command.Parameters.AddWithValue("$line", line);
                command.Parameters.AddWithValue("$version", long.Parse(model.Version, CultureInfo.InvariantCulture));
                command.Parameters.AddWithValue("$by", by);
                command.Parameters.AddWithValue("$at", activation.ActivatedAt.UtcTicks);
                command.ExecuteNonQuery();
                return 0;
            });
            return activation;
        }
    }

    /// <summary>Every activation of the line, oldest first; the last is the active model.</summary>
    public IReadOnlyList<ModelActivation> Activations(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        return Run($"read the activations of line '{line}'", () =>
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT line, version, activated_by, activated_at FROM drift_model_activations WHERE line = $line ORDER BY seq";
            command.Parameters.AddWithValue("$line", line);
            using var reader = command.ExecuteReader();
            var list = new List<ModelActivation>();
            while (reader.Read())
            {
                list.Add(new ModelActivation(reader.GetString(0), reader.GetInt64(1).ToString(CultureInfo.InvariantCulture), reader.GetString(2),
                    new DateTimeOffset(reader.GetInt64(3), TimeSpan.Zero)));
            }

            return (IReadOnlyList<ModelActivation>)list;
        });
    }

    /// <summary>The ONNX bytes of a version, checked against the SHA-256 recorded when it was registered.</summary>
    /// <exception cref="ModelRegistryException">The version is unknown, its file is missing or unreadable, or the file was changed since (tampered).</exception>
    public byte[] ReadModelBytes(string line, string version)
    {
        var model = Get(line, version) ?? throw new ModelRegistryException(
            $"line '{line}' has no model version '{version}'; registered: {Registered(line)}");
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(model.File);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ModelRegistryException($"the model file '{model.File}' of line '{line}' version {model.Version} is missing; restore it from a backup or register the model again", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModelRegistryException($"the model file '{model.File}' of line '{line}' version {model.Version} cannot be read: {ex.Message}", ex);
        }

        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (!string.Equals(sha, model.Sha256, StringComparison.Ordinal))
        {
            throw new ModelRegistryException(
                $"the model file '{model.File}' of line '{line}' version {model.Version} was changed since it was registered: its SHA-256 is {sha}, " +
                $"the registry recorded {model.Sha256} ({model.Size} bytes, registered by {model.RegisteredBy} at {model.RegisteredAt:O}); it is refused — restore the original or register the model again");
        }

        return bytes;
    }

    public void Dispose() => _connection.Dispose();

    // Stored with '/' so that a data folder copied between Linux and Windows still resolves (both accept '/').
    private static string RelativeFile(string line, string version) => $"models/{line}/{version}.onnx";

    /// <summary>Writes to a temporary file beside <paramref name="path"/>, flushes it to disk, then moves it into place; returns <paramref name="path"/>.</summary>
    private static string WriteDurably(string path, byte[] bytes)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            // Overwrite: a file at the final path has no committed row (a registration that crashed before its commit).
            File.Move(temporary, path, overwrite: true);
            return path;
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left behind; the next registration of that version overwrites it.
        }
    }

    private static void RequireLine(string line)
    {
        if (string.IsNullOrWhiteSpace(line) || line is "." or ".." || line.IndexOfAny(System.IO.Path.GetInvalidFileNameChars()) >= 0 ||
            line.Contains('/', StringComparison.Ordinal) || line.Contains('\\', StringComparison.Ordinal))
        {
            throw new ArgumentException($"line id '{line}' cannot name a model folder: it must be a non-empty name without path separators", nameof(line));
        }
    }

    private static void RequireUser(string by, string action)
    {
        if (string.IsNullOrWhiteSpace(by))
        {
            throw new ArgumentException($"a user name is required to {action}", nameof(by));
        }
    }

    private static bool TryParseVersion(string version, out long number) =>
        long.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out number) && number > 0;

    private string Registered(string line)
    {
        var versions = List(line);
        return versions.Count == 0 ? "none" : string.Join(", ", versions.Select(v => v.Version));
    }

    private List<RegisteredModel> Query(string what, string sql, params (string Name, object Value)[] parameters) => Run(what, () =>
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        using var reader = command.ExecuteReader();
        var list = new List<RegisteredModel>();
        while (reader.Read())
        {
            var line = reader.GetString(0);
            var card = ModelCard.FromJson(reader.GetString(2));
            list.Add(new RegisteredModel(line, reader.GetInt64(1).ToString(CultureInfo.InvariantCulture), card, reader.GetString(3), reader.GetInt64(4),
                System.IO.Path.Combine(DataDir, reader.GetString(5)), reader.GetString(6), new DateTimeOffset(reader.GetInt64(7), TimeSpan.Zero)));
        }

        return list;
    });

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
                throw new ModelRegistryException($"the model registry '{Path}' could not {what}: {ex.Message}", ex);
            }
        }
    }
}
