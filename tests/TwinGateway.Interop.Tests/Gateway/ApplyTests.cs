using System.Collections.Immutable;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TwinGateway.Commissioning.Apply;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Lines;
using TwinGateway.Gateway;
using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.Interop.Tests.Gateway;

/// <summary>
/// The commissioning gate's apply end to end: a gateway running the demo line against its simulated PLC (our OPC UA
/// server), the line runtime as <see cref="ILineControl"/>, and the <see cref="ChangeApplier"/> writing, reading back,
/// verifying against the shadow twin and rolling back. What the PLC holds is read straight from the PLC with our OPC UA
/// client, not through the gateway.
/// </summary>
public sealed class ApplyTests : IAsyncLifetime
{
    private const string SpeedOverride = "robot2.speedOverride";
    private const string Payload = "robot2.payload";

    private readonly GatewayUnderTest _gateway = new();
    private readonly MemoryJournal _journal = new();
    private LineRuntime _line = null!;
    private OpcUaClient _plc = null!;
    private ChangeApplier _applier = null!;

    public async Task InitializeAsync()
    {
        await _gateway.StartAsync(_gateway.DemoYaml);
        var services = _gateway.App!.Services;
        var control = services.GetRequiredService<LineRegistry>().Find("demo-line");
        _line = Assert.IsType<LineRuntime>(control);
        _applier = new ChangeApplier(_journal, TimeProvider.System, services.GetRequiredService<ILoggerFactory>().CreateLogger<ChangeApplier>());
        _plc = await OpcUaClient.ConnectAsync(_line.Definition.Controllers[0].EndpointUrl);

        // Ready when the link is up and the twin loop has compared the payload for a while.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (_line.Summary.State != LinkState.Connected || _line.GetCredibility([Payload], TimeSpan.FromSeconds(1))[0].Samples < 5
            || _line.GetRealValue(SpeedOverride) is null)
        {
            await Task.Delay(100, timeout.Token);
        }
    }

    public async Task DisposeAsync()
    {
        if (_plc is not null)
        {
            await _plc.DisposeAsync();
        }

        await _gateway.DisposeAsync();
    }

    private static ChangeRequest Change(params ChangeOperation[] operations) => new()
    {
        LineId = "demo-line",
        Title = "test change",
        Reason = "test",
        Operations = [.. operations],
    };

    private static VerificationSettings Verify(double seconds, double limit, params string[] signals) => new(TimeSpan.FromSeconds(seconds), limit, signals);

    /// <summary>What the PLC itself holds at the signal's node.</summary>
    private async Task<object?> PlcValueAsync(string signalId)
    {
        var value = (await _plc.ReadValuesAsync([NodeId.Parse(_line.Definition.FindSignal(signalId)!.NodeId)]))[0];
        Assert.True(value.StatusCode.IsGood, $"reading {signalId} from the PLC: {value.StatusCode}");
        return value.Value.Value;
    }

    [Fact]
    public async Task A_benign_set_is_written_read_back_verified_and_applied_with_every_step_journalled_in_order()
    {
        Assert.Equal(100.0, await PlcValueAsync(SpeedOverride));
        var seen = new List<ApplyProgress>();

        var outcome = await _applier.ApplyAsync("c1", Change(new SetOperation(SpeedOverride, ChangeValue.Of(90))), _line, null,
            Verify(2, 0.02, SpeedOverride, Payload), new InlineProgress(seen.Add), CancellationToken.None);

        Assert.True(outcome.Result == ApplyResult.Applied, outcome.Reason);
        Assert.Equal(90.0, await PlcValueAsync(SpeedOverride));
        Assert.Equal(ChangeValue.Of(100), Assert.Single(outcome.PreviousValues).Value);
        Assert.Equal(ChangeValue.Of(90), Assert.Single(outcome.ReadBack).Value);
        Assert.All(outcome.Verification, f => Assert.True(f.Passed && f.Samples > 0, f.ToString()));
        Assert.Equal(2, outcome.Verification.Count);
        ApplyStepKind[] expected = [ApplyStepKind.PreviousValuesRecorded, ApplyStepKind.Writing, ApplyStepKind.Written, ApplyStepKind.ReadBackOk,
            ApplyStepKind.Verifying, ApplyStepKind.Verified, ApplyStepKind.Applied];
        Assert.Equal(expected, _journal.Kinds("c1"));
        Assert.Equal(expected, seen.Select(p => p.Kind));
        Assert.Equal(expected, outcome.Steps.Select(s => s.Kind));
        Assert.Equal(0, _journal.Steps("c1").Single(s => s.Kind == ApplyStepKind.Writing).Index);
    }

    [Fact]
    public async Task A_write_the_controller_refuses_rolls_back_the_earlier_writes()
    {
        var outcome = await _applier.ApplyAsync("c2", Change(
                new SetOperation(SpeedOverride, ChangeValue.Of(90)),
                new SetOperation(Payload, ChangeValue.Of(5))),
            _line, null, Verify(1, 0.02, SpeedOverride), null, CancellationToken.None);

        Assert.True(outcome.Result == ApplyResult.RolledBack, outcome.Reason);
        Assert.Contains("BadNotWritable", outcome.Reason, StringComparison.Ordinal);
        Assert.Contains(Payload, outcome.Reason, StringComparison.Ordinal);
        Assert.Equal(100.0, await PlcValueAsync(SpeedOverride));
        Assert.Equal(9.2, await PlcValueAsync(Payload));
        Assert.All(outcome.RollbackResults, r => Assert.Null(r.Problem));
        Assert.Equal(ChangeValue.Of(100), outcome.RollbackResults.Single(r => r.Target == $"set {SpeedOverride}").Value);
        Assert.Equal([ApplyStepKind.PreviousValuesRecorded, ApplyStepKind.Writing, ApplyStepKind.Written, ApplyStepKind.Writing, ApplyStepKind.Written,
            ApplyStepKind.RollingBack, ApplyStepKind.RolledBack], _journal.Kinds("c2"));
        Assert.Empty(outcome.Verification);
    }

    [Fact]
    public async Task A_fault_the_twin_does_not_know_fails_verification_and_the_change_and_definition_are_rolled_back()
    {
        var original = _line.Definition;
        var candidate = original with
        {
            Stations = [.. original.Stations.Select(s => s.Id == "robot2" ? s with { CycleTime = new FixedDistribution(15) } : s)],
        };

        // The change sets the override and, as a stand-in for a bad change, offsets the payload sensor on the PLC.
        var outcome = await _applier.ApplyAsync("c3", Change(
                new SetOperation(SpeedOverride, ChangeValue.Of(90)),
                new CallOperation("ns=1;s=DemoLine.Faults.InjectSensorOffset", "ns=1;s=DemoLine.Faults", [ChangeValue.Of(Payload), ChangeValue.Of(5)])),
            _line, candidate, Verify(2, 0.05, SpeedOverride, Payload), null, CancellationToken.None);

        Assert.True(outcome.Result == ApplyResult.RolledBack, outcome.Reason);
        Assert.Contains("verification failed", outcome.Reason, StringComparison.Ordinal);
        Assert.Contains(Payload, outcome.Reason, StringComparison.Ordinal);
        var payload = outcome.Verification.Single(f => f.SignalId == Payload);
        Assert.False(payload.Passed);
        Assert.True(payload.MeanScaledError > 0.05, payload.ToString());
        Assert.True(outcome.Verification.Single(f => f.SignalId == SpeedOverride).Passed);
        Assert.Null(Assert.Single(outcome.Calls).Problem);
        Assert.Equal(100.0, await PlcValueAsync(SpeedOverride));
        Assert.Same(original, _line.Definition);
        Assert.Contains(ApplyStepKind.DefinitionAdopted, _journal.Kinds("c3"));
        Assert.Equal(ApplyStepKind.RolledBack, _journal.Kinds("c3")[^1]);
        Assert.Contains("not undone", _journal.Steps("c3")[^1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_abort_during_verification_rolls_back()
    {
        var verifying = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var apply = _applier.ApplyAsync("c4", Change(new SetOperation(SpeedOverride, ChangeValue.Of(90))), _line, null,
            Verify(60, 0.02, SpeedOverride), new InlineProgress(p =>
            {
                if (p.Kind == ApplyStepKind.Verifying)
                {
                    verifying.TrySetResult();
                }
            }), CancellationToken.None);
        await verifying.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(90.0, await PlcValueAsync(SpeedOverride));

        Assert.True(_applier.Abort("c4", "the operator pressed stop"));
        var outcome = await apply.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(outcome.Result == ApplyResult.RolledBack, outcome.Reason);
        Assert.Contains("the operator pressed stop", outcome.Reason, StringComparison.Ordinal);
        Assert.Equal(100.0, await PlcValueAsync(SpeedOverride));
        Assert.False(_applier.Abort("c4", "again"));
        Assert.Equal(ApplyStepKind.RolledBack, _journal.Kinds("c4")[^1]);
    }

    [Fact]
    public async Task Cancelling_the_apply_during_verification_rolls_back_to_the_end()
    {
        using var cancel = new CancellationTokenSource();
        var outcome = await _applier.ApplyAsync("c8", Change(new SetOperation(SpeedOverride, ChangeValue.Of(90))), _line, null,
            Verify(60, 0.02, SpeedOverride), new InlineProgress(p =>
            {
                if (p.Kind == ApplyStepKind.Verifying)
                {
                    cancel.Cancel();
                }
            }), cancel.Token).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(outcome.Result == ApplyResult.RolledBack, outcome.Reason);
        Assert.Equal("aborted: the apply was cancelled", outcome.Reason);
        Assert.Equal(100.0, await PlcValueAsync(SpeedOverride));
        Assert.Equal(ChangeValue.Of(100), Assert.Single(outcome.RollbackResults).Value);
    }

    [Fact]
    public async Task An_apply_interrupted_after_a_write_is_rolled_back_by_recovery_from_its_journal()
    {
        _journal.CrashBefore = ApplyStepKind.ReadBackOk;
        await Assert.ThrowsAsync<IOException>(() => _applier.ApplyAsync("c5", Change(new SetOperation(SpeedOverride, ChangeValue.Of(90))), _line, null,
            Verify(1, 0.02, SpeedOverride), null, CancellationToken.None));
        Assert.Equal(ApplyStepKind.Written, _journal.Kinds("c5")[^1]);
        Assert.Equal(90.0, await PlcValueAsync(SpeedOverride));

        // A new applier, as after a restart, with nothing but the journal.
        _journal.CrashBefore = null;
        var recovering = new ChangeApplier(_journal, TimeProvider.System, _gateway.App!.Services.GetRequiredService<ILoggerFactory>().CreateLogger<ChangeApplier>());
        var outcome = await recovering.RecoverAsync("c5", await _journal.ReadAsync("c5", CancellationToken.None), _line);

        Assert.True(outcome.Result == ApplyResult.RolledBack, outcome.Reason);
        Assert.Equal(100.0, await PlcValueAsync(SpeedOverride));
        Assert.Equal(ChangeValue.Of(100), Assert.Single(outcome.RollbackResults).Value);
        Assert.Equal([ApplyStepKind.RollingBack, ApplyStepKind.RolledBack], _journal.Kinds("c5")[^2..]);
    }

    [Fact]
    public async Task An_apply_interrupted_after_verification_passed_is_reported_applied_by_recovery()
    {
        _journal.CrashBefore = ApplyStepKind.Applied;
        await Assert.ThrowsAsync<IOException>(() => _applier.ApplyAsync("c6", Change(new SetOperation(SpeedOverride, ChangeValue.Of(90))), _line, null,
            Verify(1, 0.02, SpeedOverride), null, CancellationToken.None));
        Assert.Equal(ApplyStepKind.Verified, _journal.Kinds("c6")[^1]);

        _journal.CrashBefore = null;
        var outcome = await _applier.RecoverAsync("c6", await _journal.ReadAsync("c6", CancellationToken.None), _line);

        Assert.True(outcome.Result == ApplyResult.Applied, outcome.Reason);
        Assert.Equal(90.0, await PlcValueAsync(SpeedOverride));
        Assert.Equal(ApplyStepKind.Applied, _journal.Kinds("c6")[^1]);
    }

    [Fact]
    public async Task A_definition_with_other_signals_is_refused_by_the_line_naming_the_signal_and_nothing_is_written()
    {
        var original = _line.Definition;
        var moved = original with
        {
            Signals = [.. original.Signals.Select(s => s.Id == Payload ? s with { NodeId = "ns=1;s=Elsewhere.payload" } : s)],
        };

        var refused = Assert.Throws<ArgumentException>(() => _line.AdoptDefinition(moved));
        Assert.Contains(Payload, refused.Message, StringComparison.Ordinal);
        Assert.Same(original, _line.Definition);

        var outcome = await _applier.ApplyAsync("c7", Change(new SetOperation(SpeedOverride, ChangeValue.Of(90))), _line, moved,
            Verify(1, 0.02, SpeedOverride), null, CancellationToken.None);
        Assert.True(outcome.Result == ApplyResult.RolledBack, outcome.Reason);
        Assert.StartsWith("nothing was written", outcome.Reason, StringComparison.Ordinal);
        Assert.Equal(100.0, await PlcValueAsync(SpeedOverride));
    }

    /// <summary>Reports on the caller's thread (<see cref="Progress{T}"/> would post to the thread pool, after the fact).</summary>
    private sealed class InlineProgress(Action<ApplyProgress> report) : IProgress<ApplyProgress>
    {
        public void Report(ApplyProgress value) => report(value);
    }

    /// <summary>
    /// A journal in memory (the gateway's is SQLite, the lead's), which can stop the apply as a crash would: it throws
    /// when asked to record <see cref="CrashBefore"/>, so the steps end just before it.
    /// </summary>
    private sealed class MemoryJournal : IApplyJournal
    {
        private readonly Lock _sync = new();
        private readonly List<(string ChangeId, ApplyStep Step)> _steps = [];

        public ApplyStepKind? CrashBefore { get; set; }

        public Task RecordAsync(string changeId, ApplyStep step, CancellationToken cancellationToken)
        {
            if (step.Kind == CrashBefore)
            {
                throw new IOException($"simulated crash before journalling {step.Kind}");
            }

            lock (_sync)
            {
                _steps.Add((changeId, step));
            }

            return Task.CompletedTask;
        }

        public Task<IReadOnlyList<ApplyStep>> ReadAsync(string changeId, CancellationToken cancellationToken) => Task.FromResult(Steps(changeId));

        public IReadOnlyList<ApplyStep> Steps(string changeId)
        {
            lock (_sync)
            {
                return [.. _steps.Where(s => s.ChangeId == changeId).Select(s => s.Step)];
            }
        }

        public ApplyStepKind[] Kinds(string changeId) => [.. Steps(changeId).Select(s => s.Kind)];
    }
}
