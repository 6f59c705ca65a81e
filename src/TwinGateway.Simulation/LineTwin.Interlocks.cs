using TwinGateway.Core.Lines;

namespace TwinGateway.Simulation;

/// <summary>
/// Interlocks: when a step would end with an interlock's <c>when</c> and <c>forbid</c> both true, the twin holds every
/// station its <c>forbid</c> condition reads (the station neither processes nor releases parts, and reports Blocked
/// instead of Processing), so the forbidden motion does not happen. A robot moving into a zone is what usually triggers
/// it; the held station resumes once the robot has left.
/// </summary>
public sealed partial class LineTwin
{
    private readonly InterlockRuntime[] _interlocks;
    private readonly bool[] _interlockWhen;
    private readonly bool[] _interlockStopping;
    private readonly bool[] _newHeld;

    private sealed record InterlockRuntime(string Id, CompiledCondition When, CompiledCondition Forbid, int[] HoldStations);

    private InterlockRuntime[] BuildInterlocks(LineDefinition line)
    {
        var interlocks = new InterlockRuntime[line.Interlocks.Length];
        for (var k = 0; k < interlocks.Length; k++)
        {
            var definition = line.Interlocks[k];
            var where = $"interlock '{definition.Id}'";
            var holds = definition.Forbid.Signals
                .Select(id => _signals[SignalOrThrow(id, where)].StationId)
                .OfType<string>()
                .Select(id => _stationIndex[id])
                .Distinct()
                .Order()
                .ToArray();
            interlocks[k] = new InterlockRuntime(
                definition.Id,
                CompiledCondition.Compile(definition.When, id => SignalOrThrow(id, where)),
                CompiledCondition.Compile(definition.Forbid, id => SignalOrThrow(id, where)),
                holds);
        }

        return interlocks;
    }

    /// <summary>
    /// Holds exactly the stations whose running would violate an interlock now: the stations are first judged as if
    /// unheld (a station that holds itself, such as "no spindle with the door open" where the door opens whenever the
    /// spindle stops, would otherwise never start again), then each violated interlock holds its stations.
    /// </summary>
    private void ApplyInterlocks()
    {
        if (_interlocks.Length == 0)
        {
            return;
        }

        var anyHeld = false;
        foreach (var station in _stations)
        {
            anyHeld |= station.Held;
            station.Held = false;
        }

        if (anyHeld)
        {
            UpdateDiscrete();
        }

        Array.Clear(_newHeld);
        Array.Clear(_interlockWhen);

        // Holding one station can bring another interlock's condition about; holds only grow, so a few rounds settle it.
        for (var round = 0; round < 4; round++)
        {
            var added = false;
            for (var k = 0; k < _interlocks.Length; k++)
            {
                var interlock = _interlocks[k];
                if (!interlock.When.Evaluate(_values) || !interlock.Forbid.Evaluate(_values))
                {
                    continue;
                }

                _interlockWhen[k] = true;
                foreach (var s in interlock.HoldStations)
                {
                    if (!_newHeld[s])
                    {
                        _newHeld[s] = true;
                        _stations[s].Held = true;
                        added = true;
                    }
                }
            }

            if (!added)
            {
                break;
            }

            UpdateDiscrete();
        }

        for (var k = 0; k < _interlocks.Length; k++)
        {
            // _interlockWhen[k]: the interlock had to hold something this step.
            var stopping = _interlockWhen[k];
            if (stopping && !_interlockStopping[k])
            {
                InterlockHolds++;
            }

            _interlockStopping[k] = stopping;
            if (stopping && _interlocks[k].When.Evaluate(_values) && _interlocks[k].Forbid.Evaluate(_values))
            {
                InterlockViolations++;
            }
        }
    }
}
