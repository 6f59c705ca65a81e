using System.Globalization;
using System.Text.Json;
using DuckDB.NET.Data;
using TwinGateway.Telemetry.Replay;

namespace TwinGateway.Telemetry.Tests.Replay;

public sealed class ReplayReportWriterTests
{
    private static readonly DateTime _from = new(2026, 3, 2, 8, 0, 0, DateTimeKind.Utc);

    [Fact]
    public async Task Json_with_a_csv_series_file_holds_the_statistics_and_names_the_file()
    {
        using var folder = new TempFolder();
        var report = Report();
        var json = folder.File("out/report.json");
        var csv = folder.File("out/series.csv");

        await ReplayReportWriter.WriteAsync(report, json, csv);

        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var root = document.RootElement;
        Assert.Equal("demo-line", root.GetProperty("lineId").GetString());
        Assert.Equal(_from, root.GetProperty("from").GetDateTime());
        Assert.Equal(600, root.GetProperty("speed").GetDouble());
        Assert.Equal(42, root.GetProperty("seed").GetInt64());
        Assert.Equal(1234, root.GetProperty("samplesRead").GetInt64());
        Assert.Equal(3, root.GetProperty("unknown").GetInt64());
        Assert.Equal("ghost.pressure", root.GetProperty("unknownSignals")[0].GetString());
        Assert.False(root.TryGetProperty("series", out _));
        Assert.Equal(Path.GetFullPath(csv), root.GetProperty("seriesFile").GetString());
        var signal = root.GetProperty("signals")[0];
        Assert.Equal("cnc1.spindleSpeed", signal.GetProperty("signalId").GetString());
        Assert.Equal("cnc1", signal.GetProperty("stationId").GetString());
        Assert.Equal("rpm", signal.GetProperty("unit").GetString());
        Assert.Equal(-12.5, signal.GetProperty("bias").GetDouble());
        Assert.Equal(30.25, signal.GetProperty("rms").GetDouble());
        Assert.Equal(700, signal.GetProperty("maxAbsError").GetDouble());
        Assert.Equal(_from.AddMilliseconds(61_300), signal.GetProperty("maxErrorAt").GetDateTime());
        Assert.Equal(4.5, signal.GetProperty("timeAboveToleranceSeconds").GetDouble());
        Assert.Equal(0.0075, signal.GetProperty("fractionAboveTolerance").GetDouble());
        Assert.Equal(8000.5, signal.GetProperty("meanReal").GetDouble());
        Assert.Equal(7988, signal.GetProperty("meanTwin").GetDouble());
        Assert.Equal(600, signal.GetProperty("tolerance").GetDouble());
        Assert.Equal(2, root.GetProperty("signals").GetArrayLength());

        var lines = await File.ReadAllLinesAsync(csv);
        Assert.Equal("signal,bucket_start,real_mean,real_min,real_max,twin_mean,count", lines[0]);
        Assert.Equal(report.Series.Sum(s => s.Buckets.Count), lines.Length - 1);
        Assert.Equal("cnc1.spindleSpeed,2026-03-02T08:00:01.2000000Z,8000.25,7990.5,8010,7999.125,12", lines[2]);
        Assert.Equal("\"odd,\"\"id\",2026-03-02T08:00:00.0000000Z,0.1,0,1,1E-07,3", lines[^1]);
        Assert.All(lines.Skip(1), l => double.Parse(l.Split(',')[^2], CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Json_without_a_series_file_holds_the_series()
    {
        using var folder = new TempFolder();
        var json = folder.File("report.json");

        await ReplayReportWriter.WriteAsync(Report(), json, null);

        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var series = document.RootElement.GetProperty("series");
        Assert.Equal(2, series.GetArrayLength());
        var bucket = series[0].GetProperty("buckets")[1];
        Assert.Equal(_from.AddMilliseconds(1200), bucket.GetProperty("start").GetDateTime());
        Assert.Equal(8000.25, bucket.GetProperty("realMean").GetDouble());
        Assert.Equal(7990.5, bucket.GetProperty("realMin").GetDouble());
        Assert.Equal(8010, bucket.GetProperty("realMax").GetDouble());
        Assert.Equal(7999.125, bucket.GetProperty("twinMean").GetDouble());
        Assert.Equal(12, bucket.GetProperty("count").GetInt64());
        Assert.False(document.RootElement.TryGetProperty("seriesFile", out _));
    }

    [Fact]
    public async Task Parquet_reads_back_through_duckdb_with_a_row_per_bucket_even_from_a_path_with_a_quote()
    {
        using var folder = new TempFolder();
        var report = Report();
        var parquet = folder.File("it's here/series.parquet");

        await ReplayReportWriter.WriteAsync(report, folder.File("report.json"), parquet);

        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT count(*), sum(\"count\")::BIGINT, min(bucket_start), max(real_max) FROM '{parquet.Replace("'", "''", StringComparison.Ordinal)}'";
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal(report.Series.Sum(s => s.Buckets.Count), reader.GetInt64(0));
        Assert.Equal(report.Series.Sum(s => s.Buckets.Sum(b => b.Count)), reader.GetInt64(1));
        Assert.Equal(_from, reader.GetDateTime(2));
        Assert.Equal(8010, reader.GetDouble(3));
    }

    [Fact]
    public async Task A_series_file_of_another_kind_is_refused_before_anything_is_written()
    {
        using var folder = new TempFolder();
        var json = folder.File("report.json");

        var error = await Assert.ThrowsAsync<ArgumentException>(() => ReplayReportWriter.WriteAsync(Report(), json, folder.File("series.xlsx")));

        Assert.Contains("'.xlsx'", error.Message, StringComparison.Ordinal);
        Assert.Contains(".parquet", error.Message, StringComparison.Ordinal);
        Assert.Contains(".csv", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(json));
    }

    private static ReplayReport Report() => new()
    {
        LineId = "demo-line",
        From = _from,
        To = _from.AddMinutes(10),
        Speed = 600,
        Seed = 42,
        StepSeconds = 0.1,
        FirstSampleTime = _from,
        LastSampleTime = _from.AddMilliseconds(599_900),
        SamplesRead = 1234,
        InputsFed = 100,
        OutputsCompared = 1000,
        OutputsNotCompared = 120,
        Skipped = 11,
        Unknown = 3,
        UnknownSignals = ["ghost.pressure"],
        WallSeconds = 1.01,
        SamplesPerSecond = 1221.8,
        TwinSteps = 5999,
        PacingWaits = 250,
        Signals =
        [
            new("cnc1.spindleSpeed", "cnc1", "rpm", 600, 6000, -12.5, 30.25, 700, _from.AddMilliseconds(61_300), 45, 4.5, 0.0075, 8000.5, 7988),
            new("odd,\"id", null, "", 0.5, 3, 0, 0, 0, _from, 0, 0, 0, 0.1, 1e-7),
        ],
        Series =
        [
            new("cnc1.spindleSpeed",
            [
                new(_from, 8000, 8000, 8000, 8000, 12),
                new(_from.AddMilliseconds(1200), 8000.25, 7990.5, 8010, 7999.125, 12),
            ]),
            new("odd,\"id", [new(_from, 0.1, 0, 1, 1e-7, 3)]),
        ],
    };
}
