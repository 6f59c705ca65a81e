using System.Collections.Concurrent;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Encoding;

/// <summary>Creates an empty structure for an ExtensionObject's binary encoding id, or null for unknown types.</summary>
public interface IEncodeableFactory
{
    IEncodeable? Create(NodeId binaryEncodingId);
}

/// <summary>
/// The registry of structures the codec decodes inside ExtensionObjects. <see cref="Default"/> holds every generated
/// standard type; applications add their own with <see cref="Register"/>.
/// </summary>
public sealed class EncodeableFactory : IEncodeableFactory
{
    private readonly ConcurrentDictionary<NodeId, Func<IEncodeable>> _constructors = new();

    public static EncodeableFactory Default { get; } = CreateDefault();

    private static EncodeableFactory CreateDefault()
    {
        var factory = new EncodeableFactory();
        GeneratedTypes.RegisterAll(factory);
        return factory;
    }

    public void Register(NodeId binaryEncodingId, Func<IEncodeable> constructor) =>
        _constructors[binaryEncodingId] = constructor;

    public IEncodeable? Create(NodeId binaryEncodingId) =>
        _constructors.TryGetValue(binaryEncodingId, out var constructor) ? constructor() : null;
}
