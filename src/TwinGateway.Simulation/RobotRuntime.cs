using TwinGateway.Core.Lines;

namespace TwinGateway.Simulation;

/// <summary>
/// A robot's motion: per part it runs its first program's path, the cycle time shared among the moves in proportion
/// to each move's largest joint distance, joints interpolated linearly within a move.
/// </summary>
internal sealed class RobotRuntime
{
    public RobotRuntime(RobotDefinition definition, int station)
    {
        Definition = definition;
        Station = station;
        Axes = definition.Axes.Length;
        Poses = new double[Math.Max(1, definition.Positions.Length)][];
        Poses[0] = new double[Axes];
        for (var p = 0; p < definition.Positions.Length; p++)
        {
            var joints = definition.Positions[p].Joints;
            Poses[p] = new double[Axes];
            for (var a = 0; a < Axes && a < joints.Length; a++)
            {
                Poses[p][a] = joints[a];
            }
        }

        var program = definition.Programs.Length > 0 ? definition.Programs[0] : null;
        ProgramNumber = program?.Number ?? 0;
        ProgramName = program?.Name ?? "";
        var path = new List<int>();
        foreach (var name in program?.Path ?? [])
        {
            var index = PoseIndex(name);
            if (index >= 0)
            {
                path.Add(index);
            }
        }

        Path = [.. path];
        MoveEnd = new double[Path.Length];
        ShareCycle();
        Min = [.. definition.Axes.Select(a => a.Min)];
        Max = [.. definition.Axes.Select(a => a.Max)];
        Joints = (double[])Poses[0].Clone();
    }

    public RobotDefinition Definition { get; }

    public int Station { get; }

    public int Axes { get; }

    public double[][] Poses { get; }

    /// <summary>Pose indices of the first program's path.</summary>
    public int[] Path { get; }

    /// <summary>Cumulative share of the cycle at the end of each move (the last is 1).</summary>
    public double[] MoveEnd { get; }

    /// <summary>Axis limits, in axis order.</summary>
    public double[] Min { get; }

    public double[] Max { get; }

    public int ProgramNumber { get; }

    public string ProgramName { get; }

    // ---- dynamic state (saved by Write and read by Read: a field added here goes into both) ----

    /// <summary>The pose the robot rests at between cycles (the first position at start).</summary>
    public int RestPose;

    /// <summary>The pose the current cycle started from.</summary>
    public int CycleStartPose;

    // ---- derived each step (saved too, so a restored twin reads the same before its first step) ----

    public double[] Joints;

    /// <summary>The pose the robot is at or moving to.</summary>
    public int Target;

    public bool InProgram;

    /// <summary>Writes the dynamic and derived state above for a twin snapshot (<see cref="LineTwin.SaveState"/>); <see cref="Read"/> reads it back in this order.</summary>
    public void Write(BinaryWriter writer)
    {
        writer.Write(RestPose);
        writer.Write(CycleStartPose);
        writer.Write(Target);
        writer.Write(InProgram);
        writer.Write(Joints.Length);
        foreach (var joint in Joints)
        {
            writer.Write(joint);
        }

        // Poses taught at run time (SetRobotPosition) differ from the definition's: every pose's joints are saved.
        foreach (var pose in Poses)
        {
            foreach (var joint in pose)
            {
                writer.Write(joint);
            }
        }
    }

    /// <summary>Replaces the state with what <see cref="Write"/> wrote.</summary>
    /// <exception cref="InvalidDataException">A pose or the number of joints does not fit this robot.</exception>
    public void Read(BinaryReader reader)
    {
        var restPose = reader.ReadInt32();
        var cycleStartPose = reader.ReadInt32();
        var target = reader.ReadInt32();
        var inProgram = LineTwin.ReadFlag(reader);
        var axes = LineTwin.ReadCount(reader, $"robot '{Definition.Id}' joints", 8);
        foreach (var (name, pose) in new[] { ("rest pose", restPose), ("cycle start pose", cycleStartPose), ("target", target) })
        {
            if (pose < 0 || pose >= Poses.Length)
            {
                throw new InvalidDataException(
                    $"the twin snapshot's robot '{Definition.Id}' has {name} {pose}, but the line gives it {Poses.Length} positions");
            }
        }

        if (axes != Axes)
        {
            throw new InvalidDataException($"the twin snapshot's robot '{Definition.Id}' has {axes} joints, the line's has {Axes} axes");
        }

        RestPose = restPose;
        CycleStartPose = cycleStartPose;
        Target = target;
        InProgram = inProgram;
        for (var a = 0; a < axes; a++)
        {
            Joints[a] = reader.ReadDouble();
        }

        foreach (var pose in Poses)
        {
            for (var a = 0; a < pose.Length; a++)
            {
                pose[a] = reader.ReadDouble();
            }
        }
    }

    public int PoseIndex(string name)
    {
        for (var p = 0; p < Definition.Positions.Length; p++)
        {
            if (string.Equals(Definition.Positions[p].Name, name, StringComparison.Ordinal))
            {
                return p;
            }
        }

        return -1;
    }

    /// <summary>True when a joint of <see cref="Joints"/> is outside its axis limits.</summary>
    public bool IsOutsideLimits()
    {
        for (var a = 0; a < Axes; a++)
        {
            if (Joints[a] < Min[a] || Joints[a] > Max[a])
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Teaches pose <paramref name="pose"/> new joints; the moves' shares of the cycle follow the new distances.</summary>
    public void SetPose(int pose, ReadOnlySpan<double> joints)
    {
        joints.CopyTo(Poses[pose]);
        ShareCycle();
    }

    /// <summary>Sets <see cref="MoveEnd"/>: each move's share of the cycle in proportion to its largest joint distance.</summary>
    private void ShareCycle()
    {
        if (Path.Length == 0)
        {
            return;
        }

        // Steady state: each cycle starts where the previous one ended.
        var from = Path[^1];
        var total = 0.0;
        Span<double> distances = Path.Length <= 64 ? stackalloc double[Path.Length] : new double[Path.Length];
        for (var m = 0; m < Path.Length; m++)
        {
            distances[m] = LargestJointDistance(Poses[from], Poses[Path[m]]);
            total += distances[m];
            from = Path[m];
        }

        var cumulative = 0.0;
        for (var m = 0; m < Path.Length; m++)
        {
            cumulative += total > 0 ? distances[m] / total : 1.0 / Path.Length;
            MoveEnd[m] = cumulative;
        }

        MoveEnd[^1] = 1.0;
    }

    /// <summary>Sets <see cref="Joints"/>, <see cref="Target"/> and <see cref="InProgram"/> for a cycle at <paramref name="progress"/> (0..1), or at rest.</summary>
    public void Update(bool inCycle, double progress)
    {
        if (!inCycle || Path.Length == 0)
        {
            InProgram = false;
            Target = RestPose;
            SetJoints(Poses[RestPose]);
            return;
        }

        InProgram = true;
        var move = 0;
        while (move < Path.Length - 1 && progress >= MoveEnd[move])
        {
            move++;
        }

        var begin = move == 0 ? 0.0 : MoveEnd[move - 1];
        var span = MoveEnd[move] - begin;
        var fraction = span > 0 ? Math.Clamp((progress - begin) / span, 0.0, 1.0) : 1.0;
        var from = Poses[move == 0 ? CycleStartPose : Path[move - 1]];
        var to = Poses[Path[move]];
        Target = Path[move];
        for (var a = 0; a < Axes; a++)
        {
            Joints[a] = from[a] + ((to[a] - from[a]) * fraction);
        }
    }

    private void SetJoints(double[] pose)
    {
        for (var a = 0; a < Axes; a++)
        {
            Joints[a] = pose[a];
        }
    }

    private static double LargestJointDistance(double[] a, double[] b)
    {
        var largest = 0.0;
        for (var i = 0; i < a.Length; i++)
        {
            largest = Math.Max(largest, Math.Abs(a[i] - b[i]));
        }

        return largest;
    }
}
