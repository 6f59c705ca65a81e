using System.CommandLine;
using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using TwinGateway.Api.V1;
using TwinGateway.Drift.Evaluation;
using TwinGateway.Drift.Models;
using DriftModel = TwinGateway.Api.V1.DriftModel;
using TwinGateway.Telemetry.Recording;

namespace TwinGateway.Host.Cli;

/// <summary>
/// <c>twingw drift train|models|activate|status|score|eval</c>: learned drift models through the running gateway, and
/// <c>eval</c>, which runs the gateway's detector code on CSV data sets offline.
/// </summary>
internal static class DriftCommands
{
    private static readonly Option<string> s_server = TelemetryCommands.Server;
    private static readonly Option<bool> s_json = new("--json") { Description = "JSON instead of a table" };
    private static readonly Option<string> s_line = TelemetryCommands.Line;

    public static Command Create()
    {
        var command = new Command("drift", "Drift between each line and its twin: train, list and activate learned models, the lines' drift status, score a range, evaluate on data sets");
        command.Subcommands.Add(Train());
        command.Subcommands.Add(Models());
        command.Subcommands.Add(Activate());
        command.Subcommands.Add(Approve());
        command.Subcommands.Add(Status());
        command.Subcommands.Add(Score());
        command.Subcommands.Add(Eval());
        return command;
    }

    private static Command Train()
    {
        var model = new Option<string?>("--model") { Description = $"Model kind: {DriftTrainers.Names} (default: the gateway's Drift:DefaultModel)" };
        var activate = new Option<bool>("--activate") { Description = "Activate the new version at once (audited as your decision)" };
        var command = new Command("train", "Train a model on a range you declare healthy, read from the gateway's flight recorder; prints the new version")
        {
            s_server, GatewayCalls.Token, s_line, TelemetryCommands.From, TelemetryCommands.To, model, activate, s_json,
        };
        command.SetAction(async (parse, ct) =>
        {
            if (TelemetryCommands.ParseRange(parse) is not { } range)
            {
                return 2;
            }

            var json = parse.GetValue(s_json);
            return await GatewayCalls.Guard(parse, parse.GetValue(s_server)!, async channel =>
            {
                using var call = new DriftService.DriftServiceClient(channel).TrainModel(new TrainModelRequest
                {
                    Line = parse.GetValue(s_line)!,
                    From = Timestamp.FromDateTimeOffset(range.From),
                    To = Timestamp.FromDateTimeOffset(range.To),
                    Kind = parse.GetValue(model) ?? "",
                    Activate = parse.GetValue(activate),
                }, cancellationToken: ct);
                DriftModel? trained = null;
                await foreach (var progress in call.ResponseStream.ReadAllAsync(ct).ConfigureAwait(false))
                {
                    if (progress.Model is { } done)
                    {
                        trained = done;
                    }
                    else
                    {
                        await Console.Error.WriteLineAsync($"{progress.Stage,-24} {progress.Fraction * 100,5:0} %").ConfigureAwait(false);
                    }
                }

                if (trained is null)
                {
                    await Console.Error.WriteLineAsync("error: the gateway ended the training without a model").ConfigureAwait(false);
                    return 1;
                }

                var minutes = (trained.TrainedTo.ToDateTimeOffset() - trained.TrainedFrom.ToDateTimeOffset()).TotalMinutes;
                if (minutes < 60)
                {
                    await Console.Error.WriteLineAsync($"note: trained on {minutes:0} minutes; a model knows only what it saw, so train on hours of healthy "
                        + "running that cover the line's usual states (shifts, recipes, starts and stops) before you rely on its alerts").ConfigureAwait(false);
                }

                if (json)
                {
                    WriteJson(trained);
                }
                else
                {
                    Console.WriteLine($"line {trained.Line}: model {trained.Version} ({trained.Kind}) trained on {trained.FitRows} frames, threshold learned on {trained.HoldBackRows}; "
                        + (trained.Active ? "active now" : $"not active: `twingw drift activate --line {trained.Line} --version {trained.Version}`"));
                }

                return 0;
            }).ConfigureAwait(false);
        });
        return command;
    }

    private static Command Models()
    {
        var command = new Command("models", "A line's model versions, newest first; the active one marked") { s_server, GatewayCalls.Token, s_line, s_json };
        command.SetAction(async (parse, ct) => await GatewayCalls.Guard(parse, parse.GetValue(s_server)!, async channel =>
        {
            var response = await new DriftService.DriftServiceClient(channel).ListModelsAsync(new ListModelsRequest { Line = parse.GetValue(s_line)! }, cancellationToken: ct).ConfigureAwait(false);
            if (parse.GetValue(s_json))
            {
                foreach (var model in response.Models)
                {
                    WriteJson(model);
                }

                return 0;
            }

            var table = new TableWriter("VERSION", "KIND", "ACTIVE", "TRAINED ON", "FRAMES", "THRESHOLD", "BY", "DATA HASH");
            foreach (var m in response.Models)
            {
                table.Add(m.Version, m.Kind, m.Active ? $"yes ({m.ActivatedBy})" : "", $"{m.TrainedFrom.ToDateTimeOffset():u} .. {m.TrainedTo.ToDateTimeOffset():u}",
                    (m.FitRows + m.HoldBackRows).ToString(CultureInfo.InvariantCulture), m.Threshold.ToString("G4", CultureInfo.InvariantCulture), m.TrainedBy,
                    m.TrainingDataHash.Length > 12 ? m.TrainingDataHash[..12] : m.TrainingDataHash);
            }

            table.Write(Console.Out);
            return 0;
        }).ConfigureAwait(false));
        return command;
    }

    private static Command Activate() => ActivationCommand("activate",
        "Make a model version the line's active one (audited, authority statistical); waits for approvals when the line's policy asks for them",
        "The model version to activate",
        (client, line, version, ct) => client.ActivateModelAsync(new ActivateModelRequest { Line = line, Version = version }, cancellationToken: ct).ResponseAsync);

    private static Command Approve() => ActivationCommand("approve",
        "Approve a model activation another person asked for (approver, safety or admin); the last approval needed activates it",
        "The model version whose activation you approve",
        (client, line, version, ct) => client.ApproveModelActivationAsync(new ApproveModelActivationRequest { Line = line, Version = version }, cancellationToken: ct).ResponseAsync);

    /// <summary><c>drift activate</c> and <c>drift approve</c>: the same options and output, another call.</summary>
    private static Command ActivationCommand(string name, string description, string versionDescription,
        Func<DriftService.DriftServiceClient, string, string, CancellationToken, Task<ActivateModelResponse>> call)
    {
        var version = new Option<string>("--version") { Description = versionDescription, Required = true };
        var command = new Command(name, description) { s_server, GatewayCalls.Token, s_line, version, s_json };
        command.SetAction(async (parse, ct) => await GatewayCalls.Guard(parse, parse.GetValue(s_server)!, async channel =>
        {
            var response = await call(new DriftService.DriftServiceClient(channel), parse.GetValue(s_line)!, parse.GetValue(version)!, ct).ConfigureAwait(false);
            WriteActivation(response, parse.GetValue(s_json));
            return 0;
        }).ConfigureAwait(false));
        return command;
    }

    private static void WriteActivation(ActivateModelResponse response, bool json)
    {
        if (!json)
        {
            Console.WriteLine(response.Message);
            return;
        }

        LinesCommands.JsonLine(w =>
        {
            w.WriteString("line", response.Model.Line);
            w.WriteString("version", response.Model.Version);
            w.WriteBoolean("active", response.Model.Active);
            w.WriteBoolean("pending", response.Pending);
            w.WriteString("requestedBy", response.RequestedBy);
            w.WriteStartArray("approvedBy");
            foreach (var name in response.ApprovedBy)
            {
                w.WriteStringValue(name);
            }

            w.WriteEndArray();
            w.WriteNumber("approvalsNeeded", response.ApprovalsNeeded);
            w.WriteString("activatedBy", response.Model.ActivatedBy);
            w.WriteString("message", response.Message);
        });
    }

    private static Command Status()
    {
        var line = new Option<string?>("--line") { Description = "Only this line" };
        var signals = new Option<int>("--signals") { Description = "Signals to list per line, largest mean residual against tolerance first", DefaultValueFactory = _ => 10 };
        var command = new Command("status", "Per line: physics and statistical scores against their thresholds, the model, the execution provider, the signals furthest from the twin") { s_server, GatewayCalls.Token, line, signals, s_json };
        command.SetAction(async (parse, ct) => await GatewayCalls.Guard(parse, parse.GetValue(s_server)!, async channel =>
        {
            var response = await new DriftService.DriftServiceClient(channel).GetDriftStatusAsync(new GetDriftStatusRequest { Line = parse.GetValue(line) ?? "" }, cancellationToken: ct).ConfigureAwait(false);
            foreach (var status in response.Lines)
            {
                var worst = status.Signals.Where(s => s.HasMeanResidual && s.Tolerance > 0).OrderByDescending(s => Math.Abs(s.MeanResidual) / s.Tolerance).Take(parse.GetValue(signals)).ToList();
                if (parse.GetValue(s_json))
                {
                    LinesCommands.JsonLine(w =>
                    {
                        w.WriteString("line", status.Line);
                        w.WriteNumber("physicsScore", Math.Round(status.PhysicsScore, 4));
                        w.WriteNumber("statisticalScore", Math.Round(status.StatisticalScore, 4));
                        w.WriteString("model", status.Model?.Version ?? "");
                        w.WriteString("modelKind", status.Model?.Kind ?? "");
                        w.WriteNumber("frames", status.Frames);
                        w.WriteNumber("openAlerts", status.OpenAlerts);
                        w.WriteString("executionProvider", status.ExecutionProvider);
                        w.WriteString("executionProviderReason", status.ExecutionProviderReason);
                        w.WriteStartArray("signals");
                        foreach (var s in worst)
                        {
                            w.WriteStartObject();
                            w.WriteString("signal", s.Signal);
                            w.WriteNumber("meanResidual", s.MeanResidual);
                            w.WriteNumber("tolerance", s.Tolerance);
                            if (s.HasMeanScaledError)
                            {
                                w.WriteNumber("meanScaledError", s.MeanScaledError);
                            }

                            w.WriteEndObject();
                        }

                        w.WriteEndArray();
                    });
                    continue;
                }

                Console.WriteLine($"line {status.Line}: physics {status.PhysicsScore:0.00} of 1 ({status.PhysicsWindowSeconds:0} s mean residual against tolerance), "
                    + (status.Model is { } m ? $"statistical {status.StatisticalScore:0.00} of 1 (model {m.Version}, {m.Kind})" : "no learned model active")
                    + $", {status.OpenAlerts} open alert(s), {status.Frames} frames; ONNX Runtime on {status.ExecutionProvider}: {status.ExecutionProviderReason}");
                var table = new TableWriter("SIGNAL", "MEAN RESIDUAL", "TOLERANCE", "OF TOLERANCE", "CREDIBILITY (MEAN |ERR|/SCALE)");
                foreach (var s in worst)
                {
                    table.Add(s.Signal, s.MeanResidual.ToString("G4", CultureInfo.InvariantCulture), s.Tolerance.ToString("G4", CultureInfo.InvariantCulture),
                        (Math.Abs(s.MeanResidual) / s.Tolerance).ToString("0.00", CultureInfo.InvariantCulture),
                        s.HasMeanScaledError ? s.MeanScaledError.ToString("0.0000", CultureInfo.InvariantCulture) : "");
                }

                table.Write(Console.Out);
            }

            return 0;
        }).ConfigureAwait(false));
        return command;
    }

    private static Command Score()
    {
        var version = new Option<string?>("--model") { Description = "Model version (default: the active one)" };
        var output = new Option<string>("--out") { Description = "Output file: .parquet or .csv (one row per frame)", Required = true };
        var command = new Command("score", "Score recorded telemetry of a line with a model and the physics rule, one row per frame")
        {
            s_server, GatewayCalls.Token, s_line, TelemetryCommands.From, TelemetryCommands.To, version, output,
        };
        command.SetAction(async (parse, ct) =>
        {
            if (TelemetryCommands.ParseRange(parse) is not { } range)
            {
                return 2;
            }

            var path = parse.GetValue(output)!;
            try
            {
                _ = TelemetryFileFormat.FromPath(path);
            }
            catch (ArgumentException ex)
            {
                await Console.Error.WriteLineAsync($"error: --out {path}: {ex.Message}").ConfigureAwait(false);
                return 2;
            }

            return await GatewayCalls.Guard(parse, parse.GetValue(s_server)!, async channel =>
            {
                var response = await new DriftService.DriftServiceClient(channel).ScoreRangeAsync(new ScoreRangeRequest
                {
                    Line = parse.GetValue(s_line)!,
                    From = Timestamp.FromDateTimeOffset(range.From),
                    To = Timestamp.FromDateTimeOffset(range.To),
                    Version = parse.GetValue(version) ?? "",
                }, cancellationToken: ct).ConfigureAwait(false);
                using var file = new TabularFileWriter(path, "time TIMESTAMPTZ, score DOUBLE, physics_score DOUBLE, top_signal VARCHAR, top_share DOUBLE, model VARCHAR");
                var modelVersion = response.Model?.Version ?? "";
                foreach (var frame in response.Frames)
                {
                    file.Appender.CreateRow().AppendValue(frame.Time.ToDateTimeOffset().UtcDateTime).AppendValue(response.Model is null ? null : frame.Score)
                        .AppendValue(frame.PhysicsScore).AppendValue(frame.TopSignal).AppendValue(frame.TopShare).AppendValue(modelVersion).EndRow();
                    file.Counted();
                }

                var rows = file.Complete();
                var above = response.Frames.Count(f => Math.Max(f.Score, f.PhysicsScore) >= 1);
                Console.WriteLine($"{rows} frames written to {Path.GetFullPath(path)} ({(response.Model is null ? "no model: physics only" : $"model {modelVersion}")}); {above} at or above a threshold");
                return 0;
            }).ConfigureAwait(false);
        });
        return command;
    }

    private static Command Eval()
    {
        var input = new Option<string>("--input") { Description = "Folder of data files", Required = true };
        var format = new Option<string>("--format") { Description = "skab, nab or csv", Required = true };
        var output = new Option<string>("--out") { Description = "Report file (JSON)", DefaultValueFactory = _ => "report.json" };
        var model = new Option<string>("--model") { Description = $"Model kind: {DriftTrainers.Names}", DefaultValueFactory = _ => "autoencoder" };
        var window = new Option<int>("--window") { Description = "Rows per model window", DefaultValueFactory = _ => new TrainingOptions().Window };
        var command = new Command("eval", "Run the gateway's detector on CSV data sets (SKAB, NAB, plain CSV): train on each file's leading normal part, score the rest; F1, false- and missed-alarm rates, NAB scores")
        {
            input, format, output, model, window, s_json,
        };
        command.SetAction(async (parse, ct) =>
        {
            if (!System.Enum.TryParse<EvaluationFormat>(parse.GetValue(format), ignoreCase: true, out var fmt) || !System.Enum.IsDefined(fmt))
            {
                await Console.Error.WriteLineAsync($"error: --format '{parse.GetValue(format)}' is not skab, nab or csv").ConfigureAwait(false);
                return 2;
            }

            if (!DriftTrainers.TryParse(parse.GetValue(model), out var kind))
            {
                await Console.Error.WriteLineAsync($"error: --model '{parse.GetValue(model)}' is not a model kind ({DriftTrainers.Names})").ConfigureAwait(false);
                return 2;
            }

            var directory = parse.GetValue(input)!;
            if (!Directory.Exists(directory))
            {
                await Console.Error.WriteLineAsync($"error: --input {Path.GetFullPath(directory)} is not a folder").ConfigureAwait(false);
                return 2;
            }

            EvaluationReport report;
            try
            {
                var progress = new Progress<string>(line => Console.Error.WriteLine(line));
                report = await Task.Run(() => new DriftEvaluator().Run(directory, fmt, DriftTrainers.Create(kind), new TrainingOptions(Window: parse.GetValue(window)), progress, ct), ct).ConfigureAwait(false);
            }
            catch (EvaluationDataException ex)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
                return 1;
            }

            var path = parse.GetValue(output)!;
            report.WriteJson(path);
            if (parse.GetValue(s_json))
            {
                Console.WriteLine(report.ToJson());
            }
            else
            {
                var o = report.Overall;
                Console.WriteLine($"{report.Files.Length} file(s); overall F1 {Fraction(o.F1)}, false-alarm rate {Fraction(o.Far)}, missed-alarm rate {Fraction(o.Mar)}; "
                    + (o.Nab is { } nab ? $"NAB standard {Points(nab.Standard)}, low FP {Points(nab.LowFP)}, low FN {Points(nab.LowFN)}; " : "")
                    + $"{o.ChangepointsDetected} of {o.Changepoints} changepoints detected; report {Path.GetFullPath(path)}");
            }

            return 0;
        });
        return command;
    }

    private static string Points(double? value) => value is { } v ? v.ToString("0.0", CultureInfo.InvariantCulture) : "n/a";

    private static string Fraction(double? value) => value is { } v ? v.ToString("0.000", CultureInfo.InvariantCulture) : "n/a";

    private static void WriteJson(DriftModel model) => LinesCommands.JsonLine(w =>
    {
        w.WriteString("line", model.Line);
        w.WriteString("version", model.Version);
        w.WriteString("kind", model.Kind);
        w.WriteBoolean("active", model.Active);
        w.WriteString("trainedFrom", model.TrainedFrom.ToDateTimeOffset().ToString("O", CultureInfo.InvariantCulture));
        w.WriteString("trainedTo", model.TrainedTo.ToDateTimeOffset().ToString("O", CultureInfo.InvariantCulture));
        w.WriteString("trainedBy", model.TrainedBy);
        w.WriteString("trainingDataHash", model.TrainingDataHash);
        w.WriteNumber("window", model.Window);
        w.WriteNumber("features", model.Features);
        w.WriteNumber("threshold", model.Threshold);
        w.WriteNumber("fitRows", model.FitRows);
        w.WriteNumber("holdBackRows", model.HoldBackRows);
        w.WriteString("file", model.File);
        if (model.Active)
        {
            w.WriteString("activatedBy", model.ActivatedBy);
        }
    });
}
