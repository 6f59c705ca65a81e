using System.Collections.Immutable;
using YamlDotNet.RepresentationModel;

namespace TwinGateway.Core.Lines.Parsing;

internal sealed partial class LineDefinitionParser
{
    private static readonly string[] EdgeFields = ["from", "to"];

    private bool _topologyValid = true;

    private ImmutableArray<PartFlowEdge> ParseTopology(FieldSet top)
    {
        var edges = ImmutableArray.CreateBuilder<PartFlowEdge>();

        // A single station is a line on its own; from two stations on, the part flow says how they connect.
        var section = _stations.Count > 1 ? top.Require("topology") : top.Get("topology");
        if (section is null)
        {
            _topologyValid = _stations.Count <= 1;
            return edges.ToImmutable();
        }

        var seen = new Dictionary<PartFlowEdge, YamlNode>();
        foreach (var (item, path) in Items(section, "topology", "topology edges"))
        {
            if (FieldSet.Open(this, item, path, "a topology edge", EdgeFields) is not { } fields)
            {
                _topologyValid = false;
                continue;
            }

            var from = EdgeEnd(fields, "from");
            var to = EdgeEnd(fields, "to");
            if (from is null || to is null)
            {
                _topologyValid = false;
                continue;
            }

            var edge = new PartFlowEdge(from, to);
            if (from == to)
            {
                Error(item, path, $"topology edge from '{from}' to itself");
            }
            else if (!seen.TryAdd(edge, item))
            {
                Error(item, path, $"duplicate topology edge from '{from}' to '{to}' (first defined at line {seen[edge].Start.Line})");
            }
            else
            {
                edges.Add(edge);
            }
        }

        if (section is not YamlSequenceNode)
        {
            _topologyValid = false;
        }

        return edges.ToImmutable();
    }

    private string? EdgeEnd(FieldSet fields, string key)
    {
        if (fields.Require(key) is not { } node || Text(node, fields.PathOf(key)) is not { } station)
        {
            return null;
        }

        if (_stations.ContainsKey(station))
        {
            return station;
        }

        Error(node, fields.PathOf(key), $"topology edge references unknown station '{station}'{Suggestions.DidYouMean(station, _stations.Keys)}");
        return null;
    }

    /// <summary>Checks that need every section read: forward references, robots at robot stations, the part flow's shape.</summary>
    private void CrossCheck(FieldSet top, ImmutableArray<PartFlowEdge> topology)
    {
        foreach (var check in _deferred)
        {
            check();
        }

        // A misspelt 'robots:' is already reported; every robot reference failing with it would only bury that error.
        if (_robotsMisspelt)
        {
            CheckPartFlowIfValid(top, topology);
            return;
        }

        foreach (var signal in _signalList)
        {
            if (signal.ModelKind is "axisPosition" or "robotProgram" && signal.UsedBy is null)
            {
                var field = signal.ModelKind == "axisPosition" ? "an axis positionSignal" : "its programSignal";
                Error(signal.ModelKindNode!, $"{signal.Path}.model.kind",
                    $"model kind '{signal.ModelKind}' takes its values from a robot, but no robot names signal '{signal.Id}' as {field}");
            }
        }

        foreach (var station in _stations.Values)
        {
            if (station.Kind == StationKind.Robot && station.Robot is null && !HasErrorInRobots())
            {
                Error(station.IdNode, station.IdPath, $"station '{station.Id}' has kind robot, but no robot works at it (add one under robots: with station: {station.Id})");
            }
        }

        CheckPartFlowIfValid(top, topology);
    }

    private void CheckPartFlowIfValid(FieldSet top, ImmutableArray<PartFlowEdge> topology)
    {
        if (_topologyValid && _stations.Count > 1)
        {
            CheckPartFlow(top, topology);
        }
    }

    private bool HasErrorInRobots() => _errors.Any(e => e.Path.StartsWith("robots", StringComparison.Ordinal));

    private void CheckPartFlow(FieldSet top, ImmutableArray<PartFlowEdge> edges)
    {
        var connected = edges.SelectMany(e => new[] { e.From, e.To }).ToHashSet(StringComparer.Ordinal);
        var unconnected = _stations.Values.Where(s => !connected.Contains(s.Id)).ToList();
        foreach (var station in unconnected)
        {
            Error(station.IdNode, station.IdPath, $"station '{station.Id}' is not connected to the part flow (no topology edge names it)");
        }

        if (edges.IsEmpty)
        {
            return;
        }

        var withIncoming = edges.Select(e => e.To).ToHashSet(StringComparer.Ordinal);
        var withOutgoing = edges.Select(e => e.From).ToHashSet(StringComparer.Ordinal);
        var sources = connected.Where(s => !withIncoming.Contains(s)).ToList();
        var sinks = connected.Where(s => !withOutgoing.Contains(s)).ToList();
        var topologyNode = top.KeyNode("topology");
        if (sources.Count == 0)
        {
            Error(topologyNode, "topology", "the part flow has no source: parts enter the line at a station with no incoming edge, and every station here has one");
        }

        if (sinks.Count == 0)
        {
            Error(topologyNode, "topology", "the part flow has no end: parts leave the line at a station with no outgoing edge, and every station here has one");
        }

        foreach (var source in sources)
        {
            if (_stations[source].Kind == StationKind.Buffer)
            {
                Error(_stations[source].IdNode, _stations[source].IdPath, $"station '{source}' is where parts enter the line (no incoming edge), but a buffer has no cycle time to bring parts in");
            }
        }
    }
}
