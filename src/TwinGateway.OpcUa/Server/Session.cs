using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Server;

/// <summary>A client session (OPC 10000-4 §5.6): who it is, which channel it is bound to, and its state.</summary>
internal sealed class Session
{
    private readonly Lock _sync = new();
    private readonly Dictionary<string, BrowseContinuation> _continuations = new(StringComparer.Ordinal);

    public Session(NodeId sessionId, NodeId authenticationToken, string name, TimeSpan timeout, ServerConnection connection, long nowTicks)
    {
        SessionId = sessionId;
        AuthenticationToken = authenticationToken;
        Name = name;
        Timeout = timeout;
        Connection = connection;
        LastActivityTicks = nowTicks;
    }

    public NodeId SessionId { get; }

    public NodeId AuthenticationToken { get; }

    public string Name { get; }

    public TimeSpan Timeout { get; }

    public ServerConnection Connection { get; set; }

    public bool IsActivated { get; set; }

    public bool IsClosed { get; set; }

    /// <summary>The user name, or null for anonymous.</summary>
    public string? UserName { get; set; }

    public byte[] ServerNonce { get; set; } = [];

    /// <summary>The client certificate of the secured channel the session was created on (its DER); null when created on None.</summary>
    public byte[]? ClientCertificate { get; init; }

    public long LastActivityTicks { get; set; }

    public PublishQueue PublishQueue { get; } = new();

    public Lock Sync => _sync;

    public string Describe() => $"session '{Name}' ({SessionId}{(UserName is null ? ", anonymous" : ", user " + UserName)})";

    public bool TryAddContinuation(string key, BrowseContinuation continuation, int max)
    {
        lock (_sync)
        {
            if (_continuations.Count >= max)
            {
                return false;
            }

            _continuations[key] = continuation;
            return true;
        }
    }

    public BrowseContinuation? TakeContinuation(string key)
    {
        lock (_sync)
        {
            return _continuations.Remove(key, out var c) ? c : null;
        }
    }
}

/// <summary>The references of a browse left to return, keyed by the continuation point handed to the client.</summary>
internal sealed record BrowseContinuation(ReferenceDescription[] Remaining, uint MaxPerCall);
