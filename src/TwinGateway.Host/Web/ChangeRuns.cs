using System.Collections.Concurrent;
using System.Threading.Channels;
using TwinGateway.Commissioning.Apply;
using TwinGateway.Commissioning.Gate;
using TwinGateway.Commissioning.Validation;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Identity;
using TwinGateway.Host.Commissioning;

namespace TwinGateway.Host.Web;

/// <summary>What the change page's script hears: a change event (the page reloads its parts) or a validation's progress.</summary>
/// <param name="Event">The gate's event (validating, validated, approval, applying, ...) or "progress" or "step".</param>
/// <param name="State">The change's state after it (text form); null for progress.</param>
/// <param name="Fraction">Validation progress, 0 to 1; null otherwise.</param>
/// <param name="Message">A step's message, or runs done of total.</param>
/// <param name="Time">When (ISO, UTC).</param>
internal sealed record ChangeLiveEvent(string Event, string? State, double? Fraction, string? Message, string Time);

/// <summary>
/// Validations and applies started from the console: the gate's own calls (as gRPC's ValidateChange and ApplyChange
/// make them) run in the background, their refusals are told to the page that asked, and their progress goes to the
/// pages that follow the change (<c>GET /live/changes/{id}</c>, with the gate's change events).
/// </summary>
internal sealed partial class ChangeRuns(CommissioningRuntime runtime, TimeProvider time, IHostApplicationLifetime lifetime, ILogger<ChangeRuns> log)
{
    private readonly ConcurrentDictionary<ChannelWriter<ChangeLiveEvent>, string> _followers = new();

    /// <summary>Starts the validation; returns once the gate has accepted it (the change is validating).</summary>
    /// <exception cref="ChangeRefusedException">The gate refused it: nothing was started.</exception>
    public Task StartValidationAsync(string id, UserIdentity user, CancellationToken cancellationToken) =>
        StartAsync(id, "validation", "validating", async gate =>
        {
            var progress = new SyncProgress<ValidationProgress>(p => Tell(id, new ChangeLiveEvent("progress", null, p.Fraction,
                $"{p.RunsDone} of {p.RunsTotal} runs", ChangeFacts.Iso(time.GetUtcNow()))));
            await gate.ValidateAsync(id, user, progress, lifetime.ApplicationStopping).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>Starts the apply; returns once the gate has accepted it (the change is applying). The apply runs to its end whoever stays.</summary>
    /// <exception cref="ChangeRefusedException">The gate refused it: nothing was written.</exception>
    public Task StartApplyAsync(string id, UserIdentity user, CancellationToken cancellationToken) =>
        StartAsync(id, "apply", "applying", async gate =>
        {
            var progress = new SyncProgress<ApplyProgress>(p => Tell(id, new ChangeLiveEvent("step", null, null,
                $"{Api.CommissioningGrpcService.StepText(p.Kind)}: {p.Message}", ChangeFacts.Iso(p.At))));

            // As ApplyChange does: a page that goes away must not leave a half-applied change.
            await gate.ApplyAsync(id, user, progress, CancellationToken.None).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>Whether the change exists (the live endpoint answers 404 otherwise).</summary>
    public async Task<bool> ExistsAsync(string id, CancellationToken cancellationToken)
    {
        var gate = await runtime.GetGateAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await gate.GetAsync(id, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ChangeRefusedException)
        {
            return false;
        }
    }

    /// <summary>Events for one change until <paramref name="cancellationToken"/> fires: the gate's change events and this class's progress.</summary>
    public async IAsyncEnumerable<ChangeLiveEvent> FollowAsync(string id, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var gate = await runtime.GetGateAsync(cancellationToken).ConfigureAwait(false);
        var channel = Channel.CreateBounded<ChangeLiveEvent>(new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _followers[channel.Writer] = id;
        var watch = PumpAsync(gate, id, channel.Writer, stop.Token);

        // First the state as it is now (watching already): the page compares it with what it shows, and the response
        // starts at once (an EventSource says it is connected only when the first bytes arrive).
        ChangeView? now = null;
        try
        {
            now = await gate.GetAsync(id, cancellationToken).ConfigureAwait(false);
        }
        catch (ChangeRefusedException)
        {
            // Gone or never there: the stream ends at once.
        }

        if (now is null)
        {
            _followers.TryRemove(channel.Writer, out _);
            await stop.CancelAsync().ConfigureAwait(false);
            await watch.ConfigureAwait(false);
            yield break;
        }

        channel.Writer.TryWrite(new ChangeLiveEvent("hello", now.Record.State.ToText(), null, null, ChangeFacts.Iso(time.GetUtcNow())));
        try
        {
            await foreach (var item in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return item;
            }
        }
        finally
        {
            _followers.TryRemove(channel.Writer, out _);
            await stop.CancelAsync().ConfigureAwait(false);
            await watch.ConfigureAwait(false);
        }
    }

    private static async Task PumpAsync(CommissioningGate gate, string id, ChannelWriter<ChangeLiveEvent> writer, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var item in gate.WatchAsync(null, id, cancellationToken).ConfigureAwait(false))
            {
                writer.TryWrite(new ChangeLiveEvent(item.Event, item.Change.Record.State.ToText(), null, item.Change.Record.Outcome, ChangeFacts.Iso(item.Time)));
            }
        }
        catch (OperationCanceledException)
        {
            // The page went away.
        }
    }

    private void Tell(string id, ChangeLiveEvent item)
    {
        foreach (var (writer, followed) in _followers)
        {
            if (string.Equals(followed, id, StringComparison.Ordinal))
            {
                writer.TryWrite(item);
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/> in the background and waits until the gate either refuses it (rethrown here) or
    /// publishes <paramref name="started"/> for the change (it has passed its checks and is under way).
    /// </summary>
    private async Task StartAsync(string id, string what, string started, Func<CommissioningGate, Task> body, CancellationToken cancellationToken)
    {
        var gate = await runtime.GetGateAsync(cancellationToken).ConfigureAwait(false);
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var accepted = FirstAsync(gate.WatchAsync(null, id, watching.Token), started);

        // FirstAsync has started iterating (so the gate has registered its watcher) when it returns: no event is missed.
        var run = Task.Run(() => body(gate), CancellationToken.None);
        _ = ObserveAsync(run, id, what);
        var first = await Task.WhenAny(run, accepted).ConfigureAwait(false);
        await watching.CancelAsync().ConfigureAwait(false);
        if (first == run)
        {
            // Refused (or over already): the refusal's message goes to the page.
            await run.ConfigureAwait(false);
        }

        try
        {
            await accepted.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped watching: the run ended first.
        }
    }

    private static async Task FirstAsync(IAsyncEnumerable<ChangeEvent> events, string name)
    {
        await foreach (var item in events.ConfigureAwait(false))
        {
            if (string.Equals(item.Event, name, StringComparison.Ordinal))
            {
                return;
            }
        }
    }

    /// <summary>Logs how a background run ended; a refusal is the page's to show, anything else is logged here, where nobody else would see it.</summary>
    private async Task ObserveAsync(Task run, string id, string what)
    {
        try
        {
            await run.ConfigureAwait(false);
        }
        catch (ChangeRefusedException)
        {
            // Told to the page that started it (StartAsync awaits the same task).
        }
        catch (OperationCanceledException)
        {
            Stopped(log, what, id);
        }
#pragma warning disable CA1031 // The last observer of a background run: whatever failed it is logged.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Crashed(log, ex, what, id);
        }
    }

    /// <summary>An IProgress that reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool and reorder).</summary>
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    [LoggerMessage(EventId = 4470, Level = LogLevel.Warning, Message = "Web console: the {What} of change {Change} stopped with the gateway")]
    private static partial void Stopped(ILogger logger, string what, string change);

    [LoggerMessage(EventId = 4471, Level = LogLevel.Error, Message = "Web console: the {What} of change {Change} failed")]
    private static partial void Crashed(ILogger logger, Exception exception, string what, string change);
}
