using System.Diagnostics;
using TwinGateway.Core.Lines;
using TwinGateway.Simulation;
using TwinGateway.Telemetry.Recording;
using TwinGateway.Telemetry.Replay;
using Xunit.Abstractions;

namespace TwinGateway.Telemetry.Tests.Replay;

public sealed class TelemetryReplayerTests(ReplayRecordings recordings, ITestOutputHelper output) : IClassFixture<ReplayRecordings>
{
    private static readonly LineTwinFactory s_twins = new();

    private static readonly long _samplesPerRecording = (long)ReplayRecordings.Steps * DemoLine.Definition.Signals.Length;

    [Fact]
    public async Task Replaying_real_telemetry_gives_the_statistics_an_independent_shadow_twin_gives()
    {
        var stopwatch = Stopwatch.StartNew();
        var report = await Replay(ReplayRecordings.RealStart, seed: ReplayRecordings.RealSeed);
        stopwatch.Stop();
        output.WriteLine($"replayed {report.SamplesRead:N0} samples in {stopwatch.Elapsed.TotalSeconds:F3} s: {report.SamplesRead / stopwatch.Elapsed.TotalSeconds:N0} samples/s ({report.SamplesPerSecond:N0} by the report), {report.TwinSteps} twin steps");

        var line = recordings.Line;
        var inputs = line.Signals.Count(s => s.Direction == SignalDirection.ControllerInput);
        Assert.Equal(_samplesPerRecording, report.SamplesRead);
        Assert.Equal((long)ReplayRecordings.Steps * inputs, report.InputsFed);
        Assert.Equal(report.SamplesRead, report.InputsFed + report.OutputsCompared + report.OutputsNotCompared + report.Skipped + report.Unknown);
        Assert.Equal(0, report.Unknown);
        Assert.Equal(ReplayRecordings.Steps - 1, report.TwinSteps);
        Assert.Equal(ReplayRecordings.RealStart, report.FirstSampleTime);
        Assert.Equal(ReplayRecordings.RealStart + ReplayRecordings.Duration - ReplayRecordings.Step, report.LastSampleTime);

        foreach (var signalId in new[] { "cnc1.spindleSpeed", "cnc1.spindleTemperature", "infeed.speed", "cnc1.partsProduced" })
        {
            var expected = Independent(line, signalId, recordings.RealValues, new ReplayOptions
            {
                Line = line,
                From = ReplayRecordings.RealStart,
                To = ReplayRecordings.RealStart + ReplayRecordings.Duration,
            });
            var actual = Assert.Single(report.Signals, s => s.SignalId == signalId);
            Assert.Equal(expected.Count, actual.Count);
            Assert.Equal(expected.Bias, actual.Bias, 1e-9);
            Assert.Equal(expected.Rms, actual.Rms, 1e-9);
            Assert.Equal(expected.MaxAbsError, actual.MaxAbsError, 1e-9);
            Assert.Equal(expected.MaxErrorAt, actual.MaxErrorAt);
            Assert.Equal(expected.SamplesAboveTolerance, actual.SamplesAboveTolerance);
            Assert.Equal(expected.TimeAboveToleranceSeconds, actual.TimeAboveToleranceSeconds, 1e-9);
            Assert.Equal(expected.FractionAboveTolerance, actual.FractionAboveTolerance, 1e-9);
            Assert.Equal(expected.MeanReal, actual.MeanReal, 1e-9);
            Assert.Equal(expected.MeanTwin, actual.MeanTwin, 1e-9);
            Assert.Equal(expected.Tolerance, actual.Tolerance);
        }

        // The real line's own seed gives the shadow twin the same noise draws (each station's cycles, failures and rejects
        // come from streams of their own, so the line's noise stream is the same until a random failure); a twin with
        // another seed cannot match the real line sample for sample.
        var otherSeed = await Replay(ReplayRecordings.RealStart, seed: ReplayRecordings.ShadowSeed);
        Assert.Contains(otherSeed.Signals, s => s.Rms > 0);

        // 10 minutes in 500 buckets: 1.2 s, 12 samples each, and the buckets average what was compared.
        var speed = Assert.Single(report.Series, s => s.SignalId == "cnc1.spindleSpeed");
        Assert.Equal(500, speed.Buckets.Count);
        Assert.All(speed.Buckets, b => Assert.Equal(12, b.Count));
        Assert.Equal(ReplayRecordings.RealStart + (ReplayRecordings.Step * 12), speed.Buckets[1].Start);
        var slot = line.Signals.IndexOf(line.FindSignal("cnc1.spindleSpeed")!);
        var firstTwelve = Enumerable.Range(0, 12).Select(k => recordings.RealValues[k, slot]).ToArray();
        Assert.Equal(firstTwelve.Average(), speed.Buckets[0].RealMean, 1e-9);
        Assert.Equal(firstTwelve.Min(), speed.Buckets[0].RealMin);
        Assert.Equal(firstTwelve.Max(), speed.Buckets[0].RealMax);
        var stats = report.Signals.Single(s => s.SignalId == "cnc1.spindleSpeed");
        Assert.Equal(stats.MeanTwin, speed.Buckets.Sum(b => b.TwinMean * b.Count) / stats.Count, 1e-6);
    }

    [Fact]
    public async Task A_shadow_twins_own_recording_replays_with_zero_error_on_every_modelled_output()
    {
        var report = await Replay(ReplayRecordings.ShadowStart, seed: ReplayRecordings.ShadowSeed);

        var modelledOutputs = recordings.Line.Signals.Count(s => s.Direction == SignalDirection.ControllerOutput && s.Model is not null);
        Assert.Equal(modelledOutputs, report.Signals.Count);
        Assert.Equal((long)ReplayRecordings.Steps * modelledOutputs, report.OutputsCompared);
        Assert.All(report.Signals, s =>
        {
            Assert.True(s.MaxAbsError == 0, $"{s.SignalId}: max |error| {s.MaxAbsError} at {s.MaxErrorAt:O}, bias {s.Bias}");
            Assert.Equal(0, s.TimeAboveToleranceSeconds);
            Assert.Equal(s.MeanReal, s.MeanTwin);
        });

        // The setpoint changes must have reached the twin: its spindle follows the recorded setpoints up and down.
        var spindle = report.Series.Single(s => s.SignalId == "cnc1.spindleSpeed").Buckets;
        Assert.True(spindle.Max(b => b.RealMax) > 9_000, "the spindle never followed the 10,000 rpm setpoint");
    }

    [Fact]
    public async Task A_replay_with_another_seed_differs_where_the_twin_draws_noise()
    {
        var report = await Replay(ReplayRecordings.ShadowStart, seed: ReplayRecordings.ShadowSeed + 1);

        Assert.Contains(report.Signals, s => s.SignalId == "cnc1.spindleTemperature" && s.Rms > 0);
    }

    [Fact]
    public async Task A_sensor_offset_in_the_real_line_shows_on_that_signal_only()
    {
        var report = await Replay(ReplayRecordings.FaultStart, seed: ReplayRecordings.ShadowSeed);

        var faulty = Assert.Single(report.Signals, s => s.SignalId == ReplayRecordings.OffsetSignal);
        var afterFault = ReplayRecordings.Steps - (int)(ReplayRecordings.OffsetAt / ReplayRecordings.Step);

        // The twin reads the offset low (error is twin minus real) from the injection on, by exactly the offset.
        Assert.Equal(-ReplayRecordings.Offset * afterFault / ReplayRecordings.Steps, faulty.Bias, 1e-9);
        Assert.Equal(ReplayRecordings.Offset, faulty.MaxAbsError, 1e-9); // the first sample at the largest rounding of x + 10 - x
        Assert.InRange(faulty.MaxErrorAt, ReplayRecordings.FaultStart + ReplayRecordings.OffsetAt, ReplayRecordings.FaultStart + ReplayRecordings.Duration);
        Assert.Equal(4.0, faulty.Tolerance); // 5% of its 0..80 degC range
        Assert.Equal(afterFault, faulty.SamplesAboveTolerance);
        Assert.Equal(afterFault * ReplayRecordings.Step.TotalSeconds, faulty.TimeAboveToleranceSeconds, 1e-9);
        Assert.Equal(faulty.TimeAboveToleranceSeconds / (ReplayRecordings.Duration - ReplayRecordings.Step).TotalSeconds, faulty.FractionAboveTolerance, 1e-12);

        Assert.All(report.Signals.Where(s => s.SignalId != ReplayRecordings.OffsetSignal), s =>
        {
            Assert.True(s.MaxAbsError == 0, $"{s.SignalId}: max |error| {s.MaxAbsError}");
            Assert.Equal(0, s.TimeAboveToleranceSeconds);
        });
    }

    [Fact]
    public async Task A_replay_report_is_written_as_json_with_csv_or_parquet_series_of_one_row_per_bucket_with_data()
    {
        using var folder = new TempFolder();
        var report = await Replay(ReplayRecordings.FaultStart, seed: ReplayRecordings.ShadowSeed);
        var rows = report.Series.Sum(s => s.Buckets.Count);

        await ReplayReportWriter.WriteAsync(report, folder.File("report.json"), folder.File("series.csv"));
        await ReplayReportWriter.WriteAsync(report, folder.File("report2.json"), folder.File("series.parquet"));

        Assert.Equal(report.Signals.Count * 500, rows);
        Assert.Equal(rows + 1, File.ReadLines(folder.File("series.csv")).Count());
        using var connection = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT count(*) FROM '{folder.File("series.parquet")}'";
        Assert.Equal((long)rows, Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture));
        using var json = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(folder.File("report.json")));
        Assert.Equal(report.Signals.Count, json.RootElement.GetProperty("signals").GetArrayLength());
    }

    [Fact]
    public async Task A_signal_filter_reports_only_those_signals_and_still_feeds_every_input()
    {
        var all = await Replay(ReplayRecordings.FaultStart, seed: ReplayRecordings.ShadowSeed);
        var filtered = await Replay(ReplayRecordings.FaultStart, seed: ReplayRecordings.ShadowSeed, signals: ["cnc1.spindleSpeed", ReplayRecordings.OffsetSignal]);

        Assert.Equal(["cnc1.spindleSpeed", ReplayRecordings.OffsetSignal], filtered.Signals.Select(s => s.SignalId));
        Assert.Equal(all.InputsFed, filtered.InputsFed);
        Assert.Equal(2L * ReplayRecordings.Steps, filtered.OutputsCompared);
        Assert.Equal(all.Signals.Where(s => filtered.Signals.Any(f => f.SignalId == s.SignalId)), filtered.Signals);
    }

    [Fact]
    public async Task A_range_without_data_fails_with_a_message_naming_the_line_the_range_and_what_is_recorded()
    {
        var from = ReplayRecordings.RealStart.AddHours(-2);
        var error = await Assert.ThrowsAsync<ReplayException>(() => TelemetryReplayer.RunAsync(
            recordings.Recorder,
            s_twins,
            new ReplayOptions { Line = recordings.Line, From = from, To = from.AddHours(1) },
            null,
            TimeProvider.System,
            CancellationToken.None));

        output.WriteLine(error.Message);
        Assert.Contains("'demo-line'", error.Message, StringComparison.Ordinal);
        Assert.Contains("2026-03-02T06:00:00.0000000Z", error.Message, StringComparison.Ordinal);
        Assert.Contains("2026-03-02T07:00:00.0000000Z", error.Message, StringComparison.Ordinal);
        Assert.Contains("holds no samples", error.Message, StringComparison.Ordinal);
        Assert.Contains($"runs from {ReplayRecordings.RealStart:O}", error.Message, StringComparison.Ordinal);

        var unknownLine = await Assert.ThrowsAsync<ReplayException>(() => TelemetryReplayer.RunAsync(
            recordings.Recorder,
            s_twins,
            new ReplayOptions { Line = recordings.Line with { Id = "line-never-recorded" }, From = ReplayRecordings.RealStart, To = ReplayRecordings.FaultStart },
            null,
            TimeProvider.System,
            CancellationToken.None));
        Assert.Contains("'line-never-recorded'", unknownLine.Message, StringComparison.Ordinal);
        Assert.Contains("no data of this line at all", unknownLine.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_options_are_listed_together()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => TelemetryReplayer.RunAsync(
            recordings.Recorder,
            s_twins,
            new ReplayOptions { Line = recordings.Line, From = ReplayRecordings.RealStart, To = ReplayRecordings.RealStart, Speed = -1, Signals = ["no.such", "line.speedOverride"] },
            null,
            TimeProvider.System,
            CancellationToken.None));

        Assert.Contains("range is empty", error.Message, StringComparison.Ordinal);
        Assert.Contains("speed -1", error.Message, StringComparison.Ordinal);
        Assert.Contains("no signal 'no.such'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'line.speedOverride' is a controllerInput", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_status_and_missing_inputs_are_skipped_and_unknown_signals_counted()
    {
        using var folder = new TempFolder();
        var line = recordings.Line;
        var start = ReplayRecordings.ShadowStart;
        const int steps = 600;
        const int badEvery = 50;
        var recorder = TelemetryRecorder.Open(new RecorderOptions { DatabasePath = folder.File("recorder.duckdb") });
        await using (recorder)
        {
            var ghost = recorder.GetSeries(line.Id, "ghost.pressure", "ghost");
            var inputs = line.Signals.Where(s => s.Direction == SignalDirection.ControllerInput)
                .Select(s => recorder.GetSeries(line.Id, s.Id, s.StationId)).ToArray();
            ReplayRecordings.Record(recorder, line, new TwinOptions { Seed = ReplayRecordings.ShadowSeed, Start = start }, steps, (step, twin) =>
            {
                if (step % badEvery != 0)
                {
                    return;
                }

                // Recorded after the good values of the same instant: fed, they would override them and move the twin.
                var time = TelemetryTime.ToUnixNanoseconds(twin.SimTime) + 1;
                foreach (var input in inputs)
                {
                    recorder.Append(new TelemetrySample(input, time, time, 55_555, 0x8000_0000, null));
                    recorder.Append(new TelemetrySample(input, time, time, 66_666, 0x80AB_0000, null));
                    recorder.Append(new TelemetrySample(input, time, time, null, 0, null));
                    recorder.Append(new TelemetrySample(input, time, time, double.PositiveInfinity, 0, null));
                }

                recorder.Append(new TelemetrySample(ghost, time, time, 1.5, 0, null));
            });
            await recorder.FlushAsync();

            var report = await TelemetryReplayer.RunAsync(
                recorder,
                s_twins,
                new ReplayOptions { Line = line, From = start, To = start + (ReplayRecordings.Step * steps), Seed = ReplayRecordings.ShadowSeed },
                null,
                TimeProvider.System,
                CancellationToken.None);

            var events = steps / badEvery;
            Assert.Equal(events * inputs.Length * 4L, report.Skipped);
            Assert.Equal(events, report.Unknown);
            Assert.Equal(["ghost.pressure"], report.UnknownSignals);
            Assert.Equal((long)steps * inputs.Length, report.InputsFed);
            Assert.All(report.Signals, s => Assert.True(s.MaxAbsError == 0, $"{s.SignalId}: max |error| {s.MaxAbsError}: a bad input reached the twin"));
        }
    }

    [Fact]
    public async Task At_600_times_real_time_ten_minutes_take_about_a_second_of_waits_on_the_time_provider()
    {
        // A clock that moves only when the replayer waits on it: the second is counted on the provider, not measured on
        // the machine, so a loaded machine cannot change it.
        var time = new JumpingTimeProvider();
        var report = await Replay(ReplayRecordings.ShadowStart, seed: ReplayRecordings.ShadowSeed, speed: 600, time: time);

        output.WriteLine($"paced replay: {report.WallSeconds:F3} s on the provider, {report.PacingWaits} waits, {time.Timers} timers");
        Assert.Equal(600, report.Speed);
        Assert.True(report.WallSeconds >= 0.8, $"10 min at 600x took {report.WallSeconds} s");
        Assert.True(report.PacingWaits > 0);
        Assert.True(time.Timers >= report.PacingWaits, $"{report.PacingWaits} waits but {time.Timers} timers on the provider");
    }

    [Fact]
    public async Task Progress_is_monotone_and_ends_at_one()
    {
        var progress = new ProgressLog();
        var report = await TelemetryReplayer.RunAsync(
            recordings.Recorder,
            s_twins,
            new ReplayOptions
            {
                Line = recordings.Line,
                From = ReplayRecordings.RealStart,
                To = ReplayRecordings.RealStart + ReplayRecordings.Duration,
                ProgressInterval = TimeSpan.FromMilliseconds(1),
            },
            progress,
            TimeProvider.System,
            CancellationToken.None);

        var reports = progress.Reports;
        output.WriteLine($"{reports.Count} progress reports");
        Assert.True(reports.Count >= 2, $"{reports.Count} progress reports");
        for (var i = 1; i < reports.Count; i++)
        {
            Assert.True(reports[i].SamplesProcessed >= reports[i - 1].SamplesProcessed);
            Assert.True(reports[i].Fraction >= reports[i - 1].Fraction);
            Assert.True(reports[i].SimTime >= reports[i - 1].SimTime);
            Assert.True(reports[i].Elapsed >= reports[i - 1].Elapsed);
        }

        Assert.All(reports, r => Assert.Equal(_samplesPerRecording, r.SamplesTotal));
        Assert.All(reports, r => Assert.InRange(r.Fraction, 0, 1));
        var last = reports[^1];
        Assert.Equal(1.0, last.Fraction);
        Assert.Equal(report.SamplesRead, last.SamplesProcessed);
        Assert.Equal(TimeSpan.Zero, last.EstimatedTimeLeft);
        Assert.Equal(report.LastSampleTime, last.SimTime);
        Assert.Contains(reports, r => r.Fraction < 1 && r.EstimatedTimeLeft > TimeSpan.Zero);
    }

    [Fact]
    public async Task Cancellation_stops_the_replay()
    {
        using var cancel = new CancellationTokenSource();
        var progress = new ProgressLog(onReport: _ => cancel.Cancel());

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => TelemetryReplayer.RunAsync(
            recordings.Recorder,
            s_twins,
            new ReplayOptions
            {
                Line = recordings.Line,
                From = ReplayRecordings.RealStart,
                To = ReplayRecordings.RealStart + ReplayRecordings.Duration,
                ProgressInterval = TimeSpan.FromMilliseconds(1),
            },
            progress,
            TimeProvider.System,
            cancel.Token));
        Assert.True(progress.Reports[^1].Fraction < 1);
    }

    private Task<ReplayReport> Replay(DateTime start, ulong seed, double? speed = null, TimeProvider? time = null, IReadOnlyCollection<string>? signals = null) =>
        TelemetryReplayer.RunAsync(
            recordings.Recorder,
            s_twins,
            new ReplayOptions
            {
                Line = recordings.Line,
                From = start,
                To = start + ReplayRecordings.Duration,
                Seed = seed,
                Speed = speed,
                Signals = signals,
            },
            null,
            time ?? TimeProvider.System,
            CancellationToken.None);

    /// <summary>
    /// The statistics of one signal computed without the replayer: a shadow twin driven step by step from the recorded
    /// values, every input set at every step.
    /// </summary>
    private static ReplaySignalStats Independent(LineDefinition line, string signalId, double[,] recorded, ReplayOptions options)
    {
        var twin = new LineTwin(line, new TwinOptions { Seed = ReplayRecordings.RealSeed, Mode = TwinMode.Shadow, Start = options.From });
        var slot = twin.IndexOf(signalId);
        var inputs = line.Signals.Where(s => s.Direction == SignalDirection.ControllerInput).Select(s => s.Id).ToArray();
        var tolerance = options.ToleranceOf(line.Signals[slot]);
        var errors = new List<double>();
        var reals = new List<double>();
        var twins = new List<double>();
        double above = 0;
        long aboveCount = 0;
        var maxAt = options.From;
        var max = 0.0;
        for (var step = 0; step < recorded.GetLength(0); step++)
        {
            foreach (var input in inputs)
            {
                twin.SetInput(input, recorded[step, twin.IndexOf(input)]);
            }

            var error = twin.GetValue(slot) - recorded[step, slot];
            if (Math.Abs(error) > tolerance)
            {
                aboveCount++;
                above += step > 0 ? ReplayRecordings.Step.TotalSeconds : 0;
            }

            if (errors.Count == 0 || Math.Abs(error) > max)
            {
                max = Math.Abs(error);
                maxAt = twin.SimTime;
            }

            errors.Add(error);
            reals.Add(recorded[step, slot]);
            twins.Add(twin.GetValue(slot));
            twin.Step();
        }

        var span = (recorded.GetLength(0) - 1) * ReplayRecordings.Step.TotalSeconds;
        return new ReplaySignalStats(
            signalId,
            line.Signals[slot].StationId,
            line.Signals[slot].Unit,
            tolerance,
            errors.Count,
            errors.Average(),
            Math.Sqrt(errors.Average(e => e * e)),
            max,
            maxAt,
            aboveCount,
            above,
            above / span,
            reals.Average(),
            twins.Average());
    }

    private sealed class ProgressLog(Action<ReplayProgress>? onReport = null) : IProgress<ReplayProgress>
    {
        private readonly List<ReplayProgress> _reports = [];

        public List<ReplayProgress> Reports
        {
            get
            {
                lock (_reports)
                {
                    return [.. _reports];
                }
            }
        }

        public void Report(ReplayProgress value)
        {
            lock (_reports)
            {
                _reports.Add(value);
            }

            onReport?.Invoke(value);
        }
    }

    /// <summary>
    /// A clock that stands still except when a timer is created on it: then it jumps ahead by the timer's due time and
    /// the timer fires at once. Counts the timers: proof that pacing waits go through the given provider.
    /// </summary>
    private sealed class JumpingTimeProvider : TimeProvider
    {
        private readonly DateTimeOffset _start = DateTimeOffset.UtcNow;
        private long _ticks;
        private int _timers;

        public int Timers => Volatile.Read(ref _timers);

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public override DateTimeOffset GetUtcNow() => _start + TimeSpan.FromTicks(GetTimestamp());

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Interlocked.Increment(ref _timers);
            if (dueTime != Timeout.InfiniteTimeSpan)
            {
                Interlocked.Add(ref _ticks, Math.Max(0, dueTime.Ticks));
                ThreadPool.QueueUserWorkItem(_ => callback(state));
            }

            return new Fired();
        }

        private sealed class Fired : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => false;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
