using System.Collections.Immutable;
using TwinGateway.Core.Lines;
using TwinGateway.Core.Twins;

namespace TwinGateway.Drift.Features;

/// <summary>
/// What a drift detector sees of a line: one feature per signal the real line and the twin can be compared on
/// (<see cref="SignalComparison"/>), the residual <c>(real - expected) / scale</c>, named <c>signalId</c>. The same
/// layout turns live samples and recorded ones into frames, so a model trained on the recorder scores the live line
/// the same way.
/// </summary>
public sealed class LineFeatures
{
    private readonly int[] _featureOfSignal;

    private readonly int[] _stationOfFeature;
    private readonly bool[] _physics;
    private readonly long[] _settle;
    private readonly double[] _noise;
    private readonly int[] _stationOfStateSignal;

    private LineFeatures(string line, ImmutableArray<string> names, int[] signalOfFeature, double[] scale, double[] tolerance, int[] featureOfSignal,
        int[] stationOfFeature, int[] stationOfStateSignal, int stations, bool[] physics, long[] settle, double[] noise)
    {
        _noise = noise;
        _settle = settle;
        _physics = physics;
        _stationOfFeature = stationOfFeature;
        _stationOfStateSignal = stationOfStateSignal;
        Stations = stations;
        Line = line;
        Names = names;
        SignalOfFeature = signalOfFeature;
        Scales = scale;
        Tolerances = tolerance;
        _featureOfSignal = featureOfSignal;
    }

    public string Line { get; }

    /// <summary>Feature names: the signal ids, in the line definition's order.</summary>
    public ImmutableArray<string> Names { get; }

    public int Count => Names.Length;

    /// <summary>The index in the line definition's <c>Signals</c> of each feature's signal.</summary>
    public IReadOnlyList<int> SignalOfFeature { get; }

    /// <summary>Each feature's comparison scale (the signal's unit per 1.0 of residual).</summary>
    public IReadOnlyList<double> Scales { get; }

    /// <summary>Each feature's physics tolerance, in the signal's unit (<see cref="SignalComparison.Tolerance"/>).</summary>
    public IReadOnlyList<double> Tolerances { get; }

    /// <summary>The feature of a signal (by its index in the definition), or -1 when the signal is not compared.</summary>
    public int FeatureOf(int signalIndex) => (uint)signalIndex < (uint)_featureOfSignal.Length ? _featureOfSignal[signalIndex] : -1;

    /// <summary>The number of stations (the index space of <see cref="StationOfFeature"/>).</summary>
    public int Stations { get; }

    /// <summary>
    /// The station whose operating state a feature depends on from moment to moment (motor currents, state flags,
    /// robot positions, programs, zones, followers, buffer levels), or -1: such a feature is only compared while the
    /// station is in the same state on the real line and in the twin. The real line and its twin run the same process
    /// but not in the same phase, and a motor current of a busy machine against the twin's idle one says nothing
    /// about drift. Temperatures, cycle times, constants and setpoints are always compared.
    /// </summary>
    public int StationOfFeature(int feature) => _stationOfFeature[feature];

    /// <summary>
    /// Whether the physics rule judges the feature. Not for signals whose value depends on where in its cycle a station
    /// is (robot joint positions, programs, zones, buffer and conveyor levels): the shadow twin follows the real line's
    /// inputs and downtime, not its cycle phase, so their mean residual says nothing the tolerance could judge. The
    /// learned models still see them, as they learn how those residuals behave on a healthy line.
    /// </summary>
    public bool IsPhysicsCompared(int feature) => _physics[feature];

    /// <summary>
    /// The measurement noise (standard deviation, in the signal's unit) the line definition states for a signal the
    /// process holds constant (a supply pressure, a vacuum), whose residual spread is that noise alone; 0 for every
    /// other signal: a follower, a motor current or a temperature also carries the process's own variation (measured:
    /// admitting temperatures gave 3 false alarms in a healthy simulated day, followers and currents 59).
    /// </summary>
    public double Noise(int feature) => _noise[feature];

    /// <summary>The least time the minimum settling time of a state-dependent feature can be.</summary>
    public const long MinSettleMilliseconds = 1000;

    /// <summary>
    /// How long after its station's state agrees on the line and in the twin a state-dependent feature is compared:
    /// five time constants of its model (a motor current or a follower lags a state change; a follower of a follower
    /// lags by both), at least
    /// <see cref="MinSettleMilliseconds"/>.
    /// </summary>
    public long SettleMilliseconds(int feature) => _settle[feature];

    /// <summary>The station whose state code the signal at <paramref name="signalIndex"/> carries, or -1.</summary>
    public int StationOfStateSignal(int signalIndex) =>
        (uint)signalIndex < (uint)_stationOfStateSignal.Length ? _stationOfStateSignal[signalIndex] : -1;

    public static LineFeatures For(LineDefinition line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var names = ImmutableArray.CreateBuilder<string>();
        var signals = new List<int>();
        var scales = new List<double>();
        var tolerances = new List<double>();
        var featureOf = new int[line.Signals.Length];
        var stationOfFeature = new List<int>();
        var physics = new List<bool>();
        var settle = new List<long>();
        var noise = new List<double>();
        var stationOfStateSignal = new int[line.Signals.Length];
        var stationIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var s = 0; s < line.Stations.Length; s++)
        {
            stationIndex[line.Stations[s].Id] = s;
        }
        for (var i = 0; i < line.Signals.Length; i++)
        {
            var signal = line.Signals[i];
            var station = signal.StationId is { } sid && stationIndex.TryGetValue(sid, out var si) ? si : -1;
            stationOfStateSignal[i] = signal.Model is StationStateModel { States.IsDefaultOrEmpty: true } ? station : -1;
            var scale = SignalComparison.Scale(signal);
            if (scale > 0)
            {
                featureOf[i] = names.Count;
                names.Add(signal.Id);
                signals.Add(i);
                scales.Add(scale);
                tolerances.Add(SignalComparison.Tolerance(signal));
                stationOfFeature.Add(DependsOnState(signal.Model) ? station : -1);
                physics.Add(FollowsCycle(line, signal.Model, 0) is false);
                settle.Add(Math.Max(MinSettleMilliseconds, (long)(5000 * TimeConstant(line, signal.Model, 0))));
                noise.Add(signal.Model is ConstantModel constant ? constant.Noise : 0);
            }
            else
            {
                featureOf[i] = -1;
            }
        }

        // A station without a state-code signal cannot be compared by state: its features are always compared.
        var stationsWithState = stationOfStateSignal.Where(s => s >= 0).ToHashSet();
        for (var f = 0; f < stationOfFeature.Count; f++)
        {
            if (!stationsWithState.Contains(stationOfFeature[f]))
            {
                stationOfFeature[f] = -1;
            }
        }

        return new LineFeatures(line.Id, names.ToImmutable(), [.. signals], [.. scales], [.. tolerances], featureOf,
            [.. stationOfFeature], stationOfStateSignal, line.Stations.Length, [.. physics], [.. settle], [.. noise]);
    }

    /// <summary>True when the model's value depends on the phase of a station's cycle (directly or through the signal it follows).</summary>
    private static bool FollowsCycle(LineDefinition line, SignalModel? model, int depth) => model switch
    {
        AxisPositionModel or RobotProgramModel or RobotZoneModel or PartCountModel => true,
        FollowModel follow when depth < 8 => FollowsCycle(line, line.FindSignal(follow.Source)?.Model, depth + 1),
        _ => false,
    };

    /// <summary>The model's lag behind a state change: its own time constant, plus, for a follower, the lag of what it follows.</summary>
    private static double TimeConstant(LineDefinition line, SignalModel? model, int depth) => model switch
    {
        MotorCurrentModel current => current.TimeConstant,
        FollowModel follow when depth < 8 => follow.TimeConstant + TimeConstant(line, line.FindSignal(follow.Source)?.Model, depth + 1),
        _ => 0,
    };

    private static bool DependsOnState(SignalModel? model) => model is MotorCurrentModel or StationStateModel or FollowModel
        or AxisPositionModel or RobotProgramModel or RobotZoneModel or PartCountModel;
}
