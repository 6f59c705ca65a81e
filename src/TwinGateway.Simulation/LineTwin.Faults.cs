using TwinGateway.Core.Lines;

namespace TwinGateway.Simulation;

/// <summary>Injected faults and drift.</summary>
public sealed partial class LineTwin
{
    /// <summary>Null when <paramref name="fault"/> can be injected into this line; otherwise why not (naming the unknown station or signal).</summary>
    public string? CheckFault(TwinFault fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        switch (fault)
        {
            case SensorOffset offset:
                if (!_signalIndex.TryGetValue(offset.SignalId ?? "", out var index))
                {
                    return $"line '{Line.Id}' has no signal '{offset.SignalId}'";
                }

                if (!_signals[index].DataType.IsNumeric())
                {
                    return $"signal '{offset.SignalId}' is {_signals[index].DataType}, not numeric: a sensor offset needs a number";
                }

                return double.IsFinite(offset.Offset) ? null : $"sensor offset {offset.Offset} is not a finite number";
            case ToolWear wear:
                if (CheckStation(wear.StationId) is { } wearProblem)
                {
                    return wearProblem;
                }

                if (_stations[_stationIndex[wear.StationId]].Definition.CycleTime is null)
                {
                    return $"station '{wear.StationId}' has no cycle time to lengthen";
                }

                return double.IsFinite(wear.CycleTimeIncreasePerHour) ? null : $"tool wear {wear.CycleTimeIncreasePerHour} s/h is not a finite number";
            case BearingHeat heat:
                return CheckStation(heat.StationId)
                    ?? (double.IsFinite(heat.DegreesPerHour) ? null : $"bearing heat {heat.DegreesPerHour} degrees/h is not a finite number");
            case Jam jam:
                return CheckStation(jam.StationId);
            case GainChange gain:
                return CheckNumericSignal(gain.SignalId, "a gain change")
                    ?? (double.IsFinite(gain.Factor) && gain.Factor > 0 ? null : $"gain factor {gain.Factor} is not a finite number above 0");
            case NoiseIncrease noise:
                return CheckNumericSignal(noise.SignalId, "a noise increase")
                    ?? (double.IsFinite(noise.Factor) && noise.Factor >= 1 ? null : $"noise factor {noise.Factor} is not a finite number of at least 1")
                    ?? CheckNoiseScale(noise.SignalId);
            case StuckSensor stuck:
                return stuck.SignalId is not null && _signalIndex.ContainsKey(stuck.SignalId) ? null : $"line '{Line.Id}' has no signal '{stuck.SignalId}'";
            case SlowLeak leak:
                return CheckNumericSignal(leak.SignalId, "a slow leak")
                    ?? (double.IsFinite(leak.UnitsPerHour) ? null : $"slow leak {leak.UnitsPerHour} units/h is not a finite number");
            default:
                return $"unknown fault {fault.GetType().Name}";
        }
    }

    private string? CheckNumericSignal(string? signalId, string fault)
    {
        if (signalId is null || !_signalIndex.TryGetValue(signalId, out var index))
        {
            return $"line '{Line.Id}' has no signal '{signalId}'";
        }

        return _signals[index].DataType.IsNumeric() ? null : $"signal '{signalId}' is {_signals[index].DataType}, not numeric: {fault} needs a number";
    }

    /// <summary>A signal whose model has no noise gets noise scaled by its nominal range, so it needs one.</summary>
    private string? CheckNoiseScale(string signalId)
    {
        var index = _signalIndex[signalId];
        return HasModelNoise(_plans[index]) || (_signals[index].NominalRange is { } range && range.High > range.Low)
            ? null
            : $"signal '{signalId}' has no noise in its model and no nominal range to scale added noise by (sigma = 1 % of the range per unit of factor above 1)";
    }

    private string? CheckStation(string? stationId) =>
        stationId is not null && _stationIndex.ContainsKey(stationId) ? null : $"line '{Line.Id}' has no station '{stationId}'";

    /// <summary>Injects a fault; it acts from the next step on and stays until <see cref="ClearFaults"/>.</summary>
    /// <exception cref="ArgumentException">The fault names a station or signal the line does not have (the message says which), a signal of the wrong type, or a non-finite rate or a factor out of range.</exception>
    public void InjectFault(TwinFault fault)
    {
        if (CheckFault(fault) is { } problem)
        {
            throw new ArgumentException(problem, nameof(fault));
        }

        Apply(fault);
        _faults.Add(fault);
        UpdateDiscrete();
    }

    /// <summary>
    /// Removes every injected fault: jams are released, worn tools and hot bearings replaced, sensors recalibrated,
    /// unstuck and sealed; a signal whose sensor was faulted reads its process value at once (without noise until the next step).
    /// </summary>
    public void ClearFaults()
    {
        _faults.Clear();
        foreach (var station in _stations)
        {
            station.Jammed = false;
            station.WearRate = 0;
            station.Wear = 0;
            station.HeatRate = 0;
            station.Heat = 0;
        }

        for (var i = 0; i < _offsets.Length; i++)
        {
            if (_offsets[i] != 0 || !_sensors[i].IsNone)
            {
                _offsets[i] = 0;
                _sensors[i] = SensorFaults.None;
                _values[i] = Report(_state[i], _plans[i].Rounding);
            }
        }

        _anySensorFault = false;

        UpdateDiscrete();
    }

    private void Apply(TwinFault fault)
    {
        switch (fault)
        {
            case SensorOffset offset:
                var index = _signalIndex[offset.SignalId];
                _offsets[index] += offset.Offset;
                if (!_sensors[index].Stuck)
                {
                    _values[index] = Report(_values[index] + offset.Offset, _plans[index].Rounding);
                }

                break;
            case ToolWear wear:
                _stations[_stationIndex[wear.StationId]].WearRate += wear.CycleTimeIncreasePerHour;
                break;
            case BearingHeat heat:
                _stations[_stationIndex[heat.StationId]].HeatRate += heat.DegreesPerHour;
                break;
            case Jam jam:
                _stations[_stationIndex[jam.StationId]].Jammed = true;
                break;
            case GainChange gain:
                // The reading is gain × measured + offset: the new gain applies to what the sensor measures now.
                var slot = _signalIndex[gain.SignalId];
                if (!_sensors[slot].Stuck)
                {
                    _values[slot] = Report((gain.Factor * (_values[slot] - _offsets[slot])) + _offsets[slot], _plans[slot].Rounding);
                }

                AddSensorFault(fault);
                break;
            default:
                // Noise and a leak act from the next step; a stuck sensor keeps the reading it has now.
                AddSensorFault(fault);
                break;
        }
    }
}
