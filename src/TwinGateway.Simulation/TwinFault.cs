namespace TwinGateway.Simulation;

/// <summary>
/// A fault or drift injected into a <see cref="LineTwin"/> (<see cref="LineTwin.InjectFault"/>), active until
/// <see cref="LineTwin.ClearFaults"/>. The simulated PLC switches them from its command line and its OPC UA methods.
/// </summary>
/// <param name="Target">The station id or signal id the fault acts on.</param>
public abstract record TwinFault(string Target);

/// <summary>
/// A wearing tool: every cycle of the station that starts <c>h</c> simulated hours after the injection takes
/// <c>h * CycleTimeIncreasePerHour</c> seconds longer than sampled.
/// </summary>
/// <param name="StationId">The station whose tool wears.</param>
/// <param name="CycleTimeIncreasePerHour">Seconds added to the cycle time per simulated hour.</param>
public sealed record ToolWear(string StationId, double CycleTimeIncreasePerHour) : TwinFault(StationId);

/// <summary>A miscalibrated sensor: the signal reads <see cref="Offset"/> (in its unit) more than the process value.
/// Only that signal moves; models that follow it still see the process value.</summary>
public sealed record SensorOffset(string SignalId, double Offset) : TwinFault(SignalId);

/// <summary>A bearing heating up: every temperature signal of the station reads <c>h * DegreesPerHour</c> more,
/// <c>h</c> simulated hours after the injection.</summary>
public sealed record BearingHeat(string StationId, double DegreesPerHour) : TwinFault(StationId);

/// <summary>A jam: the station stops (state Failed) and stays stopped until the faults are cleared.</summary>
public sealed record Jam(string StationId) : TwinFault(StationId);

/// <summary>
/// A miscalibrated span: the sensor reads <see cref="Factor"/> times what it would read (the process value with its
/// measurement noise); offsets and leaks add after the gain. Numeric signals only; the factor is finite and above 0,
/// and two gain changes on one signal multiply. Only that signal moves; models that follow it still see the process value.
/// </summary>
public sealed record GainChange(string SignalId, double Factor) : TwinFault(SignalId);

/// <summary>
/// A noisier sensor: the standard deviation of the signal's measurement noise is multiplied by <see cref="Factor"/>
/// (finite, at least 1; two increases on one signal multiply). The model's own noise keeps its draws from the line's
/// stream, scaled, so no other signal moves. A signal whose model has no noise (setpoints, counters, cycle times, a
/// noise of 0) gets Gaussian noise of sigma = 1 % of its nominal range × (Factor - 1), drawn from its own stream
/// (seeded with the twin's seed and the signal id, indexed by step); such a signal needs a nominal range. Numeric
/// signals only.
/// </summary>
public sealed record NoiseIncrease(string SignalId, double Factor) : TwinFault(SignalId);

/// <summary>
/// A stuck sensor: the signal keeps reading what it read at the injection (any data type, text included) while the
/// process goes on; other faults on the signal do not show while it is stuck. Clearing the faults unsticks it.
/// </summary>
public sealed record StuckSensor(string SignalId) : TwinFault(SignalId);

/// <summary>
/// A slow leak or drift of one sensor: the signal reads <c>h * UnitsPerHour</c> (in its unit) more, <c>h</c> simulated
/// hours after the injection, like <see cref="BearingHeat"/> for one signal. Numeric signals only; the rate is finite.
/// </summary>
public sealed record SlowLeak(string SignalId, double UnitsPerHour) : TwinFault(SignalId);
