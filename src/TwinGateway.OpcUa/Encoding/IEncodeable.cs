using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Encoding;

/// <summary>A structure or service message with a binary encoding (generated from the type dictionary).</summary>
public interface IEncodeable
{
    /// <summary>NodeId of the type's "Default Binary" encoding object, the TypeId written on the wire.</summary>
    NodeId BinaryEncodingId { get; }

    void Encode(UaWriter writer);

    void Decode(ref UaReader reader);
}
