using TwinGateway.Core.Lines;
using TwinGateway.Core.Twins;

namespace TwinGateway.Simulation;

/// <summary>What-if copies.</summary>
public sealed partial class LineTwin
{
    /// <summary>
    /// An independent deep copy at the same <see cref="SimTime"/> and state, optionally with a changed definition
    /// (stations, signals, robots and interlocks are matched by id; new ones start fresh, removed ones are dropped;
    /// parts in progress keep their sampled times, new cycles use the changed definition). Without
    /// <paramref name="seed"/> the copy continues this twin's random stream, so an unchanged fork fed the same inputs
    /// stays bit-identical to this twin.
    /// </summary>
    public LineTwin Fork(LineDefinition? changedLine = null, ulong? seed = null) => Fork(changedLine, seed, Options.Mode);

    /// <summary>As <see cref="Fork(LineDefinition?, ulong?)"/>, in another <paramref name="mode"/> (for example a
    /// <see cref="TwinMode.WhatIf"/> copy of the shadow twin, with random failures on).</summary>
    public LineTwin Fork(LineDefinition? changedLine, ulong? seed, TwinMode mode)
    {
        var options = Options with { Seed = seed ?? Options.Seed, Mode = mode };
        var fork = new LineTwin(changedLine ?? Line, options);
        fork.CopyStateFrom(this, keepRandomStream: seed is null);
        return fork;
    }

    /// <inheritdoc/>
    public ILineTwin ForkWhatIf(LineDefinition? changedLine, ulong seed) => Fork(changedLine, seed, TwinMode.WhatIf);

    /// <inheritdoc/>
    public ILineTwin ForkShadow(LineDefinition? changedLine) => Fork(changedLine, seed: null, Options.Mode);

    /// <inheritdoc/>
    public ILineTwin WithStep(TimeSpan step)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(step, TimeSpan.Zero);

        // SimTime = Start + Step * Steps: the start moves so that the copy is at this twin's simulated time.
        var options = Options with { Step = step, Start = SimTime - TimeSpan.FromTicks(step.Ticks * Steps) };
        var copy = new LineTwin(Line, options);
        copy.CopyStateFrom(this, keepRandomStream: true);
        return copy;
    }

    /// <summary>
    /// <see cref="_timeBase"/> for the current <see cref="Steps"/> and <see cref="_now"/>: exactly 0 when the state
    /// was reached at this step length (<c>_now</c> is then <c>Steps * _dt</c>, computed the same way).
    /// </summary>
    private double TimeBase() => _now - (Steps * _dt);

    private void CopyStateFrom(LineTwin source, bool keepRandomStream)
    {
        Steps = source.Steps;
        _now = source._now;
        _timeBase = TimeBase();
        PartsProduced = source.PartsProduced;
        InterlockHolds = source.InterlockHolds;
        InterlockViolations = source.InterlockViolations;
        AxisLimitViolations = source.AxisLimitViolations;
        if (keepRandomStream)
        {
            _rng = source._rng;
            _hasSpareGaussian = source._hasSpareGaussian;
            _spareGaussian = source._spareGaussian;
        }

        foreach (var station in _stations)
        {
            if (source._stationIndex.TryGetValue(station.Id, out var s))
            {
                station.CopyFrom(source._stations[s]);
                if (keepRandomStream)
                {
                    station.CopyRandomFrom(source._stations[s]);
                }

                if (station.IsSource && !source._stations[s].IsSource)
                {
                    StartGenerator(station);
                }

                // Another mode or failure rate may switch random failures on or off for the station.
                var fails = _randomFailures && station.Definition.FailureRatePerHour > 0;
                if (!fails)
                {
                    station.FailureBudget = double.PositiveInfinity;
                }
                else if (double.IsPositiveInfinity(station.FailureBudget))
                {
                    station.FailureBudget = SampleFailureBudget(station);
                }
            }
        }

        foreach (var robot in _robots)
        {
            var other = Array.Find(source._robots, r => string.Equals(r.Definition.Id, robot.Definition.Id, StringComparison.Ordinal));
            if (other is not null)
            {
                robot.RestPose = Math.Max(0, robot.PoseIndex(other.Definition.Positions[other.RestPose].Name));
                robot.CycleStartPose = Math.Max(0, robot.PoseIndex(other.Definition.Positions[other.CycleStartPose].Name));
            }
        }

        for (var i = 0; i < _signals.Count; i++)
        {
            if (source._signalIndex.TryGetValue(_signals[i].Id, out var j) && _plans[i].Kind != PlanKind.None)
            {
                _state[i] = source._state[j];
                _values[i] = source._values[j];
                _offsets[i] = source._offsets[j];
            }
        }

        // The setpoints now hold the source's values: cycles started from here on scale by the factors they give.
        UpdateCycleFactors();

        for (var k = 0; k < _interlocks.Length; k++)
        {
            var other = Array.FindIndex(source._interlocks, x => string.Equals(x.Id, _interlocks[k].Id, StringComparison.Ordinal));
            _interlockStopping[k] = other >= 0 && source._interlockStopping[other];
        }

        foreach (var fault in source._faults)
        {
            if (CheckFault(fault) is null)
            {
                _faults.Add(fault);
            }
        }

        // The sensor faults' effects follow from the list (their drift is in the offsets copied above).
        RebuildSensorFaults();
        UpdateDiscrete();
    }
}
