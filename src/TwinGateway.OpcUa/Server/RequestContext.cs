namespace TwinGateway.OpcUa.Server;

/// <summary>What a service handler knows about the request it serves.</summary>
internal readonly record struct RequestContext(ServerConnection Connection, uint RequestId, CancellationToken Cancellation);
