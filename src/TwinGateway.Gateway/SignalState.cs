using TwinGateway.Core.Lines;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.Gateway;

/// <summary>The latest real and expected value of one signal. Written by one controller link, read by the API.</summary>
public sealed class SignalState(SignalDefinition definition, int index)
{
    private readonly Lock _sync = new();
    private SignalSnapshot _snapshot = new(definition.Id, null, null, default, default, "NoValue");

    public SignalDefinition Definition { get; } = definition;

    /// <summary>The signal's index in the line definition's signals (what <see cref="Core.Pipeline.LineSample.SignalIndex"/> names).</summary>
    public int Index { get; } = index;

    public SignalSnapshot Snapshot
    {
        get
        {
            lock (_sync)
            {
                return _snapshot;
            }
        }
    }

    internal SignalSnapshot SetReal(double? value, DateTime sourceTime, DateTime serverTime, StatusCode status)
    {
        lock (_sync)
        {
            _snapshot = _snapshot with { Real = value, SourceTime = sourceTime, ServerTime = serverTime, Status = status.Name };
            return _snapshot;
        }
    }

    internal SignalSnapshot SetExpected(double value)
    {
        lock (_sync)
        {
            _snapshot = _snapshot with { Expected = value };
            return _snapshot;
        }
    }

    internal void SetStatus(string status)
    {
        lock (_sync)
        {
            _snapshot = _snapshot with { Status = status };
        }
    }
}

/// <summary>A signal's real value (from the controller) and the twin's expected value at the same time.</summary>
public sealed record SignalSnapshot(string SignalId, double? Real, double? Expected, DateTime SourceTime, DateTime ServerTime, string Status);

/// <summary>Where a controller connection stands.</summary>
public enum LinkState
{
    Connecting,
    Connected,
    Reconnecting,
    Failed,
}

/// <summary>A signal that cannot be monitored, with the node and the reason.</summary>
public sealed record SignalProblem(string SignalId, string NodeId, string Reason);

/// <summary>The state of one controller link, with the reason when it is not connected.</summary>
public sealed record LinkStatus(string ControllerId, string EndpointUrl, LinkState State, string Reason, DateTimeOffset Since, int MonitoredSignals, IReadOnlyList<SignalProblem> Problems);
