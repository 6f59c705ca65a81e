using TwinGateway.Core.Lines;

namespace TwinGateway.Simulation;

/// <summary>How the twin computes one signal, resolved once so a step only indexes arrays.</summary>
internal enum PlanKind : byte
{
    /// <summary>No model: the twin has no expected value (NaN).</summary>
    None,

    // Discrete: derived from the part flow, no noise, computed before the interlocks.
    StateCode,
    StateFlag,
    PartCount,
    CycleTime,
    RobotProgram,
    RobotZone,

    // Continuous: lags and noise, computed after the interlocks.
    Setpoint,
    Constant,
    Follow,
    MotorCurrent,
    Temperature,
    AxisPosition,
}

internal enum Rounding : byte
{
    None,
    Integer,
    Boolean,
}

internal struct SignalPlan
{
    public int Signal;
    public PlanKind Kind;
    public Rounding Rounding;
    public int Station;
    public int Source;
    public int Robot;
    public int Axis;

    /// <summary>constant: value; follow: gain; motorCurrent: idle; temperature: ambient.</summary>
    public double A;

    /// <summary>follow: offset; motorCurrent: load; temperature: running.</summary>
    public double B;

    /// <summary>1 - exp(-step / timeConstant): the share of the gap a first-order lag closes per step.</summary>
    public double Alpha;

    public double Noise;
    public bool OnlyWhileProcessing;
    public PartCounter Counter;

    /// <summary>Bit per <see cref="StationState"/> for a state flag.</summary>
    public int StateMask;

    /// <summary>For a robot zone: true for each pose in the zone.</summary>
    public bool[]? Zone;

    public readonly bool IsDiscrete => Kind is >= PlanKind.StateCode and <= PlanKind.RobotZone;
}
