using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Transport;

/// <summary>Parses <c>opc.tcp://host:port/path</c> endpoint URLs.</summary>
public static class EndpointUrlParser
{
    public const int DefaultPort = 4840;

    public static (string Host, int Port) Parse(string endpointUrl)
    {
        if (!Uri.TryCreate(endpointUrl, UriKind.Absolute, out var uri) || !string.Equals(uri.Scheme, "opc.tcp", StringComparison.OrdinalIgnoreCase))
        {
            throw new ServiceResultException(StatusCodes.BadTcpEndpointUrlInvalid,
                $"'{endpointUrl}' is not an opc.tcp:// endpoint URL (expected opc.tcp://host:port[/path])");
        }

        return (uri.IdnHost, uri.Port > 0 ? uri.Port : DefaultPort);
    }
}
