using System.Collections.Immutable;

namespace TwinGateway.Core.Lines;

/// <summary>
/// How the twin computes a signal. Each kind is a small, deterministic rule over the station's state and other signals;
/// noise is Gaussian with the given standard deviation in the signal's unit, drawn from the twin's seeded generator.
/// Time constants are seconds of a first-order lag: after one time constant the value has covered 63% of a step.
/// Boolean values are 0 and 1; integer signals are rounded to the nearest integer after noise.
/// </summary>
public abstract record SignalModel
{
    private protected SignalModel()
    {
    }

    /// <summary>The kind as written in the line file (<c>model: { kind: ... }</c>).</summary>
    public abstract string Kind { get; }
}

/// <summary><c>constant</c>: always <see cref="Value"/> (plus noise). Booleans use 0 and 1.</summary>
public sealed record ConstantModel(double Value, double Noise) : SignalModel
{
    public override string Kind => "constant";
}

/// <summary>
/// <c>setpoint</c>: a controller input that the gateway or the twin writes; the twin holds the last value written,
/// starting at <see cref="Initial"/>. The only model a <see cref="SignalDirection.ControllerInput"/> signal may have.
/// </summary>
public sealed record SetpointModel(double Initial) : SignalModel
{
    public override string Kind => "setpoint";
}

/// <summary>
/// <c>follow</c>: tracks <c>Offset + Gain * value(Source)</c> with a first-order lag of <see cref="TimeConstant"/> seconds.
/// With <see cref="OnlyWhileProcessing"/>, the source counts as 0 while the signal's station is not processing
/// (a spindle that spins up to its setpoint only during a cycle).
/// </summary>
public sealed record FollowModel(string Source, double Gain, double Offset, double TimeConstant, double Noise, bool OnlyWhileProcessing)
    : SignalModel
{
    public override string Kind => "follow";
}

/// <summary>
/// <c>motorCurrent</c>: <see cref="Idle"/> while the station is not processing, <see cref="Load"/> while it is,
/// approached with a first-order lag of <see cref="TimeConstant"/> seconds. A failed station draws 0.
/// </summary>
public sealed record MotorCurrentModel(double Idle, double Load, double TimeConstant, double Noise) : SignalModel
{
    public override string Kind => "motorCurrent";
}

/// <summary>
/// <c>temperature</c>: approaches <see cref="Running"/> while the station is processing and <see cref="Ambient"/>
/// otherwise, with a first-order lag of <see cref="TimeConstant"/> seconds (thermal masses: minutes to hours).
/// Starts at <see cref="Ambient"/>.
/// </summary>
public sealed record TemperatureModel(double Ambient, double Running, double TimeConstant, double Noise) : SignalModel
{
    public override string Kind => "temperature";
}

/// <summary>
/// <c>axisPosition</c>: the position of axis <see cref="Axis"/> of robot <see cref="Robot"/> as the robot moves through
/// its program. The loader fills both from the robot's axis that names this signal as its <c>positionSignal</c>.
/// </summary>
public sealed record AxisPositionModel(string Robot, string Axis, double Noise) : SignalModel
{
    public override string Kind => "axisPosition";
}

/// <summary>
/// <c>robotProgram</c>: the robot's active program: its number for an integer signal, its name for a String signal,
/// 0 or empty while no program runs. The loader fills <see cref="Robot"/> from the robot that names this signal as its
/// <c>programSignal</c>.
/// </summary>
public sealed record RobotProgramModel(string Robot) : SignalModel
{
    public override string Kind => "robotProgram";
}

/// <summary>
/// <c>robotZone</c>: true while robot <see cref="Robot"/> is at, or moving to, one of <see cref="Positions"/>
/// (the zone those poses lie in). Interlocks use these signals.
/// </summary>
public sealed record RobotZoneModel(string Robot, ImmutableArray<string> Positions) : SignalModel
{
    public override string Kind => "robotZone";
}

/// <summary>Which parts a <see cref="PartCountModel"/> counts.</summary>
public enum PartCounter
{
    /// <summary>Parts the station has finished since the twin started.</summary>
    Produced,

    /// <summary>Parts an inspection station passed.</summary>
    Good,

    /// <summary>Parts an inspection station rejected.</summary>
    Rejected,

    /// <summary>Parts in the station now (a buffer's fill level); not a running total.</summary>
    Level,
}

/// <summary><c>partCount</c>: a part counter of the signal's station.</summary>
public sealed record PartCountModel(PartCounter Counter) : SignalModel
{
    public override string Kind => "partCount";
}

/// <summary><c>cycleTime</c>: the duration in seconds of the station's last completed cycle; 0 before the first.</summary>
public sealed record CycleTimeModel : SignalModel
{
    public override string Kind => "cycleTime";
}

/// <summary>
/// <c>state</c>: with no <see cref="States"/>, the station's <see cref="StationState"/> as an integer code; with
/// <see cref="States"/>, a Boolean that is true while the station is in any of them (<c>is: processing</c> gives a
/// "running" flag, <c>is: [idle, blocked]</c> a "door open" flag).
/// </summary>
public sealed record StationStateModel(ImmutableArray<StationState> States) : SignalModel
{
    public override string Kind => "state";
}
