using YamlDotNet.RepresentationModel;

namespace TwinGateway.Core.Lines.Parsing;

/// <summary>A setpoint's <c>effects</c>: what its value does to the line (see <see cref="SetpointEffect"/>).</summary>
internal sealed partial class LineDefinitionParser
{
    private static readonly string[] EffectFields = ["cycleTime", "reference", "share"];

    private void ParseEffects(FieldSet fields, YamlNode node, SignalEntry signal)
    {
        var path = fields.PathOf("effects");

        // Only a value the twin holds can act on the line; a measured value follows the line instead.
        if (signal.ModelKind is { } kind && kind != "setpoint")
        {
            Error(fields.KeyNode("effects"), path, $"effects apply only to setpoint signals; this signal's model is '{kind}'");
            return;
        }

        if (signal.ModelKind is null && fields.Get("model") is null)
        {
            Error(fields.KeyNode("effects"), path, "effects apply only to setpoint signals; this signal has no model (add model: { kind: setpoint, initial: ... })");
            return;
        }

        if (signal.DataType is { } type && !type.IsNumeric())
        {
            Error(fields.KeyNode("effects"), path, $"effects scale with the setpoint's value, so they need a numeric dataType, not {type}");
            return;
        }

        if (node is YamlSequenceNode { Children.Count: 0 })
        {
            Error(node, path, "effects is an empty list; leave it out for a setpoint that only holds its value");
            return;
        }

        var targets = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var (item, itemPath) in Items(node, path, "effects"))
        {
            if (FieldSet.Open(this, item, itemPath, "an effect such as { cycleTime: robot1, reference: 100 }", EffectFields) is not { } effect)
            {
                continue;
            }

            var station = EffectStation(effect);
            var reference = NumberField(effect, "reference", Bound.Positive, required: true);
            var share = effect.OptionalNumber("share");
            var shareValid = effect.Get("share") is null || share is not null;
            if (share is { } fraction && fraction is <= 0 or > 1)
            {
                Error(effect.Get("share")!, effect.PathOf("share"),
                    $"share must be above 0 and at most 1 (the fraction of the cycle that scales with the value), found {Format(fraction)}");
                shareValid = false;
            }

            if (station is null || reference is not { } referenceValue || !shareValid)
            {
                continue;
            }

            var target = effect.Get("cycleTime")!;
            if (!targets.TryAdd(station, target))
            {
                Error(target, effect.PathOf("cycleTime"),
                    $"duplicate effect on the cycle time of '{station}' (first at line {targets[station].Start.Line}); write one effect per station and signal");
                continue;
            }

            signal.Effects.Add(new SetpointEffect(station == SetpointEffect.AllStations ? null : station, referenceValue, share ?? 1.0)
            {
                Source = Location(item),
            });
        }
    }

    /// <summary>The station an effect's <c>cycleTime</c> names (or <c>all</c>): it must exist and have a cycle time.</summary>
    private string? EffectStation(FieldSet effect)
    {
        if (effect.Require("cycleTime") is not { } node || Text(node, effect.PathOf("cycleTime")) is not { } station)
        {
            return null;
        }

        if (station == SetpointEffect.AllStations)
        {
            return station;
        }

        if (!_stations.TryGetValue(station, out var entry))
        {
            Error(node, effect.PathOf("cycleTime"),
                $"effect names unknown station '{station}'{Suggestions.DidYouMean(station, _stations.Keys.Append(SetpointEffect.AllStations))} (expected a station id or '{SetpointEffect.AllStations}')");
            return null;
        }

        if (entry.Kind == StationKind.Buffer)
        {
            Error(node, effect.PathOf("cycleTime"), $"station '{station}' is a buffer, which has no cycle time to scale");
            return null;
        }

        return station;
    }
}
