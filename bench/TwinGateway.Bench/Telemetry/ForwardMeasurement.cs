using TwinGateway.Testing;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using TwinGateway.Bench.E2e;
using TwinGateway.Telemetry;
using TwinGateway.Telemetry.Forwarding;
using TwinGateway.Telemetry.Recording;

namespace TwinGateway.Bench.Telemetry;

/// <summary>
/// Forwarder throughput: for each batch size, a recorder holding N demo-line samples (a measurement of its own, so the
/// sizes do not mix in the one server) forwarded by <see cref="InfluxForwarder"/> to a real VictoriaMetrics through
/// InfluxDB.Client's v2 write API until caught up; then VictoriaMetrics is asked how many values and series it stores
/// and both must match what the samples hold (each sample is one line-protocol point of one to three fields).
/// </summary>
internal static class ForwardMeasurement
{
    public static async Task<ForwardFigures> RunAsync(TelemetryOptions options, DemoLineCycle cycle, string executable, string folder, CancellationToken cancellationToken)
    {
        Console.Error.WriteLine($"telemetry: forward, starting {executable}");
        using var server = await VictoriaMetricsFixture.StartNewAsync().ConfigureAwait(false);

        // A whole forward first, not measured: with a warm-up of 500,000 points the first measured run still spent 15%
        // of a core in the tiered JIT (1.4 s of 7 s) and ran 7% slower than the same run repeated.
        var warmUp = await RunOneAsync(options.ForwardPoints, cycle, server, options.ForwardBatchSizes[0], "fwdwarmup", folder, cancellationToken).ConfigureAwait(false);
        var runs = new List<ForwardRunFigures>();
        for (var i = 0; i < options.ForwardBatchSizes.Count; i++)
        {
            // Each run its own measurement (and recorder file), so a batch size given twice is measured twice apart.
            var batchSize = options.ForwardBatchSizes[i];
            var measurement = !options.ForwardBatchSizes.Take(i).Contains(batchSize)
                ? string.Create(CultureInfo.InvariantCulture, $"fwd{batchSize}")
                : string.Create(CultureInfo.InvariantCulture, $"fwd{batchSize}_{i + 1}");
            runs.Add(await RunOneAsync(options.ForwardPoints, cycle, server, batchSize, measurement, folder, cancellationToken).ConfigureAwait(false));
        }

        return new ForwardFigures(server.Url, VersionOf(executable), warmUp, runs, warmUp.AllArrived && runs.All(r => r.AllArrived));
    }

    private static async Task<ForwardRunFigures> RunOneAsync(int pointCount, DemoLineCycle cycle, VictoriaMetricsFixture server, int batchSize, string measurement, string folder,
        CancellationToken cancellationToken)
    {
        var path = Path.Combine(folder, $"forward-{measurement}.duckdb");
        await using var recorder = TelemetryRecorder.Open(new RecorderOptions { DatabasePath = path });

        // Recent times (a week ago) so that no server setting about old or future samples gets in the way.
        var start = DateTime.UtcNow.Date.AddDays(-7);
        var series = DemoLineSeries.Of(recorder, cycle.Line, measurement);
        var scanner = cycle.ScannerFor(series, start);
        var scan = new TelemetrySample[series.Length];
        var expectedValues = 0L;
        var expectedSeries = new HashSet<(int Series, string Field)>();
        for (var written = 0; written < pointCount;)
        {
            scanner.Next(scan);
            var take = Math.Min(scan.Length, pointCount - written);
            foreach (var sample in scan.AsSpan(0, take))
            {
                foreach (var field in Fields(sample))
                {
                    expectedValues++;
                    expectedSeries.Add((sample.Series.Id, field));
                }
            }

            recorder.Append(scan.AsSpan(0, take));
            written += take;
        }

        await recorder.FlushAsync(cancellationToken).ConfigureAwait(false);
        var points = recorder.LastSeq;
        Console.Error.WriteLine($"telemetry: forward, batch size {batchSize:N0}: {points:N0} points ({expectedValues:N0} field values) to {server.Url}");

        using var forwarder = new InfluxForwarder(recorder, new InfluxForwarderOptions
        {
            Enabled = true,
            Url = server.Url,
            Token = "bench",
            Organization = "bench",
            Bucket = "bench",
            BatchSize = batchSize,
        }, TimeProvider.System, NullLogger.Instance);

        GC.Collect();
        var vmStart = GatewayProcSample.Read(server.Pid);
        var cpuStart = ProcessSnapshot.Take();
        var clock = Stopwatch.StartNew();
        var failures = new List<string>();
        var calls = 0;
        while (forwarder.Status.HighWater < points)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (clock.Elapsed > TimeSpan.FromMinutes(5))
            {
                throw new TimeoutException($"the forwarder did not catch up within 5 minutes: {forwarder.Status.HighWater:N0} of {points:N0} points; last error: {forwarder.Status.LastError}");
            }

            var result = await forwarder.ForwardAsync(cancellationToken).ConfigureAwait(false);
            calls++;
            if (result.Outcome == ForwardOutcome.Failed)
            {
                failures.Add(result.Error ?? "failed");
                Console.Error.WriteLine($"telemetry: forward, a batch failed (retried after the backoff): {result.Error}");
            }
            else if (result.Outcome == ForwardOutcome.BackingOff)
            {
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
        }

        var seconds = clock.Elapsed.TotalSeconds;
        var cpu = ProcessSnapshot.Between(cpuStart, ProcessSnapshot.Take());
        var vmCpu = GatewayProcSample.Read(server.Pid).Cpu - vmStart.Cpu;
        var status = forwarder.Status;

        // Every point arrived: VictoriaMetrics' stored values and series of this measurement against the samples'.
        var verifyClock = Stopwatch.StartNew();
        await server.ForceFlushAsync(cancellationToken).ConfigureAwait(false);
        var startS = (start - DateTime.UnixEpoch).TotalSeconds;
        var endS = (TelemetryTime.FromUnixNanoseconds(scanner.LastTimeNs) - DateTime.UnixEpoch).TotalSeconds + 1;
        var window = string.Create(CultureInfo.InvariantCulture, $"{Math.Ceiling(endS - startS) + 60:0}s");
        var selector = $"{{__name__=~\"{measurement}_.*\"}}";
        var storedValues = (long)await server.QueryScalarAsync($"sum(count_over_time({selector}[{window}]))", endS, cancellationToken).ConfigureAwait(false);
        var storedSeries = (long)await server.QueryScalarAsync($"count(count_over_time({selector}[{window}]))", endS, cancellationToken).ConfigureAwait(false);
        var verifySeconds = verifyClock.Elapsed.TotalSeconds;
        var arrived = storedValues == expectedValues && storedSeries == expectedSeries.Count && status.HighWater == points;
        var split = Split(recorder, batchSize, points, seconds);

        return new ForwardRunFigures(
            batchSize,
            measurement,
            points,
            Math.Round(seconds, 3),
            Math.Round(points / seconds),
            Math.Round(expectedValues / seconds),
            (int)Math.Ceiling((double)points / batchSize),
            calls,
            failures.Count,
            failures.Take(3).ToList(),
            cpu,
            Math.Round(1e9 * cpu.CpuMs / 1000 / points),
            Math.Round(vmCpu.TotalMilliseconds),
            GatewayLoadHarness.Percent(vmCpu, TimeSpan.FromSeconds(seconds)),
            expectedValues,
            storedValues,
            expectedSeries.Count,
            storedSeries,
            Math.Round(verifySeconds, 2),
            arrived,
            split);
    }

    /// <summary>
    /// The forwarder's own steps for the same batches, each timed alone on this thread: what the catch-up spends outside
    /// the HTTP exchange. The high-water mark goes to a consumer of its own, so the forwarder's mark is left as it is.
    /// </summary>
    private static ForwardSplit Split(TelemetryRecorder recorder, int batchSize, long points, double catchUpSeconds)
    {
        var read = new Stopwatch();
        var format = new Stopwatch();
        var gzip = new Stopwatch();
        var highWater = new Stopwatch();
        var fastest = new Stopwatch();
        var lines = new StringBuilder(Math.Min(batchSize, 20_000) * 96);
        long mark = 0;
        long utf8Bytes = 0;
        long gzipBytes = 0;
        long fastestBytes = 0;
        while (mark < points)
        {
            read.Start();
            var batch = recorder.ReadAfter(mark, batchSize);
            read.Stop();
            if (batch.Count == 0)
            {
                break;
            }

            format.Start();
            lines.Clear();
            for (var i = 0; i < batch.Count; i++)
            {
                InfluxLineProtocol.Append(lines, batch[i].Sample);
            }

            var text = lines.ToString();
            format.Stop();

            // What InfluxDB.Client does with the string once gzip is on: UTF-8, then GZipStream at its default level.
            gzip.Start();
            var bytes = Encoding.UTF8.GetBytes(text);
            using (var compressed = new MemoryStream())
            {
                using (var zip = new GZipStream(compressed, CompressionMode.Compress, leaveOpen: true))
                {
                    zip.Write(bytes);
                }

                gzipBytes += compressed.Length;
            }

            gzip.Stop();

            // The same at CompressionLevel.Fastest, which InfluxDB.Client offers no way to choose: what a writer of our own would pay.
            fastest.Start();
            using (var compressed = new MemoryStream())
            {
                using (var zip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
                {
                    zip.Write(bytes);
                }

                fastestBytes += compressed.Length;
            }

            fastest.Stop();
            utf8Bytes += bytes.Length;
            mark = batch[^1].Seq;
            highWater.Start();
            recorder.SetHighWater("bench-split", mark);
            highWater.Stop();
        }

        var own = read.Elapsed + format.Elapsed + gzip.Elapsed + highWater.Elapsed;
        return new ForwardSplit(
            Math.Round(read.Elapsed.TotalSeconds, 3),
            Math.Round(format.Elapsed.TotalSeconds, 3),
            Math.Round(gzip.Elapsed.TotalSeconds, 3),
            Math.Round(highWater.Elapsed.TotalSeconds, 3),
            Math.Round(catchUpSeconds - own.TotalSeconds, 3),
            Math.Round((double)utf8Bytes / points, 1),
            Math.Round((double)gzipBytes / points, 1),
            Math.Round(fastest.Elapsed.TotalSeconds, 3),
            Math.Round((double)fastestBytes / points, 1),
            "readS: recorder.ReadAfter per batch (a DuckDB query); formatS: line protocol into a StringBuilder and ToString; " +
            "gzipS: UTF-8 and GZipStream at the default level (what InfluxDB.Client's GzipHandler does); gzipFastestS: the same at CompressionLevel.Fastest (not part of the catch-up); highWaterS: recorder.SetHighWater per batch; " +
            "restS: catchUpS minus those, by difference: the HTTP exchange, the client's own work and waiting for the server.");
    }

    /// <summary>The fields <see cref="InfluxLineProtocol"/> writes for a sample (VictoriaMetrics stores one value per field).</summary>
    private static IEnumerable<string> Fields(TelemetrySample sample)
    {
        var hasValue = sample.Value is { } value && double.IsFinite(value);
        var hasExpected = sample.Expected is { } expected && double.IsFinite(expected);
        if (hasValue)
        {
            yield return InfluxLineProtocol.ValueField;
        }

        if (hasExpected)
        {
            yield return InfluxLineProtocol.ExpectedField;
        }

        if (sample.Status != 0 || (!hasValue && !hasExpected))
        {
            yield return InfluxLineProtocol.StatusField;
        }
    }

    /// <summary>What <c>-version</c> prints; Debian's build prints nothing, so then the package's version.</summary>
    private static string VersionOf(string executable)
    {
        var printed = Output(executable, "-version");
        if (printed.Length > 0)
        {
            return printed;
        }

        var package = Output("dpkg-query", "-W", "-f=${Version}", "victoria-metrics");
        return package.Length > 0 ? $"victoria-metrics {package} (Debian package)" : "unknown";
    }

    private static string Output(string file, params string[] arguments)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(file, arguments) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true });
            if (process is null)
            {
                return "";
            }

            var text = process.StandardOutput.ReadToEnd().Trim();
            process.StandardError.ReadToEnd();
            process.WaitForExit(5_000);
            return process.ExitCode == 0 && text.Length > 0 ? text.Split('\n')[0].Trim() : "";
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return "";
        }
    }
}

/// <summary>
/// One batch size. pointsPerSecond: line-protocol points (one per recorded sample) acknowledged per second of the
/// catch-up; fieldValuesPerSecond: the values VictoriaMetrics stores (value, expected, status fields). cpu: this
/// process (reading the recorder, formatting, gzip, HTTP); victoriaMetricsCpu: the server, for context.
/// </summary>
internal sealed record ForwardRunFigures(
    int BatchSize,
    string Measurement,
    long Points,
    double CatchUpS,
    double PointsPerSecond,
    double FieldValuesPerSecond,
    int Batches,
    int ForwardCalls,
    int FailedBatches,
    List<string> Failures,
    CpuFigures Cpu,
    double CpuNsPerPoint,
    double VictoriaMetricsCpuMs,
    double VictoriaMetricsCpuPercentOfOneCore,
    long ExpectedValues,
    long StoredValues,
    long ExpectedSeries,
    long StoredSeries,
    double VerifyS,
    bool AllArrived,
    ForwardSplit Split);

/// <summary>Where a catch-up's time goes, its steps timed alone (see <c>How</c>); bytes per point before and after gzip.</summary>
internal sealed record ForwardSplit(double ReadS, double FormatS, double GzipS, double HighWaterS, double RestS, double Utf8BytesPerPoint, double GzipBytesPerPoint, double GzipFastestS, double GzipFastestBytesPerPoint, string How);

/// <summary>warmUp: a forward of the same size before the measured ones (first connection, JIT), verified like them.</summary>
internal sealed record ForwardFigures(string Server, string ServerVersion, ForwardRunFigures WarmUp, List<ForwardRunFigures> Runs, bool AllArrived);
