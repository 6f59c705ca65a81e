using Microsoft.Extensions.Logging;
using TwinGateway.Core.Lines;
using TwinGateway.Core.Pipeline;
using TwinGateway.Gateway.Supervision;
using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.Gateway;

/// <summary>
/// The gateway's connection to one controller: connects (retrying while it is down), checks every mapped node
/// (exists, data type as defined), subscribes to the signals and feeds their values to the line's pipeline. An
/// unreachable controller is a state with a reason, not a failure: <see cref="RunAsync"/> retries it. Anything else
/// that throws ends <see cref="RunAsync"/>, and the line's supervisor restarts it with backoff while
/// <see cref="Health"/> (and so <see cref="Status"/>) says Failed with the exception's message.
/// </summary>
internal sealed partial class ControllerLink
{
    private readonly LineRuntime _line;
    private readonly ControllerDefinition _controller;
    private readonly GatewayOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Dictionary<NodeId, SignalState> _byNode = [];
    private LinkStatus _status;

    /// <summary>The session while connected (it reconnects by itself); null between connection attempts.</summary>
    private volatile OpcUaClient? _client;

    /// <summary>Values are flowing; set when subscribed, cleared (with a gap marked) when the connection is lost.</summary>
    private bool _delivering;

    public ControllerLink(LineRuntime line, ControllerDefinition controller, IEnumerable<SignalState> signals, GatewayOptions options, TimeProvider time, ILogger logger)
    {
        _line = line;
        _controller = controller;
        _options = options;
        _time = time;
        _logger = logger;
        Signals = [.. signals];
        _status = new LinkStatus(controller.Id, controller.EndpointUrl, LinkState.Connecting, "starting", time.GetUtcNow(), 0, []);
        Health = new ComponentHealth($"Line {line.Id} controller link {controller.Id}", time, logger);
    }

    public IReadOnlyList<SignalState> Signals { get; }

    public string ControllerId => _controller.Id;

    /// <summary>
    /// The OPC UA session the commissioning gate reads and writes through: the link's own, so a change goes over the
    /// connection the line is monitored on. Null while the link has no session (check <see cref="Status"/> for why).
    /// </summary>
    public OpcUaClient? Client => _client;

    /// <summary>The supervisor's view of this link: Failed while an unexpected exception keeps restarting it.</summary>
    public ComponentHealth Health { get; }

    /// <summary>The connection state; Failed with the exception's message while the supervisor restarts the link.</summary>
    public LinkStatus Status
    {
        get
        {
            var status = Volatile.Read(ref _status);
            var health = Health.Status;
            return health.State == ComponentState.Failed
                ? status with { State = LinkState.Failed, Reason = $"the link failed and is being restarted ({health.Restarts} restart(s)): {health.Reason}", Since = health.Since }
                : status;
        }
    }

    private void SetStatus(LinkState state, string reason, int? monitored = null, IReadOnlyList<SignalProblem>? problems = null)
    {
        var previous = Status;
        var next = new LinkStatus(_controller.Id, _controller.EndpointUrl, state, reason,
            previous.State == state ? previous.Since : _time.GetUtcNow(), monitored ?? previous.MonitoredSignals, problems ?? previous.Problems);
        Volatile.Write(ref _status, next);
        if (previous.State != state || previous.Reason != reason)
        {
            Log.StateChanged(_logger, _line.Id, _controller.Id, _controller.EndpointUrl, state, reason);
        }
    }

    public async Task RunAsync(CancellationToken stopping)
    {
        Health.MarkRunning();
        var retry = TimeSpan.FromSeconds(_options.ReconnectSeconds);
        while (!stopping.IsCancellationRequested)
        {
            OpcUaClient? client = null;
            try
            {
                client = await OpcUaClient.ConnectAsync(_controller.EndpointUrl, ClientOptions(), _time, _logger, stopping).ConfigureAwait(false);
                _client = client;
                await MonitorAsync(client, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (ServiceResultException ex)
            {
                var reason = $"{ex.StatusCode.Name}: {ex.Reason}";
                SetStatus(Status.State == LinkState.Connected ? LinkState.Reconnecting : LinkState.Failed, reason);
                await MarkGapAsync(reason, stopping).ConfigureAwait(false);
            }
            finally
            {
                _client = null;
                if (client is not null)
                {
                    await client.DisposeAsync().ConfigureAwait(false);
                }
            }

            try
            {
                await Task.Delay(retry, _time, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private OpcUaClientOptions ClientOptions()
    {
        var identity = UserIdentity.Anonymous;
        if (_controller.CredentialsRef is { } reference)
        {
            if (!_options.Credentials.TryGetValue(reference, out var credentials))
            {
                throw new ServiceResultException(StatusCodes.BadIdentityTokenInvalid,
                    $"controller {_controller.Id} names credentials '{reference}', which Gateway:Credentials does not define");
            }

            identity = UserIdentity.ForUser(credentials.User, credentials.Password);
        }

        return new OpcUaClientOptions
        {
            ApplicationName = "TwinGateway",
            SessionName = $"TwinGateway {_line.Id}/{_controller.Id}",
            Identity = identity,
            RequestTimeout = TimeSpan.FromSeconds(10),
            // A hung controller (the socket open, nothing answering) is lost after two keep-alive periods of silence,
            // and a returning one is reconnected within Gateway:ReconnectSeconds of listening again.
            KeepAliveInterval = TimeSpan.FromSeconds(_options.KeepAliveSeconds),
            MaxMissedKeepAlives = 1,
            Reconnect = new ReconnectPolicy
            {
                InitialDelay = TimeSpan.FromSeconds(Math.Min(0.25, _options.ReconnectSeconds)),
                MaxDelay = TimeSpan.FromSeconds(_options.ReconnectSeconds),
            },
            Channel = new OpcUa.Channel.ClientChannelOptions { ConnectTimeout = TimeSpan.FromSeconds(5) },
        };
    }

    private async Task MonitorAsync(OpcUaClient client, CancellationToken stopping)
    {
        var (valid, problems) = await CheckNodesAsync(client, stopping).ConfigureAwait(false);
        foreach (var problem in problems)
        {
            Log.SignalProblem(_logger, _line.Id, problem.SignalId, problem.NodeId, problem.Reason);
        }

        var subscription = await client.CreateSubscriptionAsync(new SubscriptionOptions
        {
            PublishingInterval = TimeSpan.FromMilliseconds(_options.StepMilliseconds),
            KeepAliveCount = 20,
            LifetimeCount = 600,
        }, stopping).ConfigureAwait(false);
        var items = await subscription.AddItemsAsync(valid.Select(s => new MonitoredItemOptions(NodeId.Parse(s.Definition.NodeId))
        {
            SamplingInterval = TimeSpan.FromMilliseconds(_options.StepMilliseconds),
            QueueSize = 1,
        }), stopping).ConfigureAwait(false);
        var allProblems = problems.ToList();
        foreach (var item in items.Where(i => !i.Status.IsGood))
        {
            var signal = _byNode[item.NodeId];
            allProblems.Add(new SignalProblem(signal.Definition.Id, signal.Definition.NodeId, $"cannot be monitored: {item.Status.Name}"));
            signal.SetStatus(item.Status.Name);
        }

        SetStatus(LinkState.Connected, "connected", items.Count(i => i.Status.IsGood), allProblems);
        _delivering = true;
        var watchState = WatchClientStateAsync(client, stopping);
        await foreach (var e in subscription.Events.ReadAllAsync(stopping).ConfigureAwait(false))
        {
            switch (e)
            {
                case DataChangeBatch batch:
                    await _line.PublishAsync(ToSamples(batch), stopping).ConfigureAwait(false);
                    break;
                case NotificationGap gap:
                    Log.Gap(_logger, _line.Id, _controller.Id, gap.Reason);
                    break;
            }
        }

        await watchState.ConfigureAwait(false);
    }

    /// <summary>
    /// The connection is lost: every signal of this controller turns BadNotConnected (its last value stays, with that
    /// status, so nobody reads an old value as current), and one BadNotConnected sample per signal goes down the
    /// pipeline, so the recorder, export, replay and drift see where the gap starts (the first Good value after the
    /// reconnect ends it). Once per outage.
    /// </summary>
    private async Task MarkGapAsync(string reason, CancellationToken stopping, DateTimeOffset? lastHeard = null)
    {
        if (!_delivering)
        {
            return;
        }

        _delivering = false;
        // The gap starts when the controller was last heard from, where the client knows it.
        var now = (lastHeard ?? _time.GetUtcNow()).UtcDateTime;
        var samples = new LineSample[Signals.Count];
        for (var i = 0; i < samples.Length; i++)
        {
            var signal = Signals[i];
            signal.SetStatus(nameof(StatusCodes.BadNotConnected));
            samples[i] = new LineSample(signal.Index, now, now, null, StatusCodes.BadNotConnected, null);
        }

        Log.GapStarted(_logger, _line.Id, _controller.Id, samples.Length, reason);
        await _line.PublishAsync(samples, stopping).ConfigureAwait(false);
    }

    /// <summary>
    /// The batch's values as samples of the line, in order: each becomes its signal's latest real value and carries the
    /// twin's expected value of the same instant.
    /// </summary>
    private LineSample[] ToSamples(DataChangeBatch batch)
    {
        // One array per notification, the size it almost always has (every item is one of ours); trimmed otherwise.
        var samples = new LineSample[batch.Values.Length];
        var count = 0;
        foreach (var value in batch.Values)
        {
            if (_byNode.TryGetValue(value.Item.NodeId, out var signal))
            {
                var data = value.Value;
                var real = data.Value.IsNumeric ? data.Value.ToDouble() : (double?)null;
                var snapshot = signal.SetReal(real, data.SourceTimestamp, data.ServerTimestamp, data.StatusCode);
                samples[count++] = new LineSample(signal.Index, snapshot.SourceTime, snapshot.ServerTime,
                    real is { } number && double.IsFinite(number) ? number : null, data.StatusCode.Code, snapshot.Expected);
            }
        }

        return count == samples.Length ? samples : samples[..count];
    }

    /// <summary>Mirrors the client's own reconnects into this link's state, with their reasons.</summary>
    private async Task WatchClientStateAsync(OpcUaClient client, CancellationToken stopping)
    {
        try
        {
            await foreach (var change in client.StateChanges.ReadAllAsync(stopping).ConfigureAwait(false))
            {
                switch (change.Status)
                {
                    case ConnectionStatus.Reconnecting:
                        var reason = change.Reason.IsGood ? change.Message : $"{change.Reason.Name}: {change.Message}";
                        SetStatus(LinkState.Reconnecting, reason);
                        await MarkGapAsync(reason, stopping, change.Outage?.Start).ConfigureAwait(false);
                        break;
                    case ConnectionStatus.Connected:
                        SetStatus(LinkState.Connected, change.Message);
                        _delivering = true;
                        break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>Reads every mapped node's DataType: unknown nodes and type mismatches are reported, naming the node and both types.</summary>
    private async Task<(List<SignalState> Valid, List<SignalProblem> Problems)> CheckNodesAsync(OpcUaClient client, CancellationToken stopping)
    {
        _byNode.Clear();
        foreach (var signal in Signals)
        {
            _byNode[NodeId.Parse(signal.Definition.NodeId)] = signal;
        }

        var valid = new List<SignalState>();
        var problems = new List<SignalProblem>();
        foreach (var batch in Signals.Chunk(500))
        {
            var results = await client.ReadAsync([.. batch.Select(s => new ReadValueId { NodeId = NodeId.Parse(s.Definition.NodeId), AttributeId = Attributes.DataType })],
                cancellationToken: stopping).ConfigureAwait(false);
            for (var i = 0; i < batch.Length; i++)
            {
                var signal = batch[i];
                var result = results[i];
                if (result.StatusCode.IsBad)
                {
                    problems.Add(new SignalProblem(signal.Definition.Id, signal.Definition.NodeId, $"node {signal.Definition.NodeId} on {_controller.Id}: {result.StatusCode.Name}"));
                    signal.SetStatus(result.StatusCode.Name);
                    continue;
                }

                var expected = (uint)signal.Definition.DataType;
                if (result.Value.Value is NodeId actual && actual.NamespaceIndex == 0 && actual.IdType == IdType.Numeric
                    && actual.NumericId is >= 1 and <= 25 && actual.NumericId != expected)
                {
                    problems.Add(new SignalProblem(signal.Definition.Id, signal.Definition.NodeId,
                        $"node {signal.Definition.NodeId} is {(BuiltInType)actual.NumericId} on {_controller.Id}, but the line definition says {signal.Definition.DataType}"));
                    signal.SetStatus("BadTypeMismatch");
                    continue;
                }

                valid.Add(signal);
            }
        }

        return (valid, problems);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Line {LineId} controller {ControllerId} ({Endpoint}): {State} ({Reason})")]
        public static partial void StateChanged(ILogger logger, string lineId, string controllerId, string endpoint, LinkState state, string reason);

        [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Line {LineId} signal {SignalId} ({NodeId}) is not monitored: {Reason}")]
        public static partial void SignalProblem(ILogger logger, string lineId, string signalId, string nodeId, string reason);

        [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "Line {LineId} controller {ControllerId}: connection lost ({Reason}); {Count} signals marked BadNotConnected and the gap recorded from now until values arrive again")]
        public static partial void GapStarted(ILogger logger, string lineId, string controllerId, int count, string reason);

        [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Line {LineId} controller {ControllerId} lost notifications: {Reason}")]
        public static partial void Gap(ILogger logger, string lineId, string controllerId, string reason);
    }
}
