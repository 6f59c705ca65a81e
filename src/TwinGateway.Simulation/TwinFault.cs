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
