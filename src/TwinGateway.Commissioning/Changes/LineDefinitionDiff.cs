using System.Globalization;
using System.Text;
using TwinGateway.Core.Lines;

namespace TwinGateway.Commissioning.Changes;

/// <summary>
/// What differs between two line definitions, compared by content (ids, values, lists in order), not by record
/// equality: records holding immutable arrays compare those by reference, and descriptions and source positions are
/// not what a line does.
/// </summary>
internal static class LineDefinitionDiff
{
    /// <summary>The monitored part of a signal: what the gateway subscribes to and how it reads it.</summary>
    public static string SignalKey(SignalDefinition signal) =>
        $"{signal.Id} nodeId={signal.NodeId} controller={signal.ControllerId} dataType={signal.DataType} direction={signal.Direction}";

    /// <summary>Each difference in the signal lists (ids, node ids, controllers, data types, directions, order), in words.</summary>
    public static List<string> SignalDifferences(LineDefinition current, LineDefinition candidate)
    {
        var differences = new List<string>();
        var now = current.Signals.ToDictionary(s => s.Id, StringComparer.Ordinal);
        var next = candidate.Signals.ToDictionary(s => s.Id, StringComparer.Ordinal);
        foreach (var signal in candidate.Signals.Where(s => !now.ContainsKey(s.Id)))
        {
            differences.Add($"adds signal '{signal.Id}'");
        }

        foreach (var signal in current.Signals.Where(s => !next.ContainsKey(s.Id)))
        {
            differences.Add($"removes signal '{signal.Id}'");
        }

        foreach (var signal in candidate.Signals)
        {
            if (now.TryGetValue(signal.Id, out var old) && !string.Equals(SignalKey(old), SignalKey(signal), StringComparison.Ordinal))
            {
                differences.Add($"changes signal '{signal.Id}' from ({SignalKey(old)}) to ({SignalKey(signal)})");
            }
        }

        if (differences.Count == 0 && !current.Signals.Select(s => s.Id).SequenceEqual(candidate.Signals.Select(s => s.Id), StringComparer.Ordinal))
        {
            differences.Add("lists the signals in another order");
        }

        return differences;
    }

    public static string InterlockKey(InterlockDefinition interlock) =>
        $"{interlock.Id}: when {Condition(interlock.When)} forbid {Condition(interlock.Forbid)}";

    /// <summary>Interlock ids added, removed or changed (their conditions; descriptions do not count).</summary>
    public static List<string> ChangedInterlocks(LineDefinition current, LineDefinition candidate) =>
        Changed(current.Interlocks, candidate.Interlocks, i => i.Id, InterlockKey);

    /// <summary>Robot ids added, removed or changed (station, axes and limits, positions, programs, program signal).</summary>
    public static List<string> ChangedRobots(LineDefinition current, LineDefinition candidate) =>
        Changed(current.Robots, candidate.Robots, r => r.Id, RobotKey);

    /// <summary>Station ids added, removed or changed (kind, cycle time, capacity, failures, rejects).</summary>
    public static List<string> ChangedStations(LineDefinition current, LineDefinition candidate) =>
        Changed(current.Stations, candidate.Stations, s => s.Id, StationKey);

    public static bool TopologyDiffers(LineDefinition current, LineDefinition candidate) =>
        !current.Topology.SequenceEqual(candidate.Topology);

    /// <summary>Signal ids whose twin model differs (record equality: a model holding a list counts as changed, which errs on the side of more scrutiny).</summary>
    public static List<string> ChangedModels(LineDefinition current, LineDefinition candidate)
    {
        var now = current.Signals.ToDictionary(s => s.Id, StringComparer.Ordinal);
        return [.. candidate.Signals.Where(s => now.TryGetValue(s.Id, out var old) && !Equals(old.Model, s.Model)).Select(s => s.Id)];
    }

    private static List<string> Changed<T>(IEnumerable<T> current, IEnumerable<T> candidate, Func<T, string> id, Func<T, string> key)
    {
        var now = current.ToDictionary(id, key, StringComparer.Ordinal);
        var next = candidate.ToDictionary(id, key, StringComparer.Ordinal);
        return [.. now.Keys.Union(next.Keys).Where(k => !now.TryGetValue(k, out var a) || !next.TryGetValue(k, out var b) || !string.Equals(a, b, StringComparison.Ordinal)).Order(StringComparer.Ordinal)];
    }

    private static string StationKey(StationDefinition s) => string.Create(CultureInfo.InvariantCulture,
        $"{s.Kind} cycle={s.CycleTime} capacity={s.Capacity} failures={s.FailureRatePerHour} mttr={s.MeanTimeToRepairSeconds} reject={s.RejectRate}");

    private static string RobotKey(RobotDefinition robot)
    {
        var text = new StringBuilder();
        text.Append(robot.StationId).Append(" program=").Append(robot.ProgramSignal);
        foreach (var axis in robot.Axes)
        {
            text.Append(CultureInfo.InvariantCulture, $" axis {axis.Name} {axis.Min:R}..{axis.Max:R} {axis.Unit} {axis.PositionSignal}");
        }

        foreach (var position in robot.Positions)
        {
            text.Append(CultureInfo.InvariantCulture, $" pos {position.Name} [{string.Join(',', position.Joints.Select(ChangeHash.FormatNumber))}]");
        }

        foreach (var program in robot.Programs)
        {
            text.Append(CultureInfo.InvariantCulture, $" prog {program.Name} {program.Number} [{string.Join(',', program.Path)}]");
        }

        return text.ToString();
    }

    private static string Condition(InterlockCondition condition) => condition switch
    {
        SignalCondition c => $"{c.Signal} {c.Operator} {ChangeHash.FormatNumber(c.Value)}",
        AllCondition all => $"all({string.Join("; ", all.Conditions.Select(Condition))})",
        AnyCondition any => $"any({string.Join("; ", any.Conditions.Select(Condition))})",
        _ => condition.GetType().Name,
    };
}
