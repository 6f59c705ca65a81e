using System.Collections.ObjectModel;
using System.Globalization;
using TwinGateway.Core.Lines;
using TwinGateway.Core.Twins;

namespace TwinGateway.Simulation;

/// <summary>
/// The twin of one production line: discrete-event part flow (sources, buffers, blocking, failures with repair,
/// inspection rejects, robots moving through their programs) plus time-stepped continuous signals (first-order lags,
/// seeded Gaussian noise) computed per the signal models of <c>config/lines/README.md</c>, with the interlocks enforced.
/// </summary>
/// <remarks>
/// <para>
/// Deterministic: the same line, options and inputs (at the same steps) give bit-identical values on a given runtime
/// and machine (Math.Log/Exp/SinCos may differ in the last bit between platforms). The twin reads no clock; time is
/// <see cref="SimTime"/>, which moves by <see cref="TwinOptions.Step"/> per <see cref="Step"/>. Randomness comes from
/// its own xoshiro256** generator seeded with <see cref="TwinOptions.Seed"/>.
/// </para>
/// <para>
/// A step allocates nothing: every id is resolved to an array slot at construction. The demo line runs about 32,000
/// times faster than real time on one core, 3 µs a step (bench/results/twin-speed.md). Not thread-safe: one caller at
/// a time (the simulated PLC holds a lock around it).
/// </para>
/// </remarks>
public sealed partial class LineTwin : ILineTwin
{
    private const double SecondsPerHour = 3600.0;

    private readonly double _dt;
    private readonly bool _randomFailures;
    private readonly IReadOnlyList<SignalDefinition> _signals;
    private readonly Dictionary<string, int> _signalIndex = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _stationIndex = new(StringComparer.Ordinal);
    private readonly StationRuntime[] _stations;
    private readonly RobotRuntime[] _robots;
    private readonly SignalPlan[] _plans;
    private readonly int[] _discreteOrder;
    private readonly int[] _continuousOrder;
    private readonly double[] _state;
    private readonly double[] _values;
    private readonly double[] _offsets;
    private readonly SensorFaults[] _sensors;
    private readonly ulong[] _noiseKeys;
    private readonly List<TwinFault> _faults = [];
    private readonly ReadOnlyCollection<TwinFault> _faultsView;
    private Xoshiro256StarStar _rng;
    private bool _hasSpareGaussian;
    private double _spareGaussian;

    /// <summary>Some signal has a sensor fault in <see cref="_sensors"/>: without one, a step skips them.</summary>
    private bool _anySensorFault;

    /// <summary>Seconds the part flow has reached, counted from the start of the first twin this state was stepped in (<see cref="TwinOptions.Start"/>, unless <see cref="WithStep"/> moved it).</summary>
    private double _now;

    /// <summary>
    /// The part-flow time (<see cref="_now"/>, seconds) at step 0 of this twin's step length: 0 for a twin that always ran
    /// at its step; for a <see cref="WithStep"/> copy, which keeps <see cref="Steps"/> but steps another length, the
    /// offset that makes step N end at <c>_timeBase + N * _dt</c> = the source's time plus the steps taken since.
    /// </summary>
    private double _timeBase;

    public LineTwin(LineDefinition line, TwinOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(line);
        Options = options ?? new TwinOptions();
        if (Options.Step <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), Options.Step, "TwinOptions.Step must be positive");
        }

        Line = line;
        _dt = Options.Step.TotalSeconds;
        _randomFailures = Options.RandomFailuresEnabled;
        _rng = new Xoshiro256StarStar(Options.Seed);
        _signals = line.Signals;
        _faultsView = _faults.AsReadOnly();

        _stations = BuildStations(line);
        foreach (var station in _stations)
        {
            station.SeedRandom(Options.Seed);
        }

        _robots = BuildRobots(line);
        for (var i = 0; i < line.Signals.Length; i++)
        {
            if (!_signalIndex.TryAdd(line.Signals[i].Id, i))
            {
                throw new ArgumentException($"line '{line.Id}' defines signal '{line.Signals[i].Id}' twice", nameof(line));
            }
        }

        _state = new double[line.Signals.Length];
        _values = new double[line.Signals.Length];
        _offsets = new double[line.Signals.Length];
        _sensors = new SensorFaults[line.Signals.Length];
        Array.Fill(_sensors, SensorFaults.None);
        _noiseKeys = NoiseKeys(line.Signals, Options.Seed);
        _plans = new SignalPlan[line.Signals.Length];
        for (var i = 0; i < _plans.Length; i++)
        {
            _plans[i] = BuildPlan(line.Signals[i], i);
        }

        _discreteOrder = [.. Enumerable.Range(0, _plans.Length).Where(i => _plans[i].IsDiscrete)];
        _continuousOrder = ContinuousOrder();
        _interlocks = BuildInterlocks(line);
        _interlockWhen = new bool[_interlocks.Length];
        _interlockStopping = new bool[_interlocks.Length];
        _newHeld = new bool[_stations.Length];
        BuildEffects(line);

        // The first cycles are sampled below, so the setpoints must hold their initial values (and give their factors) first.
        foreach (var i in _continuousOrder)
        {
            if (_plans[i].Kind == PlanKind.Setpoint)
            {
                _state[i] = _plans[i].A;
            }
        }

        UpdateCycleFactors();
        InitializePartFlow();
        UpdateDiscrete();
        InitializeContinuous();
    }

    /// <summary>The definition the twin runs; <see cref="SetRobotPosition"/> replaces it with one that carries the taught pose.</summary>
    public LineDefinition Line { get; private set; }

    public TwinOptions Options { get; }

    ulong ILineTwin.Seed => Options.Seed;

    /// <summary><see cref="TwinOptions.Start"/> plus <see cref="Steps"/> times <see cref="TwinOptions.Step"/>.</summary>
    public DateTime SimTime => Options.Start + TimeSpan.FromTicks(Options.Step.Ticks * Steps);

    public long Steps { get; private set; }

    /// <inheritdoc/>
    public TimeSpan StepLength => Options.Step;

    /// <summary>Parts that left the line at its end (stations with no outgoing edge); scrap is not counted.</summary>
    public long PartsProduced { get; private set; }

    /// <summary>How often an interlock held a forbidden motion: each time it stopped a station that had work to do.</summary>
    public long InterlockHolds { get; private set; }

    /// <summary>
    /// Steps that ended with an interlock violated although the twin held what it could (a condition the twin cannot
    /// hold, such as a robot already inside a zone). The commissioning gate fails a change whose run has any.
    /// </summary>
    public long InterlockViolations { get; private set; }

    /// <summary>Steps on which a robot joint was outside its axis limits.</summary>
    public long AxisLimitViolations { get; private set; }

    /// <summary>The line's signals, in definition order; the index of each is its slot (<see cref="IndexOf"/>).</summary>
    public IReadOnlyList<SignalDefinition> Signals => _signals;

    public IReadOnlyList<TwinFault> ActiveFaults => _faultsView;

    /// <summary>One time step: the part flow up to <see cref="SimTime"/> + Step, then the signals, interlocks and axis limits.</summary>
    public void Step()
    {
        AccumulateDrift();
        AdvancePartFlow(_timeBase + ((Steps + 1) * _dt));
        Steps++;
        UpdateDiscrete();
        ApplyInterlocks();
        CheckAxisLimits();
        UpdateContinuous();
    }

    /// <summary>Steps as fast as possible until <see cref="SimTime"/> reaches <paramref name="simTime"/> (not beyond it).</summary>
    public void RunUntil(DateTime simTime)
    {
        var target = (simTime - Options.Start).Ticks / Options.Step.Ticks;
        while (Steps < target)
        {
            Step();
        }
    }

    /// <summary>The signal's current value (Booleans 0 and 1; NaN when the signal has no model).</summary>
    /// <exception cref="KeyNotFoundException">The line has no such signal.</exception>
    public double GetValue(string signalId) => _values[SlotOf(signalId)];

    /// <summary>The value of the signal at <paramref name="index"/> in <see cref="Signals"/>.</summary>
    public double GetValue(int index) => _values[index];

    public bool TryGetValue(string signalId, out double value)
    {
        ArgumentNullException.ThrowIfNull(signalId);
        if (_signalIndex.TryGetValue(signalId, out var index))
        {
            value = _values[index];
            return true;
        }

        value = double.NaN;
        return false;
    }

    /// <summary>Copies every signal's value, in <see cref="Signals"/> order, into <paramref name="destination"/>.</summary>
    public void CopyValues(Span<double> destination) => _values.CopyTo(destination);

    /// <summary>The slot of a signal in <see cref="Signals"/>, or -1.</summary>
    public int IndexOf(string signalId)
    {
        ArgumentNullException.ThrowIfNull(signalId);
        return _signalIndex.TryGetValue(signalId, out var index) ? index : -1;
    }

    /// <summary>True when the twin computes the signal (it has a model), so it has an expected value.</summary>
    public bool IsModeled(string signalId) => _plans[SlotOf(signalId)].Kind != PlanKind.None;

    /// <summary>
    /// The value as text, for String signals: a robot program's name (empty while none runs); other signals give
    /// their number in invariant culture (empty for NaN).
    /// </summary>
    public string GetText(int index)
    {
        ref readonly var plan = ref _plans[index];
        if (plan.Kind == PlanKind.RobotProgram && _signals[index].DataType == SignalDataType.String)
        {
            // A stuck sensor keeps its text: the frozen value is the program number (0 while none ran).
            var robot = _robots[plan.Robot];
            var inProgram = _sensors[index].Stuck ? _values[index] != 0 : robot.InProgram;
            return inProgram ? robot.ProgramName : "";
        }

        var value = _values[index];
        return double.IsNaN(value) ? "" : value.ToString("R", CultureInfo.InvariantCulture);
    }

    public string GetText(string signalId) => GetText(SlotOf(signalId));

    /// <summary>
    /// A controller input (setpoint or command) changed: the twin holds <paramref name="value"/> from now on
    /// (Booleans 0 and 1). In shadow mode the gateway feeds the real line's inputs here.
    /// </summary>
    /// <exception cref="KeyNotFoundException">The line has no such signal.</exception>
    /// <exception cref="ArgumentException">The signal is a controller output (the twin computes those) or the value is not finite.</exception>
    public void SetInput(string signalId, double value)
    {
        var index = SlotOf(signalId);
        var signal = _signals[index];
        if (signal.Direction != SignalDirection.ControllerInput)
        {
            throw new ArgumentException($"signal '{signalId}' is a controllerOutput: the twin computes it, only controllerInput signals are set", nameof(signalId));
        }

        if (!double.IsFinite(value))
        {
            throw new ArgumentException($"value {value} for signal '{signalId}' is not a finite number", nameof(value));
        }

        _state[index] = value;
        _values[index] = Read(index, value + _offsets[index]);
        if (_hasEffect[index])
        {
            UpdateCycleFactors();
        }
    }

    /// <summary>
    /// Sets the station's produced, good and rejected counters to 0, as a PLC's counter reset does (its fill level and
    /// the line's <see cref="PartsProduced"/> stay); the counter signals read 0 from now on.
    /// </summary>
    /// <exception cref="KeyNotFoundException">The line has no such station.</exception>
    public void ResetCounters(string stationId)
    {
        var station = _stations[StationSlotOf(stationId)];
        station.Produced = 0;
        station.Good = 0;
        station.Rejected = 0;
        UpdateDiscrete();
    }

    /// <summary>The station's state as of the last step.</summary>
    /// <exception cref="KeyNotFoundException">The line has no such station.</exception>
    public StationState GetStationState(string stationId) => _stations[StationSlotOf(stationId)].State;

    /// <summary>Parts in the station now (a buffer's fill level).</summary>
    public int GetStationLevel(string stationId) => _stations[StationSlotOf(stationId)].Count;

    /// <summary>Parts the station finished since the start (for a buffer: parts that passed through).</summary>
    public long GetStationProduced(string stationId) => _stations[StationSlotOf(stationId)].Produced;

    /// <inheritdoc/>
    public StationState GetStationState(int stationIndex) => _stations[stationIndex].State;

    /// <inheritdoc/>
    public int GetStationLevel(int stationIndex) => _stations[stationIndex].Count;

    /// <inheritdoc/>
    public long GetStationProduced(int stationIndex) => _stations[stationIndex].Produced;

    /// <inheritdoc/>
    public double GetLastCycleTime(int stationIndex) => _stations[stationIndex].LastCycleTime;

    private int SlotOf(string signalId)
    {
        ArgumentNullException.ThrowIfNull(signalId);
        return _signalIndex.TryGetValue(signalId, out var index)
            ? index
            : throw new KeyNotFoundException($"line '{Line.Id}' has no signal '{signalId}'");
    }

    private int StationSlotOf(string stationId)
    {
        ArgumentNullException.ThrowIfNull(stationId);
        return _stationIndex.TryGetValue(stationId, out var index)
            ? index
            : throw new KeyNotFoundException($"line '{Line.Id}' has no station '{stationId}'");
    }

    private StationRuntime[] BuildStations(LineDefinition line)
    {
        var stations = new StationRuntime[line.Stations.Length];
        for (var i = 0; i < stations.Length; i++)
        {
            stations[i] = new StationRuntime(line.Stations[i], i);
            if (!_stationIndex.TryAdd(line.Stations[i].Id, i))
            {
                throw new ArgumentException($"line '{line.Id}' defines station '{line.Stations[i].Id}' twice", nameof(line));
            }
        }

        var hasUpstream = new bool[stations.Length];
        var downstream = new List<int>[stations.Length];
        for (var i = 0; i < stations.Length; i++)
        {
            downstream[i] = [];
        }

        foreach (var edge in line.Topology)
        {
            var from = StationOrThrow(edge.From, "topology");
            var to = StationOrThrow(edge.To, "topology");
            downstream[from].Add(to);
            hasUpstream[to] = true;
        }

        for (var i = 0; i < stations.Length; i++)
        {
            stations[i].Downstream = [.. downstream[i]];
            stations[i].IsSource = !hasUpstream[i] && stations[i].Definition.CycleTime is not null;
        }

        return stations;
    }

    private RobotRuntime[] BuildRobots(LineDefinition line)
    {
        var robots = new RobotRuntime[line.Robots.Length];
        for (var r = 0; r < robots.Length; r++)
        {
            var station = StationOrThrow(line.Robots[r].StationId, $"robot '{line.Robots[r].Id}'");
            robots[r] = new RobotRuntime(line.Robots[r], station);
            _stations[station].Robot = r;
        }

        return robots;
    }

    private int StationOrThrow(string id, string where) =>
        _stationIndex.TryGetValue(id, out var index)
            ? index
            : throw new ArgumentException($"{where} names station '{id}', which line '{Line.Id}' does not define");

    private int SignalOrThrow(string id, string where) =>
        _signalIndex.TryGetValue(id, out var index)
            ? index
            : throw new ArgumentException($"{where} names signal '{id}', which line '{Line.Id}' does not define");

    private int RobotOrThrow(string id, string where)
    {
        for (var r = 0; r < _robots.Length; r++)
        {
            if (string.Equals(_robots[r].Definition.Id, id, StringComparison.Ordinal))
            {
                return r;
            }
        }

        throw new ArgumentException($"{where} names robot '{id}', which line '{Line.Id}' does not define");
    }

    private static double Report(double value, Rounding rounding) => rounding switch
    {
        Rounding.Integer => Math.Round(value, MidpointRounding.AwayFromZero),
        Rounding.Boolean => value >= 0.5 ? 1.0 : 0.0,
        _ => value,
    };
}
