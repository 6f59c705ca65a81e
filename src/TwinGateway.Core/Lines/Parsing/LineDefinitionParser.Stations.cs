using YamlDotNet.RepresentationModel;

namespace TwinGateway.Core.Lines.Parsing;

internal sealed partial class LineDefinitionParser
{
    private static readonly string[] StationFields =
        ["id", "name", "kind", "cycleTime", "capacity", "failureRate", "meanTimeToRepair", "rejectRate"];

    private static readonly (string Name, StationKind Value)[] StationKinds =
    [
        ("machine", StationKind.Machine),
        ("conveyor", StationKind.Conveyor),
        ("buffer", StationKind.Buffer),
        ("robot", StationKind.Robot),
        ("inspection", StationKind.Inspection),
    ];

    private static readonly string[] DistributionNames = ["fixed", "normal", "uniform", "exponential"];

    private readonly Dictionary<string, StationEntry> _stations = new(StringComparer.Ordinal);

    private List<StationEntry> ParseStations(FieldSet top)
    {
        var stations = new List<StationEntry>();
        if (top.Require("stations") is not { } section)
        {
            return stations;
        }

        if (section is YamlSequenceNode { Children.Count: 0 })
        {
            Error(section, "stations", "a line needs at least one station");
        }

        foreach (var (item, path) in Items(section, "stations", "stations"))
        {
            if (FieldSet.Open(this, item, path, "a station", StationFields) is not { } fields)
            {
                continue;
            }

            var idNode = fields.Require("id");
            var id = idNode is null ? null : Identifier(idNode, fields.PathOf("id"), "station id");
            if (string.Equals(id, LineWidePrefix, StringComparison.Ordinal))
            {
                Error(idNode!, fields.PathOf("id"), $"station id '{LineWidePrefix}' is reserved for line-wide signals ({LineWidePrefix}.name)");
                id = null;
            }

            var entry = new StationEntry(id ?? "", idNode ?? item, fields.PathOf("id"), Location(item));
            if (id is not null && Register(_stations, id, idNode!, fields.PathOf("id"), "station id", static s => s.IdNode, entry))
            {
                stations.Add(entry);
            }

            ParseStationFields(fields, entry);
        }

        return stations;
    }

    private void ParseStationFields(FieldSet fields, StationEntry entry)
    {
        entry.Name = fields.OptionalText("name") ?? entry.Id;
        entry.Kind = fields.Require("kind") is { } kindNode ? Choice(kindNode, fields.PathOf("kind"), "station kind", StationKinds) : null;

        // Every station but a buffer works on parts for some time; a buffer only holds them.
        var cycleTimeNode = entry.Kind is StationKind.Buffer ? fields.Get("cycleTime") : fields.Require("cycleTime");
        if (cycleTimeNode is not null)
        {
            entry.CycleTime = ParseDistribution(cycleTimeNode, fields.PathOf("cycleTime"));
        }

        var capacityNode = entry.Kind is StationKind.Buffer ? fields.Require("capacity") : fields.Get("capacity");
        if (capacityNode is not null && Integer(capacityNode, fields.PathOf("capacity")) is { } capacity)
        {
            if (capacity is < 1 or > 100_000)
            {
                Error(capacityNode, fields.PathOf("capacity"), $"capacity must be from 1 to 100000 parts, found {capacity}");
            }
            else
            {
                entry.Capacity = (int)capacity;
            }
        }

        entry.FailureRatePerHour = NumberField(fields, "failureRate", Bound.NotNegative) ?? 0;
        entry.MeanTimeToRepairSeconds = NumberField(fields, "meanTimeToRepair", Bound.Positive) ?? 0;
        if (entry.FailureRatePerHour > 0 && !fields.Has("meanTimeToRepair"))
        {
            Error(fields.KeyNode("failureRate"), fields.PathOf("failureRate"),
                "failureRate is above 0, so the station also needs meanTimeToRepair (seconds)");
        }

        if (fields.Has("rejectRate") && entry.Kind is { } kind and not StationKind.Inspection)
        {
            Error(fields.KeyNode("rejectRate"), fields.PathOf("rejectRate"),
                $"rejectRate applies only to inspection stations; '{entry.Id}' is a {Name(kind)}");
        }
        else
        {
            entry.RejectRate = NumberField(fields, "rejectRate", Bound.Fraction) ?? 0;
        }
    }

    private Distribution? ParseDistribution(YamlNode node, string path)
    {
        if (node is YamlScalarNode)
        {
            // A plain number is a fixed time: the common case reads as "cycleTime: 42".
            var seconds = Number(node, path);
            if (seconds < 0)
            {
                Error(node, path, $"a cycle time must not be negative, found {Format(seconds.Value)}");
                return null;
            }

            return seconds is { } value ? new FixedDistribution(value) : null;
        }

        if (node is not YamlMappingNode mapping)
        {
            Error(node, path, $"expected a cycle time: seconds (42), or a mapping such as {{ distribution: normal, mean: 42, stddev: 1.5 }}, found {Describe(node)}");
            return null;
        }

        var kindNode = mapping.Children.FirstOrDefault(c => c.Key is YamlScalarNode { Value: "distribution" }).Value;
        var kind = kindNode is null || IsNull(kindNode) ? null : ChoiceName(kindNode, $"{path}.distribution", "distribution", DistributionNames);
        string[] known = kind switch
        {
            "fixed" => ["distribution", "value"],
            "normal" => ["distribution", "mean", "stddev"],
            "uniform" => ["distribution", "min", "max"],
            "exponential" => ["distribution", "mean"],
            _ => ["distribution", "value", "mean", "stddev", "min", "max"],
        };
        if (FieldSet.Open(this, mapping, path, "a cycle time distribution", known) is not { } fields)
        {
            return null;
        }

        if (kindNode is null || IsNull(kindNode))
        {
            fields.Require("distribution");
            return null;
        }

        switch (kind)
        {
            case "fixed":
                return NumberField(fields, "value", Bound.NotNegative, required: true) is { } value ? new FixedDistribution(value) : null;
            case "normal":
                var mean = NumberField(fields, "mean", Bound.Positive, required: true);
                var stdDev = NumberField(fields, "stddev", Bound.NotNegative, required: true);
                return mean is { } m && stdDev is { } s ? new NormalDistribution(m, s) : null;
            case "uniform":
                var min = NumberField(fields, "min", Bound.NotNegative, required: true);
                var max = NumberField(fields, "max", Bound.NotNegative, required: true);
                if (min > max)
                {
                    Error(fields.Get("min")!, fields.PathOf("min"), $"uniform min {Format(min.Value)} is above max {Format(max!.Value)}");
                    return null;
                }

                return min is { } lo && max is { } hi ? new UniformDistribution(lo, hi) : null;
            case "exponential":
                return NumberField(fields, "mean", Bound.Positive, required: true) is { } expMean ? new ExponentialDistribution(expMean) : null;
            default:
                return null;
        }
    }

    private static string Name(StationKind kind) => StationKinds.First(k => k.Value == kind).Name;

    /// <summary>A station as read so far; built into a <see cref="StationDefinition"/> only when the file has no error.</summary>
    private sealed class StationEntry(string id, YamlNode idNode, string idPath, SourceLocation source)
    {
        public string Id { get; } = id;

        public YamlNode IdNode { get; } = idNode;

        public string IdPath { get; } = idPath;

        public string Name { get; set; } = id;

        public StationKind? Kind { get; set; }

        public Distribution? CycleTime { get; set; }

        public int Capacity { get; set; } = 1;

        public double FailureRatePerHour { get; set; }

        public double MeanTimeToRepairSeconds { get; set; }

        public double RejectRate { get; set; }

        /// <summary>The robot that works at this station, once the robots are read.</summary>
        public string? Robot { get; set; }

        public StationDefinition Build() => new()
        {
            Id = Id,
            Name = Name,
            Kind = Kind ?? throw new InvalidOperationException($"Station '{Id}' has no kind."),
            CycleTime = CycleTime,
            Capacity = Capacity,
            FailureRatePerHour = FailureRatePerHour,
            MeanTimeToRepairSeconds = MeanTimeToRepairSeconds,
            RejectRate = RejectRate,
            Source = source,
        };
    }
}
