namespace TwinGateway.Simulation;

/// <summary>
/// Faults of single sensors beyond an offset: a changed gain, more noise, a stuck reading, a slow leak. They change
/// what the signal reads, never the process value that models following the signal see.
/// </summary>
public sealed partial class LineTwin
{
    /// <summary>The share of a signal's nominal range that a <see cref="NoiseIncrease"/> adds as sigma per unit of factor above 1, where the model has no noise to scale.</summary>
    private const double AddedNoisePerFactor = 0.01;

    /// <summary>
    /// What the active faults do to one signal's sensor. Derived from the fault list alone (<see cref="RebuildSensorFaults"/>),
    /// so snapshots and forks carry only the list; the leak's accumulated drift lives in <see cref="_offsets"/>, which
    /// are saved, and a stuck reading is the reported value, which is saved too.
    /// </summary>
    private struct SensorFaults
    {
        public double Gain;
        public double NoiseFactor;

        /// <summary>Sigma of the noise added to a signal whose model has none (0 otherwise).</summary>
        public double AddedNoise;

        public double LeakRate;
        public bool Stuck;

        public static SensorFaults None => new() { Gain = 1, NoiseFactor = 1 };

        public readonly bool IsNone => Gain == 1 && NoiseFactor == 1 && LeakRate == 0 && !Stuck;
    }

    private static bool HasModelNoise(in SignalPlan plan) => plan.Noise > 0 && plan.Rounding != Rounding.Boolean && plan.Kind != PlanKind.Setpoint;

    /// <summary>
    /// The reading of signal <paramref name="i"/> whose unfaulted sensor reads <paramref name="value"/> (the process
    /// value plus its offsets, heat and model noise): frozen when stuck, else gain × (process value + noise) + offsets.
    /// Without such a fault it is exactly <c>Report(value)</c>, so an unfaulted run is bit-identical to one before these faults existed.
    /// </summary>
    private double Read(int i, double value)
    {
        if (_anySensorFault)
        {
            ref readonly var sensor = ref _sensors[i];
            if (sensor.Stuck)
            {
                return _values[i];
            }

            if (sensor.Gain != 1 || sensor.AddedNoise > 0)
            {
                var measured = value - _offsets[i];
                if (sensor.AddedNoise > 0)
                {
                    measured += sensor.AddedNoise * SensorGaussian(i);
                }

                value = (sensor.Gain * measured) + _offsets[i];
            }
        }

        return Report(value, _plans[i].Rounding);
    }

    /// <summary>
    /// A standard normal for signal <paramref name="i"/> at the current step, from the signal's own stream: xoshiro256**
    /// seeded (through SplitMix64) with the signal's key and the step number. Indexed by step rather than advanced, it
    /// needs no state in snapshots or forks, gives the same draw however often a step reads the signal, and leaves the
    /// line's shared noise stream (and so every other signal) untouched.
    /// </summary>
    private double SensorGaussian(int i)
    {
        var random = new Xoshiro256StarStar(_noiseKeys[i] + ((ulong)Steps * 0xD1B54A32D192ED03UL));
        var u1 = 1.0 - random.NextDouble(); // (0, 1]: the logarithm is finite
        var u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>The key of each signal's own noise stream: the twin's seed and the signal's id (not its position, so adding a signal leaves the others' draws alone).</summary>
    private static ulong[] NoiseKeys(IReadOnlyList<Core.Lines.SignalDefinition> signals, ulong seed)
    {
        var keys = new ulong[signals.Count];
        for (var i = 0; i < keys.Length; i++)
        {
            // FNV-1a over the id's UTF-16 code units, as StationRuntime.SeedRandom: stable across runs and machines.
            var key = 14695981039346656037UL;
            foreach (var c in signals[i].Id)
            {
                key = (key ^ c) * 1099511628211UL;
            }

            keys[i] = seed ^ key ^ 0x4444444444444444UL;
        }

        return keys;
    }

    /// <summary>Adds a fault's effect on its signal's sensor to <see cref="_sensors"/>; other faults are ignored.</summary>
    private void AddSensorFault(TwinFault fault)
    {
        switch (fault)
        {
            case GainChange gain:
                _sensors[_signalIndex[gain.SignalId]].Gain *= gain.Factor;
                break;
            case NoiseIncrease noise:
                var index = _signalIndex[noise.SignalId];
                ref var sensor = ref _sensors[index];
                sensor.NoiseFactor *= noise.Factor;
                sensor.AddedNoise = HasModelNoise(_plans[index]) || _signals[index].NominalRange is not { } range
                    ? 0
                    : AddedNoisePerFactor * (range.High - range.Low) * (sensor.NoiseFactor - 1);
                break;
            case StuckSensor stuck:
                _sensors[_signalIndex[stuck.SignalId]].Stuck = true;
                break;
            case SlowLeak leak:
                _sensors[_signalIndex[leak.SignalId]].LeakRate += leak.UnitsPerHour;
                break;
            default:
                return;
        }

        _anySensorFault = true;
    }

    /// <summary>Recomputes <see cref="_sensors"/> from the fault list (after a snapshot is read or a fork copied the list).</summary>
    private void RebuildSensorFaults()
    {
        Array.Fill(_sensors, SensorFaults.None);
        _anySensorFault = false;
        foreach (var fault in _faults)
        {
            AddSensorFault(fault);
        }
    }

    /// <summary>A leaking sensor's drift for one step, accumulated in its offset.</summary>
    private void AccumulateLeaks()
    {
        if (!_anySensorFault)
        {
            return;
        }

        for (var i = 0; i < _sensors.Length; i++)
        {
            if (_sensors[i].LeakRate != 0)
            {
                _offsets[i] += _sensors[i].LeakRate * _dt / SecondsPerHour;
            }
        }
    }
}
