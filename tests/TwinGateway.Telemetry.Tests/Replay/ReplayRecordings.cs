using TwinGateway.Core.Lines;
using TwinGateway.Simulation;
using TwinGateway.Telemetry.Recording;

namespace TwinGateway.Telemetry.Tests.Replay;

/// <summary>
/// One flight recorder (a real DuckDB file in a temp folder) holding three 10-minute recordings of the demo line at
/// 100 ms, each made the way the simulated PLC runs its twin and recorded as the gateway records: every signal, every
/// step. They lie a day apart, so each test replays one by its range.
/// </summary>
public sealed class ReplayRecordings : IAsyncLifetime
{
    public const ulong ShadowSeed = 11;
    public const ulong RealSeed = 7;
    public const string OffsetSignal = "cnc1.spindleTemperature";
    public const double Offset = 10;
    public const int Steps = 6000;

    public static readonly TimeSpan Step = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan Duration = Step * Steps;
    public static readonly TimeSpan OffsetAt = TimeSpan.FromMinutes(2);

    /// <summary>A line twin in Real mode (random failures on): what a real line does, noise and all.</summary>
    public static readonly DateTime RealStart = new(2026, 3, 2, 8, 0, 0, DateTimeKind.Utc);

    /// <summary>A shadow twin's own outputs: a replay with its seed must reproduce them exactly.</summary>
    public static readonly DateTime ShadowStart = RealStart.AddDays(1);

    /// <summary>The shadow recording again, but the line's <see cref="OffsetSignal"/> reads <see cref="Offset"/> high from <see cref="OffsetAt"/> on.</summary>
    public static readonly DateTime FaultStart = RealStart.AddDays(2);

    private readonly TempFolder _folder = new();

    public LineDefinition Line { get; } = DemoLine.Definition;

    public TelemetryRecorder Recorder { get; private set; } = null!;

    /// <summary>What the real run recorded, [step, signal slot] (NaN where a signal has no value), for independent checks.</summary>
    public double[,] RealValues { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Recorder = TelemetryRecorder.Open(new RecorderOptions { DatabasePath = _folder.File("recorder.duckdb") });
        RealValues = Record(Recorder, Line, new TwinOptions { Seed = RealSeed, Mode = TwinMode.Real, Start = RealStart }, Steps);
        Record(Recorder, Line, new TwinOptions { Seed = ShadowSeed, Mode = TwinMode.Shadow, Start = ShadowStart }, Steps);
        Record(Recorder, Line, new TwinOptions { Seed = ShadowSeed, Mode = TwinMode.Real, RandomFailures = false, Start = FaultStart }, Steps,
            (step, twin) =>
            {
                if (step == (int)(OffsetAt / Step))
                {
                    twin.InjectFault(new SensorOffset(OffsetSignal, Offset));
                }
            });
        await Recorder.FlushAsync();
    }

    public async Task DisposeAsync()
    {
        await Recorder.DisposeAsync();
        _folder.Dispose();
    }

    /// <summary>The operator's input changes of every recording: a new setpoint now and then, as a shift would make.</summary>
    public static void ChangeInputs(int step, LineTwin twin)
    {
        if (step % 600 != 300)
        {
            return;
        }

        var odd = step / 600 % 2 == 1;
        twin.SetInput("cnc1.spindleSpeedSetpoint", odd ? 10_000 : 7_000);
        twin.SetInput("cnc2.spindleSpeedSetpoint", odd ? 6_500 : 9_000);
        twin.SetInput("infeed.speedSetpoint", odd ? 15 : 11);
        twin.SetInput("line.speedOverride", odd ? 90 : 100);
    }

    /// <summary>
    /// Runs a twin for <paramref name="steps"/> steps and records every signal at each step's time: the inputs as they
    /// were set, the outputs as the twin computed them (no value where the twin does not model the signal).
    /// </summary>
    public static double[,] Record(TelemetryRecorder recorder, LineDefinition line, TwinOptions options, int steps, Action<int, LineTwin>? events = null)
    {
        var twin = new LineTwin(line, options);
        var series = line.Signals.Select(s => recorder.GetSeries(line.Id, s.Id, s.StationId)).ToArray();
        var batch = new TelemetrySample[series.Length];
        var values = new double[steps, series.Length];
        for (var step = 0; step < steps; step++)
        {
            ChangeInputs(step, twin);
            events?.Invoke(step, twin);
            var time = TelemetryTime.ToUnixNanoseconds(twin.SimTime);
            for (var i = 0; i < series.Length; i++)
            {
                var value = twin.GetValue(i);
                values[step, i] = value;
                batch[i] = new TelemetrySample(series[i], time, time, double.IsNaN(value) ? null : value, 0, null);
            }

            recorder.Append(batch);
            twin.Step();
        }

        return values;
    }
}

/// <summary>The demo line (config/lines/demo-line.yaml), loaded once; found by walking up to TwinGateway.sln.</summary>
internal static class DemoLine
{
    private static readonly Lazy<LineDefinition> _line = new(() =>
        LineDefinitionLoader.LoadFile(Path.Combine(FindRoot(), "config", "lines", "demo-line.yaml")).GetDefinitionOrThrow());

    public static LineDefinition Definition => _line.Value;

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "TwinGateway.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"TwinGateway.sln not found above {AppContext.BaseDirectory}.");
    }
}
