using TwinGateway.OpcUa.Server.AddressSpace;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Server;

public sealed partial class UaServer
{
    /// <summary>The Server object (OPC 10000-5 §8.3.2) with the variables clients rely on, read live.</summary>
    private void AddServerObject()
    {
        var space = AddressSpace;
        // Fixed values carry the server's clock as their source time, never a later one (tests run it behind the wall clock).
        var now = Time.GetUtcNow().UtcDateTime;
        var server = new NodeId(ObjectIds.Server);
        space.Add(new ObjectNode(server, new QualifiedName(0, "Server")) { EventNotifier = 1 });
        space.AddReference(new NodeId(ObjectIds.ObjectsFolder), new NodeId(ReferenceTypeIds.Organizes), server);
        space.AddReference(server, new NodeId(ReferenceTypeIds.HasTypeDefinition), new NodeId(ObjectTypeIds.ServerType));

        Property(server, 2254, "ServerArray", DataTypeIds.String, 1).ReadHandler = _ => new DataValue(Variant.FromArray(BuiltInType.String, new[] { Options.ApplicationUri }));
        Property(server, 2255, "NamespaceArray", DataTypeIds.String, 1).ReadHandler = _ => new DataValue(Variant.FromArray(BuiltInType.String, AddressSpace.Namespaces.ToArray()));
        Variable(server, 2267, "ServiceLevel", (uint)BuiltInType.Byte).ReadHandler = _ => new DataValue(new Variant((byte)(State == ServerState.Running ? 255 : 0)));
        Property(server, 2994, "Auditing", (uint)BuiltInType.Boolean).SetValue(new Variant(false), now);

        var status = Variable(server, 2256, "ServerStatus", DataTypeIds.ServerStatusDataType);
        // The read's own clock reading is the current time, the source time and the server time: one reading, not three.
        status.ReadHandler = readAt => new DataValue(new Variant(new ExtensionObject(ServerStatus(readAt))), StatusCodes.Good, readAt);
        Variable(status.NodeId, 2257, "StartTime", DataTypeIds.UtcTime).ReadHandler = _ => new DataValue(new Variant(_startTime));
        Variable(status.NodeId, 2258, "CurrentTime", DataTypeIds.UtcTime).ReadHandler = readAt => new DataValue(new Variant(readAt), StatusCodes.Good, readAt);
        Variable(status.NodeId, 2259, "State", DataTypeIds.ServerState).ReadHandler = _ => new DataValue(new Variant((int)State));
        Variable(status.NodeId, 2992, "SecondsTillShutdown", (uint)BuiltInType.UInt32).SetValue(new Variant(0u), now);
        Variable(status.NodeId, 2993, "ShutdownReason", (uint)BuiltInType.LocalizedText).SetValue(new Variant(new LocalizedText("")), now);
        var build = Variable(status.NodeId, 2260, "BuildInfo", DataTypeIds.BuildInfo);
        build.ReadHandler = _ => new DataValue(new Variant(new ExtensionObject(BuildInfo())));
        Variable(build.NodeId, 2262, "ProductUri", (uint)BuiltInType.String).SetValue(new Variant(Options.ProductUri), now);
        Variable(build.NodeId, 2263, "ManufacturerName", (uint)BuiltInType.String).SetValue(new Variant(Options.ManufacturerName), now);
        Variable(build.NodeId, 2261, "ProductName", (uint)BuiltInType.String).SetValue(new Variant(Options.ApplicationName), now);
        Variable(build.NodeId, 2264, "SoftwareVersion", (uint)BuiltInType.String).SetValue(new Variant(Options.SoftwareVersion), now);
        Variable(build.NodeId, 2265, "BuildNumber", (uint)BuiltInType.String).SetValue(new Variant(Options.SoftwareVersion), now);
        Variable(build.NodeId, 2266, "BuildDate", DataTypeIds.UtcTime).SetValue(new Variant(BuildDate), now);

        var capabilities = new NodeId(2268);
        space.Add(new ObjectNode(capabilities, new QualifiedName(0, "ServerCapabilities")));
        space.AddReference(server, new NodeId(ReferenceTypeIds.HasComponent), capabilities);
        space.AddReference(capabilities, new NodeId(ReferenceTypeIds.HasTypeDefinition), new NodeId(ObjectTypeIds.ServerCapabilitiesType));
        Property(capabilities, 2269, "ServerProfileArray", DataTypeIds.String, 1).SetValue(
            Variant.FromArray(BuiltInType.String, ServerProfiles), now);
        Property(capabilities, 2271, "LocaleIdArray", DataTypeIds.String, 1).SetValue(Variant.FromArray(BuiltInType.String, Locales), now);
        Property(capabilities, 2272, "MinSupportedSampleRate", DataTypeIds.Duration).SetValue(new Variant(Options.MinSamplingInterval.TotalMilliseconds), now);
        Property(capabilities, 2735, "MaxBrowseContinuationPoints", (uint)BuiltInType.UInt16).SetValue(new Variant((ushort)Options.MaxBrowseContinuationPoints), now);
        Property(capabilities, 11702, "MaxArrayLength", (uint)BuiltInType.UInt32).SetValue(new Variant((uint)Options.EncodingLimits.MaxArrayLength), now);
        Property(capabilities, 11703, "MaxStringLength", (uint)BuiltInType.UInt32).SetValue(new Variant((uint)Options.EncodingLimits.MaxStringLength), now);

        var limits = new NodeId(11704);
        space.Add(new ObjectNode(limits, new QualifiedName(0, "OperationLimits")));
        space.AddReference(capabilities, new NodeId(ReferenceTypeIds.HasComponent), limits);
        space.AddReference(limits, new NodeId(ReferenceTypeIds.HasTypeDefinition), new NodeId(ObjectTypeIds.OperationLimitsType));
        foreach (var (id, name, value) in new (uint, string, int)[]
        {
            (11705, "MaxNodesPerRead", Options.MaxNodesPerRead),
            (11707, "MaxNodesPerWrite", Options.MaxNodesPerWrite),
            (11709, "MaxNodesPerMethodCall", Options.MaxNodesPerMethodCall),
            (11710, "MaxNodesPerBrowse", Options.MaxNodesPerBrowse),
            (11711, "MaxNodesPerRegisterNodes", Options.MaxNodesPerRegisterNodes),
            (11712, "MaxNodesPerTranslateBrowsePathsToNodeIds", Options.MaxNodesPerTranslateBrowsePaths),
            (11714, "MaxMonitoredItemsPerCall", Options.MaxMonitoredItemsPerCall),
        })
        {
            Property(limits, id, name, (uint)BuiltInType.UInt32).SetValue(new Variant((uint)value), now);
        }
    }

    private static readonly string[] ServerProfiles = ["http://opcfoundation.org/UA-Profile/Server/MicroEmbeddedDevice2017"];
    private static readonly string[] Locales = ["en"];

    private static readonly DateTime BuildDate = new(2026, 11, 27, 0, 0, 0, DateTimeKind.Utc);

    private VariableNode Variable(NodeId parent, uint id, string name, uint dataType, int valueRank = -1) =>
        AddressSpace.AddVariable(parent, new NodeId(id), new QualifiedName(0, name), new NodeId(dataType), default, valueRank, AccessLevels.CurrentRead, name, isProperty: false);

    private VariableNode Property(NodeId parent, uint id, string name, uint dataType, int valueRank = -1) =>
        AddressSpace.AddVariable(parent, new NodeId(id), new QualifiedName(0, name), new NodeId(dataType), default, valueRank, AccessLevels.CurrentRead, name, isProperty: true);

    private ServerStatusDataType ServerStatus(DateTime now) => new()
    {
        StartTime = _startTime,
        CurrentTime = now,
        State = State,
        BuildInfo = BuildInfo(),
        SecondsTillShutdown = 0,
        ShutdownReason = new LocalizedText(""),
    };

    private BuildInfo BuildInfo() => new()
    {
        ProductUri = Options.ProductUri,
        ManufacturerName = Options.ManufacturerName,
        ProductName = Options.ApplicationName,
        SoftwareVersion = Options.SoftwareVersion,
        BuildNumber = Options.SoftwareVersion,
        BuildDate = BuildDate,
    };
}
