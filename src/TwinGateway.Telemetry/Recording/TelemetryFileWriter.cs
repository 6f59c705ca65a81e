using DuckDB.NET.Data;

namespace TwinGateway.Telemetry.Recording;

/// <summary>
/// Writes samples that arrive from elsewhere (a gateway's API) to Parquet or CSV with the same columns as
/// <see cref="TelemetryRecorder.Export"/>: they go through an in-memory DuckDB table, so both files come from the same writer.
/// </summary>
public sealed class TelemetryFileWriter : IDisposable
{
    private readonly DuckDBConnection _connection;
    private readonly DuckDBAppender _appender;
    private readonly string _path;
    private readonly TelemetryFileFormat _format;
    private long _rows;

    /// <exception cref="ArgumentException">The path's extension is neither <c>.parquet</c> nor <c>.csv</c>.</exception>
    public TelemetryFileWriter(string path)
    {
        _format = TelemetryFileFormat.FromPath(path);
        _path = Path.GetFullPath(path);
        _connection = new DuckDBConnection("Data Source=:memory:");
        _connection.Open();
        using (var command = _connection.CreateCommand())
        {
            command.CommandText = "CREATE TABLE rows (line VARCHAR, signal VARCHAR, station VARCHAR, source_time BIGINT, server_time BIGINT, value DOUBLE, status UINTEGER, expected DOUBLE, seq BIGINT)";
            command.ExecuteNonQuery();
        }

        _appender = _connection.CreateAppender("rows");
    }

    public long Rows => _rows;

    public void Add(long seq, string line, string signal, string? station, long sourceTime, long serverTime, double? value, uint status, double? expected)
    {
        _appender.CreateRow()
            .AppendValue(line).AppendValue(signal).AppendValue(station)
            .AppendValue(sourceTime).AppendValue(serverTime)
            .AppendValue(value).AppendValue(status).AppendValue(expected).AppendValue(seq)
            .EndRow();
        _rows++;
    }

    /// <summary>Writes the file (replacing one that exists) and returns the number of rows.</summary>
    public long Complete()
    {
        _appender.Close();
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        using var command = _connection.CreateCommand();
        command.CommandText = _format.CopyStatement("SELECT * FROM rows", _path);
        command.ExecuteNonQuery();
        return _rows;
    }

    public void Dispose()
    {
        _appender.Dispose();
        _connection.Dispose();
    }
}
