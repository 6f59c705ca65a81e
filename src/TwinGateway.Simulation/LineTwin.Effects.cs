using TwinGateway.Core.Lines;

namespace TwinGateway.Simulation;

/// <summary>
/// Setpoint effects: a setpoint's value scales the cycle times of the stations its <see cref="SignalDefinition.Effects"/>
/// name (a speed override of 50 % doubles them). A station's factor is the product of the factors of every effect on it,
/// recomputed whenever such a setpoint is set; new cycles take it, parts in progress keep their time (as after a Fork
/// with a changed cycle time). A factor of infinity (a setpoint at or below 0) stops the station.
/// </summary>
public sealed partial class LineTwin
{
    private EffectRuntime[] _effects = [];
    private bool[] _hasEffect = [];

    /// <summary>One effect resolved to slots: the setpoint's signal and the station (-1: every station with a cycle time).</summary>
    private readonly record struct EffectRuntime(int Signal, int Station, SetpointEffect Effect);

    /// <summary>The factor on the cycle time of the station at <paramref name="stationIndex"/> that the setpoints give now
    /// (1 without effects, positive infinity while a setpoint stops the station).</summary>
    public double GetCycleTimeFactor(int stationIndex) => _stations[stationIndex].CycleFactor;

    /// <inheritdoc cref="GetCycleTimeFactor(int)"/>
    public double GetCycleTimeFactor(string stationId) => _stations[StationSlotOf(stationId)].CycleFactor;

    private void BuildEffects(LineDefinition line)
    {
        var effects = new List<EffectRuntime>();
        _hasEffect = new bool[line.Signals.Length];
        for (var i = 0; i < line.Signals.Length; i++)
        {
            var signal = line.Signals[i];
            if (signal.Effects.IsDefaultOrEmpty)
            {
                continue;
            }

            if (_plans[i].Kind != PlanKind.Setpoint)
            {
                throw new ArgumentException($"signal '{signal.Id}' has effects, but a '{signal.Model?.Kind ?? "no"}' model: only a setpoint's value acts on the line", nameof(line));
            }

            foreach (var effect in signal.Effects)
            {
                if (!(effect.Reference > 0) || !(effect.Share is > 0 and <= 1))
                {
                    throw new ArgumentException($"signal '{signal.Id}': effect reference {effect.Reference} must be above 0 and share {effect.Share} above 0 and at most 1", nameof(line));
                }

                var station = effect.Station is null ? -1 : StationOrThrow(effect.Station, $"an effect of signal '{signal.Id}'");
                effects.Add(new EffectRuntime(i, station, effect));
                _hasEffect[i] = true;
            }
        }

        _effects = [.. effects];
    }

    /// <summary>Recomputes every station's cycle-time factor from the setpoints' current values.</summary>
    private void UpdateCycleFactors()
    {
        foreach (var station in _stations)
        {
            station.CycleFactor = 1.0;
        }

        foreach (var (signal, target, effect) in _effects)
        {
            var factor = effect.CycleTimeFactor(_state[signal]);
            if (target >= 0)
            {
                _stations[target].CycleFactor *= factor;
                continue;
            }

            foreach (var station in _stations)
            {
                if (station.Definition.CycleTime is not null)
                {
                    station.CycleFactor *= factor;
                }
            }
        }
    }
}
