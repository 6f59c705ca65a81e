using Grpc.Core;
using TwinGateway.Api.V1;
using TwinGateway.Core.Identity;
using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Types;
using Xunit.Abstractions;
using StatusCode = Grpc.Core.StatusCode;

namespace TwinGateway.Interop.Tests.Commissioning;

/// <summary>
/// The commissioning gate end to end, as its users meet it: a real gateway running the demo line against its simulated
/// PLC (our OPC UA server), the CommissioningService and AuditService over gRPC with real users and tokens, and the
/// PLC's nodes read straight from the PLC with our OPC UA client.
/// </summary>
public sealed class CommissioningGateTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly GatewayUnderTest _gateway = new();
    private CommissioningService.CommissioningServiceClient _erin = null!;
    private CommissioningService.CommissioningServiceClient _ada = null!;
    private CommissioningService.CommissioningServiceClient _sam = null!;
    private AuditService.AuditServiceClient _audit = null!;

    public async Task InitializeAsync()
    {
        await _gateway.StartAsync(_gateway.DemoYaml, settings: new Dictionary<string, string?>
        {
            ["Commissioning:ValidationDirectory"] = Path.Combine(RepositoryPaths.Root, "config", "validation"),
        });
        _erin = new(_gateway.CallInvokerFor(await _gateway.AddUserAsync("erin", Role.Engineer)));
        _ada = new(_gateway.CallInvokerFor(await _gateway.AddUserAsync("ada", Role.Approver)));
        _sam = new(_gateway.CallInvokerFor(await _gateway.AddUserAsync("sam", Role.Approver, Role.Safety)));
        _audit = new(_gateway.CallInvoker!);
        await WaitForLineAsync();
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private async Task WaitForLineAsync()
    {
        var lines = new LineService.LineServiceClient(_gateway.CallInvoker!);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var line = (await lines.ListLinesAsync(new ListLinesRequest(), cancellationToken: timeout.Token)).Lines.Single();
            if (line.State == ConnectionState.Connected && line.MonitoredSignals == line.SignalCount)
            {
                break;
            }

            await Task.Delay(100, timeout.Token);
        }

        // The twin's credibility needs a few seconds of real against expected values.
        await Task.Delay(TimeSpan.FromSeconds(3), timeout.Token);
    }

    private static ChangeSpec SetChange(string signal, double value, string title = "test change") => new()
    {
        Line = "demo-line",
        Title = title,
        Reason = "test",
        Operations = { new Operation { Set = new SetOperation { Signal = signal, Value = new Value { Number = value } } } },
    };

    private async Task<Change> ValidateAsync(CommissioningService.CommissioningServiceClient client, string id)
    {
        using var call = client.ValidateChange(new ValidateChangeRequest { Id = id });
        Change? result = null;
        var progress = 0;
        await foreach (var update in call.ResponseStream.ReadAllAsync())
        {
            if (update.KindCase == ValidationUpdate.KindOneofCase.Progress)
            {
                progress++;
            }
            else
            {
                result = update.Result;
            }
        }

        Assert.NotNull(result);
        Assert.True(progress > 0, "validation streamed no progress");
        output.WriteLine($"{id}: {result.State}: {result.Validation?.Summary}");
        foreach (var c in result.Validation?.Criteria ?? [])
        {
            output.WriteLine($"  {c.Name}: {c.Baseline} -> {c.Candidate} [{c.DifferenceLow}, {c.DifferenceHigh}] {(c.Passed ? "pass" : "FAIL")} {c.Detail}");
        }

        foreach (var c in result.Validation?.Credibility ?? [])
        {
            output.WriteLine($"  credibility {c.Signal}: {c.MeanScaledError} over {c.Samples} {(c.Credible ? "" : "NOT CREDIBLE")}");
        }

        return result;
    }

    private async Task<(Change Result, List<string> Steps)> ApplyAsync(CommissioningService.CommissioningServiceClient client, string id)
    {
        using var call = client.ApplyChange(new ApplyChangeRequest { Id = id });
        Change? result = null;
        var steps = new List<string>();
        await foreach (var update in call.ResponseStream.ReadAllAsync())
        {
            if (update.KindCase == ApplyUpdate.KindOneofCase.Step)
            {
                steps.Add(update.Step.Kind);
                output.WriteLine($"  {update.Step.Kind}: {update.Step.Message}");
            }
            else
            {
                result = update.Result;
            }
        }

        Assert.NotNull(result);
        return (result, steps);
    }

    private async Task<double> ReadPlcAsync(string signal)
    {
        await using var plc = await OpcUaClient.ConnectAsync($"opc.tcp://127.0.0.1:{_gateway.PlcPort}");
        var value = await plc.ReadValuesAsync([NodeId.Parse($"ns=1;s=DemoLine.{signal}")]);
        return Convert.ToDouble(value[0].Value.Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task A_benign_change_validates_is_approved_by_a_second_person_is_applied_and_the_audit_verifies()
    {
        var submitted = await _erin.SubmitChangeAsync(new SubmitChangeRequest { Change = SetChange("robot2.speedOverride", 90, "Palletizer robot at 90 %") });
        Assert.Equal("draft", submitted.State);
        Assert.Equal("process", submitted.ChangeClass);
        Assert.Equal(64, submitted.ContentHash.Length);

        var validated = await ValidateAsync(_erin, submitted.Id);
        Assert.Equal("validated", validated.State);
        Assert.Equal("pass", validated.Validation.Verdict);
        Assert.All(validated.Validation.Criteria, c => Assert.Equal("physics", c.Authority));
        Assert.Contains(validated.ApprovalsMissing, m => m.StartsWith("human", StringComparison.Ordinal));

        var approved = await _ada.ApproveChangeAsync(new ApproveChangeRequest { Id = submitted.Id, Comment = "palletizer has headroom" });
        Assert.Equal("approved", approved.State);
        Assert.Empty(approved.ApprovalsMissing);
        var approval = Assert.Single(approved.Approvals);
        Assert.Equal(("ada", "human", true), (approval.User, approval.Authority, approval.Counts));

        var (applied, steps) = await ApplyAsync(_erin, submitted.Id);
        Assert.True(applied.State == "applied", $"{applied.State}: {applied.Outcome}");
        Assert.Equal(["previous-values-recorded", "writing", "written", "read-back-ok", "verifying", "verified", "applied"], steps.Where(s => s != "definition-adopted"));
        Assert.Equal(90, await ReadPlcAsync("robot2.speedOverride"));

        var chain = await _audit.VerifyChainAsync(new VerifyChainRequest());
        Assert.True(chain.Valid, chain.Message);
        var kinds = (await _audit.ListEntriesAsync(new ListAuditEntriesRequest { Change = submitted.Id })).Entries.Select(e => (e.Kind, e.Actor, e.Authority)).ToList();
        Assert.Equal(
            [("submitted", "erin", "human"), ("validated", "erin", "physics"), ("approved", "ada", "human"), ("applying", "erin", "human"), ("applied", "erin", "human"), ("verified", "erin", "physics")],
            kinds);
    }

    private static ChangeSpec PoseChange(string position, params double[] joints) => new()
    {
        Line = "demo-line",
        Title = "move " + position,
        Reason = "test",
        Operations = { new Operation { Pose = new PoseOperation { Position = position, Joints = { joints } } } },
    };

    private static async Task<RpcException> RefusedAsync(Func<Task> call, StatusCode expected)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(call);
        Assert.True(ex.StatusCode == expected, $"expected {expected}, got {ex.StatusCode}: {ex.Status.Detail}");
        return ex;
    }

    [Fact]
    public async Task A_change_that_makes_robot_1_the_bottleneck_is_rejected_by_validation_naming_throughput()
    {
        var submitted = await _erin.SubmitChangeAsync(new SubmitChangeRequest { Change = SetChange("robot1.speedOverride", 40) });
        var result = await ValidateAsync(_erin, submitted.Id);

        Assert.Equal("rejected-by-validation", result.State);
        Assert.Equal("fail", result.Validation.Verdict);
        var throughput = Assert.Single(result.Validation.Criteria, c => c.Name == "throughput");
        Assert.False(throughput.Passed);
        Assert.True(throughput.DifferenceHigh < 0, "the whole interval of the difference lies below zero");
        Assert.Contains("throughput", result.Outcome, StringComparison.Ordinal);
        await RefusedAsync(() => _ada.ApproveChangeAsync(new ApproveChangeRequest { Id = submitted.Id }).ResponseAsync, StatusCode.FailedPrecondition);

        var entries = (await _audit.ListEntriesAsync(new ListAuditEntriesRequest { Change = submitted.Id })).Entries;
        var failed = Assert.Single(entries, e => e.Kind == "rejected-by-validation");
        Assert.Equal("physics", failed.Authority);
        Assert.Contains("throughput", failed.Payload, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_robot_position_outside_an_axis_limit_is_refused_at_submission_naming_the_axis()
    {
        var ex = await RefusedAsync(() => _erin.SubmitChangeAsync(new SubmitChangeRequest { Change = PoseChange("robot1.pickBuffer", -60, 50, 70, 0, 65, -60) }).ResponseAsync,
            StatusCode.InvalidArgument);
        Assert.Contains("a2", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("20", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Empty((await _erin.ListChangesAsync(new ListChangesRequest())).Changes);
    }

    [Fact]
    public async Task A_change_that_breaks_an_interlock_fails_validation_on_the_interlock_criterion()
    {
        // cnc1-spindle-rating: in automatic mode the spindle is never commanded above 11,000 rpm (its range goes to 12,000).
        var submitted = await _erin.SubmitChangeAsync(new SubmitChangeRequest { Change = SetChange("cnc1.spindleSpeedSetpoint", 11500) });
        Assert.Equal("safety", submitted.ChangeClass);
        var result = await ValidateAsync(_erin, submitted.Id);

        Assert.Equal("rejected-by-validation", result.State);
        var interlocks = Assert.Single(result.Validation.Criteria, c => c.Name == "interlockViolations");
        Assert.False(interlocks.Passed);
        Assert.True(interlocks.Candidate > 0);
        Assert.Equal(0, interlocks.Baseline);
    }

    [Fact]
    public async Task Approving_your_own_change_is_refused()
    {
        var eve = new CommissioningService.CommissioningServiceClient(_gateway.CallInvokerFor(await _gateway.AddUserAsync("eve", Role.Engineer, Role.Approver)));
        var submitted = await eve.SubmitChangeAsync(new SubmitChangeRequest { Change = SetChange("robot2.speedOverride", 95) });
        Assert.Equal("validated", (await ValidateAsync(eve, submitted.Id)).State);

        var ex = await RefusedAsync(() => eve.ApproveChangeAsync(new ApproveChangeRequest { Id = submitted.Id }).ResponseAsync, StatusCode.PermissionDenied);
        Assert.Contains("submitted this change", ex.Status.Detail, StringComparison.Ordinal);
        var change = await eve.GetChangeAsync(new GetChangeRequest { Id = submitted.Id });
        Assert.Equal("validated", change.State);
        Assert.Empty(change.Approvals);
    }

    [Fact]
    public async Task An_approval_given_before_the_change_was_edited_no_longer_counts()
    {
        var submitted = await _erin.SubmitChangeAsync(new SubmitChangeRequest { Change = SetChange("robot2.speedOverride", 90) });
        await ValidateAsync(_erin, submitted.Id);
        Assert.Equal("approved", (await _ada.ApproveChangeAsync(new ApproveChangeRequest { Id = submitted.Id })).State);

        var edited = await _erin.SubmitChangeAsync(new SubmitChangeRequest { Change = SetChange("robot2.speedOverride", 80), Replaces = submitted.Id });
        Assert.Equal(submitted.Id, edited.Id);
        Assert.Equal("draft", edited.State);
        Assert.NotEqual(submitted.ContentHash, edited.ContentHash);
        Assert.Equal("validated", (await ValidateAsync(_erin, submitted.Id)).State);

        var change = await _erin.GetChangeAsync(new GetChangeRequest { Id = submitted.Id });
        var approval = Assert.Single(change.Approvals);
        Assert.False(approval.Counts);
        Assert.Contains(change.ApprovalsMissing, m => m.Contains("0 of 1", StringComparison.Ordinal));
        await RefusedAsync(() => ApplyAsync(_erin, submitted.Id), StatusCode.FailedPrecondition);
        Assert.Equal(100, await ReadPlcAsync("robot2.speedOverride"));
    }

    [Fact]
    public async Task A_safety_change_needs_two_approvals_one_with_the_safety_role_and_the_line_out_of_automatic_mode()
    {
        var submitted = await _erin.SubmitChangeAsync(new SubmitChangeRequest { Change = PoseChange("robot1.pickBuffer", -60, -40, 70, 0, 65, -60) });
        Assert.Equal("safety", submitted.ChangeClass);
        Assert.Equal("validated", (await ValidateAsync(_erin, submitted.Id)).State);

        var once = await _ada.ApproveChangeAsync(new ApproveChangeRequest { Id = submitted.Id });
        Assert.Equal("validated", once.State);
        Assert.Contains(once.ApprovalsMissing, m => m.Contains("safety role", StringComparison.Ordinal));
        var twice = await _sam.ApproveChangeAsync(new ApproveChangeRequest { Id = submitted.Id });
        Assert.Equal("approved", twice.State);

        // The line runs in automatic mode: the policy applies safety-related changes only with line.autoMode off.
        var ex = await RefusedAsync(() => ApplyAsync(_erin, submitted.Id), StatusCode.FailedPrecondition);
        Assert.Contains("line.autoMode", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal("approved", (await _erin.GetChangeAsync(new GetChangeRequest { Id = submitted.Id })).State);
    }

    [Fact]
    public async Task A_change_whose_verification_fails_on_the_line_is_rolled_back_and_the_plc_holds_the_previous_value()
    {
        var submitted = await _erin.SubmitChangeAsync(new SubmitChangeRequest { Change = SetChange("robot2.speedOverride", 90) });
        Assert.Equal("validated", (await ValidateAsync(_erin, submitted.Id)).State);
        await _ada.ApproveChangeAsync(new ApproveChangeRequest { Id = submitted.Id });

        // A fault the twin does not know: robot 2's vacuum sensor reads 60 kPa off (its range is 90 kPa wide).
        await using (var plc = await OpcUaClient.ConnectAsync($"opc.tcp://127.0.0.1:{_gateway.PlcPort}"))
        {
            var result = await plc.CallMethodAsync(NodeId.Parse("ns=1;s=DemoLine.Faults"), NodeId.Parse("ns=1;s=DemoLine.Faults.InjectSensorOffset"),
                new Variant("robot2.vacuum"), new Variant(60.0));
            Assert.True(result.StatusCode.IsGood, result.StatusCode.ToString());
        }

        var (rolledBack, steps) = await ApplyAsync(_erin, submitted.Id);
        Assert.Equal("rolled-back", rolledBack.State);
        Assert.Contains("robot2.vacuum", rolledBack.Outcome, StringComparison.Ordinal);
        Assert.Equal(["verifying", "rolling-back", "rolled-back"], steps.SkipWhile(s => s != "verifying").Where(s => s is "verifying" or "rolling-back" or "rolled-back"));
        Assert.Equal(100, await ReadPlcAsync("robot2.speedOverride"));
        var entries = (await _audit.ListEntriesAsync(new ListAuditEntriesRequest { Change = submitted.Id })).Entries;
        Assert.Equal("rolled-back", entries[^1].Kind);
        Assert.True((await _audit.VerifyChainAsync(new VerifyChainRequest())).Valid);
    }

    [Fact]
    public async Task An_mes_follows_its_change_to_the_outcome_on_one_stream()
    {
        var mes = new CommissioningService.CommissioningServiceClient(_gateway.CallInvokerFor(await _gateway.AddUserAsync("mes-1", Role.Mes)));
        var submitted = await mes.SubmitChangeAsync(new SubmitChangeRequest { Change = SetChange("robot2.speedOverride", 95, "order 4711") });
        Assert.Equal("mes-1", submitted.Submitter);

        using var watch = mes.WatchChanges(new WatchChangesRequest { Id = submitted.Id });
        var events = new List<(string Event, string State)>();
        var reading = Task.Run(async () =>
        {
            await foreach (var item in watch.ResponseStream.ReadAllAsync())
            {
                Assert.Equal(submitted.Id, item.Change.Id);
                events.Add((item.Event, item.Change.State));
                if (item.Change.State is "rejected" or "applied" or "rolled-back" or "rejected-by-validation")
                {
                    return;
                }
            }
        });

        // The stream is open once the gateway has the watcher: give it a moment, then drive the change.
        await Task.Delay(300);
        await ValidateAsync(_erin, submitted.Id);
        var rejected = await _ada.RejectChangeAsync(new RejectChangeRequest { Id = submitted.Id, Reason = "not during this order" });
        Assert.Equal("rejected", rejected.State);
        Assert.Contains("not during this order", rejected.Outcome, StringComparison.Ordinal);
        await reading.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([("validating", "validating"), ("validated", "validated"), ("rejected", "rejected")], events);
    }

    [Fact]
    public async Task A_rejection_needs_a_reason_and_only_the_submitter_may_withdraw()
    {
        var submitted = await _erin.SubmitChangeAsync(new SubmitChangeRequest { Change = SetChange("robot2.speedOverride", 95) });

        var noReason = await RefusedAsync(() => _ada.RejectChangeAsync(new RejectChangeRequest { Id = submitted.Id }).ResponseAsync, StatusCode.InvalidArgument);
        Assert.Contains("reason", noReason.Status.Detail, StringComparison.Ordinal);
        var emil = new CommissioningService.CommissioningServiceClient(_gateway.CallInvokerFor(await _gateway.AddUserAsync("emil", Role.Engineer)));
        var notYours = await RefusedAsync(() => emil.WithdrawChangeAsync(new WithdrawChangeRequest { Id = submitted.Id }).ResponseAsync, StatusCode.PermissionDenied);
        Assert.Contains("only they", notYours.Status.Detail, StringComparison.Ordinal);

        var withdrawn = await _erin.WithdrawChangeAsync(new WithdrawChangeRequest { Id = submitted.Id, Reason = "wrong robot" });
        Assert.Equal("withdrawn", withdrawn.State);
        await RefusedAsync(() => _erin.ValidateChange(new ValidateChangeRequest { Id = submitted.Id }).ResponseStream.MoveNext(), StatusCode.FailedPrecondition);
        Assert.Equal(["submitted", "withdrawn"], (await _audit.ListEntriesAsync(new ListAuditEntriesRequest { Change = submitted.Id })).Entries.Select(e => e.Kind));
    }
}
