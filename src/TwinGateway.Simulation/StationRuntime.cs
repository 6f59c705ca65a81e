using TwinGateway.Core.Lines;

namespace TwinGateway.Simulation;

/// <summary>
/// One station's part-flow state. Parts are anonymous: a non-buffer station keeps one slot per part it holds, in
/// arrival order, with the processing time still to go (0 once done and waiting for downstream). A buffer only counts.
/// </summary>
internal sealed class StationRuntime
{
    public StationRuntime(StationDefinition definition, int index)
    {
        Definition = definition;
        Index = index;
        Capacity = Math.Max(1, definition.Capacity);
        IsBuffer = definition.Kind == StationKind.Buffer;
        var slots = IsBuffer ? 0 : Capacity;
        Remaining = new double[slots];
        Duration = new double[slots];
    }

    public StationDefinition Definition { get; }

    public int Index { get; }

    public string Id => Definition.Id;

    public int Capacity { get; }

    public bool IsBuffer { get; }

    public bool IsConveyor => Definition.Kind == StationKind.Conveyor;

    public bool IsInspection => Definition.Kind == StationKind.Inspection;

    /// <summary>No incoming edge: parts enter the line here, one per cycle time.</summary>
    public bool IsSource { get; set; }

    /// <summary>No outgoing edge: parts leave the line here.</summary>
    public bool IsSink => Downstream.Length == 0;

    public int[] Downstream { get; set; } = [];

    /// <summary>The robot working here, or -1.</summary>
    public int Robot { get; set; } = -1;

    // ---- dynamic state (copied by Fork, saved by Write and read by Read: a field added here goes into both) ----

    public int Count;
    public double[] Remaining;
    public double[] Duration;

    /// <summary>A source's next part: seconds to go, and the interval sampled for it.</summary>
    public double GeneratorRemaining;
    public double GeneratorDuration;

    /// <summary>A source made a part but has no room for it yet.</summary>
    public bool GeneratorWaiting;

    public bool Failed;
    public double RepairRemaining;

    /// <summary>Seconds of processing left before the next random failure.</summary>
    public double FailureBudget;

    public bool Jammed;

    /// <summary>
    /// The real line reports the station down and the shadow twin follows it (<see cref="LineTwin.FollowDowntime"/>):
    /// stopped like a jam until the real line reports it up. Transient: not in snapshots, not copied into forks.
    /// </summary>
    public bool HeldDown;

    /// <summary>An interlock holds the station: it neither processes nor releases parts.</summary>
    public bool Held;

    /// <summary>
    /// The product of the setpoint effects on the station's cycle time (1 without any), applied to cycles as they
    /// start; derived from the setpoints, so Fork recomputes it rather than copying it.
    /// </summary>
    public double CycleFactor = 1.0;

    /// <summary>A setpoint at or below 0 (an override of 0 %) stopped the station: like a held one, it neither processes, accepts nor releases parts.</summary>
    public bool Stopped => double.IsPositiveInfinity(CycleFactor);

    /// <summary>
    /// The station's own random streams: its cycle times, its failures and repairs, its rejects. One stream per process
    /// and station (not one for the line) is what makes a baseline and a candidate run with the same seed comparable
    /// (common random numbers): a change that retimes one station does not reshuffle the draws of every other.
    /// </summary>
    public Xoshiro256StarStar CycleRandom;
    public Xoshiro256StarStar FailureRandom;
    public Xoshiro256StarStar RejectRandom;

    public long Produced;
    public long Good;
    public long Rejected;
    public double LastCycleTime;

    public double WearRate;
    public double Wear;
    public double HeatRate;
    public double Heat;

    /// <summary>The state as last computed (what state signals report).</summary>
    public StationState State;

    public bool IsDown => Failed || Jammed || HeldDown;

    /// <summary>Something to process: a part in progress or a source making the next one.</summary>
    public bool HasActiveWork
    {
        get
        {
            if (IsSource && !GeneratorWaiting)
            {
                return true;
            }

            for (var i = 0; i < Count && i < Remaining.Length; i++)
            {
                if (Remaining[i] > 0)
                {
                    return true;
                }
            }

            return false;
        }
    }

    public StationState ComputeState()
    {
        if (IsDown)
        {
            return StationState.Failed;
        }

        if (IsBuffer)
        {
            return Count == 0 ? StationState.Idle : Count >= Capacity ? StationState.Blocked : StationState.Processing;
        }

        if (HasActiveWork)
        {
            return Held || Stopped ? StationState.Blocked : StationState.Processing;
        }

        return Count > 0 || GeneratorWaiting ? StationState.Blocked : StationState.Idle;
    }

    public bool CanAccept => !IsSource && !IsDown && !Stopped && Count < Capacity;

    /// <summary>The slot of the next part to leave, or -1: a conveyor releases its head only, a machine any finished part.</summary>
    public int ReleasableSlot()
    {
        if (Count == 0)
        {
            return -1;
        }

        if (IsBuffer)
        {
            return 0;
        }

        if (IsConveyor)
        {
            return Remaining[0] <= 0 ? 0 : -1;
        }

        for (var i = 0; i < Count; i++)
        {
            if (Remaining[i] <= 0)
            {
                return i;
            }
        }

        return -1;
    }

    public void RemoveSlot(int slot)
    {
        if (!IsBuffer)
        {
            var tail = Count - slot - 1;
            if (tail > 0)
            {
                Array.Copy(Remaining, slot + 1, Remaining, slot, tail);
                Array.Copy(Duration, slot + 1, Duration, slot, tail);
            }
        }

        Count--;
    }

    public void AddSlot(double remaining, double duration)
    {
        if (!IsBuffer)
        {
            if (Count == Remaining.Length)
            {
                // Only after a fork that lowered the capacity below the parts held: grow, the surplus drains.
                Array.Resize(ref Remaining, Count + 1);
                Array.Resize(ref Duration, Count + 1);
            }

            Remaining[Count] = remaining;
            Duration[Count] = duration;
        }

        Count++;
    }

    /// <summary>Starts the station's streams from the twin's seed and the station's id (not its position, so adding a station leaves the others' draws alone).</summary>
    public void SeedRandom(ulong lineSeed)
    {
        // FNV-1a over the id's UTF-16 code units: stable across runs and machines (string.GetHashCode is not).
        var key = 14695981039346656037UL;
        foreach (var c in Id)
        {
            key = (key ^ c) * 1099511628211UL;
        }

        CycleRandom = new Xoshiro256StarStar(lineSeed ^ key ^ 0x1111111111111111UL);
        FailureRandom = new Xoshiro256StarStar(lineSeed ^ key ^ 0x2222222222222222UL);
        RejectRandom = new Xoshiro256StarStar(lineSeed ^ key ^ 0x3333333333333333UL);
    }

    /// <summary>Writes the dynamic state above for a twin snapshot (<see cref="LineTwin.SaveState"/>); <see cref="Read"/> reads it back in this order.</summary>
    public void Write(BinaryWriter writer)
    {
        writer.Write(Count);
        writer.Write(Remaining.Length);
        for (var i = 0; i < Remaining.Length; i++)
        {
            writer.Write(Remaining[i]);
            writer.Write(Duration[i]);
        }

        writer.Write(GeneratorRemaining);
        writer.Write(GeneratorDuration);
        writer.Write(GeneratorWaiting);
        writer.Write(Failed);
        writer.Write(RepairRemaining);
        writer.Write(FailureBudget);
        writer.Write(Jammed);
        writer.Write(Held);
        writer.Write(Produced);
        writer.Write(Good);
        writer.Write(Rejected);
        writer.Write(LastCycleTime);
        writer.Write(WearRate);
        writer.Write(Wear);
        writer.Write(HeatRate);
        writer.Write(Heat);
        writer.Write((byte)State);
        CycleRandom.Write(writer);
        FailureRandom.Write(writer);
        RejectRandom.Write(writer);
    }

    /// <summary>Replaces the dynamic state with what <see cref="Write"/> wrote.</summary>
    /// <exception cref="InvalidDataException">The parts held do not fit this station (a buffer holds no slots, a machine at least its parts).</exception>
    public void Read(BinaryReader reader)
    {
        var count = reader.ReadInt32();
        var slots = LineTwin.ReadCount(reader, $"station '{Id}' slots", 16);
        if (count < 0 || (IsBuffer ? slots != 0 : slots < Math.Max(1, count)))
        {
            throw new InvalidDataException(
                $"the twin snapshot's station '{Id}' holds {count} parts in {slots} slots, which does not fit the line's {Definition.Kind} station");
        }

        Count = count;
        if (slots != Remaining.Length)
        {
            Remaining = new double[slots];
            Duration = new double[slots];
        }

        for (var i = 0; i < slots; i++)
        {
            Remaining[i] = reader.ReadDouble();
            Duration[i] = reader.ReadDouble();
        }

        GeneratorRemaining = reader.ReadDouble();
        GeneratorDuration = reader.ReadDouble();
        GeneratorWaiting = LineTwin.ReadFlag(reader);
        Failed = LineTwin.ReadFlag(reader);
        RepairRemaining = reader.ReadDouble();
        FailureBudget = reader.ReadDouble();
        Jammed = LineTwin.ReadFlag(reader);
        Held = LineTwin.ReadFlag(reader);
        Produced = reader.ReadInt64();
        Good = reader.ReadInt64();
        Rejected = reader.ReadInt64();
        LastCycleTime = reader.ReadDouble();
        WearRate = reader.ReadDouble();
        Wear = reader.ReadDouble();
        HeatRate = reader.ReadDouble();
        Heat = reader.ReadDouble();
        State = LineTwin.ReadEnum<StationState>(reader, $"station '{Id}' state");
        CycleRandom = Xoshiro256StarStar.Read(reader);
        FailureRandom = Xoshiro256StarStar.Read(reader);
        RejectRandom = Xoshiro256StarStar.Read(reader);
    }

    /// <summary>Continues the other station's random streams (a fork that keeps its source's draws).</summary>
    public void CopyRandomFrom(StationRuntime other)
    {
        CycleRandom = other.CycleRandom;
        FailureRandom = other.FailureRandom;
        RejectRandom = other.RejectRandom;
    }

    /// <summary>Takes over the dynamic state of the station with the same id in another twin.</summary>
    public void CopyFrom(StationRuntime other)
    {
        Count = 0;
        for (var i = 0; i < other.Count; i++)
        {
            // A buffer's parts are all done; a station that becomes a buffer keeps the count only.
            var remaining = other.IsBuffer ? 0 : other.Remaining[i];
            var duration = other.IsBuffer ? 0 : other.Duration[i];
            AddSlot(remaining, duration);
        }

        GeneratorRemaining = other.GeneratorRemaining;
        GeneratorDuration = other.GeneratorDuration;
        GeneratorWaiting = other.GeneratorWaiting && IsSource;
        Failed = other.Failed;
        RepairRemaining = other.RepairRemaining;
        FailureBudget = other.FailureBudget;
        Jammed = other.Jammed;
        Held = other.Held;
        Produced = other.Produced;
        Good = other.Good;
        Rejected = other.Rejected;
        LastCycleTime = other.LastCycleTime;
        WearRate = other.WearRate;
        Wear = other.Wear;
        HeatRate = other.HeatRate;
        Heat = other.Heat;
        State = other.State;
    }
}
