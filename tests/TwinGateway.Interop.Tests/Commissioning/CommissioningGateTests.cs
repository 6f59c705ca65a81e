using Grpc.Core;
using TwinGateway.Api.V1;
using TwinGateway.Core.Identity;
using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Types;
using Xunit.Abstractions;

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
}
