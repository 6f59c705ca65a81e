using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Transport;

namespace TwinGateway.OpcUa.Channel;

/// <summary>Settings of one client secure channel.</summary>
public sealed record ClientChannelOptions
{
    public TransportLimits Limits { get; init; } = TransportLimits.Default;

    public EncodingLimits EncodingLimits { get; init; } = EncodingLimits.Default;

    /// <summary>Lifetime we ask for; the channel renews its token at 75% of what the server revises it to.</summary>
    public TimeSpan RequestedLifetime { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Time allowed for TCP connect plus Hello/Acknowledge plus OpenSecureChannel.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Default timeout for a request that names none.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
