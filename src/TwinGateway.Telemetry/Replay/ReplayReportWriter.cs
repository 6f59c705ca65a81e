using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using DuckDB.NET.Data;
using TwinGateway.Telemetry.Recording;

namespace TwinGateway.Telemetry.Replay;

/// <summary>Writes a <see cref="ReplayReport"/>: the statistics as JSON, the plot series as CSV or Parquet.</summary>
public static class ReplayReportWriter
{
    /// <summary>The columns of the series file, in order (CSV header and Parquet schema alike).</summary>
    public const string SeriesHeader = "signal,bucket_start,real_mean,real_min,real_max,twin_mean,count";

    private static readonly JsonSerializerOptions _json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,

        // A report never holds NaN or infinities (the replay skips non-finite values), but a writer must not be the
        // place where one report out of many fails.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>
    /// Writes the report to <paramref name="jsonPath"/>. With <paramref name="seriesPath"/>, the plot series go there
    /// (<c>.csv</c> or <c>.parquet</c>, by the extension) and the JSON names that file instead of holding them;
    /// without it, the JSON holds them. Missing folders are created; existing files are replaced.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="seriesPath"/> has neither extension (checked before anything is written).</exception>
    public static async Task WriteAsync(ReplayReport report, string jsonPath, string? seriesPath, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentException.ThrowIfNullOrEmpty(jsonPath);
        var format = seriesPath is null ? null : TelemetryFileFormat.FromPath(seriesPath);

        var node = JsonSerializer.SerializeToNode(report, _json)!.AsObject();
        if (seriesPath is not null)
        {
            node.Remove("series");
            node["seriesFile"] = Path.GetFullPath(seriesPath);
        }

        CreateFolderOf(jsonPath);
        var stream = new FileStream(jsonPath, FileMode.Create, FileAccess.Write, FileShare.None, 65_536, useAsync: true);
        await using (stream.ConfigureAwait(false))
        {
            await JsonSerializer.SerializeAsync(stream, node, _json, cancellationToken).ConfigureAwait(false);
        }

        if (seriesPath is null)
        {
            return;
        }

        CreateFolderOf(seriesPath);
        if (format == TelemetryFileFormat.Parquet)
        {
            await Task.Run(() => WriteParquet(report, seriesPath, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await WriteCsvAsync(report, seriesPath, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task WriteCsvAsync(ReplayReport report, string path, CancellationToken cancellationToken)
    {
        var writer = new StreamWriter(path, false, new UTF8Encoding(false), 65_536);
        await using (writer.ConfigureAwait(false))
        {
            await writer.WriteLineAsync(SeriesHeader.AsMemory(), cancellationToken).ConfigureAwait(false);
            var line = new StringBuilder();
            foreach (var series in report.Series)
            {
                var signal = CsvField(series.SignalId);
                foreach (var b in series.Buckets)
                {
                    line.Clear();
                    line.Append(CultureInfo.InvariantCulture, $"{signal},{b.Start:yyyy-MM-ddTHH:mm:ss.fffffffZ},{b.RealMean:R},{b.RealMin:R},{b.RealMax:R},{b.TwinMean:R},{b.Count}");
                    await writer.WriteLineAsync(line, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>Signal ids are <c>station.name</c>, but a line file may hold anything: quote as RFC 4180 asks.</summary>
    private static string CsvField(string text) =>
        text.AsSpan().IndexOfAny(",\"\r\n") < 0 ? text : "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static void WriteParquet(ReplayReport report, string path, CancellationToken cancellationToken)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using (var create = connection.CreateCommand())
        {
            create.CommandText = """
                CREATE TEMP TABLE series (
                    signal VARCHAR, bucket_start TIMESTAMP, real_mean DOUBLE, real_min DOUBLE, real_max DOUBLE,
                    twin_mean DOUBLE, "count" BIGINT)
                """;
            create.ExecuteNonQuery();
        }

        using (var appender = connection.CreateAppender("temp", "main", "series"))
        {
            foreach (var series in report.Series)
            {
                cancellationToken.ThrowIfCancellationRequested();
                foreach (var b in series.Buckets)
                {
                    appender.CreateRow()
                        .AppendValue(series.SignalId)
                        .AppendValue(b.Start)
                        .AppendValue(b.RealMean)
                        .AppendValue(b.RealMin)
                        .AppendValue(b.RealMax)
                        .AppendValue(b.TwinMean)
                        .AppendValue(b.Count)
                        .EndRow();
                }
            }
        }

        using var copy = connection.CreateCommand();
        copy.CommandText = $"COPY series TO {TelemetryFileFormat.SqlString(Path.GetFullPath(path))} ({TelemetryFileFormat.Parquet.CopyOptions})";
        copy.ExecuteNonQuery();
    }

    private static void CreateFolderOf(string path)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }
    }
}
