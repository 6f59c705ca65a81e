using TwinGateway.Core.Lines;

namespace TwinGateway.Simulation;

/// <summary>The signal models: discrete ones read the part flow, continuous ones lag towards a target with noise.</summary>
public sealed partial class LineTwin
{
    private SignalPlan BuildPlan(SignalDefinition signal, int index)
    {
        var plan = new SignalPlan
        {
            Signal = index,
            Station = signal.StationId is { } stationId && _stationIndex.TryGetValue(stationId, out var station) ? station : -1,
            Source = -1,
            Robot = -1,
            Axis = -1,
            Rounding = signal.DataType == SignalDataType.Boolean ? Rounding.Boolean
                : signal.DataType.IsInteger() ? Rounding.Integer
                : Rounding.None,
        };
        var where = $"signal '{signal.Id}'";
        switch (signal.Model)
        {
            case null:
                plan.Kind = PlanKind.None;
                break;
            case SetpointModel m:
                plan.Kind = PlanKind.Setpoint;
                plan.A = m.Initial;
                break;
            case ConstantModel m:
                plan.Kind = PlanKind.Constant;
                plan.A = m.Value;
                plan.Noise = m.Noise;
                break;
            case FollowModel m:
                plan.Kind = PlanKind.Follow;
                plan.Source = SignalOrThrow(m.Source, where);
                plan.A = m.Gain;
                plan.B = m.Offset;
                plan.Alpha = Alpha(m.TimeConstant);
                plan.Noise = m.Noise;
                plan.OnlyWhileProcessing = m.OnlyWhileProcessing && plan.Station >= 0;
                break;
            case MotorCurrentModel m:
                plan.Kind = PlanKind.MotorCurrent;
                plan.A = m.Idle;
                plan.B = m.Load;
                plan.Alpha = Alpha(m.TimeConstant);
                plan.Noise = m.Noise;
                break;
            case TemperatureModel m:
                plan.Kind = PlanKind.Temperature;
                plan.A = m.Ambient;
                plan.B = m.Running;
                plan.Alpha = Alpha(m.TimeConstant);
                plan.Noise = m.Noise;
                break;
            case AxisPositionModel m:
                plan.Kind = PlanKind.AxisPosition;
                plan.Robot = RobotOrThrow(m.Robot, where);
                plan.Axis = AxisOf(_robots[plan.Robot], m.Axis, where);
                plan.Noise = m.Noise;
                break;
            case RobotProgramModel m:
                plan.Kind = PlanKind.RobotProgram;
                plan.Robot = RobotOrThrow(m.Robot, where);
                break;
            case RobotZoneModel m:
                plan.Kind = PlanKind.RobotZone;
                plan.Robot = RobotOrThrow(m.Robot, where);
                plan.Zone = new bool[_robots[plan.Robot].Poses.Length];
                foreach (var name in m.Positions)
                {
                    var pose = _robots[plan.Robot].PoseIndex(name);
                    if (pose < 0)
                    {
                        throw new ArgumentException($"{where} names position '{name}', which robot '{m.Robot}' does not define");
                    }

                    plan.Zone[pose] = true;
                }

                break;
            case PartCountModel m:
                plan.Kind = PlanKind.PartCount;
                plan.Counter = m.Counter;
                break;
            case CycleTimeModel:
                plan.Kind = PlanKind.CycleTime;
                break;
            case StationStateModel m:
                plan.Kind = m.States.IsDefaultOrEmpty ? PlanKind.StateCode : PlanKind.StateFlag;
                foreach (var state in m.States.IsDefault ? [] : m.States)
                {
                    plan.StateMask |= 1 << (int)state;
                }

                break;
            default:
                throw new ArgumentException($"{where} has a model of kind '{signal.Model.Kind}' the twin does not know");
        }

        var needsStation = plan.Kind is PlanKind.StateCode or PlanKind.StateFlag or PlanKind.PartCount or PlanKind.CycleTime
            or PlanKind.MotorCurrent or PlanKind.Temperature;
        if (needsStation && plan.Station < 0)
        {
            throw new ArgumentException($"{where} has a '{signal.Model!.Kind}' model, which needs the signal to belong to a station");
        }

        return plan;
    }

    private double Alpha(double timeConstant) => timeConstant > 0 ? 1.0 - Math.Exp(-_dt / timeConstant) : 1.0;

    private static int AxisOf(RobotRuntime robot, string axis, string where)
    {
        for (var a = 0; a < robot.Definition.Axes.Length; a++)
        {
            if (string.Equals(robot.Definition.Axes[a].Name, axis, StringComparison.Ordinal))
            {
                return a;
            }
        }

        throw new ArgumentException($"{where} names axis '{axis}', which robot '{robot.Definition.Id}' does not have");
    }

    /// <summary>Continuous signals with each follow after its source; a cycle of follows is cut where it closes (that source then lags one step).</summary>
    private int[] ContinuousOrder()
    {
        var order = new List<int>();
        var mark = new byte[_plans.Length]; // 0 new, 1 visiting, 2 done
        for (var i = 0; i < _plans.Length; i++)
        {
            Visit(i);
        }

        return [.. order];

        void Visit(int i)
        {
            if (mark[i] != 0 || _plans[i].IsDiscrete || _plans[i].Kind == PlanKind.None)
            {
                return;
            }

            mark[i] = 1;
            if (_plans[i].Kind == PlanKind.Follow)
            {
                Visit(_plans[i].Source);
            }

            mark[i] = 2;
            order.Add(i);
        }
    }

    /// <summary>Station states, robot poses and the signals read straight from the part flow (no noise, no lag).</summary>
    private void UpdateDiscrete()
    {
        foreach (var station in _stations)
        {
            station.State = station.ComputeState();
        }

        foreach (var robot in _robots)
        {
            var station = _stations[robot.Station];
            var inCycle = station.Count > 0 && station.Remaining.Length > 0 && station.Remaining[0] > 0;
            var progress = inCycle && station.Duration[0] > 0 ? 1.0 - (station.Remaining[0] / station.Duration[0]) : 1.0;
            robot.Update(inCycle, progress);
        }

        foreach (var i in _discreteOrder)
        {
            ref readonly var plan = ref _plans[i];
            double value;
            switch (plan.Kind)
            {
                case PlanKind.StateCode:
                    value = (int)_stations[plan.Station].State;
                    break;
                case PlanKind.StateFlag:
                    value = (plan.StateMask >> (int)_stations[plan.Station].State) & 1;
                    break;
                case PlanKind.PartCount:
                    var station = _stations[plan.Station];
                    value = plan.Counter switch
                    {
                        PartCounter.Good => station.Good,
                        PartCounter.Rejected => station.Rejected,
                        PartCounter.Level => station.Count,
                        _ => station.Produced,
                    };
                    break;
                case PlanKind.CycleTime:
                    value = _stations[plan.Station].LastCycleTime;
                    break;
                case PlanKind.RobotProgram:
                    value = _robots[plan.Robot].InProgram ? _robots[plan.Robot].ProgramNumber : 0;
                    break;
                default: // RobotZone
                    value = plan.Zone![_robots[plan.Robot].Target] ? 1 : 0;
                    break;
            }

            _state[i] = value;
            _values[i] = Read(i, value + _offsets[i]);
        }
    }

    /// <summary>The continuous signals at step 0: settled at their targets, without noise.</summary>
    private void InitializeContinuous()
    {
        for (var i = 0; i < _plans.Length; i++)
        {
            if (_plans[i].Kind == PlanKind.None)
            {
                _state[i] = double.NaN;
                _values[i] = double.NaN;
            }
        }

        foreach (var i in _continuousOrder)
        {
            ref readonly var plan = ref _plans[i];
            _state[i] = plan.Kind switch
            {
                PlanKind.Setpoint or PlanKind.Constant or PlanKind.Temperature => plan.A,
                PlanKind.Follow => plan.B + (plan.A * FollowSource(plan)),
                PlanKind.MotorCurrent => CurrentTarget(plan),
                _ => _robots[plan.Robot].Joints[plan.Axis],
            };
            _values[i] = Read(i, _state[i] + _offsets[i]);
        }
    }

    private void UpdateContinuous()
    {
        foreach (var i in _continuousOrder)
        {
            ref readonly var plan = ref _plans[i];
            double state;
            switch (plan.Kind)
            {
                case PlanKind.Setpoint:
                    _values[i] = Read(i, _state[i] + _offsets[i]);
                    continue;
                case PlanKind.Constant:
                    state = plan.A;
                    break;
                case PlanKind.Follow:
                    state = _state[i] + (plan.Alpha * (plan.B + (plan.A * FollowSource(plan)) - _state[i]));
                    break;
                case PlanKind.MotorCurrent:
                    state = _state[i] + (plan.Alpha * (CurrentTarget(plan) - _state[i]));
                    break;
                case PlanKind.Temperature:
                    var target = _stations[plan.Station].State == StationState.Processing ? plan.B : plan.A;
                    state = _state[i] + (plan.Alpha * (target - _state[i]));
                    break;
                default: // AxisPosition
                    state = _robots[plan.Robot].Joints[plan.Axis];
                    break;
            }

            _state[i] = state;
            var value = state + _offsets[i];
            if (plan.Kind == PlanKind.Temperature)
            {
                value += _stations[plan.Station].Heat;
            }

            if (plan.Noise > 0 && plan.Rounding != Rounding.Boolean)
            {
                value += plan.Noise * _sensors[i].NoiseFactor * NextGaussian();
            }

            _values[i] = Read(i, value);
        }
    }

    private double FollowSource(in SignalPlan plan) =>
        plan.OnlyWhileProcessing && _stations[plan.Station].State != StationState.Processing ? 0.0 : _state[plan.Source];

    private double CurrentTarget(in SignalPlan plan) => _stations[plan.Station].State switch
    {
        StationState.Failed => 0.0,
        StationState.Processing => plan.B,
        _ => plan.A,
    };

    /// <summary>Standard normal by Box-Muller; both values of a pair are used.</summary>
    private double NextGaussian()
    {
        if (_hasSpareGaussian)
        {
            _hasSpareGaussian = false;
            return _spareGaussian;
        }

        var u1 = 1.0 - _rng.NextDouble(); // (0, 1]: the logarithm is finite
        var u2 = _rng.NextDouble();
        var radius = Math.Sqrt(-2.0 * Math.Log(u1));
        var (sin, cos) = Math.SinCos(2.0 * Math.PI * u2);
        _spareGaussian = radius * sin;
        _hasSpareGaussian = true;
        return radius * cos;
    }
}
