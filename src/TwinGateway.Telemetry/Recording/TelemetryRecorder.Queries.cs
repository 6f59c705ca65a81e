using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using DuckDB.NET.Data;

namespace TwinGateway.Telemetry.Recording;

/// <summary>Reads: each opens its own connection to the shared database, so reads never wait for the writer.</summary>
public sealed partial class TelemetryRecorder
{
    private const string Columns = "seq, series_id, source_time, server_time, value, status, expected";

    /// <summary>Committed samples with a sequence number above <paramref name="afterSeq"/>, in sequence order.</summary>
    public IReadOnlyList<RecordedSample> ReadAfter(long afterSeq, int max)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        var result = new List<RecordedSample>(Math.Min(max, 100_000));
        // The upper bound lets DuckDB skip every row group outside the window by its min/max statistics.
        var upTo = Math.Min(LastSeq, afterSeq + max);
        if (upTo <= afterSeq)
        {
            return result;
        }

        return Guard("reading samples to forward", () =>
        {
            foreach (var sample in Query($"SELECT {Columns} FROM samples WHERE seq > {afterSeq} AND seq <= {upTo} ORDER BY seq"))
            {
                result.Add(sample);
            }

            return result;
        });
    }

    /// <summary>
    /// The committed samples of one line with <paramref name="from"/> &lt;= source time &lt; <paramref name="to"/>
    /// (Unix ns), in source-time order (sequence order within the same time), optionally only the given signals.
    /// Streamed: rows are read as the caller enumerates.
    /// </summary>
    public IEnumerable<RecordedSample> ReadRange(string lineId, long from, long to, IReadOnlyCollection<string>? signalIds = null)
    {
        var filter = RangeFilter(lineId, from, to, signalIds);
        return filter is null ? [] : Query($"SELECT {Columns} FROM samples WHERE {filter} ORDER BY source_time, seq");
    }

    /// <summary>How many samples <see cref="ReadRange"/> would return.</summary>
    public long CountRange(string lineId, long from, long to, IReadOnlyCollection<string>? signalIds = null)
    {
        var filter = RangeFilter(lineId, from, to, signalIds);
        if (filter is null)
        {
            return 0;
        }

        using var connection = OpenReader();
        return ScalarInt64(connection, $"SELECT count(*) FROM samples WHERE {filter}");
    }

    /// <summary>How many samples of any line have a source time before <paramref name="cutoff"/> (Unix ns).</summary>
    public long CountBefore(long cutoff)
    {
        using var connection = OpenReader();
        return ScalarInt64(connection, $"SELECT count(*) FROM samples WHERE source_time < {cutoff}");
    }

    /// <summary>The first and last source time recorded for a line and the number of samples; null when there are none.</summary>
    public (long First, long Last, long Count)? GetLineSpan(string lineId)
    {
        var filter = RangeFilter(lineId, long.MinValue, long.MaxValue, null);
        if (filter is null)
        {
            return null;
        }

        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT min(source_time), max(source_time), count(*) FROM samples WHERE {filter}";
        using var reader = command.ExecuteReader();
        reader.Read();
        return reader.IsDBNull(0) ? null : (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }

    /// <summary>
    /// Downsamples a range for plots: per signal and per bucket of <paramref name="bucket"/> ns (aligned to
    /// <paramref name="from"/>), the count, min, max, mean, first and last value and the mean expected value.
    /// </summary>
    public IReadOnlyList<AggregateBucket> Aggregate(string lineId, long from, long to, long bucket, IReadOnlyCollection<string>? signalIds = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bucket, 1);
        var filter = RangeFilter(lineId, from, to, signalIds);
        var result = new List<AggregateBucket>();
        if (filter is null)
        {
            return result;
        }

        var series = SeriesSnapshot();
        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT series_id, (source_time - {from}) // {bucket} AS b, count(value), min(value), max(value), avg(value),
                   arg_min(value, source_time), arg_max(value, source_time), avg(expected), count(*)
            FROM samples WHERE {filter}
            GROUP BY series_id, b ORDER BY series_id, b
            """;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var count = reader.GetInt64(2);
            result.Add(new AggregateBucket(
                series[reader.GetInt32(0)],
                from + (reader.GetInt64(1) * bucket),
                reader.GetInt64(9),
                count,
                NullableDouble(reader, 3),
                NullableDouble(reader, 4),
                NullableDouble(reader, 5),
                NullableDouble(reader, 6),
                NullableDouble(reader, 7),
                NullableDouble(reader, 8)));
        }

        return result;
    }

    /// <summary>
    /// Writes a range of one line to <paramref name="path"/> as Parquet (<c>.parquet</c>) or CSV (<c>.csv</c>), chosen
    /// by the extension, with readable timestamps. Returns the number of rows written.
    /// </summary>
    /// <exception cref="ArgumentException">The extension is neither.</exception>
    public long Export(string lineId, long from, long to, string path, IReadOnlyCollection<string>? signalIds = null)
    {
        var format = TelemetryFileFormat.FromPath(path);
        var filter = RangeFilter(lineId, from, to, signalIds) ?? "false";
        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = format.CopyStatement(
            $"SELECT s.line_id AS line, s.signal_id AS signal, s.station_id AS station, source_time, server_time, value, status, expected, seq FROM samples JOIN series s USING (series_id) WHERE {filter}",
            Path.GetFullPath(path));
        return command.ExecuteNonQuery();
    }

    /// <summary>Runs a query over the recorder's rows and maps them to samples (the columns in <see cref="Columns"/> order).</summary>
    private IEnumerable<RecordedSample> Query(string sql, [CallerMemberName] string caller = "")
    {
        var series = SeriesSnapshot();
        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var id = reader.GetInt32(1);
            if (!series.TryGetValue(id, out var s))
            {
                series = SeriesSnapshot();
                s = series.TryGetValue(id, out var found) ? found : throw new TelemetryStoreException($"{caller}: sample {reader.GetInt64(0)} names series {id}, which the recorder {_options.DatabasePath} does not have");
            }

            yield return new RecordedSample(reader.GetInt64(0), new TelemetrySample(
                s,
                reader.GetInt64(2),
                reader.GetInt64(3),
                NullableDouble(reader, 4),
                reader.GetFieldValue<uint>(5),
                NullableDouble(reader, 6)));
        }
    }

    private static double? NullableDouble(System.Data.Common.DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetDouble(ordinal);

    /// <summary>The WHERE clause of a range of one line; null when the line (or every named signal) has no series.</summary>
    private string? RangeFilter(string lineId, long from, long to, IReadOnlyCollection<string>? signalIds)
    {
        ArgumentException.ThrowIfNullOrEmpty(lineId);
        List<int> ids;
        lock (_controlLock)
        {
            ids = [.. _seriesById.Values
                .Where(s => s.LineId == lineId && (signalIds is null || signalIds.Count == 0 || signalIds.Contains(s.SignalId)))
                .Select(s => s.Id)];
        }

        if (ids.Count == 0)
        {
            return null;
        }

        // Only integers go into the text (ids and times), so there is nothing to inject.
        var sql = new StringBuilder();
        sql.Append(CultureInfo.InvariantCulture, $"source_time >= {from} AND source_time < {to} AND series_id IN (");
        sql.AppendJoin(',', ids);
        sql.Append(')');
        return sql.ToString();
    }

    private Dictionary<int, TelemetrySeries> SeriesSnapshot()
    {
        lock (_controlLock)
        {
            return new Dictionary<int, TelemetrySeries>(_seriesById);
        }
    }

    private DuckDBConnection OpenReader()
    {
        var connection = new DuckDBConnection(_connectionString);
        try
        {
            connection.Open();
            return connection;
        }
        catch (DuckDBException ex)
        {
            connection.Dispose();
            throw new TelemetryStoreException($"cannot read the flight recorder {_options.DatabasePath}: {FirstLine(ex.Message)}", ex);
        }
    }
}

/// <summary>One bucket of a downsampled range.</summary>
/// <param name="Series">The signal.</param>
/// <param name="Start">The bucket's start, Unix ns.</param>
/// <param name="Samples">Samples in the bucket, with or without a value.</param>
/// <param name="Values">Samples with a value.</param>
/// <param name="Min">The smallest value; null when no sample had one.</param>
/// <param name="Max">The largest value.</param>
/// <param name="Mean">The mean value.</param>
/// <param name="First">The value of the earliest sample.</param>
/// <param name="Last">The value of the latest sample.</param>
/// <param name="MeanExpected">The mean of the twin's expected values.</param>
public sealed record AggregateBucket(TelemetrySeries Series, long Start, long Samples, long Values, double? Min, double? Max, double? Mean, double? First, double? Last, double? MeanExpected);

/// <summary>The file formats telemetry is written in, chosen by the file's extension.</summary>
public sealed record TelemetryFileFormat(string Name, string CopyOptions)
{
    public static readonly TelemetryFileFormat Parquet = new("parquet", "FORMAT parquet, COMPRESSION zstd");
    public static readonly TelemetryFileFormat Csv = new("csv", "FORMAT csv, HEADER true");

    /// <exception cref="ArgumentException">The extension is neither <c>.parquet</c> nor <c>.csv</c>.</exception>
    public static TelemetryFileFormat FromPath(string path)
    {
        var extension = Path.GetExtension(path);
        if (extension.Equals(".parquet", StringComparison.OrdinalIgnoreCase))
        {
            return Parquet;
        }

        if (extension.Equals(".csv", StringComparison.OrdinalIgnoreCase))
        {
            return Csv;
        }

        throw new ArgumentException($"{path}: the file's extension '{extension}' names no format; use .parquet or .csv", nameof(path));
    }

    /// <summary>
    /// The COPY every telemetry file is written with, so files from the recorder and from the API have the same
    /// columns: <paramref name="rows"/> is a query giving line, signal, station, source_time and server_time (Unix ns),
    /// value, status, expected and seq.
    /// </summary>
    public string CopyStatement(string rows, string path) => $"""
        COPY (
            SELECT line, signal, station, make_timestamp_ns(source_time) AS source_time, make_timestamp_ns(server_time) AS server_time,
                   value, status, expected, seq
            FROM ({rows}) ORDER BY source_time, seq)
        TO {SqlString(path)} ({CopyOptions})
        """;

    /// <summary>A SQL string literal (single quotes doubled).</summary>
    public static string SqlString(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";
}
