using System.Diagnostics;
using System.Text.Json;
using TwinGateway.Commissioning.Apply;
using TwinGateway.Commissioning.Store;
using Xunit.Abstractions;

namespace TwinGateway.Interop.Tests.Commissioning;

/// <summary>
/// The commissioning gate when the gateway dies, with real processes only: the demo line's simulated PLC runs as its
/// own <c>twingw plc-sim</c> process, so it outlives the gateway; the gateway is a <c>twingw run</c> process killed with
/// SIGKILL while a change is being verified and started again on the same folder and ports; the change is driven with
/// the <c>twingw change</c> commands and the PLC read straight with our OPC UA client.
/// </summary>
public sealed class CrashSafetyTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly ProcessLine _line = new(output);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _line.DisposeAsync();

    private sealed record Killed(string Id, string Erin, TwingwBackground Plc, double Before);

    /// <summary>
    /// Users, the PLC process and a gateway; robot2-speed-90 submitted, validated, approved and applied (in the
    /// background) until the gateway verifies with 90 on the PLC; then SIGKILL to the gateway (the PLC lives on).
    /// </summary>
    private async Task<Killed> ApplyUntilVerifyingThenKillAsync()
    {
        _line.WriteWorkingDirectory(verificationWindowSeconds: 60);
        var erin = await _line.AddUserAsync("erin", "engineer");
        var ada = await _line.AddUserAsync("ada", "approver");
        var plc = await _line.StartPlcAsync();
        var before = await _line.ReadPlcSpeedAsync();
        Assert.Equal(100, before);

        var gateway = await _line.StartGatewayAsync(erin);

        // The twin's credibility needs a few seconds of real against expected values.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var id = await _line.SubmitValidateApproveAsync(ProcessLine.ChangeFile("robot2-speed-90.yaml"), erin, ada);

        var apply = _line.Start(erin, "change", "apply", id, "--server", _line.Server, "--json");

        // Verifying (the gateway wrote 90 and compares the line with the twin for 60 s), and 90 on the PLC.
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var change = await _line.TryGetChangeAsync(erin, id);
            if (change?.State == "verifying" && await _line.ReadPlcSpeedAsync() == 90)
            {
                break;
            }

            Assert.True(change?.State is null or "approved" or "applying" or "verifying", $"change {id} is {change?.State} before the kill: {change?.Outcome}\n{apply.Output}");
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(45), $"change {id} was not verifying with 90 on the PLC within 45 s: {change?.State}\n{apply.Output}\n{gateway.Output}");
            await Task.Delay(200);
        }

        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} verifying with 90 on the PLC after {watch.Elapsed.TotalSeconds:0.0} s: SIGKILL to {gateway}");
        await gateway.KillAsync();
        Assert.False(plc.HasExited, "the PLC process went down with the gateway");
        Assert.Equal(90, await _line.ReadPlcSpeedAsync());

        // The client loses its stream without a result: it says so, where to look, and exits 2.
        var applyExit = await apply.WaitForExitAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"change apply exited {applyExit}:\n{apply.Output}");
        Assert.Equal(2, applyExit);
        Assert.Contains("the gateway went away during the apply", apply.Output, StringComparison.Ordinal);
        Assert.Contains($"twingw change show {id}", apply.Output, StringComparison.Ordinal);

        return new Killed(id, erin, plc, before);
    }

    /// <summary>Starts the gateway again on the same working directory, data folder and ports, and waits (bounded) until it finished the interrupted apply.</summary>
    private async Task<(TwingwBackground Gateway, TwinGateway.Api.V1.Change Final)> RestartUntilFinalAsync(string id, string token)
    {
        var restarted = _line.Start(null, "run");
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(60))
        {
            Assert.False(restarted.HasExited, $"the restarted gateway exited:\n{restarted.Output}");
            var change = await _line.TryGetChangeAsync(token, id);
            if (change?.State is "rolled-back" or "applied" or "failed")
            {
                output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {watch.Elapsed.TotalSeconds:0.0} s after the restart: {change.State}: {change.Outcome}");
                return (restarted, change);
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"change {id} was not final within 60 s of the restart:\n{restarted.Output}");
    }

    [Fact]
    public async Task The_gateway_killed_while_verifying_and_restarted_rolls_the_change_back_reports_and_audits_it()
    {
        var (id, erin, _, before) = await ApplyUntilVerifyingThenKillAsync();

        var (restarted, final) = await RestartUntilFinalAsync(id, erin);

        // The verification had not passed: the previous value is back on the PLC.
        Assert.Equal("rolled-back", final.State);
        Assert.Equal(before, await _line.ReadPlcSpeedAsync());

        var shown = await _line.CliAsync(erin, "change", "show", id, "--server", _line.Server, "--json");
        Assert.True(shown.ExitCode == 0, shown.ToString());
        var report = shown.JsonLines[^1];
        Assert.Equal("rolled-back", report.GetProperty("state").GetString());
        Assert.Contains("the gateway stopped during the apply", report.GetProperty("outcome").GetString(), StringComparison.Ordinal);
        var steps = report.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("kind").GetString()).ToList();
        Assert.Equal(["previous-values-recorded", "writing", "written", "read-back-ok", "verifying", "rolling-back", "rolled-back"], steps.Where(s => s != "definition-adopted"));

        var listed = await _line.CliAsync(erin, "audit", "list", "--change", id, "--server", _line.Server, "--json");
        Assert.True(listed.ExitCode == 0, listed.ToString());
        var entries = listed.JsonLines.Select(e => (Kind: e.GetProperty("kind").GetString(), Actor: e.GetProperty("actor").GetString())).ToList();
        Assert.Equal([("submitted", "erin"), ("validated", "erin"), ("approved", "ada"), ("applying", "erin"), ("rolled-back", "gateway")], entries);
        var rolledBack = listed.JsonLines.Single(e => e.GetProperty("kind").GetString() == "rolled-back");
        Assert.Contains("\"how\":\"recovered\"", rolledBack.GetProperty("payload").GetString(), StringComparison.Ordinal);

        var verified = await _line.CliAsync(erin, "audit", "verify", "--server", _line.Server);
        Assert.True(verified.ExitCode == 0, verified.ToString());
        Assert.Contains("audit chain intact", verified.StdOut, StringComparison.Ordinal);

        // Offline too, as an auditor checks the folder once the gateway is down.
        await restarted.KillAsync();
        var offline = await _line.CliAsync(null, "audit", "verify", "--data", _line.DataFolder);
        Assert.True(offline.ExitCode == 0, offline.ToString());
    }

    /// <summary>
    /// The other branch: the gateway dies after its verification passed but before it marked the change applied. That
    /// window (two store writes) cannot be hit from outside, so the journal is left as that crash leaves it: killed
    /// while verifying, then the step the applier writes when verification passes is appended to the journal in the
    /// data folder, as the dead gateway would have written it. The restarted gateway must keep the change (no rollback).
    /// </summary>
    [Fact]
    public async Task The_gateway_killed_after_verification_passed_and_restarted_reports_the_change_applied_and_keeps_it()
    {
        var (id, erin, _, _) = await ApplyUntilVerifyingThenKillAsync();
        await using (var store = await SqliteChangeStore.OpenAsync(_line.DataFolder))
        {
            var journal = await store.GetJournalAsync(id);
            Assert.Equal("Verifying", journal[^1].Kind);
            await store.AppendJournalAsync(id, nameof(ApplyStepKind.Verified), DateTimeOffset.UtcNow,
                JsonSerializer.Serialize(new { Message = "within the limit (written by the test: the crash came right after)", Index = (int?)null, Detail = (string?)null }));
        }

        var (_, final) = await RestartUntilFinalAsync(id, erin);

        Assert.Equal("applied", final.State);
        Assert.Equal(90, await _line.ReadPlcSpeedAsync());
        Assert.Contains("verification had passed", final.Outcome, StringComparison.Ordinal);

        var listed = await _line.CliAsync(erin, "audit", "list", "--change", id, "--server", _line.Server, "--json");
        Assert.True(listed.ExitCode == 0, listed.ToString());
        var entries = listed.JsonLines.Select(e => (Kind: e.GetProperty("kind").GetString(), Actor: e.GetProperty("actor").GetString())).ToList();
        Assert.Equal([("submitted", "erin"), ("validated", "erin"), ("approved", "ada"), ("applying", "erin"), ("applied", "gateway"), ("verified", "gateway")], entries);

        var verified = await _line.CliAsync(erin, "audit", "verify", "--server", _line.Server);
        Assert.True(verified.ExitCode == 0, verified.ToString());
    }
}
