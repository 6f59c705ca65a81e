using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using TwinGateway.Core.Lines;
using TwinGateway.Simulation;

namespace TwinGateway.Bench;

/// <summary>
/// One simulated hour of the demo line (9 stations, 2 robots, 191 signals, 100 ms steps: 36,000 steps) as fast as one
/// core runs it. Issue 4's target: at least 10,000 times real time, that is one hour in under 360 ms.
/// </summary>
/// <remarks>
/// <para><b>NewTwinOneHour</b> builds the twin (parse nothing: the line is loaded once in setup) and runs the hour:
/// what a commissioning validation run costs.</para>
/// <para><b>StepOneHour</b> runs 36,000 more steps of a twin built once (so the state keeps moving on from one operation
/// to the next): the steady-state cost of a step, and its Allocated column shows that a step allocates nothing.</para>
/// The RealTime column is 3,600 s divided by Mean.
/// </remarks>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
[Config(typeof(Config))]
public class TwinSpeedBenchmark
{
    public static readonly TimeSpan SimulatedTime = TimeSpan.FromHours(1);

    private LineDefinition _line = null!;
    private LineTwin _twin = null!;
    private long _steps;

    [GlobalSetup]
    public void Setup()
    {
        _line = LineDefinitionLoader.LoadFile(DemoLinePath()).GetDefinitionOrThrow();
        _twin = new LineTwin(_line, new TwinOptions { Mode = TwinMode.Real, Seed = 42 });
        _steps = SimulatedTime.Ticks / _twin.Options.Step.Ticks;
    }

    [Benchmark(Baseline = true)]
    public long NewTwinOneHour()
    {
        var twin = new LineTwin(_line, new TwinOptions { Mode = TwinMode.Real, Seed = 7 });
        twin.RunUntil(twin.SimTime + SimulatedTime);
        return twin.PartsProduced;
    }

    [Benchmark]
    public long StepOneHour()
    {
        for (var i = 0; i < _steps; i++)
        {
            _twin.Step();
        }

        return _twin.PartsProduced;
    }

    private static string DemoLinePath()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "config", "lines", "demo-line.yaml");
            if (File.Exists(Path.Combine(directory.FullName, "TwinGateway.sln")) && File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"config/lines/demo-line.yaml not found above {AppContext.BaseDirectory}");
    }

    private sealed class Config : ManualConfig
    {
        public Config() => AddColumn(new RealTimeFactorColumn());
    }

    private sealed class RealTimeFactorColumn : IColumn
    {
        public string Id => nameof(RealTimeFactorColumn);

        public string ColumnName => "RealTime";

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => 0;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => "Times faster than real time on one core: 3,600 s of simulated time / Mean";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
            return mean is > 0 ? $"{SimulatedTime.TotalSeconds * 1e9 / mean.Value:N0}x" : "?";
        }

        public bool IsAvailable(Summary summary) => true;

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    }
}
