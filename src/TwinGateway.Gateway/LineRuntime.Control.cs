using Microsoft.Extensions.Logging;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Lines;
using TwinGateway.Core.Twins;
using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.Gateway;

/// <summary>
/// What the commissioning gate does with a running line (<see cref="ILineControl"/>): fork the shadow twin, have it
/// adopt a change's definition, ask how well it matched the real line, and read, write and call on the line's
/// controllers over the controller links' own OPC UA sessions. Every controller problem is a result naming the
/// controller and the node, never an exception.
/// </summary>
public sealed partial class LineRuntime : ILineControl
{
    string ILineControl.LineId => Id;

    /// <inheritdoc/>
    public bool IsConnected => _links.All(l => l.Status.State == LinkState.Connected);

    public ILineTwin SnapshotTwin()
    {
        lock (_twinLock)
        {
            return (_twin ?? throw new InvalidOperationException($"line {Id} has no twin yet")).ForkShadow(null);
        }
    }

    /// <inheritdoc/>
    public void AdoptDefinition(LineDefinition line)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (DefinitionMismatch(_definition, line) is { } problem)
        {
            throw new ArgumentException($"line {Id} cannot adopt the definition: {problem}; the monitored signals must stay as they are", nameof(line));
        }

        lock (_twinLock)
        {
            if (_twin is { } twin)
            {
                _twin = twin.ForkShadow(line);
            }

            Volatile.Write(ref _definition, line);
        }

        Log.DefinitionAdopted(_logger, Id, line.Source?.File ?? "(no file)");
    }

    /// <summary>Null when <paramref name="next"/> keeps <paramref name="running"/>'s signals (ids, node ids, controllers, data types, directions, order); otherwise the first difference.</summary>
    internal static string? DefinitionMismatch(LineDefinition running, LineDefinition next)
    {
        if (!string.Equals(running.Id, next.Id, StringComparison.Ordinal))
        {
            return $"it is line '{next.Id}', not '{running.Id}'";
        }

        if (running.Signals.Length != next.Signals.Length)
        {
            return $"it has {next.Signals.Length} signals where the running line has {running.Signals.Length}";
        }

        for (var i = 0; i < running.Signals.Length; i++)
        {
            var (a, b) = (running.Signals[i], next.Signals[i]);
            var difference =
                !string.Equals(a.Id, b.Id, StringComparison.Ordinal) ? $"signal {i + 1} is '{b.Id}' where the running line has '{a.Id}'"
                : !string.Equals(a.NodeId, b.NodeId, StringComparison.Ordinal) ? $"signal '{a.Id}' maps node {b.NodeId} where the running line maps {a.NodeId}"
                : !string.Equals(a.ControllerId, b.ControllerId, StringComparison.Ordinal) ? $"signal '{a.Id}' is on controller {b.ControllerId} where the running line has {a.ControllerId}"
                : a.DataType != b.DataType ? $"signal '{a.Id}' is {b.DataType} where the running line has {a.DataType}"
                : a.Direction != b.Direction ? $"signal '{a.Id}' is a {b.Direction} where the running line has a {a.Direction}"
                : null;
            if (difference is not null)
            {
                return difference;
            }
        }

        return null;
    }

    /// <inheritdoc/>
    public double? GetRealValue(string signalId) =>
        _signals.TryGetValue(signalId, out var signal) && signal.Snapshot is { Status: "Good", Real: { } real } ? real : null;

    /// <inheritdoc/>
    /// <remarks>
    /// The figures come from a <see cref="CredibilityRing"/> per signal the twin can be compared on (<see cref="SignalComparison"/>),
    /// fed by the twin loop once per step with the latest Good real value against the expected value of that step. Per
    /// step, not per notification: a controller reports a value only when it changes, so a steady signal would
    /// otherwise have no samples in a quiet window, and a signal that changes often would weigh more than one that is
    /// steady. Signals without a ring (unmodelled, text, no range, running totals) have 0 samples and null figures.
    /// </remarks>
    public IReadOnlyList<SignalCredibility> GetCredibility(IEnumerable<string> signalIds, TimeSpan window)
    {
        ArgumentNullException.ThrowIfNull(signalIds);
        var now = _time.GetUtcNow();
        return [.. signalIds.Select(id => _signals.TryGetValue(id, out var signal) && _credibility[signal.Index] is { } ring
            ? ring.ToCredibility(id, window, now)
            : new SignalCredibility(id, 0, null, null))];
    }

    private void RecordCredibility(SignalState signal, SignalSnapshot snapshot, double expected, DateTimeOffset now)
    {
        if (_credibility[signal.Index] is { } ring && snapshot is { Status: "Good", Real: { } real } && double.IsFinite(real) && double.IsFinite(expected))
        {
            ring.RecordResidual(Math.Abs(real - expected), now);
        }
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<ControllerReadResult>> ReadAsync(IReadOnlyList<ControllerNode> nodes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var results = new ControllerReadResult[nodes.Count];
        foreach (var group in Enumerable.Range(0, nodes.Count).GroupBy(i => nodes[i].ControllerId ?? "", StringComparer.Ordinal))
        {
            var (client, controllerId, problem) = SessionOf(nodes[group.First()].ControllerId);
            var toRead = new List<(int Index, NodeId Id)>();
            foreach (var i in group)
            {
                if (problem is not null)
                {
                    results[i] = new ControllerReadResult(nodes[i], null, problem);
                }
                else if (!NodeId.TryParse(nodes[i].NodeId, out var id, out var error))
                {
                    results[i] = new ControllerReadResult(nodes[i], null, $"BadNodeIdInvalid: node id '{nodes[i].NodeId}' is not valid: {error}");
                }
                else
                {
                    toRead.Add((i, id));
                }
            }

            if (toRead.Count == 0)
            {
                continue;
            }

            try
            {
                var values = await client!.ReadValuesAsync([.. toRead.Select(x => x.Id)], cancellationToken).ConfigureAwait(false);
                for (var k = 0; k < toRead.Count; k++)
                {
                    var node = nodes[toRead[k].Index];
                    var data = values[k];
                    results[toRead[k].Index] = data.StatusCode.IsBad
                        ? new ControllerReadResult(node, null, $"{data.StatusCode.Name}: reading node {node.NodeId} on controller {controllerId}")
                        : ControllerValues.TryFromVariant(data.Value, $"node {node.NodeId} on controller {controllerId}", out var value, out var conversion)
                            ? new ControllerReadResult(node, value, null)
                            : new ControllerReadResult(node, null, conversion);
                }
            }
            catch (Exception ex) when (ex is ServiceResultException or ObjectDisposedException)
            {
                var reason = Describe(ex, $"reading from controller {controllerId}");
                foreach (var (index, _) in toRead)
                {
                    results[index] = new ControllerReadResult(nodes[index], null, reason);
                }
            }
        }

        return results;
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<ControllerWriteResult>> WriteAsync(IReadOnlyList<ControllerWrite> writes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writes);
        var results = new ControllerWriteResult[writes.Count];
        foreach (var group in Enumerable.Range(0, writes.Count).GroupBy(i => writes[i].Node.ControllerId ?? "", StringComparer.Ordinal))
        {
            var (client, controllerId, problem) = SessionOf(writes[group.First()].Node.ControllerId);
            var toWrite = new List<(int Index, WriteValue Value)>();
            foreach (var i in group)
            {
                var (node, value) = (writes[i].Node, writes[i].Value);
                if (problem is not null)
                {
                    results[i] = new ControllerWriteResult(node, problem);
                }
                else if (!NodeId.TryParse(node.NodeId, out var id, out var error))
                {
                    results[i] = new ControllerWriteResult(node, $"BadNodeIdInvalid: node id '{node.NodeId}' is not valid: {error}");
                }
                else if (!ControllerValues.TryToVariant(value, node, out var variant, out var conversion))
                {
                    results[i] = new ControllerWriteResult(node, $"{conversion}, controller {controllerId}; nothing was sent");
                }
                else
                {
                    toWrite.Add((i, new WriteValue { NodeId = id, AttributeId = Attributes.Value, Value = new DataValue(variant) }));
                }
            }

            if (toWrite.Count == 0)
            {
                continue;
            }

            try
            {
                var statuses = await client!.WriteAsync([.. toWrite.Select(x => x.Value)], cancellationToken).ConfigureAwait(false);
                for (var k = 0; k < toWrite.Count; k++)
                {
                    var (node, value) = (writes[toWrite[k].Index].Node, writes[toWrite[k].Index].Value);
                    if (statuses[k].IsBad)
                    {
                        Log.WriteRefused(_logger, Id, controllerId!, node.NodeId, value.ToString(), statuses[k].Name);
                        results[toWrite[k].Index] = new ControllerWriteResult(node, $"{statuses[k].Name}: controller {controllerId} refused writing {value} to node {node.NodeId}");
                    }
                    else
                    {
                        Log.Written(_logger, Id, controllerId!, node.NodeId, value.ToString());
                        results[toWrite[k].Index] = new ControllerWriteResult(node, null);
                    }
                }
            }
            catch (Exception ex) when (ex is ServiceResultException or ObjectDisposedException)
            {
                // The request may or may not have reached the controller: the caller reads back to know.
                var reason = Describe(ex, $"writing to controller {controllerId} (the write may or may not have been applied)");
                foreach (var (index, _) in toWrite)
                {
                    results[index] = new ControllerWriteResult(writes[index].Node, reason);
                }
            }
        }

        return results;
    }

    /// <inheritdoc/>
    public async Task<ControllerCallResult> CallAsync(ControllerCall call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        var (client, controllerId, problem) = SessionOf(call.ControllerId);
        if (problem is not null)
        {
            return new ControllerCallResult(problem, []);
        }

        if (!NodeId.TryParse(call.ObjectId, out var objectId, out var objectError))
        {
            return new ControllerCallResult($"BadNodeIdInvalid: object id '{call.ObjectId}' is not valid: {objectError}", []);
        }

        if (!NodeId.TryParse(call.MethodId, out var methodId, out var methodError))
        {
            return new ControllerCallResult($"BadNodeIdInvalid: method id '{call.MethodId}' is not valid: {methodError}", []);
        }

        var what = $"method {call.MethodId} on object {call.ObjectId} at controller {controllerId}";
        CallMethodResult result;
        try
        {
            result = (await client!.CallMethodsAsync(
                [new CallMethodRequest { ObjectId = objectId, MethodId = methodId, InputArguments = [.. call.Arguments.Select(ControllerValues.ToArgument)] }],
                cancellationToken).ConfigureAwait(false))[0];
        }
        catch (Exception ex) when (ex is ServiceResultException or ObjectDisposedException)
        {
            return new ControllerCallResult(Describe(ex, $"calling {what} (it may or may not have run)"), []);
        }

        if (result.StatusCode.IsBad)
        {
            var arguments = (result.InputArgumentResults ?? []).Select((s, i) => (s, i)).Where(x => x.s.IsBad).Select(x => $"argument {x.i + 1}: {x.s.Name}").ToList();
            Log.CallFailed(_logger, Id, controllerId!, call.MethodId, result.StatusCode.Name);
            return new ControllerCallResult($"{result.StatusCode.Name}: calling {what}" + (arguments.Count > 0 ? $" ({string.Join(", ", arguments)})" : ""), []);
        }

        Log.Called(_logger, Id, controllerId!, call.MethodId, call.ObjectId);
        var outputs = new List<ChangeValue>();
        foreach (var (output, i) in (result.OutputArguments ?? []).Select((o, i) => (o, i)))
        {
            if (!ControllerValues.TryFromVariant(output, $"output {i + 1} of {what}", out var value, out var conversion))
            {
                return new ControllerCallResult(conversion + " (the call itself succeeded)", outputs);
            }

            outputs.Add(value);
        }

        return new ControllerCallResult(null, outputs);
    }

    /// <summary>The session of the controller (null: the line's only one), or why there is none to use.</summary>
    private (OpcUaClient? Client, string? ControllerId, string? Problem) SessionOf(string? controllerId)
    {
        var link = controllerId is null
            ? (_links.Count == 1 ? _links[0] : null)
            : _links.Find(l => string.Equals(l.ControllerId, controllerId, StringComparison.Ordinal));
        if (link is null)
        {
            var known = string.Join(", ", _links.Select(l => l.ControllerId));
            return (null, controllerId, controllerId is null
                ? $"line {Id} has {_links.Count} controllers ({known}): the node must name its controller"
                : $"line {Id} has no controller '{controllerId}' (it has: {known})");
        }

        var status = link.Status;
        var client = link.Client;
        return client is null || status.State != LinkState.Connected
            ? (null, link.ControllerId, $"controller {link.ControllerId} is not connected (state {status.State}: {status.Reason})")
            : (client, link.ControllerId, null);
    }

    private static string Describe(Exception ex, string what) => ex switch
    {
        ServiceResultException s => $"{s.StatusCode.Name}: {what}: {s.Reason}",
        _ => $"BadNotConnected: {what}: the session closed (the link is reconnecting)",
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 4501, Level = LogLevel.Information, Message = "Line {LineId}: the shadow twin adopted the definition from {File}")]
        public static partial void DefinitionAdopted(ILogger logger, string lineId, string file);

        [LoggerMessage(EventId = 4502, Level = LogLevel.Information, Message = "Line {LineId} controller {ControllerId}: wrote {Value} to {NodeId}")]
        public static partial void Written(ILogger logger, string lineId, string controllerId, string nodeId, string value);

        [LoggerMessage(EventId = 4503, Level = LogLevel.Warning, Message = "Line {LineId} controller {ControllerId}: writing {Value} to {NodeId} was refused: {Status}")]
        public static partial void WriteRefused(ILogger logger, string lineId, string controllerId, string nodeId, string value, string status);

        [LoggerMessage(EventId = 4504, Level = LogLevel.Information, Message = "Line {LineId} controller {ControllerId}: called {MethodId} on {ObjectId}")]
        public static partial void Called(ILogger logger, string lineId, string controllerId, string methodId, string objectId);

        [LoggerMessage(EventId = 4505, Level = LogLevel.Warning, Message = "Line {LineId} controller {ControllerId}: call of {MethodId} failed: {Status}")]
        public static partial void CallFailed(ILogger logger, string lineId, string controllerId, string methodId, string status);
    }
}
