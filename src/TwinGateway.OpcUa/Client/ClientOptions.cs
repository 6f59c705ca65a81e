using TwinGateway.OpcUa.Channel;

namespace TwinGateway.OpcUa.Client;

/// <summary>Who the session acts as (OPC 10000-4 §7.40).</summary>
public abstract record UserIdentity
{
    public static UserIdentity Anonymous { get; } = new AnonymousIdentity();

    public static UserIdentity ForUser(string userName, string password) => new UserNameIdentity(userName, password);
}

public sealed record AnonymousIdentity : UserIdentity;

public sealed record UserNameIdentity(string UserName, string Password) : UserIdentity
{
    /// <summary>Never print the password.</summary>
    public override string ToString() => $"UserNameIdentity {{ UserName = {UserName} }}";
}

/// <summary>Settings of an <see cref="OpcUaClient"/>.</summary>
public sealed record OpcUaClientOptions
{
    public string ApplicationName { get; init; } = "TwinGateway";

    public string ApplicationUri { get; init; } = "urn:twingateway:client";

    public string ProductUri { get; init; } = "urn:twingateway";

    public string SessionName { get; init; } = "TwinGateway session";

    public UserIdentity Identity { get; init; } = UserIdentity.Anonymous;

    /// <summary>Session timeout we ask for; the server revises it.</summary>
    public TimeSpan SessionTimeout { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How often the session is checked when nothing else proves the server alive (a read of ServerStatus/State).
    /// A missed check, like a subscription silent past its keep-alive, starts a reconnect.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>First reconnect delay; doubles up to <see cref="ReconnectMaxDelay"/>.</summary>
    public TimeSpan ReconnectMinDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Publish requests kept outstanding per session (OPC 10000-4 §5.13.5 asks for several).</summary>
    public int PublishRequestCount { get; init; } = 3;

    /// <summary>Time a service call waits, including a wait for a reconnect in progress.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public ClientChannelOptions Channel { get; init; } = new();

    /// <summary>Items per CreateMonitoredItems call when the server does not say its limit.</summary>
    public int DefaultMonitoredItemsPerCall { get; init; } = 1000;
}
