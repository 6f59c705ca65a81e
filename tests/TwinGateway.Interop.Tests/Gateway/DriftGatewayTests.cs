using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using TwinGateway.Api.V1;
using TwinGateway.Core.Identity;
using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Types;
using StatusCode = Grpc.Core.StatusCode;

namespace TwinGateway.Interop.Tests.Gateway;

/// <summary>
/// Drift detection in a running gateway against the demo line's simulated PLC: a fault injected into the PLC over OPC UA
/// raises an alert naming the signal; people acknowledge and resolve it, recorded with their names, and it survives a
/// restart; a model trained on the recorded range is activated (audited, authority statistical) and scores the line.
/// Settings are shortened so each step takes seconds (frames of 0.1 s, a 3-second physics window, 1 s warm-up).
/// </summary>
public sealed class DriftGatewayTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string?> Fast = new()
    {
        ["Drift:FrameSeconds"] = "0.1",
        ["Drift:PhysicsWindowSeconds"] = "3",
        ["Drift:WarmupSeconds"] = "1",
        ["Drift:Window"] = "5",
        ["Drift:Alerts:MinDuration"] = "00:00:01",
        ["Drift:Alerts:HoldTime"] = "00:00:03",
    };

    private readonly GatewayUnderTest _gateway = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task A_sensor_offset_in_the_plc_raises_a_physics_alert_that_people_acknowledge_and_resolve_and_that_survives_a_restart()
    {
        var admin = await _gateway.StartAsync(_gateway.DemoYaml, settings: Fast);
        var olga = _gateway.CallInvokerFor(await _gateway.AddUserAsync("olga", Role.Operator));
        var viewer = _gateway.CallInvokerFor(await _gateway.AddUserAsync("vic", Role.Viewer));
        await Task.Delay(TimeSpan.FromSeconds(5)); // warm-up and a whole physics window of a healthy line

        // 16 degC on a sensor whose range is 80 degC wide: four times the default tolerance (5 % of the range).
        await InjectAsync("InjectSensorOffset", new Variant("cnc1.spindleTemperature"), new Variant(16.0));
        var alert = await EventuallyAsync(async () => (await new AlertService.AlertServiceClient(admin).ListAlertsAsync(new ListAlertsRequest { Line = "demo-line" }))
            .Alerts.FirstOrDefault(a => a.Contributors.Any(c => c.Signal == "cnc1.spindleTemperature")));

        Assert.Equal("physics", alert.Authority);
        Assert.Equal("physics", alert.Detector);
        Assert.Equal("open", alert.State);
        Assert.Equal("cnc1.spindleTemperature", alert.Contributors[0].Signal);
        Assert.True(alert.Contributors[0].Real - alert.Contributors[0].Expected > 10, $"real {alert.Contributors[0].Real} against twin {alert.Contributors[0].Expected}");
        Assert.StartsWith("/lines/demo-line?", alert.PlotLink, StringComparison.Ordinal);

        // A viewer may look but not act; an operator acts, and the gateway records who and what they said.
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await new AlertService.AlertServiceClient(viewer).AcknowledgeAlertAsync(new AcknowledgeAlertRequest { Id = alert.Id }));
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        var acknowledged = await new AlertService.AlertServiceClient(olga).AcknowledgeAlertAsync(new AcknowledgeAlertRequest { Id = alert.Id, Note = "checking the sensor" });
        Assert.Equal(("acknowledged", "olga", "checking the sensor"), (acknowledged.State, acknowledged.AcknowledgedBy, acknowledged.AcknowledgeNote));
        var resolved = await new AlertService.AlertServiceClient(olga).ResolveAlertAsync(new ResolveAlertRequest { Id = alert.Id, Note = "sensor recalibrated" });
        Assert.Equal(("resolved", "olga", "sensor recalibrated"), (resolved.State, resolved.ResolvedBy, resolved.ResolveNote));
        var again = await Assert.ThrowsAsync<RpcException>(async () => await new AlertService.AlertServiceClient(olga).ResolveAlertAsync(new ResolveAlertRequest { Id = alert.Id }));
        Assert.Equal(StatusCode.FailedPrecondition, again.StatusCode);
        Assert.Contains("olga", again.Status.Detail, StringComparison.Ordinal);
        var missing = await Assert.ThrowsAsync<RpcException>(async () => await new AlertService.AlertServiceClient(olga).ResolveAlertAsync(new ResolveAlertRequest { Id = 999_999 }));
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);

        await _gateway.StopAsync();
        admin = await _gateway.StartAsync(_gateway.DemoYaml, settings: Fast);
        var kept = Assert.Single((await new AlertService.AlertServiceClient(admin).ListAlertsAsync(new ListAlertsRequest { Line = "demo-line", State = "resolved" })).Alerts, a => a.Id == alert.Id);
        Assert.Equal(("olga", "checking the sensor", "olga", "sensor recalibrated"), (kept.AcknowledgedBy, kept.AcknowledgeNote, kept.ResolvedBy, kept.ResolveNote));
    }

    [Fact]
    public async Task A_model_trained_on_the_recorded_range_is_activated_by_a_named_engineer_audited_and_scores_the_line()
    {
        var admin = await _gateway.StartAsync(_gateway.DemoYaml, settings: Fast);
        var erin = _gateway.CallInvokerFor(await _gateway.AddUserAsync("erin", Role.Engineer));
        var from = DateTimeOffset.UtcNow;
        await Task.Delay(TimeSpan.FromSeconds(15));
        var to = DateTimeOffset.UtcNow;
        var drift = new DriftService.DriftServiceClient(erin);

        var stages = new List<string>();
        DriftModel? trained = null;
        using (var call = drift.TrainModel(new TrainModelRequest { Line = "demo-line", From = Timestamp.FromDateTimeOffset(from), To = Timestamp.FromDateTimeOffset(to), Kind = "pca" }))
        {
            await foreach (var progress in call.ResponseStream.ReadAllAsync())
            {
                stages.Add(progress.Stage);
                trained = progress.Model ?? trained;
            }
        }

        Assert.NotNull(trained);
        Assert.Contains("reading", stages);
        Assert.Equal(("demo-line", "1", "pca", false, "erin"), (trained.Line, trained.Version, trained.Kind, trained.Active, trained.TrainedBy));
        Assert.True(trained.FitRows + trained.HoldBackRows > 100, $"{trained.FitRows} + {trained.HoldBackRows} frames from 15 s of 0.1-s frames");
        Assert.Matches("^[0-9a-f]{64}$", trained.TrainingDataHash);
        Assert.True(File.Exists(trained.File), trained.File);

        var activated = (await drift.ActivateModelAsync(new ActivateModelRequest { Line = "demo-line", Version = "1" })).Model;
        Assert.Equal((true, "erin"), (activated.Active, activated.ActivatedBy));
        var unknown = await Assert.ThrowsAsync<RpcException>(async () => await drift.ActivateModelAsync(new ActivateModelRequest { Line = "demo-line", Version = "7" }));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);

        var entry = Assert.Single((await new AuditService.AuditServiceClient(admin).ListEntriesAsync(new ListAuditEntriesRequest())).Entries, e => e.Kind == "model-activated");
        Assert.Equal(("demo-line", "erin", "statistical"), (entry.Line, entry.Actor, entry.Authority));
        Assert.Contains(trained.TrainingDataHash, entry.Payload, StringComparison.Ordinal);
        Assert.True((await new AuditService.AuditServiceClient(admin).VerifyChainAsync(new VerifyChainRequest())).Valid);

        // The line's detector scores with it from its next frames.
        var status = await EventuallyAsync(async () =>
        {
            var line = Assert.Single((await drift.GetDriftStatusAsync(new GetDriftStatusRequest { Line = "demo-line" })).Lines);
            return line.Model?.Version == "1" && line.StatisticalScore > 0 ? line : null;
        });
        // CPU here (no CUDA libraries); a machine with a working CUDA stack would say cuda.
        Assert.Contains(status.ExecutionProvider, new[] { "cpu", "cuda" });
        Assert.NotEmpty(status.ExecutionProviderReason);
        Assert.Contains(status.Signals, s => s.Signal == "cnc1.spindleTemperature" && s.Tolerance == 4);

        var models = (await new DriftService.DriftServiceClient(admin).ListModelsAsync(new ListModelsRequest { Line = "demo-line" })).Models;
        Assert.Equal(("1", true), (Assert.Single(models).Version, models[0].Active));

        // The same through the command line, as an engineer types it.
        var server = _gateway.Server;
        var iso = (DateTimeOffset t) => t.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        var train = await Cli.TwingwProcess.RunAsAsync(_gateway.Token, TimeSpan.FromSeconds(120), "drift", "train", "--line", "demo-line",
            "--from", iso(from), "--to", iso(to), "--model", "autoencoder", "--activate", "--json", "--server", server);
        Assert.True(train.ExitCode == 0, train.ToString());
        var json = Assert.Single(train.JsonLines);
        Assert.Equal(("demo-line", "2", "autoencoder", true), (json.GetProperty("line").GetString(), json.GetProperty("version").GetString(),
            json.GetProperty("kind").GetString(), json.GetProperty("active").GetBoolean()));
        var listed = await Cli.TwingwProcess.RunAsAsync(_gateway.Token, TimeSpan.FromSeconds(60), "drift", "models", "--line", "demo-line", "--json", "--server", server);
        Assert.Equal(["2", "1"], listed.JsonLines.Select(l => l.GetProperty("version").GetString()));
        var csv = Path.Combine(_gateway.Folder, "scores.csv");
        var score = await Cli.TwingwProcess.RunAsAsync(_gateway.Token, TimeSpan.FromSeconds(60), "drift", "score", "--line", "demo-line",
            "--from", iso(from), "--to", iso(DateTimeOffset.UtcNow), "--out", csv, "--server", server);
        Assert.True(score.ExitCode == 0, score.ToString());
        var rows = File.ReadAllLines(csv);
        Assert.StartsWith("time,score,physics_score,top_signal,top_share,model", rows[0], StringComparison.Ordinal);
        Assert.True(rows.Length > 100, $"{rows.Length - 1} frames scored");
        var cliStatus = await Cli.TwingwProcess.RunAsAsync(_gateway.Token, TimeSpan.FromSeconds(60), "drift", "status", "--line", "demo-line", "--json", "--server", server);
        Assert.Equal("2", Assert.Single(cliStatus.JsonLines).GetProperty("model").GetString());
    }

    [Fact]
    public async Task When_the_lines_policy_asks_for_it_an_activation_waits_for_another_persons_approval()
    {
        // The demo policy with one approval for model activations, in a folder of the test's own.
        var policies = Path.Combine(_gateway.Folder, "validation");
        Directory.CreateDirectory(policies);
        await File.WriteAllTextAsync(Path.Combine(policies, "demo-line.yaml"),
            await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "config", "validation", "demo-line.yaml")) + "\nmodelApprovals: 1\n");
        var admin = await _gateway.StartAsync(_gateway.DemoYaml, settings: new Dictionary<string, string?>(Fast) { ["Commissioning:ValidationDirectory"] = policies });
        // erin may approve too, so only the four-eyes rule stops her approving her own request; eve is an engineer only.
        var erin = new DriftService.DriftServiceClient(_gateway.CallInvokerFor(await _gateway.AddUserAsync("erin", Role.Engineer, Role.Approver)));
        var eve = new DriftService.DriftServiceClient(_gateway.CallInvokerFor(await _gateway.AddUserAsync("eve", Role.Engineer)));
        var ada = new DriftService.DriftServiceClient(_gateway.CallInvokerFor(await _gateway.AddUserAsync("ada", Role.Approver)));
        var from = DateTimeOffset.UtcNow;
        await Task.Delay(TimeSpan.FromSeconds(12));
        using (var call = erin.TrainModel(new TrainModelRequest { Line = "demo-line", From = Timestamp.FromDateTimeOffset(from), To = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow), Kind = "pca" }))
        {
            await foreach (var _ in call.ResponseStream.ReadAllAsync())
            {
            }
        }

        var asked = await erin.ActivateModelAsync(new ActivateModelRequest { Line = "demo-line", Version = "1" });
        Assert.Equal((true, false, "erin", 1), (asked.Pending, asked.Model.Active, asked.RequestedBy, asked.ApprovalsNeeded));
        Assert.Contains("twingw drift approve --line demo-line --version 1", asked.Message, StringComparison.Ordinal);
        Assert.Null((await erin.ListModelsAsync(new ListModelsRequest { Line = "demo-line" })).Models.SingleOrDefault(m => m.Active));

        // Four eyes: who asked cannot approve; an engineer without an approving role cannot either (role table).
        var self = await Assert.ThrowsAsync<RpcException>(async () => await erin.ApproveModelActivationAsync(new ApproveModelActivationRequest { Line = "demo-line", Version = "1" }));
        Assert.Equal(StatusCode.FailedPrecondition, self.StatusCode);
        Assert.Contains("erin asked for this activation and cannot approve it too", self.Status.Detail, StringComparison.Ordinal);
        var engineer = await Assert.ThrowsAsync<RpcException>(async () => await eve.ApproveModelActivationAsync(new ApproveModelActivationRequest { Line = "demo-line", Version = "1" }));
        Assert.Equal(StatusCode.PermissionDenied, engineer.StatusCode);

        var approved = await ada.ApproveModelActivationAsync(new ApproveModelActivationRequest { Line = "demo-line", Version = "1" });
        Assert.Equal((false, true, "erin"), (approved.Pending, approved.Model.Active, approved.Model.ActivatedBy));
        Assert.Equal(["ada"], approved.ApprovedBy);
        var again = await Assert.ThrowsAsync<RpcException>(async () => await ada.ApproveModelActivationAsync(new ApproveModelActivationRequest { Line = "demo-line", Version = "1" }));
        Assert.Equal(StatusCode.FailedPrecondition, again.StatusCode);

        var kinds = (await new AuditService.AuditServiceClient(admin).ListEntriesAsync(new ListAuditEntriesRequest())).Entries
            .Where(e => e.Kind.StartsWith("model-", StringComparison.Ordinal)).Select(e => (e.Kind, e.Actor, e.Authority)).ToList();
        Assert.Equal([("model-activation-requested", "erin", "human"), ("model-activation-approved", "ada", "human"), ("model-activated", "erin", "statistical")], kinds);
        Assert.True((await new AuditService.AuditServiceClient(admin).VerifyChainAsync(new VerifyChainRequest())).Valid);

        // The active model's file changed on disk while the gateway was down: it starts, says why, and watches with physics alone.
        await _gateway.StopAsync();
        await File.AppendAllTextAsync(Path.Combine(_gateway.DataFolder, "models", "demo-line", "1.onnx"), "x");
        admin = await _gateway.StartAsync(_gateway.DemoYaml, settings: new Dictionary<string, string?>(Fast) { ["Commissioning:ValidationDirectory"] = policies });
        var warning = await EventuallyAsync(() => Task.FromResult(_gateway.Log.Entries.FirstOrDefault(e => e.Id.Id == 7105)));
        Assert.Contains("drift model 1 of line demo-line cannot be used", warning.Message, StringComparison.Ordinal);
        var line = Assert.Single((await new DriftService.DriftServiceClient(admin).GetDriftStatusAsync(new GetDriftStatusRequest { Line = "demo-line" })).Lines);
        Assert.Equal(0, line.StatisticalScore);
    }

    private async Task InjectAsync(string method, params Variant[] arguments)
    {
        await using var plc = await OpcUaClient.ConnectAsync($"opc.tcp://127.0.0.1:{_gateway.PlcPort}");
        var result = await plc.CallMethodAsync(NodeId.Parse("ns=1;s=DemoLine.Faults"), NodeId.Parse("ns=1;s=DemoLine.Faults." + method), arguments);
        Assert.True(result.StatusCode.IsGood, result.StatusCode.ToString());
    }

    private static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe)
        where T : class
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            if (await probe() is { } found)
            {
                return found;
            }

            await Task.Delay(200, timeout.Token);
        }
    }
}
