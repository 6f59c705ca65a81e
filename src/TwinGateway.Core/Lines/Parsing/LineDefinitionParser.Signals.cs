using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace TwinGateway.Core.Lines.Parsing;

internal sealed partial class LineDefinitionParser
{
    private static readonly string[] SignalFields =
        ["id", "description", "dataType", "unit", "direction", "nominalRange", "tolerance", "nodeId", "controller", "model", "effects"];

    private static readonly (string Name, SignalDirection Value)[] Directions =
    [
        ("controllerInput", SignalDirection.ControllerInput),
        ("controllerOutput", SignalDirection.ControllerOutput),
    ];

    /// <summary>The OPC UA built-in types (Part 6, 5.1.2) that are not plain values, so no signal carries them.</summary>
    private static readonly string[] NonSignalBuiltInTypes =
    [
        "Guid", "ByteString", "XmlElement", "NodeId", "ExpandedNodeId", "StatusCode", "QualifiedName", "LocalizedText",
        "ExtensionObject", "DataValue", "Variant", "DiagnosticInfo",
    ];

    /// <summary>Names from other type systems that people write for an OPC UA type.</summary>
    private static readonly Dictionary<string, string> DataTypeAliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["bool"] = "Boolean", ["int"] = "Int32", ["integer"] = "Int32", ["long"] = "Int64", ["short"] = "Int16",
        ["float32"] = "Float", ["single"] = "Float", ["real"] = "Float", ["float64"] = "Double", ["lreal"] = "Double",
        ["int8"] = "SByte", ["uint8"] = "Byte", ["word"] = "UInt16", ["dword"] = "UInt32", ["dint"] = "Int32",
        ["str"] = "String", ["text"] = "String", ["timestamp"] = "DateTime",
    };

    private static readonly string[] SignalDataTypeNames = Enum.GetNames<SignalDataType>();

    private readonly List<SignalEntry> _signalList = [];
    private readonly Dictionary<string, SignalEntry> _signals = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Controller, string NodeId), SignalEntry> _nodeIds = [];

    /// <summary>Checks of references that may point forward in the file; run once every section is read.</summary>
    private readonly List<Action> _deferred = [];

    private void ParseSignals(FieldSet top)
    {
        if (top.Require("signals") is not { } section)
        {
            return;
        }

        foreach (var (item, path) in Items(section, "signals", "signals"))
        {
            if (FieldSet.Open(this, item, path, "a signal", SignalFields) is { } fields)
            {
                ParseSignal(fields, item);
            }
        }
    }

    private void ParseSignal(FieldSet fields, YamlNode item)
    {
        var entry = new SignalEntry(fields.Path, Location(item));
        if (fields.Require("id") is { } idNode && SignalId(idNode, fields.PathOf("id"), entry))
        {
            entry.IdNode = idNode;
            if (Register(_signals, entry.Id, idNode, fields.PathOf("id"), "signal id", static s => s.IdNode!, entry))
            {
                _signalList.Add(entry);
            }
        }

        entry.Description = fields.OptionalText("description");
        entry.DataType = fields.Require("dataType") is { } typeNode ? DataType(typeNode, fields.PathOf("dataType")) : null;
        entry.Unit = fields.OptionalText("unit") ?? "";
        entry.Direction = fields.Require("direction") is { } directionNode
            ? Choice(directionNode, fields.PathOf("direction"), "direction", Directions)
            : null;

        if (fields.Get("nominalRange") is { } rangeNode)
        {
            if (entry.DataType is { } type && !type.IsNumeric())
            {
                Error(fields.KeyNode("nominalRange"), fields.PathOf("nominalRange"), $"nominalRange applies only to numeric signals; this one is {type}");
            }
            else
            {
                entry.Range = NominalRange(rangeNode, fields.PathOf("nominalRange"));
            }
        }

        if (fields.Get("tolerance") is { } toleranceNode)
        {
            var tolerance = Number(toleranceNode, fields.PathOf("tolerance"));
            if (entry.DataType is { } type && !type.IsNumeric())
            {
                Error(fields.KeyNode("tolerance"), fields.PathOf("tolerance"), $"tolerance applies only to numeric signals; this one is {type}");
            }
            else if (tolerance is { } t && (!double.IsFinite(t) || t <= 0))
            {
                Error(toleranceNode, fields.PathOf("tolerance"), $"tolerance {t} must be a positive number (in the signal's unit)");
            }
            else
            {
                entry.Tolerance = tolerance;
            }
        }

        entry.ControllerId = SignalController(fields);
        if (fields.RequiredText("nodeId") is { } nodeId)
        {
            if (NodeIdText.Validate(nodeId) is { } problem)
            {
                Error(fields.Get("nodeId")!, fields.PathOf("nodeId"), $"nodeId '{nodeId}' is not a valid node id: {problem}");
            }
            else
            {
                entry.NodeId = nodeId;
                if (entry.ControllerId is not null && !_nodeIds.TryAdd((entry.ControllerId, nodeId), entry))
                {
                    var first = _nodeIds[(entry.ControllerId, nodeId)];
                    Error(fields.Get("nodeId")!, fields.PathOf("nodeId"),
                        $"duplicate nodeId '{nodeId}' on controller '{entry.ControllerId}' (first used by signal '{first.Id}' at line {first.Source.Line})");
                }
            }
        }

        if (fields.Get("model") is { } modelNode)
        {
            entry.Model = ParseModel(modelNode, fields.PathOf("model"), entry);
        }

        if (fields.Get("effects") is { } effectsNode)
        {
            ParseEffects(fields, effectsNode, entry);
        }
    }

    /// <summary>Reads <c>station.name</c> (or <c>line.name</c>) and checks that the station exists.</summary>
    private bool SignalId(YamlNode node, string path, SignalEntry entry)
    {
        if (Text(node, path) is not { } id)
        {
            return false;
        }

        if (!SignalIdPattern().IsMatch(id))
        {
            Error(node, path, $"signal id '{id}' must be 'station.name' (for example cnc1.spindleSpeed), or '{LineWidePrefix}.name' for a line-wide signal");
            return false;
        }

        var dot = id.IndexOf('.', StringComparison.Ordinal);
        var station = id[..dot];
        entry.Id = id;
        entry.Name = id[(dot + 1)..];
        if (string.Equals(station, LineWidePrefix, StringComparison.Ordinal))
        {
            entry.IsLineWide = true;
            return true;
        }

        if (!_stations.ContainsKey(station))
        {
            Error(node, path, $"signal id '{id}' names unknown station '{station}'{Suggestions.DidYouMean(station, _stations.Keys.Append(LineWidePrefix))}");
            return false;
        }

        entry.StationId = station;
        return true;
    }

    private SignalDataType? DataType(YamlNode node, string path)
    {
        if (Text(node, path) is not { } name)
        {
            return null;
        }

        if (Enum.TryParse<SignalDataType>(name, ignoreCase: false, out var type) && SignalDataTypeNames.Contains(name, StringComparer.Ordinal))
        {
            return type;
        }

        var expected = string.Join(", ", SignalDataTypeNames);
        if (NonSignalBuiltInTypes.Contains(name, StringComparer.Ordinal))
        {
            Error(node, path, $"dataType '{name}' is an OPC UA built-in type, but not one a signal carries (expected {expected})");
            return null;
        }

        var suggestion = DataTypeAliases.TryGetValue(name, out var alias) ? alias : Suggestions.Closest(name, SignalDataTypeNames);
        Error(node, path, suggestion is null
            ? $"dataType '{name}' is not an OPC UA built-in type (expected {expected})"
            : $"dataType '{name}' is not an OPC UA built-in type (did you mean '{suggestion}'?)");
        return null;
    }

    private NominalRange? NominalRange(YamlNode node, string path)
    {
        if (FieldSet.Open(this, node, path, "a nominal range", ["low", "high"]) is not { } fields)
        {
            return null;
        }

        var low = fields.RequiredNumber("low");
        var high = fields.RequiredNumber("high");
        if (low is not { } lo || high is not { } hi)
        {
            return null;
        }

        if (lo > hi)
        {
            Error(node, path, $"nominalRange low {Format(lo)} is above high {Format(hi)}");
            return null;
        }

        return new NominalRange(lo, hi);
    }

    private string? SignalController(FieldSet fields)
    {
        if (fields.Get("controller") is not { } node)
        {
            // One controller is the common case; naming it on every signal would only add noise.
            if (_controllers.Count == 1)
            {
                return _controllers.Keys.First();
            }

            if (_controllers.Count > 1)
            {
                fields.Require("controller");
            }

            return null;
        }

        if (Text(node, fields.PathOf("controller")) is not { } id)
        {
            return null;
        }

        if (_controllers.ContainsKey(id))
        {
            return id;
        }

        Error(node, fields.PathOf("controller"), $"signal references unknown controller '{id}' (expected {string.Join(", ", _controllers.Keys)})");
        return null;
    }

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z][A-Za-z0-9_-]*)+$", RegexOptions.CultureInvariant)]
    private static partial Regex SignalIdPattern();
}
