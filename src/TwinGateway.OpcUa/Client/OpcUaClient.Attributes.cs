using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Client;

public sealed partial class OpcUaClient
{
    /// <summary>Reads attributes; one DataValue per item, each with its own status (<c>BadNodeIdUnknown</c> ...).</summary>
    public async Task<DataValue[]> ReadAsync(IReadOnlyList<ReadValueId> nodes, TimestampsToReturn timestamps = TimestampsToReturn.Both, double maxAge = 0, CancellationToken cancellationToken = default)
    {
        var response = await CallAsync<ReadResponse>(new ReadRequest
        {
            MaxAge = maxAge,
            TimestampsToReturn = timestamps,
            NodesToRead = [.. nodes],
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
        var results = response.Results ?? [];
        if (results.Length != nodes.Count)
        {
            throw new ServiceResultException(StatusCodes.BadUnknownResponse, $"Read of {nodes.Count} items returned {results.Length} results");
        }

        return results;
    }

    /// <summary>Reads the Value attribute of each node.</summary>
    public Task<DataValue[]> ReadValuesAsync(IReadOnlyList<NodeId> nodes, CancellationToken cancellationToken = default) =>
        ReadAsync([.. nodes.Select(n => new ReadValueId { NodeId = n, AttributeId = Attributes.Value })], cancellationToken: cancellationToken);

    /// <summary>Reads one attribute of one node.</summary>
    public async Task<DataValue> ReadAttributeAsync(NodeId node, uint attributeId, CancellationToken cancellationToken = default) =>
        (await ReadAsync([new ReadValueId { NodeId = node, AttributeId = attributeId }], cancellationToken: cancellationToken).ConfigureAwait(false))[0];

    /// <summary>Writes attributes; one status per item (<c>BadNotWritable</c>, <c>BadTypeMismatch</c> ...).</summary>
    public async Task<StatusCode[]> WriteAsync(IReadOnlyList<WriteValue> values, CancellationToken cancellationToken = default)
    {
        var response = await CallAsync<WriteResponse>(new WriteRequest { NodesToWrite = [.. values] }, cancellationToken: cancellationToken).ConfigureAwait(false);
        var results = response.Results ?? [];
        if (results.Length != values.Count)
        {
            throw new ServiceResultException(StatusCodes.BadUnknownResponse, $"Write of {values.Count} items returned {results.Length} results");
        }

        return results;
    }

    /// <summary>Writes the Value attribute of one node.</summary>
    public async Task<StatusCode> WriteValueAsync(NodeId node, Variant value, CancellationToken cancellationToken = default) =>
        (await WriteAsync([new WriteValue { NodeId = node, AttributeId = Attributes.Value, Value = new DataValue(value) }], cancellationToken).ConfigureAwait(false))[0];

    /// <summary>Calls methods; each result carries its status and per-argument results.</summary>
    public async Task<CallMethodResult[]> CallMethodsAsync(IReadOnlyList<CallMethodRequest> calls, CancellationToken cancellationToken = default)
    {
        var response = await CallAsync<CallResponse>(new CallRequest { MethodsToCall = [.. calls] }, cancellationToken: cancellationToken).ConfigureAwait(false);
        var results = response.Results ?? [];
        if (results.Length != calls.Count)
        {
            throw new ServiceResultException(StatusCodes.BadUnknownResponse, $"Call of {calls.Count} methods returned {results.Length} results");
        }

        return results;
    }

    /// <summary>Calls one method and returns its result (check <c>StatusCode</c> and <c>InputArgumentResults</c>).</summary>
    public async Task<CallMethodResult> CallMethodAsync(NodeId objectId, NodeId methodId, params Variant[] inputArguments) =>
        (await CallMethodsAsync([new CallMethodRequest { ObjectId = objectId, MethodId = methodId, InputArguments = inputArguments }]).ConfigureAwait(false))[0];
}
