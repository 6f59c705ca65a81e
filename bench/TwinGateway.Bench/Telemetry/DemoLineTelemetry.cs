using TwinGateway.Core.Lines;
using TwinGateway.Simulation;
using TwinGateway.Telemetry;
using TwinGateway.Telemetry.Recording;

namespace TwinGateway.Bench.Telemetry;

/// <summary>
/// Telemetry of the demo line as the gateway records it from the simulated PLC: every signal at every 100 ms step,
/// the value a twin in <see cref="TwinMode.Real"/> (seed 7, random failures and noise on) produces, beside the expected
/// value of a <see cref="TwinMode.Shadow"/> twin fed the same controller inputs (none where the twin does not model the
/// signal). The operator changes four setpoints every minute, so the inputs the replay feeds do change.
/// </summary>
internal sealed class DemoLineTwins
{
    public const ulong RealSeed = 7;
    public const ulong ShadowSeed = 11;
    public static readonly TimeSpan Step = TimeSpan.FromMilliseconds(100);

    /// <summary>The gateway's server timestamp trails the controller's source timestamp by about this much.</summary>
    public const long ServerDelayNs = 2_000_000;

    private readonly LineTwin _real;
    private readonly LineTwin _shadow;
    private int _step;

    public DemoLineTwins(LineDefinition line, DateTime start)
    {
        Line = line;
        _real = new LineTwin(line, new TwinOptions { Seed = RealSeed, Mode = TwinMode.Real, Start = start, Step = Step });
        _shadow = new LineTwin(line, new TwinOptions { Seed = ShadowSeed, Mode = TwinMode.Shadow, Start = start, Step = Step });
    }

    public LineDefinition Line { get; }

    public int SignalCount => Line.Signals.Length;

    /// <summary>The source time of the values <see cref="Next"/> hands out next, Unix ns.</summary>
    public long TimeNs => TelemetryTime.ToUnixNanoseconds(_real.SimTime);

    /// <summary>Writes every signal's value and expected value at the current step, then steps both twins.</summary>
    public void Next(Span<double?> values, Span<double?> expected)
    {
        ChangeInputs(_step);
        for (var i = 0; i < values.Length; i++)
        {
            var value = _real.GetValue(i);
            var twin = _shadow.GetValue(i);
            values[i] = double.IsNaN(value) ? null : value;
            expected[i] = double.IsNaN(twin) ? null : twin;
        }

        _real.Step();
        _shadow.Step();
        _step++;
    }

    /// <summary>A new setpoint now and then, as a shift would make (the same schedule as the replay tests' recordings).</summary>
    private void ChangeInputs(int step)
    {
        if (step % 600 != 300)
        {
            return;
        }

        var odd = step / 600 % 2 == 1;
        Set("cnc1.spindleSpeedSetpoint", odd ? 10_000 : 7_000);
        Set("cnc2.spindleSpeedSetpoint", odd ? 6_500 : 9_000);
        Set("infeed.speedSetpoint", odd ? 15 : 11);
        Set("line.speedOverride", odd ? 90 : 100);
    }

    private void Set(string signalId, double value)
    {
        if (_real.IndexOf(signalId) >= 0)
        {
            _real.SetInput(signalId, value);
            _shadow.SetInput(signalId, value);
        }
    }
}

/// <summary>
/// A precomputed stretch of <see cref="DemoLineTwins"/> output, handed out again and again with the time moving on, so
/// an ingest producer spends its time in the recorder and not in the twins.
/// </summary>
internal sealed class DemoLineCycle
{
    private readonly double?[] _values;
    private readonly double?[] _expected;

    public DemoLineCycle(LineDefinition line, int steps)
    {
        var twins = new DemoLineTwins(line, new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        Line = line;
        Steps = steps;
        SignalCount = twins.SignalCount;
        _values = new double?[steps * SignalCount];
        _expected = new double?[steps * SignalCount];
        for (var step = 0; step < steps; step++)
        {
            twins.Next(_values.AsSpan(step * SignalCount, SignalCount), _expected.AsSpan(step * SignalCount, SignalCount));
        }
    }

    public LineDefinition Line { get; }

    public int Steps { get; }

    public int SignalCount { get; }

    /// <summary>Share of the cycle's samples with a value and with an expected value.</summary>
    public (double WithValue, double WithExpected) Shares() =>
        ((double)_values.Count(v => v is not null) / _values.Length, (double)_expected.Count(v => v is not null) / _expected.Length);

    /// <summary>Hands out scans (one sample per signal) of one recorder's series, 100 ms apart from <paramref name="start"/>.</summary>
    public Scanner ScannerFor(TelemetrySeries[] series, DateTime start) => new(this, series, TelemetryTime.ToUnixNanoseconds(start));

    internal sealed class Scanner(DemoLineCycle cycle, TelemetrySeries[] series, long startNs)
    {
        private readonly long _stepNs = DemoLineTwins.Step.Ticks * 100;
        private long _scans;

        public long Scans => _scans;

        /// <summary>The source time of the last scan handed out, Unix ns.</summary>
        public long LastTimeNs => startNs + ((_scans - 1) * _stepNs);

        public void Next(Span<TelemetrySample> scan)
        {
            var n = cycle.SignalCount;
            var offset = (int)(_scans % cycle.Steps) * n;
            var time = startNs + (_scans * _stepNs);
            var values = cycle._values.AsSpan(offset, n);
            var expected = cycle._expected.AsSpan(offset, n);
            for (var i = 0; i < scan.Length; i++)
            {
                scan[i] = new TelemetrySample(series[i], time, time + DemoLineTwins.ServerDelayNs, values[i], 0, expected[i]);
            }

            _scans++;
        }
    }
}

internal static class DemoLineSeries
{
    /// <summary>The recorder's series of every signal of <paramref name="line"/>, recorded under <paramref name="lineId"/>.</summary>
    public static TelemetrySeries[] Of(TelemetryRecorder recorder, LineDefinition line, string? lineId = null) =>
        [.. line.Signals.Select(s => recorder.GetSeries(lineId ?? line.Id, s.Id, s.StationId))];
}
