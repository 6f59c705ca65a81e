using Microsoft.Extensions.Logging;
using TwinGateway.OpcUa.Channel;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Client;

public sealed partial class OpcUaClient
{
    /// <summary>GetEndpoints on a channel of its own, without a session (OPC 10000-4 §5.4.4).</summary>
    public static async Task<EndpointDescription[]> GetEndpointsAsync(string endpointUrl, ClientChannelOptions? options = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        await using var channel = await ClientSecureChannel.OpenAsync(endpointUrl, options, logger: logger, cancellationToken: cancellationToken).ConfigureAwait(false);
        var response = (GetEndpointsResponse)await channel.SendRequestAsync(new GetEndpointsRequest
        {
            RequestHeader = new RequestHeader { Timestamp = DateTime.UtcNow },
            EndpointUrl = endpointUrl,
            ProfileUris = [SecurityPolicies.UaTcpBinaryTransport],
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.Endpoints ?? [];
    }

    /// <summary>FindServers on a channel of its own, without a session (OPC 10000-4 §5.4.2).</summary>
    public static async Task<ApplicationDescription[]> FindServersAsync(string endpointUrl, ClientChannelOptions? options = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        await using var channel = await ClientSecureChannel.OpenAsync(endpointUrl, options, logger: logger, cancellationToken: cancellationToken).ConfigureAwait(false);
        var response = (FindServersResponse)await channel.SendRequestAsync(new FindServersRequest
        {
            RequestHeader = new RequestHeader { Timestamp = DateTime.UtcNow },
            EndpointUrl = endpointUrl,
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.Servers ?? [];
    }
}
