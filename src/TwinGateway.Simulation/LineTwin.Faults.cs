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
            default:
                return $"unknown fault {fault.GetType().Name}";
        }
    }

    private string? CheckStation(string? stationId) =>
        stationId is not null && _stationIndex.ContainsKey(stationId) ? null : $"line '{Line.Id}' has no station '{stationId}'";

    /// <summary>Injects a fault; it acts from the next step on and stays until <see cref="ClearFaults"/>.</summary>
    /// <exception cref="ArgumentException">The fault names a station or signal the line does not have (the message says which), or a non-finite rate.</exception>
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

    /// <summary>Removes every injected fault: jams are released, worn tools and hot bearings replaced, sensors recalibrated.</summary>
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
            if (_offsets[i] != 0)
            {
                _offsets[i] = 0;
                _values[i] = Report(_state[i], _plans[i].Rounding);
            }
        }

        UpdateDiscrete();
    }

    private void Apply(TwinFault fault)
    {
        switch (fault)
        {
            case SensorOffset offset:
                var index = _signalIndex[offset.SignalId];
                _offsets[index] += offset.Offset;
                _values[index] = Report(_values[index] + offset.Offset, _plans[index].Rounding);
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
        }
    }
}
