using System.Diagnostics;
using TwinGateway.Core.Lines;
using TwinGateway.Simulation;
using TwinGateway.Telemetry;
using TwinGateway.Telemetry.Recording;
using TwinGateway.Telemetry.Replay;

namespace TwinGateway.Bench.Telemetry;

/// <summary>
/// Replay throughput through the twin: N hours of the demo line recorded at 100 ms the way the gateway records the
/// simulated PLC (<see cref="DemoLineTwins"/>: every signal, every step), then <see cref="TelemetryReplayer.RunAsync"/>
/// as fast as possible over the whole range, several times. Afterwards the parts of a replay are timed on their own
/// (the count query, reading the range without a twin, the twin's steps without samples) to show where the time goes.
/// </summary>
internal static class ReplayMeasurement
{
    public static readonly DateTime RecordingStart = new(2026, 3, 2, 6, 0, 0, DateTimeKind.Utc);

    public static async Task<ReplayFigures> RunAsync(TelemetryOptions options, LineDefinition line, string folder, CancellationToken cancellationToken)
    {
        var steps = (int)Math.Round(options.ReplayHours * 3600 / DemoLineTwins.Step.TotalSeconds);
        var from = RecordingStart;
        var to = RecordingStart + (DemoLineTwins.Step * steps);
        var path = Path.Combine(folder, "replay.duckdb");
        Console.Error.WriteLine($"telemetry: replay, recording {options.ReplayHours:0.##} h of {line.Id} at 100 ms ({steps:N0} steps x {line.Signals.Length} signals)");
        ResidentMemory.CollectGarbage();
        var (rssAtStart, _) = ResidentMemory.Read();
        var peakReset = ResidentMemory.Reset();
        await using var recorder = TelemetryRecorder.Open(new RecorderOptions { DatabasePath = path });

        // 1. The recording: twins stepped live, one scan appended per step.
        var recordClock = Stopwatch.StartNew();
        var series = DemoLineSeries.Of(recorder, line);
        var twins = new DemoLineTwins(line, from);
        var values = new double?[series.Length];
        var expected = new double?[series.Length];
        var scan = new TelemetrySample[series.Length];
        for (var step = 0; step < steps; step++)
        {
            var time = twins.TimeNs;
            twins.Next(values, expected);
            for (var i = 0; i < scan.Length; i++)
            {
                scan[i] = new TelemetrySample(series[i], time, time + DemoLineTwins.ServerDelayNs, values[i], 0, expected[i]);
            }

            recorder.Append(scan);
        }

        await recorder.FlushAsync(cancellationToken).ConfigureAwait(false);
        var recordSeconds = recordClock.Elapsed.TotalSeconds;
        var recorded = recorder.LastSeq;
        var recording = new ReplayRecording(
            Math.Round(options.ReplayHours, 3), steps, series.Length, recorded, from, to, Math.Round(recordSeconds, 2), Math.Round(recorded / recordSeconds),
            InputSignals: line.Signals.Count(s => s.Direction == SignalDirection.ControllerInput),
            DatabaseBytes: recorder.GetStatus().DatabaseBytes);
        Console.Error.WriteLine($"telemetry: replay, recorded {recorded:N0} samples in {recordSeconds:0.0} s; replaying {options.ReplayRuns} times");

        // 2. The replays, each timed by the replayer (from its first read) and by our stopwatch (the whole call).
        var runs = new List<ReplayRunFigures>();
        for (var run = 1; run <= options.ReplayRuns; run++)
        {
            GC.Collect();
            var cpuStart = ProcessSnapshot.Take();
            var clock = Stopwatch.StartNew();
            var report = await TelemetryReplayer.RunAsync(recorder, new LineTwinFactory(), new ReplayOptions { Line = line, From = from, To = to, Speed = null }, null, TimeProvider.System, cancellationToken)
                .ConfigureAwait(false);
            var wall = clock.Elapsed.TotalSeconds;
            var cpu = ProcessSnapshot.Between(cpuStart, ProcessSnapshot.Take());
            runs.Add(new ReplayRunFigures(
                run,
                report.SamplesRead,
                Math.Round(report.WallSeconds, 3),
                Math.Round(report.SamplesPerSecond),
                Math.Round(wall, 3),
                Math.Round(report.SamplesRead / wall),
                Math.Round(wall / options.ReplayHours, 3),
                report.TwinSteps,
                report.InputsFed,
                report.OutputsCompared,
                report.OutputsNotCompared,
                report.Skipped,
                report.Unknown,
                cpu,
                report.SamplesRead == recorded));
            Console.Error.WriteLine($"telemetry: replay run {run}: {report.SamplesRead:N0} samples in {wall:0.000} s = {report.SamplesRead / wall:N0} samples/s (replayer's own figure {report.SamplesPerSecond:N0}/s)");
        }

        // 3. Where the time goes: the parts of a replay on their own.
        var split = await SplitAsync(recorder, line, from, to, steps, cancellationToken).ConfigureAwait(false);
        var (_, peak) = ResidentMemory.Read();

        var bySeconds = runs.OrderBy(r => r.WallS).ToList();
        var median = bySeconds[bySeconds.Count / 2];
        return new ReplayFigures(
            recording,
            runs,
            bySeconds[0].WallS,
            median.WallS,
            bySeconds[0].SamplesPerSecond,
            median.SamplesPerSecond,
            median.ReplayerSamplesPerSecond,
            Math.Round(median.WallS / options.ReplayHours, 3),
            split,
            rssAtStart,
            peakReset ? peak : null,
            runs.All(r => r.AllSamplesRead));
    }

    private static async Task<ReplaySplit> SplitAsync(TelemetryRecorder recorder, LineDefinition line, DateTime from, DateTime to, int steps, CancellationToken cancellationToken)
    {
        var fromNs = TelemetryTime.ToUnixNanoseconds(from);
        var toNs = TelemetryTime.ToUnixNanoseconds(to);
        return await Task.Run(
            () =>
            {
                GC.Collect();
                var clock = Stopwatch.StartNew();
                var counted = recorder.CountRange(line.Id, fromNs, toNs);
                var countSeconds = clock.Elapsed.TotalSeconds;

                // The range query alone, rows enumerated and dropped: DuckDB's scan, sort and the row reader.
                clock.Restart();
                long read = 0;
                long firstRow = 0;
                foreach (var sample in recorder.ReadRange(line.Id, fromNs, toNs))
                {
                    if (read++ == 0)
                    {
                        firstRow = clock.ElapsedTicks;
                    }

                    cancellationToken.ThrowIfCancellationRequested();
                    _ = sample;
                }

                var readSeconds = clock.Elapsed.TotalSeconds;
                var firstRowSeconds = (double)firstRow / Stopwatch.Frequency;

                // The replay twin's steps alone (shadow mode, no inputs fed, no comparison).
                var twin = new LineTwin(line, new TwinOptions { Mode = TwinMode.Shadow, Start = from, Step = DemoLineTwins.Step, Seed = 1 });
                clock.Restart();
                for (var i = 0; i < steps; i++)
                {
                    twin.Step();
                }

                var twinSeconds = clock.Elapsed.TotalSeconds;
                return new ReplaySplit(
                    counted,
                    Math.Round(countSeconds, 3),
                    read,
                    Math.Round(readSeconds, 3),
                    Math.Round(firstRowSeconds, 3),
                    Math.Round(read / readSeconds),
                    steps,
                    Math.Round(twinSeconds, 3),
                    "countQueryS: the replayer's count before it starts (outside its own timing, inside ours); readOnlyS: " +
                    "ReadRange enumerated without a twin on one thread (DuckDB's scan and ORDER BY source_time, seq, then the row reader); " +
                    "firstRowS: until the first row arrived (the sort); twinStepsOnlyS: the replay twin's steps without samples.");
            },
            cancellationToken).ConfigureAwait(false);
    }
}

internal sealed record ReplayRecording(double Hours, int Steps, int Signals, long Samples, DateTime From, DateTime To, double RecordS, double RecordSamplesPerSecond, int InputSignals, long DatabaseBytes);

/// <summary>One replay. replayerWallS/replayerSamplesPerSecond: the report's own figures (from its first read); wallS: the whole call, by our stopwatch.</summary>
internal sealed record ReplayRunFigures(
    int Run,
    long SamplesRead,
    double ReplayerWallS,
    double ReplayerSamplesPerSecond,
    double WallS,
    double SamplesPerSecond,
    double WallSPerRecordedHour,
    long TwinSteps,
    long InputsFed,
    long OutputsCompared,
    long OutputsNotCompared,
    long Skipped,
    long Unknown,
    CpuFigures Cpu,
    bool AllSamplesRead);

internal sealed record ReplaySplit(long CountedSamples, double CountQueryS, long ReadSamples, double ReadOnlyS, double FirstRowS, double ReadOnlySamplesPerSecond, int TwinSteps, double TwinStepsOnlyS, string How);

internal sealed record ReplayFigures(
    ReplayRecording Recording,
    List<ReplayRunFigures> Runs,
    double BestWallS,
    double MedianWallS,
    double BestSamplesPerSecond,
    double MedianSamplesPerSecond,
    double MedianReplayerSamplesPerSecond,
    double MedianWallSForOneHour,
    ReplaySplit Split,
    double? RssAtStartMb,
    double? RssPeakMb,
    bool AllSamplesRead);
