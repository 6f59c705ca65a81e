using System.Globalization;
using System.Threading.Channels;
using TwinGateway.Core.Lines;
using TwinGateway.Core.Twins;
using TwinGateway.Telemetry.Recording;

namespace TwinGateway.Telemetry.Replay;

/// <summary>
/// Replays recorded telemetry of one line into a fresh twin in shadow mode: the recorded controller inputs drive the
/// twin, and every recorded controller output is compared with what the twin computes for the same instant.
/// </summary>
/// <remarks>
/// The recorder's range query is a blocking enumerable, so a dedicated thread reads it into a few recycled batches
/// while the caller's task steps the twin; the two overlap, and the twin side does no lookup and no allocation per
/// sample (state lives in arrays indexed by the twin's signal slot, resolved once per series).
/// </remarks>
public static class TelemetryReplayer
{
    /// <summary>OPC UA status codes with the severity bit set are Bad: the value is not to be used.</summary>
    private const uint BadSeverity = 0x8000_0000;

    /// <summary>
    /// Samples handed from the reading thread to the twin at once. Each hand-over may wake a thread: a warm replay of
    /// 1.15 M demo-line samples took 0.12 s in batches of 1024 and 0.09 s in batches of 8192 (2-core dev machine).
    /// </summary>
    private const int BatchSize = 8192;

    /// <summary>A paced replay checks its pace (and progress) every this many samples, so the twin stays close to the recorded time.</summary>
    private const int PaceChunk = 1024;

    /// <summary>Batches in circulation: one being read, one being replayed, two queued to absorb jitter.</summary>
    private const int BatchCount = 4;

    /// <summary>Pacing waits shorter than this are not worth a timer; the next batch catches up.</summary>
    private static readonly TimeSpan _minimumWait = TimeSpan.FromMilliseconds(1);

    /// <summary>Replays the range of <paramref name="options"/> and compares the twin with the recording.</summary>
    /// <exception cref="ArgumentException">The options are invalid (the message lists every problem).</exception>
    /// <exception cref="ReplayException">The recorder holds no samples of the line in the range.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
    public static async Task<ReplayReport> RunAsync(
        TelemetryRecorder recorder,
        ITwinFactory twins,
        ReplayOptions options,
        IProgress<ReplayProgress>? progress,
        TimeProvider time,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(recorder);
        ArgumentNullException.ThrowIfNull(twins);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("replay options are invalid: " + string.Join("; ", problems), nameof(options));
        }

        var line = options.Line;
        var fromNs = TelemetryTime.ToUnixNanoseconds(options.FromUtc);
        var toNs = TelemetryTime.ToUnixNanoseconds(options.ToUtc);
        var signalIds = ReadFilter(options);

        // The count and the span are blocking queries; keep them off the caller's thread like the read itself.
        var total = await Task.Run(() => recorder.CountRange(line.Id, fromNs, toNs, signalIds), cancellationToken).ConfigureAwait(false);
        if (total == 0)
        {
            var span = await Task.Run(() => recorder.GetLineSpan(line.Id), cancellationToken).ConfigureAwait(false);
            throw NoData(options, span, signalIds is not null);
        }

        var replay = new ReplayRun(twins, options, fromNs, toNs);
        var filled = Channel.CreateBounded<Batch>(new BoundedChannelOptions(BatchCount) { SingleReader = true, SingleWriter = true });
        var free = Channel.CreateBounded<RecordedSample[]>(new BoundedChannelOptions(BatchCount) { SingleReader = true, SingleWriter = true });
        for (var i = 0; i < BatchCount; i++)
        {
            free.Writer.TryWrite(new RecordedSample[BatchSize]);
        }

        var chunkSize = options.Speed is null ? BatchSize : PaceChunk;
        var started = time.GetTimestamp();
        long? paceStart = null;
        var nextProgress = started;
        var progressTicks = (long)(options.ProgressInterval.TotalSeconds * time.TimestampFrequency);
        using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reading = Task.Factory.StartNew(
            () => Read(() => recorder.ReadRange(line.Id, fromNs, toNs, signalIds), free.Reader, filled.Writer, stopReading.Token),
            stopReading.Token,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        try
        {
            while (await filled.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (filled.Reader.TryRead(out var batch))
                {
                    // The pace counts from the first samples, not from the query's start: the recorder sorts the
                    // range before it returns a row, and a paced replay should not race to make up for that.
                    paceStart ??= time.GetTimestamp();
                    for (var offset = 0; offset < batch.Count; offset += chunkSize)
                    {
                        var chunk = batch.Items.AsMemory(offset, Math.Min(chunkSize, batch.Count - offset));
                        if (options.Speed is { } speed)
                        {
                            // Waiting for the chunk's last sample means no result is ever ahead of the recorded pace.
                            var due = TimeSpan.FromSeconds((chunk.Span[^1].SourceTime - fromNs) / 1e9 / speed);
                            var ahead = due - time.GetElapsedTime(paceStart.Value);
                            if (ahead >= _minimumWait)
                            {
                                replay.PacingWaits++;
                                await Task.Delay(ahead, time, cancellationToken).ConfigureAwait(false);
                            }
                        }

                        cancellationToken.ThrowIfCancellationRequested();
                        replay.Process(chunk.Span);
                        if (progress is not null)
                        {
                            var now = time.GetTimestamp();
                            if (now >= nextProgress)
                            {
                                nextProgress = now + progressTicks;
                                progress.Report(replay.Progress(total, time.GetElapsedTime(started), final: false));
                            }
                        }
                    }

                    free.Writer.TryWrite(batch.Items);
                }
            }
        }
        finally
        {
            // Never leave the reader running against the recorder after this returns, whichever way it ends.
            await stopReading.CancelAsync().ConfigureAwait(false);
            await reading.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            _ = reading.Exception; // observed here when another exception is already on its way out
        }

        // The read ended by itself: a failure of the query surfaces here.
        await reading.ConfigureAwait(false);
        if (replay.SamplesRead == 0)
        {
            // The count saw samples that the read no longer found (retention deleted them in between).
            throw NoData(options, recorder.GetLineSpan(line.Id), signalIds is not null);
        }

        var elapsed = time.GetElapsedTime(started);
        progress?.Report(replay.Progress(Math.Max(total, replay.SamplesRead), elapsed, final: true));
        return replay.ToReport(elapsed);
    }

    /// <summary>
    /// The signals to read: null (all) without a filter; with one, the filtered outputs plus every input, because the
    /// twin's outputs depend on all of its inputs.
    /// </summary>
    private static HashSet<string>? ReadFilter(ReplayOptions options)
    {
        if (options.Signals is not { Count: > 0 } filter)
        {
            return null;
        }

        var ids = new HashSet<string>(filter, StringComparer.Ordinal);
        foreach (var signal in options.Line.Signals)
        {
            if (signal.Direction == SignalDirection.ControllerInput)
            {
                ids.Add(signal.Id);
            }
        }

        return ids;
    }

    private static ReplayException NoData(ReplayOptions options, (long First, long Last, long Count)? span, bool filtered)
    {
        var range = string.Create(CultureInfo.InvariantCulture, $"from {options.FromUtc:O} to {options.ToUtc:O}");
        var what = filtered ? "no samples of the selected signals or of the line's inputs" : "no samples";
        var where = span is { } s
            ? string.Create(CultureInfo.InvariantCulture, $"its recording of the line runs from {TelemetryTime.FromUnixNanoseconds(s.First):O} to {TelemetryTime.FromUnixNanoseconds(s.Last):O} ({s.Count} samples)")
            : "it holds no data of this line at all";
        return new ReplayException($"cannot replay line '{options.Line.Id}' {range}: the flight recorder holds {what} there; {where}");
    }

    /// <summary>
    /// Runs on its own thread: the recorder's enumerator blocks and stays on the thread that started it. The query is
    /// made here, inside the try, so that even a query that fails at once completes <paramref name="filled"/> and the
    /// replay does not wait for batches that never come.
    /// </summary>
    private static void Read(Func<IEnumerable<RecordedSample>> query, ChannelReader<RecordedSample[]> free, ChannelWriter<Batch> filled, CancellationToken cancellationToken)
    {
        try
        {
            var buffer = Take(free, cancellationToken);
            var count = 0;
            foreach (var sample in query())
            {
                buffer[count++] = sample;
                if (count == buffer.Length)
                {
                    Put(filled, new Batch(buffer, count), cancellationToken);
                    buffer = Take(free, cancellationToken);
                    count = 0;
                }
            }

            if (count > 0)
            {
                Put(filled, new Batch(buffer, count), cancellationToken);
            }
        }
        finally
        {
            filled.TryComplete();
        }

        static RecordedSample[] Take(ChannelReader<RecordedSample[]> free, CancellationToken cancellationToken)
        {
            RecordedSample[]? buffer;
            while (!free.TryRead(out buffer))
            {
                free.WaitToReadAsync(cancellationToken).AsTask().GetAwaiter().GetResult();
            }

            return buffer;
        }

        static void Put(ChannelWriter<Batch> filled, Batch batch, CancellationToken cancellationToken)
        {
            while (!filled.TryWrite(batch))
            {
                if (!filled.WaitToWriteAsync(cancellationToken).AsTask().GetAwaiter().GetResult())
                {
                    return;
                }
            }
        }
    }

    private readonly record struct Batch(RecordedSample[] Items, int Count);

    private enum Role : byte
    {
        Input,
        Compared,
        NotCompared,
    }

    private struct SignalAccumulator
    {
        public long Count;
        public double SumError;
        public double SumSquaredError;
        public double MaxAbsError;
        public long MaxErrorAt;
        public long AboveCount;
        public long AboveNs;
        public long FirstTime;
        public long LastTime;
        public double SumReal;
        public double SumTwin;
    }

    private struct PlotAccumulator
    {
        public long Count;
        public double SumReal;
        public double SumTwin;
        public double MinReal;
        public double MaxReal;
    }

    /// <summary>The state of one run; used by one thread at a time.</summary>
    private sealed class ReplayRun
    {
        /// <summary>Series ids are small and dense (the recorder numbers them from 1); beyond this a dictionary holds them.</summary>
        private const int MaxDirectSeriesId = 1 << 20;

        private const int Unresolved = 0;
        private const int UnknownSignal = -1;

        private readonly ReplayOptions _options;
        private readonly ILineTwin _twin;
        private readonly Dictionary<string, int> _slotOfSignal;
        private readonly long _fromNs;
        private readonly long _stepNs;
        private readonly long _bucketNs;
        private readonly int _plotPoints;
        private readonly Role[] _roles;
        private readonly double[] _tolerances;
        private readonly double[] _lastFed;
        private readonly SignalAccumulator[] _signals;
        private readonly PlotAccumulator[]?[] _plots;
        private readonly SortedSet<string> _unknownSignals = new(StringComparer.Ordinal);
        private readonly Dictionary<int, int> _farSeries = [];

        /// <summary>Per series id: 0 not seen yet, slot + 1 for a signal of the line, -1 for a signal it does not know.</summary>
        private int[] _seriesSlots = new int[256];
        private long _nextStepNs;
        private long _firstTime = long.MaxValue;
        private long _lastTime = long.MinValue;

        public ReplayRun(ITwinFactory twins, ReplayOptions options, long fromNs, long toNs)
        {
            _options = options;
            _fromNs = fromNs;
            _twin = twins.CreateShadow(options.Line, new TwinSettings(options.Seed, options.Step, options.FromUtc));
            _slotOfSignal = new Dictionary<string, int>(options.Line.Signals.Length, StringComparer.Ordinal);
            for (var i = 0; i < options.Line.Signals.Length; i++)
            {
                _slotOfSignal.TryAdd(options.Line.Signals[i].Id, i);
            }

            _stepNs = options.Step.Ticks * 100;
            _nextStepNs = fromNs + _stepNs;
            _plotPoints = options.PlotPoints;
            _bucketNs = Math.Max(1, ((toNs - fromNs) + _plotPoints - 1) / _plotPoints);

            var signals = options.Line.Signals;
            var filter = options.Signals is { Count: > 0 } f ? new HashSet<string>(f, StringComparer.Ordinal) : null;
            _roles = new Role[signals.Length];
            _tolerances = new double[signals.Length];
            _lastFed = new double[signals.Length];
            _signals = new SignalAccumulator[signals.Length];
            _plots = new PlotAccumulator[signals.Length][];
            for (var i = 0; i < signals.Length; i++)
            {
                var signal = signals[i];
                _roles[i] = signal.Direction == SignalDirection.ControllerInput ? Role.Input
                    : signal.Model is not null && Comparable(signal.DataType) && (filter is null || filter.Contains(signal.Id)) ? Role.Compared
                    : Role.NotCompared;
                _tolerances[i] = options.ToleranceOf(signal);
                _lastFed[i] = double.NaN;
            }
        }

        public long SamplesRead { get; private set; }

        public long InputsFed { get; private set; }

        public long OutputsCompared { get; private set; }

        public long OutputsNotCompared { get; private set; }

        public long Skipped { get; private set; }

        public long Unknown { get; private set; }

        public long PacingWaits { get; set; }

        public void Process(ReadOnlySpan<RecordedSample> batch)
        {
            foreach (ref readonly var recorded in batch)
            {
                var sample = recorded.Sample;
                var time = sample.SourceTime;

                // The twin's state at a sample is that of its last step at or before the sample's time.
                while (_nextStepNs <= time)
                {
                    _twin.Step();
                    _nextStepNs += _stepNs;
                }

                var slot = SlotOf(sample.Series);
                if (slot < 0)
                {
                    Unknown++;
                    continue;
                }

                var role = _roles[slot];
                if (role == Role.NotCompared)
                {
                    OutputsNotCompared++;
                    continue;
                }

                if (sample.Value is not { } real || !double.IsFinite(real) || (sample.Status & BadSeverity) != 0)
                {
                    Skipped++;
                    continue;
                }

                if (role == Role.Input)
                {
                    InputsFed++;

                    // Inputs are sampled far more often than they change; feeding only changes saves the twin's id lookup.
                    if (BitConverter.DoubleToInt64Bits(real) != BitConverter.DoubleToInt64Bits(_lastFed[slot]))
                    {
                        _twin.SetInput(_options.Line.Signals[slot].Id, real);
                        _lastFed[slot] = real;
                    }

                    continue;
                }

                var twin = _twin.GetValue(slot);
                if (double.IsNaN(twin))
                {
                    OutputsNotCompared++;
                    continue;
                }

                OutputsCompared++;
                Compare(slot, time, real, twin);
            }

            SamplesRead += batch.Length;
            if (batch.Length > 0)
            {
                _firstTime = Math.Min(_firstTime, batch[0].SourceTime);
                _lastTime = Math.Max(_lastTime, batch[^1].SourceTime);
            }
        }

        public ReplayProgress Progress(long total, TimeSpan elapsed, bool final)
        {
            var fraction = final ? 1.0 : total > 0 ? Math.Min(1.0, (double)SamplesRead / total) : 0.0;
            var seconds = elapsed.TotalSeconds;
            var rate = seconds > 0 ? SamplesRead / seconds : 0.0;
            TimeSpan? left = null;
            if (final)
            {
                left = TimeSpan.Zero;
            }
            else if (fraction > 0)
            {
                var byRate = seconds * (1 - fraction) / fraction;

                // A paced replay cannot finish before the remaining recorded time has passed at its speed.
                var byPace = _options.Speed is { } speed && _lastTime > long.MinValue
                    ? (TelemetryTime.ToUnixNanoseconds(_options.ToUtc) - _lastTime) / 1e9 / speed
                    : 0.0;
                left = TimeSpan.FromSeconds(Math.Max(byRate, byPace));
            }

            return new ReplayProgress(SamplesRead, total, _twin.SimTime, fraction, rate, elapsed, left);
        }

        public ReplayReport ToReport(TimeSpan elapsed)
        {
            var stats = new List<ReplaySignalStats>();
            var series = new List<ReplaySignalSeries>();
            var definitions = _options.Line.Signals;
            for (var i = 0; i < _signals.Length; i++)
            {
                ref readonly var a = ref _signals[i];
                if (a.Count == 0)
                {
                    continue;
                }

                var signal = definitions[i];
                var span = a.LastTime - a.FirstTime;
                stats.Add(new ReplaySignalStats(
                    signal.Id,
                    signal.StationId,
                    signal.Unit,
                    _tolerances[i],
                    a.Count,
                    a.SumError / a.Count,
                    Math.Sqrt(a.SumSquaredError / a.Count),
                    a.MaxAbsError,
                    TelemetryTime.FromUnixNanoseconds(a.MaxErrorAt),
                    a.AboveCount,
                    a.AboveNs / 1e9,
                    span > 0 ? (double)a.AboveNs / span : 0.0,
                    a.SumReal / a.Count,
                    a.SumTwin / a.Count));
                series.Add(new ReplaySignalSeries(signal.Id, Buckets(_plots[i]!)));
            }

            var seconds = elapsed.TotalSeconds;
            return new ReplayReport
            {
                LineId = _options.Line.Id,
                From = _options.FromUtc,
                To = _options.ToUtc,
                Speed = _options.Speed,
                Seed = _options.Seed,
                StepSeconds = _options.Step.TotalSeconds,
                FirstSampleTime = SamplesRead > 0 ? TelemetryTime.FromUnixNanoseconds(_firstTime) : null,
                LastSampleTime = SamplesRead > 0 ? TelemetryTime.FromUnixNanoseconds(_lastTime) : null,
                SamplesRead = SamplesRead,
                InputsFed = InputsFed,
                OutputsCompared = OutputsCompared,
                OutputsNotCompared = OutputsNotCompared,
                Skipped = Skipped,
                Unknown = Unknown,
                UnknownSignals = [.. _unknownSignals],
                WallSeconds = seconds,
                SamplesPerSecond = seconds > 0 ? SamplesRead / seconds : 0.0,
                TwinSteps = _twin.Steps,
                PacingWaits = PacingWaits,
                Signals = stats,
                Series = series,
            };
        }

        private static bool Comparable(SignalDataType type) => type == SignalDataType.Boolean || type.IsNumeric();

        private void Compare(int slot, long time, double real, double twin)
        {
            ref var a = ref _signals[slot];
            var error = twin - real;
            var abs = Math.Abs(error);
            if (a.Count == 0)
            {
                a.FirstTime = time;
                a.MaxErrorAt = time;
            }
            else if (abs > _tolerances[slot])
            {
                a.AboveNs += time - a.LastTime;
            }

            if (abs > _tolerances[slot])
            {
                a.AboveCount++;
            }

            if (abs > a.MaxAbsError)
            {
                a.MaxAbsError = abs;
                a.MaxErrorAt = time;
            }

            a.Count++;
            a.SumError += error;
            a.SumSquaredError += error * error;
            a.SumReal += real;
            a.SumTwin += twin;
            a.LastTime = time;

            var plot = _plots[slot] ??= NewPlot();
            ref var bucket = ref plot[Math.Min((int)((time - _fromNs) / _bucketNs), _plotPoints - 1)];
            if (bucket.Count == 0)
            {
                bucket.MinReal = real;
                bucket.MaxReal = real;
            }
            else
            {
                bucket.MinReal = Math.Min(bucket.MinReal, real);
                bucket.MaxReal = Math.Max(bucket.MaxReal, real);
            }

            bucket.Count++;
            bucket.SumReal += real;
            bucket.SumTwin += twin;
        }

        private PlotAccumulator[] NewPlot() => new PlotAccumulator[_plotPoints];

        private List<ReplayPlotBucket> Buckets(PlotAccumulator[] plot)
        {
            var buckets = new List<ReplayPlotBucket>();
            for (var b = 0; b < plot.Length; b++)
            {
                ref readonly var p = ref plot[b];
                if (p.Count > 0)
                {
                    buckets.Add(new ReplayPlotBucket(
                        TelemetryTime.FromUnixNanoseconds(_fromNs + (b * _bucketNs)),
                        p.SumReal / p.Count,
                        p.MinReal,
                        p.MaxReal,
                        p.SumTwin / p.Count,
                        p.Count));
                }
            }

            return buckets;
        }

        private int SlotOf(TelemetrySeries series)
        {
            var id = series.Id;
            int entry;
            if ((uint)id < MaxDirectSeriesId)
            {
                if (id >= _seriesSlots.Length)
                {
                    Array.Resize(ref _seriesSlots, Math.Min(MaxDirectSeriesId, Math.Max(id + 1, _seriesSlots.Length * 2)));
                }

                entry = _seriesSlots[id];
                if (entry == Unresolved)
                {
                    entry = _seriesSlots[id] = Resolve(series);
                }
            }
            else if (!_farSeries.TryGetValue(id, out entry))
            {
                entry = _farSeries[id] = Resolve(series);
            }

            return entry > 0 ? entry - 1 : -1;
        }

        private int Resolve(TelemetrySeries series)
        {
            if (!_slotOfSignal.TryGetValue(series.SignalId, out var slot))
            {
                _unknownSignals.Add(series.SignalId);
                return UnknownSignal;
            }

            return slot + 1;
        }
    }
}

/// <summary>A replay cannot run: the message says why, naming the line and the range.</summary>
public sealed class ReplayException : InvalidOperationException
{
    public ReplayException()
    {
    }

    public ReplayException(string message)
        : base(message)
    {
    }

    public ReplayException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
