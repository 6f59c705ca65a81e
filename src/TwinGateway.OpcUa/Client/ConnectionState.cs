using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Client;

/// <summary>Where a client's connection stands.</summary>
public enum ConnectionStatus
{
    Disconnected,
    Connecting,
    Connected,
    Reconnecting,
    Closed,
}

/// <summary>A change of connection status with its reason (the status code of what went wrong, and the text).</summary>
public sealed record ConnectionStateChange(ConnectionStatus Status, StatusCode Reason, string Message, DateTimeOffset At)
{
    public override string ToString() => Reason.IsGood ? $"{Status}: {Message}" : $"{Status} ({Reason.Name}): {Message}";
}
