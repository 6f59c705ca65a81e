using System.Diagnostics;
using TwinGateway.Telemetry.Recording;

namespace TwinGateway.Telemetry.Tests.Recording;

/// <summary>
/// A real full disk: the test mounts a small tmpfs of its own, fills it through the recorder, then makes room
/// (remount with a larger size) and checks that every sample was kept and committed exactly once.
/// </summary>
public sealed class DiskFullTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private bool _mounted;

    [Fact]
    public async Task A_full_disk_gives_a_clear_error_keeps_every_sample_and_commits_them_once_there_is_room()
    {
        Mount("size=3m");
        var path = _folder.File("recorder.duckdb");
        var recorder = TelemetryRecorder.Open(new RecorderOptions { DatabasePath = path, FlushIntervalMilliseconds = 20, MaxRetryDelay = TimeSpan.FromMilliseconds(200) });
        await using (recorder)
        {
            var series = Enumerable.Range(0, 20).Select(i => recorder.GetSeries("line1", $"s.signal{i}", "s")).ToArray();
            var appended = new List<TelemetrySample>();
            var random = new Random(5);
            TelemetryStoreException? full = null;
            for (var round = 0; round < 400 && full is null; round++)
            {
                for (var i = 0; i < 5_000; i++)
                {
                    var n = appended.Count;
                    // Random values do not compress, so the small disk fills quickly.
                    var sample = new TelemetrySample(series[n % series.Length], 1_000_000_000L * n, (1_000_000_000L * n) + 7, random.NextDouble(), 0, random.NextDouble());
                    appended.Add(sample);
                    recorder.Append(sample);
                }

                try
                {
                    await recorder.FlushAsync();
                }
                catch (TelemetryStoreException ex)
                {
                    full = ex;
                }
            }

            Assert.NotNull(full);
            Assert.Contains("disk is full", full.Message, StringComparison.Ordinal);
            Assert.Contains(path, full.Message, StringComparison.Ordinal);
            var status = recorder.GetStatus();
            Assert.False(status.Healthy);
            Assert.True(status.Pending > 0);
            Assert.Contains("disk is full", status.LastError, StringComparison.Ordinal);

            // Recording goes on while the disk is full.
            for (var i = 0; i < 1_000; i++)
            {
                var n = appended.Count;
                var sample = new TelemetrySample(series[n % series.Length], 1_000_000_000L * n, 1_000_000_000L * n, n, 0, null);
                appended.Add(sample);
                recorder.Append(sample);
            }

            Run("mount", $"-o remount,size=256m {_folder.Path}");
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    await recorder.FlushAsync();
                    break;
                }
                catch (TelemetryStoreException) when (deadline.Elapsed < TimeSpan.FromSeconds(60))
                {
                    await Task.Delay(100);
                }
            }

            Assert.True(recorder.GetStatus().Healthy);
            Assert.Equal(appended.Count, recorder.LastSeq);
            var read = recorder.ReadAfter(0, appended.Count + 10);
            Assert.Equal(appended.Count, read.Count);
            for (var i = 0; i < read.Count; i++)
            {
                Assert.Equal(i + 1, read[i].Seq);
                Assert.Equal(appended[i], read[i].Sample);
            }
        }
    }

    [Fact]
    public async Task A_full_disk_stops_the_forwarder_with_a_clear_error_and_it_catches_up_once_there_is_room()
    {
        Mount("size=4m");
        using var server = await VictoriaMetricsFixture.StartNewAsync();
        var path = _folder.File("recorder.duckdb");
        await using var recorder = TelemetryRecorder.Open(new RecorderOptions { DatabasePath = path, FlushIntervalMilliseconds = 20, MaxRetryDelay = TimeSpan.FromMilliseconds(200) });
        var line = "diskfull" + Guid.NewGuid().ToString("N")[..8];
        var series = recorder.GetSeries(line, "s.a", "s");
        var start = TelemetryTime.ToUnixNanoseconds(DateTime.UtcNow.AddHours(-1));
        for (var i = 0; i < 2_000; i++)
        {
            recorder.Append(new TelemetrySample(series, start + (i * 1_000_000_000L), start + (i * 1_000_000_000L), i, 0, null));
        }

        await recorder.FlushAsync();
        using var log = new TestLog();
        using var forwarder = new TwinGateway.Telemetry.Forwarding.InfluxForwarder(recorder, TwinGateway.Telemetry.Tests.Forwarding.ForwardingScenario.Options(server.Url, batchSize: 20), TimeProvider.System, log);

        // Fill what is left of the disk: batches reach the server, but soon a mark cannot be stored (small batches, so the
        // write-ahead log outgrows the last free bytes within a few of them).
        var filler = _folder.File("filler");
        await using (var fill = new FileStream(filler, FileMode.Create, FileAccess.Write))
        {
            var block = new byte[64 * 1024];
            try
            {
                while (true)
                {
                    await fill.WriteAsync(block);
                    await fill.FlushAsync();
                }
            }
            catch (IOException)
            {
                // The disk is full.
            }
        }

        var failed = await forwarder.ForwardAsync(CancellationToken.None);
        Assert.Equal(TwinGateway.Telemetry.Forwarding.ForwardOutcome.Failed, failed.Outcome);
        Assert.Contains("cannot forward from the flight recorder", failed.Error, StringComparison.Ordinal);
        Assert.Contains(path, failed.Error, StringComparison.Ordinal);
        Assert.Contains("disk is full", failed.Error, StringComparison.Ordinal);
        Assert.Equal(TwinGateway.Telemetry.Forwarding.ForwarderState.Backoff, forwarder.Status.State);

        File.Delete(filler);
        var deadline = Stopwatch.StartNew();
        TwinGateway.Telemetry.Forwarding.ForwardResult result;
        do
        {
            await Task.Delay(100);
            result = await forwarder.ForwardAsync(CancellationToken.None);
        }
        while (result.Outcome != TwinGateway.Telemetry.Forwarding.ForwardOutcome.CaughtUp && deadline.Elapsed < TimeSpan.FromSeconds(60));

        Assert.True(result.Outcome == TwinGateway.Telemetry.Forwarding.ForwardOutcome.CaughtUp, $"not caught up: {result}");
        Assert.Equal(2_000, recorder.GetHighWater(TwinGateway.Telemetry.Forwarding.InfluxForwarder.ConsumerName));
        await server.ForceFlushAsync();
        var stored = await server.ExportAsync($"{{__name__=\"{line}_value\"}}");
        // The first batch may be there twice (sent, mark not stored, sent again): same series and timestamps.
        Assert.Equal(Enumerable.Range(0, 2_000).Select(i => (double)i), stored.Select(p => p.Value).Distinct().Order());
        Assert.True(stored.Count <= 2_020, $"{stored.Count} points stored: more than one batch was written twice");
    }

    private void Mount(string options)
    {
        var (code, output) = Run("mount", $"-t tmpfs -o {options} tmpfs {_folder.Path}", throwOnError: false);
        if (code != 0)
        {
            throw new InvalidOperationException($"this test fills a disk of its own: it mounts a 3 MB tmpfs on {_folder.Path}, which needs root (CAP_SYS_ADMIN); run the tests as root as test.sh does in CI. mount said: {output}");
        }

        _mounted = true;
    }

    private static (int Code, string Output) Run(string file, string arguments, bool throwOnError = true)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (throwOnError && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {arguments} failed ({process.ExitCode}): {output}");
        }

        return (process.ExitCode, output);
    }

    public void Dispose()
    {
        if (_mounted)
        {
            Run("umount", _folder.Path, throwOnError: false);
        }

        _folder.Dispose();
    }
}
