using TwinGateway.Core.Lines;
using TwinGateway.Core.Twins;

namespace TwinGateway.Host.Web;

/// <summary>What the Lines pages and their live endpoints read from a line definition: station state codes, plottable signals, the output counter.</summary>
internal static class LineSignals
{
    /// <summary>How many plots a line page shows at once (and how many signals one live stream or history query takes).</summary>
    public const int MaxPlots = 8;

    /// <summary>How many plots a line page opens with when its URL names none.</summary>
    public const int DefaultPlots = 5;

    /// <summary>The station's state-code signal (a <c>state</c> model without <c>is</c>), as the shadow loop reads it; null when it has none.</summary>
    public static SignalDefinition? StateCode(LineDefinition line, string stationId)
    {
        ArgumentNullException.ThrowIfNull(line);
        return line.Signals.FirstOrDefault(s => string.Equals(s.StationId, stationId, StringComparison.Ordinal)
            && s.Model is StationStateModel { States.IsDefaultOrEmpty: true });
    }

    /// <summary>A signal a plot can draw: numeric or Boolean (0/1).</summary>
    public static bool IsPlottable(SignalDefinition signal)
    {
        ArgumentNullException.ThrowIfNull(signal);
        return signal.DataType.IsNumeric() || signal.DataType == SignalDataType.Boolean;
    }

    /// <summary>
    /// The plots a line page opens with: <see cref="DefaultPlots"/> measurements the twin compares (a nominal range and a
    /// tolerance) that move with production (motor currents, followed setpoints, temperatures, axes), at most one per
    /// station so the page shows the line and not one machine; then any other compared measurement. Setpoints, state
    /// codes and counters are left out: their plots are steps, not curves.
    /// </summary>
    public static IReadOnlyList<string> Defaults(LineDefinition line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var candidates = line.Signals
            .Where(s => s.DataType.IsNumeric() && s.NominalRange is not null && SignalComparison.IsComparable(s)
                && s.Model is not (SetpointModel or StationStateModel or PartCountModel or RobotProgramModel or ConstantModel))
            .OrderBy(s => s.Model switch
            {
                MotorCurrentModel => 0,
                FollowModel => 1,
                TemperatureModel => 2,
                AxisPositionModel => 3,
                _ => 4,
            })
            .ToArray();
        var chosen = new List<string>();
        var stations = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in candidates)
        {
            if (chosen.Count < DefaultPlots && stations.Add(s.StationId ?? "line"))
            {
                chosen.Add(s.Id);
            }
        }

        chosen.AddRange(candidates.Select(s => s.Id).Where(id => !chosen.Contains(id)).Take(DefaultPlots - chosen.Count));
        return [.. line.Signals.Select(s => s.Id).Where(chosen.Contains)];
    }

    /// <summary>The stations no part flows on from: where parts leave the line.</summary>
    public static IReadOnlyList<StationDefinition> Ends(LineDefinition line)
    {
        ArgumentNullException.ThrowIfNull(line);
        return [.. line.Stations.Where(s => !line.Downstream(s.Id).Any())];
    }

    /// <summary>
    /// The counter of parts leaving the line (a <c>partCount</c> of its last station, produced or good); null with the
    /// reason when the line has several last stations or its last station counts nothing.
    /// </summary>
    public static (SignalDefinition? Counter, string Reason) OutputCounter(LineDefinition line)
    {
        var ends = Ends(line);
        if (ends.Count != 1)
        {
            return (null, ends.Count == 0
                ? "the part flow has no last station (it is a cycle)"
                : $"parts leave the line at {ends.Count} stations ({string.Join(", ", ends.Select(e => e.Id))}), so no one counter is the line's output");
        }

        var end = ends[0];
        var counter = line.SignalsOf(end.Id).FirstOrDefault(s => s.Model is PartCountModel { Counter: PartCounter.Produced or PartCounter.Good });
        return counter is null
            ? (null, $"the last station '{end.Id}' has no part counter signal (a partCount model) in the line file")
            : (counter, "");
    }

    /// <summary>"processing" for a state code; "unknown" for none or one out of range.</summary>
    public static string StateName(double? code) =>
        code is { } c && double.IsFinite(c) && Enum.IsDefined(typeof(StationState), (int)c)
            ? ((StationState)(int)c).ToString().ToLowerInvariant()
            : "unknown";
}
