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

/// <summary>
/// A change of connection status with its reason (the status code of what went wrong, and the text) and the time it
/// happened (the client's <see cref="TimeProvider"/>).
/// </summary>
/// <remarks>
/// While the connection is down every change carries the <see cref="Outage"/>: the first <see cref="ConnectionStatus.Reconnecting"/>
/// says when the server was last heard from and when the loss was noticed; each failed attempt repeats it with
/// <see cref="Attempt"/> and the <see cref="NextAttemptDelay"/> the client then waits; the <see cref="ConnectionStatus.Connected"/>
/// that ends it carries the same outage with <see cref="ConnectionOutage.End"/> set. A <see cref="ConnectionStatus.Closed"/>
/// during an outage carries it unfinished.
/// </remarks>
public sealed record ConnectionStateChange(ConnectionStatus Status, StatusCode Reason, string Message, DateTimeOffset At)
{
    /// <summary>The outage this change belongs to; null while connected normally and before the first connect.</summary>
    public ConnectionOutage? Outage { get; init; }

    /// <summary>On a <see cref="ConnectionStatus.Reconnecting"/> after a failed attempt: its number (1 for the first); otherwise 0.</summary>
    public int Attempt { get; init; }

    /// <summary>On a <see cref="ConnectionStatus.Reconnecting"/> after a failed attempt: how long the client waits before the next one.</summary>
    public TimeSpan? NextAttemptDelay { get; init; }

    public override string ToString() => Reason.IsGood ? $"{Status}: {Message}" : $"{Status} ({Reason.Name}): {Message}";
}

/// <summary>
/// A time the client was without a working connection. Values received before <see cref="Start"/> were current; from
/// <see cref="Start"/> to <see cref="End"/> nothing arrived, so a consumer marks its values Uncertain or Bad for that
/// window and records it.
/// </summary>
/// <param name="Start">The last time anything arrived from the server before the loss: what the client knows is current up to here.</param>
/// <param name="DetectedAt">When the client noticed the loss (a closed socket at once; a silent server after the keep-alive limit).</param>
/// <param name="End">When the session was usable again; null while the outage lasts.</param>
/// <param name="Reason">The status of what went wrong (for example BadNoCommunication when the server stopped answering).</param>
/// <param name="Cause">The reason in words.</param>
public sealed record ConnectionOutage(DateTimeOffset Start, DateTimeOffset DetectedAt, DateTimeOffset? End, StatusCode Reason, string Cause)
{
    /// <summary>From <see cref="Start"/> to <see cref="End"/>; null while the outage lasts.</summary>
    public TimeSpan? Duration => End - Start;

    public override string ToString() =>
        $"{Reason.Name} from {Start:O} (noticed {DetectedAt:O}) to {(End is { } end ? end.ToString("O", System.Globalization.CultureInfo.InvariantCulture) : "now")}: {Cause}";
}
