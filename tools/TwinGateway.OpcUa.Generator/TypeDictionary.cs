using System.Globalization;
using System.Xml.Linq;

namespace TwinGateway.OpcUa.Generator;

/// <summary>One EnumeratedType of an OPC Binary type dictionary (OPC 10000-3 Annex C / OPC 10000-6 Annex C).</summary>
internal sealed record BsdEnum(string Name, int LengthInBits, bool IsOptionSet, string? Documentation, IReadOnlyList<BsdEnumValue> Values);

internal sealed record BsdEnumValue(string Name, long Value);

/// <summary>One field of a StructuredType, attributes as written in the dictionary.</summary>
internal sealed record BsdField(
    string Name,
    string TypeName,
    string? LengthField,
    string? Length,
    string? SwitchField,
    string? SwitchValue,
    string? SourceType);

internal sealed record BsdStruct(string Name, string? BaseType, string? Documentation, IReadOnlyList<BsdField> Fields);

/// <summary>The parsed Opc.Ua.Types.bsd: enumerations, structures and opaque types, in document order.</summary>
internal sealed record TypeDictionary(
    string TargetNamespace,
    IReadOnlyList<BsdEnum> Enums,
    IReadOnlyList<BsdStruct> Structs,
    IReadOnlyList<string> OpaqueTypes)
{
    private static readonly XNamespace Opc = "http://opcfoundation.org/BinarySchema/";

    public static TypeDictionary Load(string path)
    {
        var root = XDocument.Load(path).Root ?? throw new InvalidDataException($"{path}: empty document");
        if (root.Name != Opc + "TypeDictionary")
        {
            throw new InvalidDataException($"{path}: root element is {root.Name}, expected opc:TypeDictionary");
        }

        var enums = new List<BsdEnum>();
        var structs = new List<BsdStruct>();
        var opaques = new List<string>();
        foreach (var element in root.Elements())
        {
            if (element.Name == Opc + "EnumeratedType")
            {
                var values = element.Elements(Opc + "EnumeratedValue")
                    .Select(v => new BsdEnumValue(
                        Required(v, "Name", path),
                        long.Parse(Required(v, "Value", path), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)))
                    .ToList();
                enums.Add(new BsdEnum(
                    Required(element, "Name", path),
                    int.Parse((string?)element.Attribute("LengthInBits") ?? "32", NumberStyles.None, CultureInfo.InvariantCulture),
                    string.Equals((string?)element.Attribute("IsOptionSet"), "true", StringComparison.OrdinalIgnoreCase),
                    Documentation(element),
                    values));
            }
            else if (element.Name == Opc + "StructuredType")
            {
                var fields = element.Elements(Opc + "Field")
                    .Select(f => new BsdField(
                        Required(f, "Name", path),
                        Required(f, "TypeName", path),
                        (string?)f.Attribute("LengthField"),
                        (string?)f.Attribute("Length"),
                        (string?)f.Attribute("SwitchField"),
                        (string?)f.Attribute("SwitchValue"),
                        (string?)f.Attribute("SourceType")))
                    .ToList();
                structs.Add(new BsdStruct(Required(element, "Name", path), (string?)element.Attribute("BaseType"), Documentation(element), fields));
            }
            else if (element.Name == Opc + "OpaqueType")
            {
                opaques.Add(Required(element, "Name", path));
            }
        }

        return new TypeDictionary((string?)root.Attribute("TargetNamespace") ?? "", enums, structs, opaques);
    }

    private static string Required(XElement element, string attribute, string path) =>
        (string?)element.Attribute(attribute)
        ?? throw new InvalidDataException($"{path}: <{element.Name.LocalName}> without {attribute}");

    private static string? Documentation(XElement element)
    {
        var text = (string?)element.Element(Opc + "Documentation");
        return string.IsNullOrWhiteSpace(text) ? null : string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
    }
}
