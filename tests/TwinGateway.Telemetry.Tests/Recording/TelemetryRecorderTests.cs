using DuckDB.NET.Data;
using TwinGateway.Telemetry.Recording;

namespace TwinGateway.Telemetry.Tests.Recording;

public sealed class TelemetryRecorderTests : IDisposable
{
    private const long Second = 1_000_000_000L;
    private static readonly long T0 = TelemetryTime.ToUnixNanoseconds(new DateTime(2026, 11, 27, 8, 0, 0, DateTimeKind.Utc));
    private readonly TempFolder _folder = new();

    private TelemetryRecorder Open(int flushMs = 20) =>
        TelemetryRecorder.Open(new RecorderOptions { DatabasePath = _folder.File("recorder.duckdb"), FlushIntervalMilliseconds = flushMs });

    private static TelemetrySample Sample(TelemetrySeries series, int i) =>
        new(series, T0 + (i * Second / 10), T0 + (i * Second / 10) + 1234, i % 7 == 0 ? null : i * 0.25, i % 11 == 0 ? 0x80000000u : 0u, i % 3 == 0 ? null : i * 0.5);

    [Fact]
    public async Task Every_appended_sample_comes_back_once_with_contiguous_sequence_numbers()
    {
        await using var recorder = Open();
        var a = recorder.GetSeries("line1", "cnc1.spindleSpeed", "cnc1");
        var b = recorder.GetSeries("line1", "line.partCount", null);
        var expected = new List<TelemetrySample>();
        for (var i = 0; i < 25_000; i++)
        {
            var sample = Sample(i % 2 == 0 ? a : b, i);
            expected.Add(sample);
            recorder.Append(sample);
        }

        await recorder.FlushAsync();
        Assert.Equal(25_000, recorder.LastSeq);
        var read = recorder.ReadAfter(0, 100_000);
        Assert.Equal(expected.Count, read.Count);
        for (var i = 0; i < read.Count; i++)
        {
            Assert.Equal(i + 1, read[i].Seq);
            Assert.Equal(expected[i], read[i].Sample);
        }

        Assert.Equal(expected.Skip(24_990), recorder.ReadAfter(24_990, 100).Select(r => r.Sample));
        Assert.Empty(recorder.ReadAfter(25_000, 100));
        var status = recorder.GetStatus();
        Assert.True(status.Healthy);
        Assert.Equal(0, status.Pending);
        Assert.Equal(25_000, status.Committed);
    }

    [Fact]
    public async Task A_reopened_recorder_keeps_its_samples_series_ids_and_high_water_marks()
    {
        int seriesId;
        await using (var recorder = Open())
        {
            var series = recorder.GetSeries("line1", "cnc1.temp", "cnc1");
            seriesId = series.Id;
            for (var i = 0; i < 1000; i++)
            {
                recorder.Append(Sample(series, i));
            }

            recorder.SetHighWater("influx", 400);
            // No FlushAsync: disposing commits what is pending.
        }

        await using (var recorder = Open())
        {
            Assert.Equal(1000, recorder.LastSeq);
            Assert.Equal(400, recorder.GetHighWater("influx"));
            Assert.Equal(0, recorder.GetHighWater("never-set"));
            var series = recorder.GetSeries("line1", "cnc1.temp", "cnc1");
            Assert.Equal(seriesId, series.Id);
            var other = recorder.GetSeries("line1", "cnc1.other", "cnc1");
            Assert.NotEqual(seriesId, other.Id);
            recorder.Append(Sample(series, 1000));
            await recorder.FlushAsync();
            Assert.Equal(1001, recorder.LastSeq);
            Assert.Equal(Sample(series, 1000), recorder.ReadAfter(1000, 10).Single().Sample);
        }
    }

    [Fact]
    public async Task A_range_comes_back_in_source_time_order_for_one_line_and_the_chosen_signals()
    {
        await using var recorder = Open();
        var a = recorder.GetSeries("line1", "s.a", "s");
        var b = recorder.GetSeries("line1", "s.b", "s");
        var other = recorder.GetSeries("line2", "s.a", "s");
        // Appended out of time order: the range is sorted by source time.
        for (var i = 99; i >= 0; i--)
        {
            recorder.Append(Sample(a, i));
            recorder.Append(Sample(b, i));
            recorder.Append(Sample(other, i));
        }

        await recorder.FlushAsync();
        var from = T0 + (10 * Second / 10);
        var to = T0 + (20 * Second / 10);
        var range = recorder.ReadRange("line1", from, to).ToList();
        Assert.Equal(20, range.Count);
        Assert.Equal(20, recorder.CountRange("line1", from, to));
        Assert.All(range, r => Assert.Equal("line1", r.Series.LineId));
        Assert.True(range.Zip(range.Skip(1)).All(p => p.First.SourceTime <= p.Second.SourceTime));
        Assert.Equal(T0 + Second, range[0].SourceTime);
        Assert.True(range[^1].SourceTime < to);

        var onlyB = recorder.ReadRange("line1", from, to, ["s.b"]).ToList();
        Assert.Equal(10, onlyB.Count);
        Assert.All(onlyB, r => Assert.Same(b, r.Series));
        Assert.Empty(recorder.ReadRange("no-such-line", from, to));
        Assert.Empty(recorder.ReadRange("line1", to + (100 * Second), to + (200 * Second)));
        Assert.Equal((T0, T0 + (99 * Second / 10), 200L), recorder.GetLineSpan("line1"));
        Assert.Null(recorder.GetLineSpan("no-such-line"));
    }

    [Fact]
    public async Task Aggregates_match_a_computation_over_the_raw_samples()
    {
        await using var recorder = Open();
        var a = recorder.GetSeries("line1", "s.a", "s");
        var samples = Enumerable.Range(0, 600).Select(i => Sample(a, i)).ToList();
        foreach (var sample in samples)
        {
            recorder.Append(sample);
        }

        await recorder.FlushAsync();
        var bucket = 10 * Second;
        var buckets = recorder.Aggregate("line1", T0, T0 + (60 * Second), bucket);
        Assert.Equal(6, buckets.Count);
        foreach (var actual in buckets)
        {
            var inBucket = samples.Where(s => s.SourceTime >= actual.Start && s.SourceTime < actual.Start + bucket).ToList();
            var values = inBucket.Where(s => s.Value is not null).Select(s => s.Value!.Value).ToList();
            Assert.Equal(inBucket.Count, actual.Samples);
            Assert.Equal(values.Count, actual.Values);
            Assert.Equal(values.Min(), actual.Min);
            Assert.Equal(values.Max(), actual.Max);
            Assert.Equal(values.Average(), actual.Mean!.Value, 9);
            Assert.Equal(inBucket.Where(s => s.Value is not null).MinBy(s => s.SourceTime)!.Value, actual.First);
            Assert.Equal(inBucket.Where(s => s.Value is not null).MaxBy(s => s.SourceTime)!.Value, actual.Last);
            Assert.Equal(inBucket.Where(s => s.Expected is not null).Average(s => s.Expected!.Value), actual.MeanExpected!.Value, 9);
        }
    }

    [Theory]
    [InlineData("range.parquet")]
    [InlineData("range.csv")]
    public async Task Export_writes_the_range_as_the_extension_says(string name)
    {
        await using var recorder = Open();
        var a = recorder.GetSeries("line1", "s.a", "s");
        for (var i = 0; i < 500; i++)
        {
            recorder.Append(Sample(a, i));
        }

        await recorder.FlushAsync();
        var path = _folder.File(name);
        var rows = recorder.Export("line1", T0, T0 + (30 * Second), path);
        Assert.Equal(300, rows);
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT count(*), min(source_time)::VARCHAR, sum(value), count(DISTINCT signal) FROM {TelemetryFileFormat.SqlString(path)}";
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal(300L, reader.GetInt64(0));
        Assert.Equal("2026-11-27 08:00:00", reader.GetString(1));
        Assert.Equal(Enumerable.Range(0, 300).Where(i => i % 7 != 0).Sum(i => i * 0.25), reader.GetDouble(2), 6);
        Assert.Equal(1L, reader.GetInt64(3));
    }

    [Fact]
    public async Task Export_to_an_unknown_extension_names_the_allowed_ones()
    {
        await using var recorder = Open();
        var error = Assert.Throws<ArgumentException>(() => recorder.Export("line1", 0, 1, _folder.File("out.xlsx")));
        Assert.Contains("'.xlsx'", error.Message, StringComparison.Ordinal);
        Assert.Contains(".parquet or .csv", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_corrupt_file_is_moved_aside_and_recording_goes_on()
    {
        var path = _folder.File("recorder.duckdb");
        var garbage = new byte[8192];
        new Random(7).NextBytes(garbage);
        await File.WriteAllBytesAsync(path, garbage);

        var refused = Assert.Throws<TelemetryStoreException>(() => TelemetryRecorder.Open(new RecorderOptions { DatabasePath = path, MoveCorruptDatabaseAside = false }));
        Assert.Contains(path, refused.Message, StringComparison.Ordinal);
        Assert.Contains("not a readable DuckDB database", refused.Message, StringComparison.Ordinal);
        Assert.Equal(garbage, await File.ReadAllBytesAsync(path));

        await using (var recorder = Open())
        {
            var series = recorder.GetSeries("line1", "s.a", "s");
            recorder.Append(Sample(series, 1));
            await recorder.FlushAsync();
            Assert.Equal(1, recorder.LastSeq);
        }

        var aside = Assert.Single(Directory.GetFiles(_folder.Path, "recorder.duckdb.corrupt-*"));
        Assert.Equal(garbage, await File.ReadAllBytesAsync(aside));
    }

    [Fact]
    public async Task A_second_recorder_on_the_same_file_in_one_process_is_refused_until_the_first_closes()
    {
        var first = Open();
        var error = Assert.Throws<TelemetryStoreException>(() => Open());
        Assert.Contains("already open in this process", error.Message, StringComparison.Ordinal);
        await first.DisposeAsync();
        await using var second = Open();
        Assert.Equal(0, second.LastSeq);
    }

    [Fact]
    public async Task A_file_removed_under_a_running_recorder_shows_in_its_status()
    {
        await using var recorder = Open();
        Assert.True(recorder.GetStatus().Healthy);
        File.Delete(recorder.DatabasePath);
        var status = recorder.GetStatus();
        Assert.False(status.FileExists);
        Assert.False(status.Healthy);
    }

    [Fact]
    public void A_folder_that_cannot_be_created_gives_an_error_naming_it()
    {
        var blocker = _folder.File("not-a-folder");
        File.WriteAllText(blocker, "x");
        var error = Assert.Throws<TelemetryStoreException>(() => TelemetryRecorder.Open(new RecorderOptions { DatabasePath = Path.Combine(blocker, "recorder.duckdb") }));
        Assert.Contains(blocker, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_settings_are_all_listed()
    {
        var error = Assert.Throws<TelemetryStoreException>(() => TelemetryRecorder.Open(new RecorderOptions { DatabasePath = "", FlushIntervalMilliseconds = 0, MaxBatchSamples = 10, MaxPendingSamples = 5 }));
        Assert.Contains("DatabasePath", error.Message, StringComparison.Ordinal);
        Assert.Contains("FlushIntervalMilliseconds: 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxPendingSamples: 5", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Live_subscribers_get_committed_samples_of_their_line_and_a_slow_one_is_told_where_to_resume()
    {
        await using var recorder = Open();
        var a = recorder.GetSeries("line1", "s.a", "s");
        var other = recorder.GetSeries("line2", "s.a", "s");
        using var live = recorder.SubscribeLive("line1", null);
        using var slow = recorder.SubscribeLive(null, null, capacity: 10);
        for (var i = 0; i < 50; i++)
        {
            recorder.Append(Sample(a, i));
            recorder.Append(Sample(other, i));
        }

        await recorder.FlushAsync();
        var received = new List<RecordedSample>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (received.Count < 50)
        {
            received.Add(await live.Reader.ReadAsync(timeout.Token));
        }

        Assert.All(received, r => Assert.Equal("line1", r.Series.LineId));
        Assert.Equal(Enumerable.Range(0, 50).Select(i => Sample(a, i)), received.Select(r => r.Sample));
        Assert.Equal(recorder.ReadAfter(0, 1000).Where(r => r.Series == a).Select(r => r.Seq), received.Select(r => r.Seq));

        var drained = 0;
        var error = await Assert.ThrowsAsync<LiveSubscriberTooSlowException>(async () =>
        {
            await foreach (var unused in slow.Reader.ReadAllAsync(timeout.Token))
            {
                drained++;
            }
        });
        Assert.Equal(10, drained);
        Assert.Equal(11, error.ResumeFromSeq);
        Assert.Contains("sequence number 11", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retention_deletes_only_old_samples_that_every_consumer_has_handled()
    {
        await using var recorder = Open();
        var a = recorder.GetSeries("line1", "s.a", "s");
        for (var i = 0; i < 100; i++)
        {
            recorder.Append(Sample(a, i));
        }

        await recorder.FlushAsync();
        // Older than 5 s are the first 50; the consumer has handled only 30 of them.
        Assert.Equal(30, recorder.DeleteBefore(T0 + (5 * Second), 30));
        Assert.Equal(70, recorder.CountRange("line1", 0, long.MaxValue));
        Assert.Equal(31, recorder.ReadAfter(0, 1000)[0].Seq);
        Assert.Equal(20, recorder.DeleteBefore(T0 + (5 * Second), 100));
        Assert.Equal(50, recorder.CountRange("line1", 0, long.MaxValue));
    }

    public void Dispose() => _folder.Dispose();
}
