using System.Globalization;
using System.Threading.Channels;
using TwinGateway.Core.Lines;
using TwinGateway.Core.Twins;
using TwinGateway.Telemetry.Recording;

namespace TwinGateway.Telemetry.Replay;

/// <summary>One replay run: the twin fed with the recorded inputs, its outputs compared with the recorded ones.</summary>
public static partial class TelemetryReplayer
{
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
