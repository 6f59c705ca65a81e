using TwinGateway.Core.Lines;
using TwinGateway.Core.Twins;

namespace TwinGateway.Core.Changes;

/// <summary>
/// What the commissioning gate needs from a running line (offered by the gateway's line runtime, wired by the host):
/// the shadow twin's state to fork from, the definition the twin runs, and reads, writes and calls on the line's
/// controllers over OPC UA. Every result says per item whether it worked and why not; nothing throws for a bad status.
/// </summary>
public interface ILineControl
{
    string LineId { get; }

    /// <summary>The definition the shadow twin runs now (a change's definition once it is adopted).</summary>
    LineDefinition Definition { get; }

    /// <summary>True while every controller of the line has a connected session (writes can reach them).</summary>
    bool IsConnected { get; }

    /// <summary>An independent copy of the shadow twin as of now, taken under the twin loop's lock: validation forks from it.</summary>
    ILineTwin SnapshotTwin();

    /// <summary>The shadow twin continues, from its state now, with <paramref name="line"/> (a change's new definition, or the previous one on rollback).</summary>
    /// <exception cref="ArgumentException">The definition's signals differ from the running line's (they are the monitored nodes).</exception>
    void AdoptDefinition(LineDefinition line);

    /// <summary>The latest real value the controller reported for the signal, or null (not connected, bad status).</summary>
    double? GetRealValue(string signalId);

    /// <summary>How well the twin matched the real line for each signal over the last <paramref name="window"/>.</summary>
    IReadOnlyList<SignalCredibility> GetCredibility(IEnumerable<string> signalIds, TimeSpan window);

    Task<IReadOnlyList<ControllerReadResult>> ReadAsync(IReadOnlyList<ControllerNode> nodes, CancellationToken cancellationToken);

    Task<IReadOnlyList<ControllerWriteResult>> WriteAsync(IReadOnlyList<ControllerWrite> writes, CancellationToken cancellationToken);

    Task<ControllerCallResult> CallAsync(ControllerCall call, CancellationToken cancellationToken);
}

/// <summary>Finds the running line a change is for.</summary>
public interface ILineControlProvider
{
    /// <summary>The running line, or null when the gateway does not run it.</summary>
    ILineControl? Find(string lineId);
}

/// <summary>A node on one of the line's controllers (null: the only controller), with the type its value has.</summary>
public sealed record ControllerNode(string? ControllerId, string NodeId, SignalDataType DataType, bool IsArray = false);

/// <summary>A value to write to <see cref="Node"/>.</summary>
public sealed record ControllerWrite(ControllerNode Node, ChangeValue Value);

/// <summary>A value read, or why not (<see cref="Problem"/>, for example <c>BadNodeIdUnknown</c> or <c>not connected</c>).</summary>
public sealed record ControllerReadResult(ControllerNode Node, ChangeValue? Value, string? Problem);

/// <summary>A write's outcome: null <see cref="Problem"/> when the controller accepted it.</summary>
public sealed record ControllerWriteResult(ControllerNode Node, string? Problem);

/// <summary>A method call on a controller.</summary>
public sealed record ControllerCall(string? ControllerId, string ObjectId, string MethodId, IReadOnlyList<ChangeValue> Arguments);

/// <summary>A call's outcome: null <see cref="Problem"/> when it succeeded, with its output arguments.</summary>
public sealed record ControllerCallResult(string? Problem, IReadOnlyList<ChangeValue> Outputs);

/// <summary>
/// How well the twin matched the real line for a signal over a window: the mean absolute residual |real - expected|
/// scaled by the signal's nominal range, over <see cref="Samples"/> values; null when there were none.
/// </summary>
public sealed record SignalCredibility(string SignalId, long Samples, double? MeanScaledError, double? MaxScaledError);
