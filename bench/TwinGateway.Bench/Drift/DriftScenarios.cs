using TwinGateway.Simulation;

namespace TwinGateway.Bench.Drift;

/// <summary>
/// One drift kind injected into the simulated demo line's real twin: the fault, what a correct top contributor is
/// (the faulted signal, or any signal of the station for a station-level fault) and why the magnitude was chosen.
/// </summary>
internal sealed record DriftScenario(string Kind, TwinFault Fault, string Target, bool StationLevel, string Magnitude)
{
    /// <summary>True when <paramref name="signal"/> is the faulted signal (or, for a station-level fault, one of its station's).</summary>
    public bool IsRightContributor(string? signal) => signal is not null &&
        (StationLevel ? signal.StartsWith(Target + ".", StringComparison.Ordinal) : string.Equals(signal, Target, StringComparison.Ordinal));

    /// <summary>
    /// The drift kinds of <see cref="TwinFault"/>, at magnitudes a maintenance engineer would call an early but real
    /// problem (nothing tuned to the detectors): a few percent of a signal's nominal range, or per hour.
    /// </summary>
    public static IReadOnlyList<DriftScenario> All { get; } =
    [
        new("sensor-offset", new SensorOffset("cnc1.spindleTemperature", 4.0), "cnc1.spindleTemperature", false,
            "+4.0 degC = 5 % of the nominal range 0..80 degC"),
        new("bearing-heat", new BearingHeat("cnc2", 5.0), "cnc2", true,
            "+5 degC per hour on every temperature of cnc2"),
        new("tool-wear", new ToolWear("cnc1", 10.0), "cnc1", true,
            "+10 s cycle time per hour on cnc1 (nominal cycle 72 s)"),
        new("gain-change", new GainChange("cnc2.spindleCurrent", 0.9), "cnc2.spindleCurrent", false,
            "span x0.9 on the cnc2 spindle motor current"),
        new("noise-increase", new NoiseIncrease("line.airPressure", 4.0), "line.airPressure", false,
            "measurement noise x4 on the line air pressure (sigma 0.03 -> 0.12 bar)"),
        new("stuck-sensor", new StuckSensor("cnc1.spindleCurrent"), "cnc1.spindleCurrent", false,
            "the cnc1 spindle current (1.5 A idle .. 22 A cutting) freezes at its value at onset"),
        new("slow-leak", new SlowLeak("cnc1.coolantPressure", -3.5), "cnc1.coolantPressure", false,
            "-3.5 bar per hour on the cnc1 coolant pressure = 5 % of the nominal range 0..70 per hour"),
        new("jam", new Jam("cnc2"), "cnc2", true,
            "cnc2 stops (Failed) until cleared; the shadow twin follows the real line's downtime"),
    ];

    /// <summary>The kinds <c>--quick</c> runs.</summary>
    public static IReadOnlyList<DriftScenario> Quick { get; } = [.. All.Where(s => s.Kind is "sensor-offset" or "bearing-heat" or "stuck-sensor")];
}
