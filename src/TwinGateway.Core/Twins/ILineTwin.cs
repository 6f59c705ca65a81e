using TwinGateway.Core.Lines;

namespace TwinGateway.Core.Twins;

/// <summary>
/// A running twin of one line, as the features that drive it see it (the gateway's shadow loop, replay, and later the
/// commissioning gate): controller inputs in, expected values out, stepped in simulated time. The engine behind it
/// (<c>TwinGateway.Simulation.LineTwin</c>) is wired by the host; features meet it only through this interface, so
/// that no feature project references another.
/// </summary>
/// <remarks>A twin is used by one thread at a time; callers that share one serialise access themselves.</remarks>
public interface ILineTwin
{
    LineDefinition Line { get; }

    /// <summary>The simulated time of the last step.</summary>
    DateTime SimTime { get; }

    /// <summary>Steps taken since the start.</summary>
    long Steps { get; }

    /// <summary>Simulated time per step.</summary>
    TimeSpan StepLength { get; }

    /// <summary>The seed its random processes were started with.</summary>
    ulong Seed { get; }

    /// <summary>Advances the twin by one step.</summary>
    void Step();

    /// <summary>Sets a controller input (a setpoint, a command) to the value the real line has.</summary>
    void SetInput(string signalId, double value);

    /// <summary>The expected value of the signal at <paramref name="index"/> in <see cref="LineDefinition.Signals"/>; NaN where the twin does not model it.</summary>
    double GetValue(int index);

    /// <summary>Parts that left the line since the twin started (its throughput counter).</summary>
    long PartsProduced { get; }

    /// <summary>Steps on which an interlock's forbidden condition held while its condition held (should be 0).</summary>
    long InterlockViolations { get; }

    /// <summary>Steps on which a robot joint was outside its axis limits (should be 0).</summary>
    long AxisLimitViolations { get; }

    /// <summary>
    /// The real line reports the station at <paramref name="stationIndex"/> down (<paramref name="down"/> true: failed)
    /// or up again. A shadow twin draws no failures of its own (the real line's are what the comparison should show),
    /// so without this it keeps a station running that the real line has stopped, and every signal the station drives
    /// (temperatures that cool, parts that stop flowing) walks away from the real one for reasons that are not drift.
    /// The twin holds the station down, like a jam, until told it is up.
    /// </summary>
    void FollowDowntime(int stationIndex, bool down);

    /// <summary>The state of the station at <paramref name="stationIndex"/> in <see cref="LineDefinition.Stations"/> as of the last step.</summary>
    StationState GetStationState(int stationIndex);

    /// <summary>Parts in the station at <paramref name="stationIndex"/> now (a buffer's fill level).</summary>
    int GetStationLevel(int stationIndex);

    /// <summary>Parts the station at <paramref name="stationIndex"/> finished since the start.</summary>
    long GetStationProduced(int stationIndex);

    /// <summary>Duration in seconds of the last cycle the station at <paramref name="stationIndex"/> completed; 0 before the first.</summary>
    double GetLastCycleTime(int stationIndex);

    /// <summary>
    /// A what-if copy at this twin's simulated time and state (random failures on), optionally with a changed
    /// definition (stations, signals, robots and interlocks matched by id), its random processes started from
    /// <paramref name="seed"/>: the same state, definition and seed give a bit-identical run.
    /// </summary>
    ILineTwin ForkWhatIf(LineDefinition? changedLine, ulong seed);

    /// <summary>
    /// An independent copy at this twin's state in the same mode, that continues this twin's random stream,
    /// optionally with a changed definition: what the shadow loop swaps in when a change's definition is adopted.
    /// </summary>
    ILineTwin ForkShadow(LineDefinition? changedLine);

    /// <summary>
    /// A snapshot of the twin's complete dynamic state (part flow, signal states and values, injected faults and
    /// drift, counters, its random stream) together with the options it runs with (seed, step, start, mode,
    /// random-failure switch), as bytes that <see cref="ITwinFactory.Restore"/> turns back into a twin that continues
    /// bit-identically. The line definition is not in it: the caller keeps that as its file text and hash (the
    /// snapshot holds only the line's id and its station, signal, robot and interlock ids, to refuse another line).
    /// </summary>
    byte[] SaveState();

    /// <summary>
    /// An independent copy at this twin's state and simulated time that continues with steps of <paramref name="step"/>
    /// (validation runs at a coarser step than the shadow loop): same mode, same random stream, same definition.
    /// </summary>
    ILineTwin WithStep(TimeSpan step);
}

/// <summary>How a twin is started: its seed, its step and the simulated time of its first step.</summary>
/// <param name="Seed">Seed of the twin's random processes (the same seed gives the same run).</param>
/// <param name="Step">Simulated time per step.</param>
/// <param name="Start">Simulated time at step 0 (UTC).</param>
public sealed record TwinSettings(ulong Seed, TimeSpan Step, DateTime Start);

/// <summary>Creates twins in shadow mode: they follow the real line's inputs and compute the expected outputs.</summary>
public interface ITwinFactory
{
    ILineTwin CreateShadow(LineDefinition line, TwinSettings settings);

    /// <summary>
    /// A twin with exactly the state <see cref="ILineTwin.SaveState"/> saved, in the mode and with the options it was
    /// saved with: stepped with the same inputs, it gives the same values, bit for bit, as the saved twin would have.
    /// </summary>
    /// <param name="line">The definition the saved twin ran (its file text is kept beside the snapshot).</param>
    /// <param name="state">The bytes <see cref="ILineTwin.SaveState"/> returned.</param>
    /// <exception cref="InvalidDataException">The bytes are not a twin snapshot, are of another format version, are
    /// truncated or corrupt, or do not match <paramref name="line"/> (its id, or its station, signal, robot or
    /// interlock ids or counts differ; the message names the first mismatch).</exception>
    ILineTwin Restore(LineDefinition line, ReadOnlySpan<byte> state);
}
