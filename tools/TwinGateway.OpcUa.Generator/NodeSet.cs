using System.Globalization;
using System.Xml.Linq;

namespace TwinGateway.OpcUa.Generator;

internal enum UaNodeClass
{
    Object,
    Variable,
    Method,
    ObjectType,
    VariableType,
    ReferenceType,
    DataType,
    View,
}

internal sealed record UaReference(uint ReferenceTypeId, bool IsForward, uint TargetId);

/// <summary>One namespace-0 node of a NodeSet2 file (numeric ids only; other ids are ignored).</summary>
internal sealed record UaNode(
    uint Id,
    UaNodeClass NodeClass,
    string BrowseName,
    string? SymbolicName,
    uint? ParentId,
    IReadOnlyList<UaReference> References)
{
    /// <summary>The DisplayName text (the first one when the NodeSet gives several locales); null when absent.</summary>
    public string? DisplayName { get; init; }

    /// <summary>The Description text; null when absent.</summary>
    public string? Description { get; init; }

    public bool IsAbstract { get; init; }

    /// <summary>ReferenceType only.</summary>
    public bool Symmetric { get; init; }

    /// <summary>ReferenceType only: the InverseName text; null when absent.</summary>
    public string? InverseName { get; init; }

    /// <summary>Variable/VariableType only: the DataType attribute (aliases resolved; the schema's default is i=24).</summary>
    public uint DataType { get; init; } = 24;

    /// <summary>Variable/VariableType only: the ValueRank attribute (the schema's default is -1, scalar).</summary>
    public int ValueRank { get; init; } = -1;
}

/// <summary>The parsed Opc.Ua.NodeSet2.xml (OPC 10000-6 Annex F), indexed for the look-ups the generator needs.</summary>
internal sealed class NodeSet
{
    private static readonly XNamespace Ns = "http://opcfoundation.org/UA/2011/03/UANodeSet.xsd";

    public const uint HasEncoding = 38;
    public const uint HasTypeDefinition = 40;
    public const uint HasSubtype = 45;
    public const uint HasProperty = 46;
    public const uint HasComponent = 47;
    public const uint HasOrderedComponent = 49;
    public const uint FolderType = 61;

    private readonly Dictionary<uint, UaNode> _nodes;
    private readonly Dictionary<string, UaNode> _dataTypesByName;
    private readonly Dictionary<uint, List<UaNode>> _encodingsByDataType = [];

    private NodeSet(List<UaNode> nodes, string modelDescription)
    {
        Nodes = nodes;
        ModelDescription = modelDescription;
        _nodes = [];
        foreach (var node in nodes)
        {
            _nodes.TryAdd(node.Id, node);
        }

        foreach (var node in nodes)
        {
            foreach (var r in node.References.Where(r => r.ReferenceTypeId == HasEncoding && !r.IsForward))
            {
                if (!_encodingsByDataType.TryGetValue(r.TargetId, out var list))
                {
                    _encodingsByDataType[r.TargetId] = list = [];
                }

                list.Add(node);
            }
        }

        // DataTypes are matched by BrowseName; the dictionary spells "3DVector" as "ThreeDVector", the NodeSet's SymbolicName.
        _dataTypesByName = new Dictionary<string, UaNode>(StringComparer.Ordinal);
        foreach (var node in nodes.Where(n => n.NodeClass == UaNodeClass.DataType))
        {
            _dataTypesByName.TryAdd(node.BrowseName, node);
        }

        foreach (var node in nodes.Where(n => n.NodeClass == UaNodeClass.DataType && n.SymbolicName is not null))
        {
            _dataTypesByName.TryAdd(node.SymbolicName!, node);
        }
    }

    /// <summary>All namespace-0 nodes in document order.</summary>
    public IReadOnlyList<UaNode> Nodes { get; }

    /// <summary>"http://opcfoundation.org/UA/ 1.05.07 (2026-05-01)", for the generated files' headers.</summary>
    public string ModelDescription { get; }

    public UaNode? Find(uint id) => _nodes.GetValueOrDefault(id);

    public UaNode? FindDataType(string name) => _dataTypesByName.GetValueOrDefault(name);

    /// <summary>
    /// The node reached from <paramref name="dataType"/> by HasEncoding whose BrowseName is "Default Binary". The NodeSet
    /// may write the reference on either end (forward on the DataType, or inverse on the encoding object); both count.
    /// </summary>
    public uint? FindDefaultBinaryEncoding(UaNode dataType)
    {
        var forward = dataType.References
            .Where(r => r.ReferenceTypeId == HasEncoding && r.IsForward)
            .Select(r => Find(r.TargetId));
        var inverse = _encodingsByDataType.GetValueOrDefault(dataType.Id) ?? [];
        return forward.Concat(inverse)
            .Where(n => n is not null && n.BrowseName == "Default Binary")
            .Select(n => n!.Id)
            .Distinct()
            .Order()
            .Cast<uint?>()
            .FirstOrDefault();
    }

    /// <summary>The instance's parent: ParentNodeId, else the source of an inverse HasComponent/HasProperty.</summary>
    public UaNode? Parent(UaNode node)
    {
        if (node.ParentId is { } parentId)
        {
            return Find(parentId);
        }

        var reference = node.References.FirstOrDefault(r => !r.IsForward
            && r.ReferenceTypeId is HasComponent or HasProperty or HasOrderedComponent);
        return reference is null ? null : Find(reference.TargetId);
    }

    public static uint? TypeDefinition(UaNode node) =>
        node.References.FirstOrDefault(r => r.IsForward && r.ReferenceTypeId == HasTypeDefinition)?.TargetId;

    public static NodeSet Load(string path)
    {
        var root = XDocument.Load(path).Root ?? throw new InvalidDataException($"{path}: empty document");
        if (root.Name != Ns + "UANodeSet")
        {
            throw new InvalidDataException($"{path}: root element is {root.Name}, expected UANodeSet");
        }

        var aliases = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var alias in root.Element(Ns + "Aliases")?.Elements(Ns + "Alias") ?? [])
        {
            aliases[(string?)alias.Attribute("Alias") ?? ""] = alias.Value.Trim();
        }

        var model = root.Element(Ns + "Models")?.Element(Ns + "Model");
        var modelDescription = model is null
            ? "(no model element)"
            : $"{(string?)model.Attribute("ModelUri")} {(string?)model.Attribute("Version")} ({((string?)model.Attribute("PublicationDate"))?.Split('T')[0]})";

        var nodes = new List<UaNode>();
        foreach (var element in root.Elements())
        {
            UaNodeClass nodeClass;
            switch (element.Name.LocalName)
            {
                case "UAObject": nodeClass = UaNodeClass.Object; break;
                case "UAVariable": nodeClass = UaNodeClass.Variable; break;
                case "UAMethod": nodeClass = UaNodeClass.Method; break;
                case "UAObjectType": nodeClass = UaNodeClass.ObjectType; break;
                case "UAVariableType": nodeClass = UaNodeClass.VariableType; break;
                case "UAReferenceType": nodeClass = UaNodeClass.ReferenceType; break;
                case "UADataType": nodeClass = UaNodeClass.DataType; break;
                case "UAView": nodeClass = UaNodeClass.View; break;
                default: continue;
            }

            if (ParseNumeric((string?)element.Attribute("NodeId")) is not { } id)
            {
                continue;
            }

            var references = new List<UaReference>();
            foreach (var reference in element.Element(Ns + "References")?.Elements(Ns + "Reference") ?? [])
            {
                var type = (string?)reference.Attribute("ReferenceType") ?? "";
                var typeId = ParseNumeric(aliases.GetValueOrDefault(type, type));
                var target = ParseNumeric(aliases.GetValueOrDefault(reference.Value.Trim(), reference.Value.Trim()));
                if (typeId is null || target is null)
                {
                    continue;
                }

                var isForward = !string.Equals((string?)reference.Attribute("IsForward"), "false", StringComparison.OrdinalIgnoreCase);
                references.Add(new UaReference(typeId.Value, isForward, target.Value));
            }

            var browseName = (string?)element.Attribute("BrowseName") ?? "";
            var colon = browseName.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && browseName[..colon].All(char.IsAsciiDigit))
            {
                browseName = browseName[(colon + 1)..];
            }

            var dataTypeText = (string?)element.Attribute("DataType");
            uint dataType = 24;
            if (dataTypeText is not null)
            {
                dataType = ParseNumeric(aliases.GetValueOrDefault(dataTypeText, dataTypeText))
                    ?? throw new InvalidDataException($"{path}: i={id} has DataType '{dataTypeText}', not a namespace-0 numeric id");
            }

            var valueRankText = (string?)element.Attribute("ValueRank");
            var valueRank = -1;
            if (valueRankText is not null && !int.TryParse(valueRankText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out valueRank))
            {
                throw new InvalidDataException($"{path}: i={id} has ValueRank '{valueRankText}'");
            }

            nodes.Add(new UaNode(
                id,
                nodeClass,
                browseName,
                (string?)element.Attribute("SymbolicName"),
                ParseNumeric((string?)element.Attribute("ParentNodeId")),
                references)
            {
                DisplayName = Text(element, "DisplayName"),
                Description = Text(element, "Description"),
                IsAbstract = Flag(element, "IsAbstract"),
                Symmetric = Flag(element, "Symmetric"),
                InverseName = Text(element, "InverseName"),
                DataType = dataType,
                ValueRank = valueRank,
            });
        }

        return new NodeSet(nodes, modelDescription);
    }

    /// <summary>The text of a LocalizedText child (DisplayName, Description, InverseName): the one without a Locale, else the first.</summary>
    private static string? Text(XElement element, string name)
    {
        var all = element.Elements(Ns + name).ToList();
        var chosen = all.FirstOrDefault(e => string.IsNullOrEmpty((string?)e.Attribute("Locale"))) ?? all.FirstOrDefault();
        return chosen?.Value.Trim();
    }

    /// <summary>A boolean attribute of the UANodeSet schema (xs:boolean: "true"/"1"; absent means false).</summary>
    private static bool Flag(XElement element, string name) =>
        (string?)element.Attribute(name) is "true" or "1";

    /// <summary>"i=85" (namespace 0) to 85; anything else to null.</summary>
    private static uint? ParseNumeric(string? text)
    {
        if (text is null || !text.StartsWith("i=", StringComparison.Ordinal))
        {
            return null;
        }

        return uint.TryParse(text.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
    }
}
