using TwinGateway.Core.Lines;

namespace TwinGateway.Simulation;

/// <summary>
/// A line played twice, faster than real time: once as the real line (<see cref="TwinMode.Real"/>: random failures,
/// noise, injected faults, as the simulated PLC plays it) and once as its shadow twin (<see cref="TwinMode.Shadow"/>,
/// another seed), the real line's controller inputs and its stations' downtime copied into the shadow before every step, as the gateway does. Each
/// step yields every signal's real value with the shadow's expectation: what the gateway's pipeline sees, without the
/// network. Drift detection is developed, tested and measured on it with faults injected at known times.
/// </summary>
public sealed class PairedTwinRun
{
    private readonly int[] _inputs;

    public PairedTwinRun(LineDefinition line, ulong realSeed, ulong shadowSeed, TimeSpan step, DateTime start)
    {
        ArgumentNullException.ThrowIfNull(line);
        Line = line;
        Real = new LineTwin(line, new TwinOptions { Seed = realSeed, Step = step, Mode = TwinMode.Real, Start = start });
        Shadow = new LineTwin(line, new TwinOptions { Seed = shadowSeed, Step = step, Mode = TwinMode.Shadow, Start = start });
        _inputs = [.. Enumerable.Range(0, line.Signals.Length).Where(i => line.Signals[i].Direction == SignalDirection.ControllerInput)];
    }

    public LineDefinition Line { get; }

    /// <summary>The line playing the real one: inject faults here.</summary>
    public LineTwin Real { get; }

    public LineTwin Shadow { get; }

    public DateTime Time => Real.SimTime;

    /// <summary>
    /// One step of both; then <paramref name="sample"/> gets (signal index, real value, expected value) for every
    /// signal, in definition order, at <see cref="Time"/>.
    /// </summary>
    public void Step(Action<int, double, double> sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        foreach (var input in _inputs)
        {
            var value = Real.GetValue(input);
            if (double.IsFinite(value))
            {
                Shadow.SetInput(Line.Signals[input].Id, value);
            }
        }

        for (var s = 0; s < Line.Stations.Length; s++)
        {
            Shadow.FollowDowntime(s, Real.GetStationState(s) == StationState.Failed);
        }

        Real.Step();
        Shadow.Step();
        for (var i = 0; i < Line.Signals.Length; i++)
        {
            sample(i, Real.GetValue(i), Shadow.GetValue(i));
        }
    }
}
