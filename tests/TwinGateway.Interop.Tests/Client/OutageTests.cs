using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using TwinGateway.Interop.Tests.Fixtures;
using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.Interop.Tests.Client;

/// <summary>A hung server (the TCP connection open, nothing answering) against node-opcua.</summary>
public sealed class HungServerTestsOnNodeOpcUa() : HungServerTests(TestPeers.NodeOpcUa);

/// <summary>A hung server (the TCP connection open, nothing answering) against our server.</summary>
public sealed class HungServerTestsOnOurServer() : HungServerTests(TestPeers.Ours);

/// <summary>
/// A server that hangs: the fault proxy holds every byte in both directions and closes nothing, as a SIGSTOPped PLC
/// does. The client must notice from its own keep-alive within about two keep-alive intervals, not from the
/// subscription's much longer keep-alive.
/// </summary>
public abstract class HungServerTests(string kind) : IAsyncLifetime
{
    /// <summary>
    /// Far above the 2 s the client needs and far below the 90 s the old detection took with this subscription
    /// (three subscription keep-alives of 30 s): a loaded machine cannot make it flake, the old code cannot pass.
    /// </summary>
    private static readonly TimeSpan DetectionBound = TimeSpan.FromSeconds(20);

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly TestLog _log = new();
    private readonly TestLog _serverLog = new();
    private ITestPeer _server = null!;
    private TcpFaultProxy _proxy = null!;

    public async Task InitializeAsync()
    {
        _server = await TestPeers.StartAsync(kind, _serverLog);
        _proxy = new TcpFaultProxy("127.0.0.1", _server.Port);
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _server.DisposeAsync();
        _log.Dispose();
        _serverLog.Dispose();
    }

    [Fact]
    public async Task A_hung_server_is_noticed_within_two_keep_alive_intervals_and_the_reason_says_it_stopped_answering()
    {
        var options = new OpcUaClientOptions
        {
            KeepAliveInterval = TimeSpan.FromSeconds(1),
            MaxMissedKeepAlives = 1,
            Reconnect = new ReconnectPolicy { InitialDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(1) },
            RequestTimeout = TimeSpan.FromSeconds(5),
        };
        await using var client = await OpcUaClient.ConnectAsync(_proxy.RewriteUrl(_server.EndpointUrl), options, logger: _log);
        var changes = new StateRecorder(client);
        // A subscription whose own keep-alive is 30 s: only the client's keep-alive can notice the hang in time.
        var subscription = await client.CreateSubscriptionAsync(new SubscriptionOptions
        {
            PublishingInterval = TimeSpan.FromSeconds(1),
            KeepAliveCount = 30,
            LifetimeCount = 300,
        });
        var items = await subscription.AddItemsAsync([new MonitoredItemOptions(new NodeId("Test.Counter", _server.NamespaceIndex)) { QueueSize = 10 }]);
        Assert.True(items[0].IsCreated, items[0].Status.Name);
        await SubscriptionTests.Collect<DataChangeBatch>(subscription, 1);

        _proxy.Paused = true;
        var lost = await changes.WaitForAsync(c => c.Status == ConnectionStatus.Reconnecting, DetectionBound);

        Assert.Equal(StatusCodes.BadNoCommunication, lost.Reason.Code);
        Assert.Contains("the server stopped answering", lost.Message, StringComparison.Ordinal);
        var outage = Assert.IsType<ConnectionOutage>(lost.Outage);
        Assert.Null(outage.End);
        // Never earlier than the limit the options set: one interval of silence, then one unanswered keep-alive.
        Assert.True(outage.DetectedAt - outage.Start >= options.KeepAliveInterval * 2, outage.ToString());
        Assert.Contains(_log.Entries, e => e.Id.Id == 1109);

        _proxy.Paused = false;
        _proxy.DropAll();
        var back = await changes.WaitForAsync(c => c.Status == ConnectionStatus.Connected && c.Outage is not null, Wait);
        await SubscriptionTests.Collect<DataChangeBatch>(subscription, 1);

        var ended = Assert.IsType<ConnectionOutage>(back.Outage);
        Assert.Equal(outage.Start, ended.Start);
        Assert.Equal(outage.DetectedAt, ended.DetectedAt);
        Assert.True(ended.End >= ended.DetectedAt, ended.ToString());
        Assert.Equal(ended.End - ended.Start, ended.Duration);
        _log.AssertNoErrors();
    }
}

/// <summary>
/// Our server stopped and started again on the same port after an outage: the client waits exactly the delays of its
/// <see cref="ReconnectPolicy"/>, reports each one, and is back within <see cref="ReconnectPolicy.MaxDelay"/> of the
/// server listening again. Checked through the delays the client schedules, not through how long things took.
/// </summary>
public sealed class ServerOutageTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly ReconnectPolicy Policy = new() { InitialDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromMilliseconds(800) };
    private readonly TestLog _log = new();

    public void Dispose() => _log.Dispose();

    [Fact]
    public async Task The_client_waits_the_policy_delays_exactly_and_is_back_within_MaxDelay_of_the_server_listening_again()
    {
        var server = await OurServerPeer.StartAsync();
        var port = server.Port;
        OpcUaClient? client = null;
        try
        {
            client = await OpcUaClient.ConnectAsync(server.EndpointUrl, new OpcUaClientOptions { Reconnect = Policy, KeepAliveInterval = TimeSpan.FromSeconds(1) }, logger: _log);
            var changes = new StateRecorder(client);
            var subscription = await client.CreateSubscriptionAsync(new SubscriptionOptions { PublishingInterval = TimeSpan.FromMilliseconds(100), KeepAliveCount = 5 });
            await subscription.AddItemsAsync([new MonitoredItemOptions(new NodeId("Test.Counter", server.NamespaceIndex)) { SamplingInterval = TimeSpan.FromMilliseconds(20), QueueSize = 10 }]);
            await SubscriptionTests.Collect<DataChangeBatch>(subscription, 2);

            await server.DisposeAsync();
            // The outage lasts until the backoff has reached its cap and waited it at least twice.
            await changes.WaitForAsync(_ => changes.All.Count(c => c.NextAttemptDelay == Policy.MaxDelay) >= 2, Wait);
            server = await OurServerPeer.StartAsync(new OurServerSettings { Port = port });
            var listening = TimeProvider.System.GetUtcNow();
            var back = await changes.WaitForAsync(c => c.Status == ConnectionStatus.Connected && c.Outage is not null, Wait);
            var gap = (await SubscriptionTests.Collect<NotificationGap>(subscription, 1))[0];
            await SubscriptionTests.Collect<DataChangeBatch>(subscription, 2);

            var failed = changes.All.Where(c => c.Status == ConnectionStatus.Reconnecting && c.Attempt > 0).ToList();
            Assert.True(failed.Count >= 4, string.Join("\n", failed));
            // Each failed attempt reports the delay the policy gives for the next one: 200, 400, 800, 800, ... ms.
            Assert.Equal(
                failed.Select(c => Policy.DelayBefore(c.Attempt + 1)),
                failed.Select(c => c.NextAttemptDelay!.Value));
            Assert.Equal(Enumerable.Range(1, failed.Count), failed.Select(c => c.Attempt));
            Assert.All(failed, c => Assert.True(c.NextAttemptDelay <= Policy.MaxDelay));
            // The log states the same delays, not half of them.
            var logged = _log.Entries.Where(e => e.Id.Id == 1102)
                .Select(e => TimeSpan.FromMilliseconds(long.Parse(Regex.Match(e.Message, @"next try in (\d+) ms").Groups[1].Value, CultureInfo.InvariantCulture)))
                .ToList();
            Assert.Equal(failed.Select(c => c.NextAttemptDelay!.Value), logged);
            // Back within MaxDelay of listening again: every wait was at most MaxDelay, and the first attempt started
            // after the server listened succeeded (at most one attempt begun before that can fail after it).
            Assert.True(failed.Count(c => c.At > listening) <= 1, string.Join("\n", failed.Where(c => c.At > listening)));
            Assert.Equal(failed.Count + 1, int.Parse(Regex.Match(back.Message, @"after (\d+) attempt").Groups[1].Value, CultureInfo.InvariantCulture));

            // The outage window: from the last word of the old server to the session being usable again.
            var first = changes.All.First(c => c.Status == ConnectionStatus.Reconnecting);
            var outage = Assert.IsType<ConnectionOutage>(back.Outage);
            Assert.Equal(first.Outage, outage with { End = null });
            Assert.True(outage.Reason.IsBad, outage.ToString());
            Assert.True(outage.Start <= outage.DetectedAt && outage.DetectedAt < outage.End && outage.End <= back.At, outage.ToString());
            Assert.All(failed, c => Assert.Equal(first.Outage, c.Outage));

            // The subscription was recreated on the new server: its gap spans the outage.
            Assert.Null(gap.LastMissing);
            Assert.True(gap.Start <= outage.DetectedAt && gap.End >= outage.DetectedAt, $"gap {gap.Start:O}..{gap.End:O}, outage {outage}");
            _log.AssertNoErrors();
        }
        finally
        {
            if (client is not null)
            {
                await client.DisposeAsync();
            }

            await server.DisposeAsync();
        }
    }
}

/// <summary>Keeps every state change of a client, so a test can wait for one and then look at all of them.</summary>
internal sealed class StateRecorder
{
    private readonly ConcurrentQueue<ConnectionStateChange> _changes = new();
    private readonly SemaphoreSlim _arrived = new(0);

    public StateRecorder(OpcUaClient client)
    {
        Reading = ReadAsync(client);
    }

    public IReadOnlyList<ConnectionStateChange> All => [.. _changes];

    /// <summary>Ends when the client is closed; its failure surfaces through <see cref="WaitForAsync"/>.</summary>
    private Task Reading { get; }

    /// <summary>Waits (at most <paramref name="bound"/>) for a change that satisfies <paramref name="match"/>, recorded before or after the call.</summary>
    public async Task<ConnectionStateChange> WaitForAsync(Func<ConnectionStateChange, bool> match, TimeSpan bound)
    {
        using var cts = new CancellationTokenSource(bound);
        while (true)
        {
            if (_changes.FirstOrDefault(match) is { } found)
            {
                return found;
            }

            if (Reading.IsFaulted)
            {
                await Reading;
            }

            try
            {
                await _arrived.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no matching state change within {bound.TotalSeconds} s; seen:\n{string.Join("\n", All)}");
            }
        }
    }

    private async Task ReadAsync(OpcUaClient client)
    {
        await foreach (var change in client.StateChanges.ReadAllAsync())
        {
            _changes.Enqueue(change);
            _arrived.Release();
        }
    }
}
