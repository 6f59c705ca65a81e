using DuckDB.NET.Data;
using TwinGateway.Telemetry;
using TwinGateway.Telemetry.Recording;

namespace TwinGateway.Interop.Tests.Cli;

/// <summary><c>twingw telemetry export --db</c>: a flight recorder file read directly, with the gateway stopped.</summary>
public sealed class TelemetryFileCliTests : IDisposable
{
    private static readonly DateTime T0 = new(2026, 11, 27, 8, 0, 0, DateTimeKind.Utc);
    private readonly string _folder = Directory.CreateTempSubdirectory("twingw-export-").FullName;

    private string Db => Path.Combine(_folder, "flight-recorder.duckdb");

    private async Task<TelemetryRecorder> RecordAsync()
    {
        var recorder = TelemetryRecorder.Open(new RecorderOptions { DatabasePath = Db, FlushIntervalMilliseconds = 10 });
        var a = recorder.GetSeries("demo-line", "cnc1.spindleSpeed", "cnc1");
        var b = recorder.GetSeries("demo-line", "line.ambientTemperature", null);
        for (var i = 0; i < 600; i++)
        {
            var t = TelemetryTime.ToUnixNanoseconds(T0.AddMilliseconds(i * 100));
            recorder.Append(new TelemetrySample(a, t, t + 5, 8000 + i, 0, 8000));
            recorder.Append(new TelemetrySample(b, t, t + 5, i % 10 == 0 ? null : 21.5, i % 10 == 0 ? 0x80000000u : 0, null));
        }

        await recorder.FlushAsync();
        return recorder;
    }

    [Fact]
    public async Task A_stopped_gateways_file_exports_a_range_and_an_empty_range_says_what_the_file_holds()
    {
        await (await RecordAsync()).DisposeAsync();
        var csv = Path.Combine(_folder, "minute.csv");
        var export = await TwingwProcess.RunAsync(TimeSpan.FromSeconds(60), "telemetry", "export", "--db", Db, "--line", "demo-line",
            "--from", "2026-11-27T08:00:10Z", "--to", "2026-11-27T08:00:40Z", "--signal", "cnc1.spindleSpeed", "--out", csv);
        Assert.True(export.ExitCode == 0, export.ToString());
        var lines = await File.ReadAllLinesAsync(csv);
        Assert.Equal("line,signal,station,source_time,server_time,value,status,expected,seq", lines[0]);
        Assert.Equal(301, lines.Length);
        Assert.StartsWith("demo-line,cnc1.spindleSpeed,cnc1,2026-11-27 08:00:10,", lines[1], StringComparison.Ordinal);

        var parquet = Path.Combine(_folder, "all.parquet");
        var all = await TwingwProcess.RunAsync(TimeSpan.FromSeconds(60), "telemetry", "export", "--db", Db, "--line", "demo-line",
            "--from", "2026-11-27T07:00:00Z", "--to", "2026-11-27T09:00:00Z", "--out", parquet);
        Assert.True(all.ExitCode == 0, all.ToString());
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT count(*), count(value), sum(CASE WHEN status <> 0 THEN 1 ELSE 0 END) FROM '{parquet}'";
        using var reader = command.ExecuteReader();
        reader.Read();
        Assert.Equal(1200L, reader.GetInt64(0));
        Assert.Equal(1140L, reader.GetInt64(1));
        Assert.Equal(60L, reader.GetInt64(2));

        var empty = await TwingwProcess.RunAsync(TimeSpan.FromSeconds(60), "telemetry", "export", "--db", Db, "--line", "demo-line",
            "--from", "2026-11-28T00:00:00Z", "--to", "2026-11-28T01:00:00Z", "--out", Path.Combine(_folder, "none.csv"));
        Assert.Equal(1, empty.ExitCode);
        Assert.Contains("no samples of line 'demo-line'", empty.StdErr, StringComparison.Ordinal);
        Assert.Contains("1200 samples of it from 2026-11-27T08:00:00", empty.StdErr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_folder, "none.csv")));
    }

    [Fact]
    public async Task A_missing_file_and_a_file_held_by_a_running_gateway_give_clear_errors()
    {
        var missing = await TwingwProcess.RunAsync(TimeSpan.FromSeconds(60), "telemetry", "export", "--db", Path.Combine(_folder, "nope.duckdb"), "--line", "demo-line", "--from", "-1h", "--out", Path.Combine(_folder, "x.csv"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("no flight recorder file at", missing.StdErr, StringComparison.Ordinal);

        await using var running = await RecordAsync();
        var held = await TwingwProcess.RunAsync(TimeSpan.FromSeconds(60), "telemetry", "export", "--db", Db, "--line", "demo-line", "--from", "2026-11-27T07:00:00Z", "--to", "2026-11-27T09:00:00Z", "--out", Path.Combine(_folder, "x.csv"));
        Assert.Equal(2, held.ExitCode);
        Assert.Contains($"cannot open the flight recorder file {Db}", held.StdErr, StringComparison.Ordinal);
        // The running recorder's file was neither moved nor changed.
        Assert.Equal(1200, running.LastSeq);
        Assert.Empty(Directory.GetFiles(_folder, "*.corrupt-*"));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
