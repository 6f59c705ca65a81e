using DuckDB.NET.Data;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace TwinGateway.Telemetry.Recording;

/// <summary>Opening the file: one recorder per file in a process, the schema, a corrupt file moved aside, the state read back.</summary>
public sealed partial class TelemetryRecorder
{
    private static readonly HashSet<string> s_openPaths = new(StringComparer.Ordinal);

    /// <summary>
    /// Opens the recorder's file, or creates it (and its folder) when it is missing. A file that is not a readable
    /// DuckDB database is moved aside and replaced, unless <see cref="RecorderOptions.MoveCorruptDatabaseAside"/> is off.
    /// </summary>
    /// <exception cref="TelemetryStoreException">The file cannot be opened or created; the message says why and where.</exception>
    public static TelemetryRecorder Open(RecorderOptions options, TimeProvider? time = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new TelemetryStoreException($"flight recorder settings are invalid: {string.Join("; ", problems)}");
        }

        logger ??= NullLogger.Instance;
        var path = Path.GetFullPath(options.DatabasePath);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new TelemetryStoreException($"cannot create the flight recorder's folder for {path}: {ex.Message}", ex);
        }

        // DuckDB shares one database per file within a process, so a second recorder on the same file would hand out
        // the same sequence numbers twice: refuse it.
        lock (s_openPaths)
        {
            if (!s_openPaths.Add(path))
            {
                throw new TelemetryStoreException($"the flight recorder file {path} is already open in this process; give each gateway its own Telemetry:DataFolder");
            }
        }

        try
        {
            return OpenUnguarded(options, time, logger, path);
        }
        catch
        {
            lock (s_openPaths)
            {
                s_openPaths.Remove(path);
            }

            throw;
        }
    }

    private static TelemetryRecorder OpenUnguarded(RecorderOptions options, TimeProvider? time, ILogger logger, string path)
    {
        var existed = File.Exists(path);
        var connectionString = $"Data Source={path}";
        DuckDBConnection control;
        try
        {
            control = OpenAndPrepare(connectionString, options.MemoryLimitMegabytes);
        }
        catch (DuckDBException ex) when (existed && IsCorruptFileError(ex))
        {
            if (!options.MoveCorruptDatabaseAside)
            {
                throw new TelemetryStoreException($"the flight recorder file {path} is not a readable DuckDB database ({FirstLine(ex.Message)}); move it away or set Telemetry:Recorder:MoveCorruptDatabaseAside", ex);
            }

            var aside = $"{path}.corrupt-{(time ?? TimeProvider.System).GetUtcNow():yyyyMMddTHHmmssZ}";
            File.Move(path, aside);
            if (File.Exists(path + ".wal"))
            {
                File.Move(path + ".wal", aside + ".wal");
            }

            Log.MovedCorrupt(logger, path, aside, FirstLine(ex.Message));
            control = OpenAndPrepare(connectionString, options.MemoryLimitMegabytes);
            existed = false;
        }
        catch (DuckDBException ex)
        {
            throw new TelemetryStoreException($"cannot open the flight recorder file {path}: {FirstLine(ex.Message)}", ex);
        }

        var recorder = new TelemetryRecorder(new RecorderOptions
        {
            DatabasePath = path,
            FlushIntervalMilliseconds = options.FlushIntervalMilliseconds,
            MaxBatchSamples = options.MaxBatchSamples,
            MaxPendingSamples = options.MaxPendingSamples,
            MaxPendingBytes = options.MaxPendingBytes,
            Retention = options.Retention,
            MoveCorruptDatabaseAside = options.MoveCorruptDatabaseAside,
            MaxRetryDelay = options.MaxRetryDelay,
            MemoryLimitMegabytes = options.MemoryLimitMegabytes,
        }, time ?? TimeProvider.System, logger, control, connectionString);
        Log.Opened(logger, path, existed ? "opened" : "created", recorder.LastSeq, recorder._seriesById.Count);
        return recorder;
    }

    private static DuckDBConnection OpenAndPrepare(string connectionString, int memoryLimitMegabytes)
    {
        var connection = new DuckDBConnection(connectionString);
        try
        {
            connection.Open();
            Execute(connection, $"SET memory_limit = '{memoryLimitMegabytes}MB'");
            Execute(connection, """
                CREATE TABLE IF NOT EXISTS series (
                    series_id INTEGER PRIMARY KEY,
                    line_id VARCHAR NOT NULL,
                    signal_id VARCHAR NOT NULL,
                    station_id VARCHAR,
                    UNIQUE (line_id, signal_id));
                CREATE TABLE IF NOT EXISTS samples (
                    seq BIGINT NOT NULL,
                    series_id INTEGER NOT NULL,
                    source_time BIGINT NOT NULL,
                    server_time BIGINT NOT NULL,
                    value DOUBLE,
                    status UINTEGER NOT NULL,
                    expected DOUBLE);
                CREATE TABLE IF NOT EXISTS consumers (
                    name VARCHAR PRIMARY KEY,
                    high_water BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL);
                """);
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private void LoadState()
    {
        using (var command = _control.CreateCommand())
        {
            command.CommandText = "SELECT series_id, line_id, signal_id, station_id FROM series";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var series = new TelemetrySeries(reader.GetInt32(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3));
                _seriesById[series.Id] = series;
                _seriesByKey[(series.LineId, series.SignalId)] = series;
                _nextSeriesId = Math.Max(_nextSeriesId, series.Id);
            }
        }

        _lastSeq = ScalarInt64(_control, "SELECT coalesce(max(seq), 0) FROM samples");
    }

    private static bool IsCorruptFileError(DuckDBException ex) =>
        !ex.Message.Contains("lock", StringComparison.OrdinalIgnoreCase);
}
