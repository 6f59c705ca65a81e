using TwinGateway.Core.Lines;

namespace TwinGateway.Simulation;

/// <summary>
/// The discrete-event part flow. Within a step the twin jumps from event to event (a part finished, a source's next
/// part, a failure, a repair); between events every station that is processing makes progress. After each event the
/// parts move on: a finished part goes to the first downstream station, in topology order, that has room.
/// </summary>
public sealed partial class LineTwin
{
    /// <summary>The shortest cycle the twin runs (1 ms): a cycle time of 0 would make a source produce parts without end.</summary>
    private const double MinimumDuration = 0.001;

    /// <summary>Events closer than this (seconds) count as simultaneous; well below the resolution of a 100 ms step.</summary>
    private const double Epsilon = 1e-9;

    /// <summary>A guard against a line that would never leave a step (the demo line has a few events per step at most).</summary>
    private const int MaxEventsPerStep = 1_000_000;

    private void InitializePartFlow()
    {
        foreach (var station in _stations)
        {
            if (station.IsSource)
            {
                StartGenerator(station);
            }

            station.FailureBudget = SampleFailureBudget(station);
        }

        Settle();
    }

    private void AccumulateDrift()
    {
        foreach (var station in _stations)
        {
            if (station.WearRate != 0)
            {
                station.Wear += station.WearRate * _dt / SecondsPerHour;
            }

            if (station.HeatRate != 0)
            {
                station.Heat += station.HeatRate * _dt / SecondsPerHour;
            }
        }

        AccumulateLeaks();
    }

    private void AdvancePartFlow(double end)
    {
        Settle();
        for (var iteration = 0; ; iteration++)
        {
            if (iteration > MaxEventsPerStep)
            {
                throw new InvalidOperationException(
                    $"line '{Line.Id}': more than {MaxEventsPerStep} part-flow events in one step at {SimTime:O}; check for cycle times near 0");
            }

            var step = end - _now;
            foreach (var station in _stations)
            {
                step = Math.Min(step, TimeToNextEvent(station));
            }

            step = Math.Max(step, 0);
            var events = Progress(step);
            _now += step;
            if (events)
            {
                Settle();
            }

            if (_now >= end - Epsilon)
            {
                break;
            }
        }

        _now = end;
    }

    private static double TimeToNextEvent(StationRuntime station)
    {
        if (station.Jammed || station.HeldDown)
        {
            return double.PositiveInfinity;
        }

        if (station.Failed)
        {
            return station.RepairRemaining;
        }

        if (station.Held || station.Stopped)
        {
            return double.PositiveInfinity;
        }

        var next = double.PositiveInfinity;
        if (station.IsSource && !station.GeneratorWaiting)
        {
            next = station.GeneratorRemaining;
        }

        var remaining = station.Remaining;
        for (var i = 0; i < station.Count && i < remaining.Length; i++)
        {
            if (remaining[i] > 0 && remaining[i] < next)
            {
                next = remaining[i];
            }
        }

        if (!double.IsPositiveInfinity(next) && station.FailureBudget < next)
        {
            next = station.FailureBudget;
        }

        return next;
    }

    /// <summary>Moves every station <paramref name="seconds"/> on; true when something happened that may let parts move.</summary>
    private bool Progress(double seconds)
    {
        var events = false;
        foreach (var station in _stations)
        {
            if (station.Jammed || station.HeldDown)
            {
                continue;
            }

            if (station.Failed)
            {
                station.RepairRemaining -= seconds;
                if (station.RepairRemaining <= Epsilon)
                {
                    station.Failed = false;
                    station.RepairRemaining = 0;
                    station.FailureBudget = SampleFailureBudget(station);
                    events = true;
                }

                continue;
            }

            if (station.Held || station.Stopped)
            {
                continue;
            }

            var active = false;
            if (station.IsSource && !station.GeneratorWaiting)
            {
                active = true;
                station.GeneratorRemaining -= seconds;
                if (station.GeneratorRemaining <= Epsilon)
                {
                    events = true;
                    FinishGenerator(station);
                }
            }

            var remaining = station.Remaining;
            var i = 0;
            while (i < station.Count && i < remaining.Length)
            {
                if (remaining[i] > 0)
                {
                    active = true;
                    remaining[i] -= seconds;
                    if (remaining[i] <= Epsilon)
                    {
                        remaining[i] = 0;
                        events = true;
                        if (!Finish(station, i))
                        {
                            continue; // rejected: the slot is gone, the next part moved into it
                        }
                    }
                }

                i++;
            }

            if (active && !double.IsPositiveInfinity(station.FailureBudget))
            {
                station.FailureBudget -= seconds;
                if (station.FailureBudget <= Epsilon)
                {
                    station.Failed = true;
                    station.RepairRemaining = Math.Max(MinimumDuration, Exponential(ref station.FailureRandom, station.Definition.MeanTimeToRepairSeconds));
                    events = true;
                }
            }
        }

        return events;
    }

    /// <summary>A part is done at <paramref name="slot"/>; false when an inspection rejected it (it leaves as scrap).</summary>
    private bool Finish(StationRuntime station, int slot)
    {
        station.Produced++;
        station.LastCycleTime = station.Duration[slot];
        if (station.Robot >= 0)
        {
            var robot = _robots[station.Robot];
            if (robot.Path.Length > 0)
            {
                robot.RestPose = robot.Path[^1];
            }
        }

        if (station.IsInspection && station.Definition.RejectRate > 0)
        {
            if (station.RejectRandom.NextDouble() < station.Definition.RejectRate)
            {
                station.Rejected++;
                station.RemoveSlot(slot);
                return false;
            }
        }

        station.Good++;
        return true;
    }

    private static void StartGenerator(StationRuntime station)
    {
        var duration = SampleCycleTime(station);
        station.GeneratorDuration = duration;
        station.GeneratorRemaining = duration;
        station.GeneratorWaiting = false;
    }

    private static void FinishGenerator(StationRuntime station)
    {
        if (station.Count < station.Capacity)
        {
            AddGenerated(station);
        }
        else
        {
            station.GeneratorRemaining = 0;
            station.GeneratorWaiting = true;
        }
    }

    private static void AddGenerated(StationRuntime station)
    {
        station.AddSlot(0, station.GeneratorDuration);
        station.Produced++;
        station.Good++;
        station.LastCycleTime = station.GeneratorDuration;
        StartGenerator(station);
    }

    /// <summary>Moves finished parts downstream until nothing can move.</summary>
    private void Settle()
    {
        bool moved;
        do
        {
            moved = false;
            foreach (var station in _stations)
            {
                if (station.IsDown || station.Held || station.Stopped)
                {
                    continue;
                }

                if (station.IsSource && station.GeneratorWaiting && station.Count < station.Capacity)
                {
                    AddGenerated(station);
                    moved = true;
                }

                while (TryRelease(station))
                {
                    moved = true;
                }
            }
        }
        while (moved);
    }

    private bool TryRelease(StationRuntime station)
    {
        var slot = station.ReleasableSlot();
        if (slot < 0)
        {
            return false;
        }

        if (station.IsSink)
        {
            Release(station, slot);
            PartsProduced++;
            return true;
        }

        foreach (var d in station.Downstream)
        {
            var next = _stations[d];
            if (next.CanAccept)
            {
                Release(station, slot);
                Accept(next);
                return true;
            }
        }

        return false;
    }

    private static void Release(StationRuntime station, int slot)
    {
        station.RemoveSlot(slot);
        if (station.IsBuffer)
        {
            station.Produced++;
            station.Good++;
        }
    }

    private void Accept(StationRuntime station)
    {
        if (station.IsBuffer)
        {
            station.AddSlot(0, 0);
            return;
        }

        var duration = SampleCycleTime(station);
        if (station.Robot >= 0 && station.Count == 0)
        {
            var robot = _robots[station.Robot];
            robot.CycleStartPose = robot.RestPose;
        }

        station.AddSlot(duration, duration);
    }

    /// <summary>
    /// A new cycle's time: sampled from the station's distribution, lengthened by wear, scaled by the setpoint effects'
    /// factor as it is now. A stopped station starts no cycle but a source's first (at start or after a fork), which
    /// takes the unscaled time.
    /// </summary>
    private static double SampleCycleTime(StationRuntime station)
    {
        var u1 = station.CycleRandom.NextDouble();
        var u2 = station.CycleRandom.NextDouble();
        var sampled = station.Definition.CycleTime?.Sample(u1, u2) ?? 0;
        var factor = station.Stopped ? 1.0 : station.CycleFactor;
        return Math.Max(MinimumDuration, (sampled + station.Wear) * factor);
    }

    private double SampleFailureBudget(StationRuntime station)
    {
        var rate = station.Definition.FailureRatePerHour;
        return _randomFailures && rate > 0 ? Math.Max(MinimumDuration, Exponential(ref station.FailureRandom, SecondsPerHour / rate)) : double.PositiveInfinity;
    }

    private static double Exponential(ref Xoshiro256StarStar random, double mean) => -mean * Math.Log(1.0 - random.NextDouble());
}
