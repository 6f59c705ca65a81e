using DuckDB.NET.Data;

namespace TwinGateway.Telemetry.Recording;

/// <summary>
/// Rows that arrive from elsewhere (a gateway's API) written to Parquet or CSV: they go through an in-memory DuckDB
/// table, so every file the command line writes comes from the same writer as <see cref="TelemetryRecorder.Export"/>.
/// </summary>
public sealed class TabularFileWriter : IDisposable
{
    private readonly DuckDBConnection _connection;
    private readonly string _path;
    private readonly TelemetryFileFormat _format;
    private readonly Func<TelemetryFileFormat, string, string>? _copy;

    /// <param name="path">The file; its extension (<c>.parquet</c> or <c>.csv</c>) chooses the format.</param>
    /// <param name="columns">The table's columns as SQL (<c>time TIMESTAMP, score DOUBLE</c>).</param>
    /// <param name="copy">The COPY statement for the format and the full path; default: every column as it is.</param>
    /// <exception cref="ArgumentException">The path's extension is neither <c>.parquet</c> nor <c>.csv</c>.</exception>
    public TabularFileWriter(string path, string columns, Func<TelemetryFileFormat, string, string>? copy = null)
    {
        _copy = copy;
        _format = TelemetryFileFormat.FromPath(path);
        _path = Path.GetFullPath(path);
        _connection = new DuckDBConnection("Data Source=:memory:");
        _connection.Open();
        using (var command = _connection.CreateCommand())
        {
            command.CommandText = $"CREATE TABLE rows ({columns})";
            command.ExecuteNonQuery();
        }

        Appender = _connection.CreateAppender("rows");
    }

    /// <summary>Append rows here, one <c>CreateRow()...EndRow()</c> each, then <see cref="Complete"/>.</summary>
    public DuckDBAppender Appender { get; }

    public long Rows { get; private set; }

    /// <summary>Counts a row appended through <see cref="Appender"/>.</summary>
    public void Counted() => Rows++;

    /// <summary>Writes the file (replacing one that exists) and returns the number of rows.</summary>
    public long Complete()
    {
        Appender.Close();
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        using var command = _connection.CreateCommand();
        command.CommandText = _copy?.Invoke(_format, _path)
            ?? $"COPY (SELECT * FROM rows) TO {TelemetryFileFormat.SqlString(_path)} ({_format.CopyOptions})";
        command.ExecuteNonQuery();
        return Rows;
    }

    public void Dispose()
    {
        Appender.Dispose();
        _connection.Dispose();
    }
}

/// <summary>Samples written with the same columns as <see cref="TelemetryRecorder.Export"/>.</summary>
public sealed class TelemetryFileWriter(string path) : IDisposable
{
    private readonly TabularFileWriter _file = new(path,
        "line VARCHAR, signal VARCHAR, station VARCHAR, source_time BIGINT, server_time BIGINT, value DOUBLE, status UINTEGER, expected DOUBLE, seq BIGINT",
        static (format, full) => format.CopyStatement("SELECT * FROM rows", full));

    public long Rows => _file.Rows;

    public void Add(long seq, string line, string signal, string? station, long sourceTime, long serverTime, double? value, uint status, double? expected)
    {
        _file.Appender.CreateRow()
            .AppendValue(line).AppendValue(signal).AppendValue(station)
            .AppendValue(sourceTime).AppendValue(serverTime)
            .AppendValue(value).AppendValue(status).AppendValue(expected).AppendValue(seq)
            .EndRow();
        _file.Counted();
    }

    /// <summary>Writes the file (replacing one that exists) and returns the number of rows.</summary>
    public long Complete() => _file.Complete();

    public void Dispose() => _file.Dispose();
}
