using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Grpc.Core;
using TwinGateway.Api.V1;
using TwinGateway.Host.Api;

namespace TwinGateway.Host.Cli;

/// <summary>
/// <c>twingw change ...</c>: the commissioning gate from the command line (CommissioningService). Tables by default,
/// <c>--json</c> for one object per line. Exit 0 on success, 1 when the change was refused (static checks, validation
/// failed, approval refused, apply rolled back), 2 for usage or connection errors.
/// </summary>
internal static class ChangeCommands
{
    private static readonly Option<string> s_server = new("--server") { Description = "Gateway gRPC URL", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
    private static readonly Option<bool> s_json = new("--json") { Description = "One JSON object per line" };

    public static Command Create()
    {
        var command = new Command("change", "Line changes through the commissioning gate: submit, validate on the twin, approve, apply, verify, roll back");
        command.Subcommands.Add(Submit());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Show());
        command.Subcommands.Add(Validate());
        command.Subcommands.Add(Approve());
        command.Subcommands.Add(Reject());
        command.Subcommands.Add(Apply());
        command.Subcommands.Add(Abort());
        command.Subcommands.Add(Withdraw());
        command.Subcommands.Add(Export());
        command.Subcommands.Add(ReproduceCommand.Create());
        return command;
    }

    private static void AddCommon(Command command)
    {
        command.Options.Add(s_server);
        command.Options.Add(GatewayCalls.Token);
        command.Options.Add(s_json);
    }

    /// <summary>Runs a call; a refusal by the gate (InvalidArgument, FailedPrecondition, PermissionDenied, NotFound) exits 1 with its message.</summary>
    private static Task<int> Guard(ParseResult parse, Func<CommissioningService.CommissioningServiceClient, Task<int>> body) =>
        GatewayCalls.Guard(parse, parse.GetValue(s_server)!, async channel =>
        {
            try
            {
                return await body(new CommissioningService.CommissioningServiceClient(channel)).ConfigureAwait(false);
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.InvalidArgument or StatusCode.FailedPrecondition or StatusCode.NotFound or StatusCode.PermissionDenied or StatusCode.AlreadyExists)
            {
                await Console.Error.WriteLineAsync($"refused: {ex.Status.Detail}").ConfigureAwait(false);
                return 1;
            }
        });

    private static Command Submit()
    {
        var file = new Argument<FileInfo>("file") { Description = "The change file (YAML, see config/changes/)" };
        var command = new Command("submit", "Check a change file and submit it to the gate (a draft, ready to validate)") { file };
        AddCommon(command);
        command.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(file)!.FullName;
            var (spec, problems) = ChangeFiles.Load(path);
            if (spec is null)
            {
                foreach (var problem in problems)
                {
                    await Console.Error.WriteLineAsync(problem).ConfigureAwait(false);
                }

                await Console.Error.WriteLineAsync($"refused: {problems.Count} problem(s) in {path}").ConfigureAwait(false);
                return 1;
            }

            return await Guard(parse, async client =>
            {
                var change = await client.SubmitChangeAsync(new SubmitChangeRequest { Change = spec }, cancellationToken: ct).ConfigureAwait(false);
                Print(parse, change, brief: true);
                return 0;
            }).ConfigureAwait(false);
        });
        return command;
    }

    private static Command List()
    {
        var line = new Option<string?>("--line") { Description = "Only this line's changes" };
        var state = new Option<string[]>("--state") { Description = "Only changes in this state (repeatable)", AllowMultipleArgumentsPerToken = true };
        var command = new Command("list", "List changes, newest first") { line, state };
        AddCommon(command);
        command.SetAction((parse, ct) => Guard(parse, async client =>
        {
            var request = new ListChangesRequest { Line = parse.GetValue(line) ?? "" };
            request.States.AddRange(parse.GetValue(state) ?? []);
            var response = await client.ListChangesAsync(request, cancellationToken: ct).ConfigureAwait(false);
            if (parse.GetValue(s_json))
            {
                foreach (var change in response.Changes)
                {
                    LinesCommands.JsonLine(w => WriteSummary(w, change));
                }
            }
            else
            {
                var table = new TableWriter("ID", "LINE", "STATE", "CLASS", "SUBMITTER", "SUBMITTED", "TITLE");
                foreach (var c in response.Changes)
                {
                    table.Add(c.Id, c.Line, c.State, c.ChangeClass, c.Submitter, Time(c.SubmittedAt), c.Title);
                }

                table.Write(Console.Out);
            }

            return 0;
        }));
        return command;
    }

    private static Argument<string> IdArgument() => new("id") { Description = "Change id (as `twingw change list` shows it)" };

    private static Command Show()
    {
        var id = IdArgument();
        var command = new Command("show", "Show a change: operations, class, validation evidence, approvals, apply steps") { id };
        AddCommon(command);
        command.SetAction((parse, ct) => Guard(parse, async client =>
        {
            var change = await client.GetChangeAsync(new GetChangeRequest { Id = parse.GetValue(id) }, cancellationToken: ct).ConfigureAwait(false);
            Print(parse, change, brief: false);
            return 0;
        }));
        return command;
    }

    private static Command Validate()
    {
        var id = IdArgument();
        var command = new Command("validate", "Validate a change on forks of the line's twin (baseline against candidate, same seeds); exit 1 when it fails") { id };
        AddCommon(command);
        command.SetAction((parse, ct) => Guard(parse, async client =>
        {
            using var call = client.ValidateChange(new ValidateChangeRequest { Id = parse.GetValue(id) }, cancellationToken: ct);
            Change? result = null;
            var bar = new ProgressBar(parse.GetValue(s_json));
            await foreach (var update in call.ResponseStream.ReadAllAsync(ct).ConfigureAwait(false))
            {
                if (update.KindCase == ValidationUpdate.KindOneofCase.Progress)
                {
                    bar.Show(update.Progress);
                }
                else
                {
                    result = update.Result;
                }
            }

            bar.Done();
            if (result is null)
            {
                await Console.Error.WriteLineAsync("error: the gateway ended the validation without a result").ConfigureAwait(false);
                return 2;
            }

            Print(parse, result, brief: false);
            return result.State == "validated" ? 0 : 1;
        }));
        return command;
    }

    private static Command Approve()
    {
        var id = IdArgument();
        var comment = new Option<string?>("--comment") { Description = "A note kept with the approval" };
        var command = new Command("approve", "Approve a validated change as it is now (bound to its content and evidence hashes)") { id, comment };
        AddCommon(command);
        command.SetAction((parse, ct) => Guard(parse, async client =>
        {
            var change = await client.ApproveChangeAsync(new ApproveChangeRequest { Id = parse.GetValue(id), Comment = parse.GetValue(comment) ?? "" }, cancellationToken: ct).ConfigureAwait(false);
            Print(parse, change, brief: true);
            return 0;
        }));
        return command;
    }

    private static Command Reject()
    {
        var id = IdArgument();
        var reason = new Option<string>("--reason") { Description = "Why (required)", Required = true };
        var command = new Command("reject", "Reject a change, with a reason") { id, reason };
        AddCommon(command);
        command.SetAction((parse, ct) => Guard(parse, async client =>
        {
            var change = await client.RejectChangeAsync(new RejectChangeRequest { Id = parse.GetValue(id), Reason = parse.GetValue(reason)! }, cancellationToken: ct).ConfigureAwait(false);
            Print(parse, change, brief: true);
            return 0;
        }));
        return command;
    }

    private static Command Apply()
    {
        var id = IdArgument();
        var command = new Command("apply", "Apply an approved change over OPC UA: record the previous values, write, read back, verify against the twin, or roll back; exit 1 when rolled back or failed") { id };
        AddCommon(command);
        command.SetAction((parse, ct) => Guard(parse, async client =>
        {
            using var call = client.ApplyChange(new ApplyChangeRequest { Id = parse.GetValue(id) }, cancellationToken: ct);
            Change? result = null;
            var json = parse.GetValue(s_json);
            var started = false;
            try
            {
                await foreach (var update in call.ResponseStream.ReadAllAsync(ct).ConfigureAwait(false))
                {
                    started = true;
                    result = Report(update, json) ?? result;
                }
            }
            catch (RpcException ex) when (started && ex.StatusCode == StatusCode.Unavailable)
            {
                // The gateway went away mid-apply (stopped or crashed): it finishes or rolls the change back when it starts again.
                await Console.Error.WriteLineAsync($"error: the gateway went away during the apply ({ex.Status.Detail}); when it starts again it finishes or rolls back the change: `twingw change show {parse.GetValue(id)}` tells where it is").ConfigureAwait(false);
                return 2;
            }

            if (result is null)
            {
                await Console.Error.WriteLineAsync("error: the gateway ended the apply without a result; `twingw change show` tells where it is").ConfigureAwait(false);
                return 2;
            }

            Print(parse, result, brief: true);
            return result.State == "applied" ? 0 : 1;
        }));
        return command;
    }

    /// <summary>Prints an apply step; returns the result when <paramref name="update"/> is the final one.</summary>
    private static Change? Report(ApplyUpdate update, bool json)
    {
        if (update.KindCase != ApplyUpdate.KindOneofCase.Step)
        {
            return update.Result;
        }

        var step = update.Step;
        if (json)
        {
            LinesCommands.JsonLine(w =>
            {
                w.WriteString("step", step.Kind);
                w.WriteString("time", Time(step.Time));
                w.WriteString("message", step.Message);
            });
        }
        else
        {
            Console.WriteLine($"{Time(step.Time)}  {step.Kind,-22} {step.Message}");
        }

        return null;
    }

    private static Command Abort()
    {
        var id = IdArgument();
        var reason = new Option<string?>("--reason") { Description = "Why" };
        var command = new Command("abort", "Abort a change: an apply in progress is rolled back") { id, reason };
        AddCommon(command);
        command.SetAction((parse, ct) => Guard(parse, async client =>
        {
            var change = await client.AbortChangeAsync(new AbortChangeRequest { Id = parse.GetValue(id), Reason = parse.GetValue(reason) ?? "" }, cancellationToken: ct).ConfigureAwait(false);
            Print(parse, change, brief: true);
            return 0;
        }));
        return command;
    }

    private static Command Withdraw()
    {
        var id = IdArgument();
        var reason = new Option<string?>("--reason") { Description = "Why" };
        var command = new Command("withdraw", "Withdraw your change before it is applied") { id, reason };
        AddCommon(command);
        command.SetAction((parse, ct) => Guard(parse, async client =>
        {
            var change = await client.WithdrawChangeAsync(new WithdrawChangeRequest { Id = parse.GetValue(id), Reason = parse.GetValue(reason) ?? "" }, cancellationToken: ct).ConfigureAwait(false);
            Print(parse, change, brief: true);
            return 0;
        }));
        return command;
    }

    private static Command Export()
    {
        var id = IdArgument();
        var output = new Option<FileInfo>("--out") { Description = "The evidence bundle to write (zip)", Required = true };
        var command = new Command("export", "Export a change's evidence bundle: the change, policy, hashes, seeds, results, approvals, apply log and the audit entries that cover them") { id, output };
        AddCommon(command);
        command.SetAction((parse, ct) => Guard(parse, async client =>
        {
            var path = parse.GetValue(output)!.FullName;
            var temporary = path + ".part";
            using (var call = client.ExportEvidence(new ExportEvidenceRequest { Id = parse.GetValue(id) }, cancellationToken: ct))
            {
                var file = File.Create(temporary);
                await using (file.ConfigureAwait(false))
                {
                    await foreach (var chunk in call.ResponseStream.ReadAllAsync(ct).ConfigureAwait(false))
                    {
                        await file.WriteAsync(chunk.Data.Memory, ct).ConfigureAwait(false);
                    }
                }
            }

            File.Move(temporary, path, overwrite: true);
            if (parse.GetValue(s_json))
            {
                LinesCommands.JsonLine(w =>
                {
                    w.WriteString("change", parse.GetValue(id));
                    w.WriteString("bundle", path);
                    w.WriteNumber("bytes", new FileInfo(path).Length);
                });
            }
            else
            {
                Console.WriteLine($"evidence of {parse.GetValue(id)} written to {path} ({new FileInfo(path).Length.ToString("N0", CultureInfo.InvariantCulture)} bytes); check it with `twingw change reproduce {path}`");
            }

            return 0;
        }));
        return command;
    }

    internal static string Time(Google.Protobuf.WellKnownTypes.Timestamp? time) =>
        time is null ? "" : time.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static string Num(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    private static void WriteSummary(Utf8JsonWriter w, Change change)
    {
        w.WriteString("id", change.Id);
        w.WriteString("line", change.Line);
        w.WriteString("title", change.Title);
        w.WriteString("state", change.State);
        w.WriteString("class", change.ChangeClass);
        w.WriteString("contentHash", change.ContentHash);
        w.WriteString("submitter", change.Submitter);
        w.WriteString("submittedAt", change.SubmittedAt?.ToDateTimeOffset().ToString("O", CultureInfo.InvariantCulture));
        if (change.Validation is { } v)
        {
            w.WriteString("verdict", v.Verdict);
            w.WriteString("evidenceHash", v.EvidenceHash);
        }

        w.WriteStartArray("approvalsMissing");
        foreach (var missing in change.ApprovalsMissing)
        {
            w.WriteStringValue(missing);
        }

        w.WriteEndArray();
        w.WriteString("outcome", change.Outcome);
    }

    /// <summary>Prints a change: one JSON object (with its criteria, approvals and steps) or a readable report.</summary>
    internal static void Print(ParseResult parse, Change change, bool brief)
    {
        if (parse.GetValue(s_json))
        {
            LinesCommands.JsonLine(w =>
            {
                WriteSummary(w, change);
                if (change.Validation is { } v)
                {
                    w.WriteStartArray("criteria");
                    foreach (var c in v.Criteria)
                    {
                        w.WriteStartObject();
                        w.WriteString("name", c.Name);
                        w.WriteString("authority", c.Authority);
                        w.WriteNumber("baseline", c.Baseline);
                        w.WriteNumber("candidate", c.Candidate);
                        w.WriteNumber("difference", c.Difference);
                        w.WriteNumber("differenceLow", c.DifferenceLow);
                        w.WriteNumber("differenceHigh", c.DifferenceHigh);
                        w.WriteBoolean("passed", c.Passed);
                        w.WriteString("detail", c.Detail);
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                }

                w.WriteStartArray("approvals");
                foreach (var a in change.Approvals)
                {
                    w.WriteStartObject();
                    w.WriteString("user", a.User);
                    w.WriteString("authority", a.Authority);
                    w.WriteBoolean("counts", a.Counts);
                    w.WriteString("comment", a.Comment);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteStartArray("steps");
                foreach (var s in change.ApplySteps)
                {
                    w.WriteStartObject();
                    w.WriteString("kind", s.Kind);
                    w.WriteString("message", s.Message);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            });
            return;
        }

        Console.WriteLine($"{change.Id}  {change.State}  {change.Line}: {change.Title}");
        if (brief)
        {
            if (change.ApprovalsMissing.Count > 0 && change.State is "validated")
            {
                Console.WriteLine($"  needs: {string.Join("; ", change.ApprovalsMissing)}");
            }

            if (!string.IsNullOrEmpty(change.Outcome))
            {
                Console.WriteLine($"  {change.Outcome}");
            }

            return;
        }

        Console.WriteLine($"  reason:     {change.Reason}");
        Console.WriteLine($"  class:      {change.ChangeClass}{(change.ClassReasons.Count > 0 ? " (" + string.Join("; ", change.ClassReasons) + ")" : "")}");
        Console.WriteLine($"  submitted:  {Time(change.SubmittedAt)} by {change.Submitter}");
        Console.WriteLine($"  content:    {change.ContentHash}");
        Console.WriteLine("  operations:");
        foreach (var op in change.Spec.Operations)
        {
            Console.WriteLine("    " + op.KindCase switch
            {
                Operation.KindOneofCase.Set => $"set {op.Set.Signal} = {ValueText(op.Set.Value)}",
                Operation.KindOneofCase.Call => $"call {op.Call.Method} on {op.Call.Object} ({string.Join(", ", op.Call.Arguments.Select(ValueText))})",
                Operation.KindOneofCase.Pose => $"pose {op.Pose.Position} = [{string.Join(", ", op.Pose.Joints.Select(Num))}]",
                Operation.KindOneofCase.Definition => $"definition {op.Definition.Path}",
                _ => "?",
            });
        }

        if (change.Validation is { } validation)
        {
            Console.WriteLine($"  validation: {validation.Verdict} ({validation.Summary})");
            Console.WriteLine($"    evidence {validation.EvidenceHash}, {validation.Seeds.Count} seeds x {Num(validation.HorizonHours)} h, {Num(validation.WallSeconds)} s wall, real-time factor {Num(validation.RealTimeFactorPerCore)} per core");
            var table = new TableWriter("CRITERION", "AUTHORITY", "BASELINE", "CANDIDATE", "DIFFERENCE", "CONFIDENCE INTERVAL", "RESULT");
            foreach (var c in validation.Criteria)
            {
                table.Add(c.Name, c.Authority, Num(c.Baseline), Num(c.Candidate), Num(c.Difference),
                    c.Confidence > 0 ? $"[{Num(c.DifferenceLow)}, {Num(c.DifferenceHigh)}] at {Num(c.Confidence * 100)} %" : "",
                    (c.Passed ? "pass" : "FAIL") + (string.IsNullOrEmpty(c.Detail) ? "" : ": " + c.Detail));
            }

            table.Write(Console.Out);
            foreach (var c in validation.Credibility.Where(c => !c.Credible))
            {
                Console.WriteLine($"    twin not credible for {c.Signal}: mean scaled error {Num(c.MeanScaledError)} over {c.Samples} samples");
            }
        }

        if (change.Approvals.Count > 0)
        {
            Console.WriteLine("  approvals:");
            foreach (var a in change.Approvals)
            {
                Console.WriteLine($"    {Time(a.Time)} {a.User} ({string.Join(", ", a.Roles)}, {a.Authority}){(a.Counts ? "" : " — no longer counts: the change or its evidence changed since")}{(string.IsNullOrEmpty(a.Comment) ? "" : ": " + a.Comment)}");
            }
        }

        if (change.ApprovalsMissing.Count > 0)
        {
            Console.WriteLine($"  needs:      {string.Join("; ", change.ApprovalsMissing)}");
        }

        if (change.ApplySteps.Count > 0)
        {
            Console.WriteLine("  apply:");
            foreach (var s in change.ApplySteps)
            {
                Console.WriteLine($"    {Time(s.Time)}  {s.Kind,-22} {s.Message}");
            }
        }

        if (!string.IsNullOrEmpty(change.Outcome))
        {
            Console.WriteLine($"  outcome:    {change.Outcome}");
        }
    }

    private static string ValueText(Value value) => value.KindCase switch
    {
        Value.KindOneofCase.Number => Num(value.Number),
        Value.KindOneofCase.Boolean => value.Boolean ? "true" : "false",
        Value.KindOneofCase.Text => $"\"{value.Text}\"",
        _ => "?",
    };

    /// <summary>A progress bar with the time left on a terminal's standard error; one JSON line per update with <c>--json</c>.</summary>
    private sealed class ProgressBar(bool json)
    {
        private readonly bool _terminal = !Console.IsErrorRedirected;
        private int _lastPercent = -1;

        public void Show(ValidationProgress progress)
        {
            var percent = (int)Math.Floor(progress.Fraction * 100);
            if (percent == _lastPercent)
            {
                return;
            }

            _lastPercent = percent;
            if (json)
            {
                LinesCommands.JsonLine(w =>
                {
                    w.WriteNumber("progress", Math.Round(progress.Fraction, 4));
                    w.WriteNumber("runsDone", progress.RunsDone);
                    w.WriteNumber("runsTotal", progress.RunsTotal);
                    w.WriteNumber("secondsLeft", Math.Round(progress.SecondsLeft, 1));
                });
                return;
            }

            const int Width = 30;
            var filled = Math.Clamp(percent * Width / 100, 0, Width);
            var text = $"[{new string('#', filled)}{new string('.', Width - filled)}] {percent,3} %  {progress.RunsDone}/{progress.RunsTotal} runs  {progress.SecondsLeft:0} s left";
            if (_terminal)
            {
                Console.Error.Write("\r" + text);
            }
            else if (percent % 10 == 0)
            {
                Console.Error.WriteLine(text);
            }
        }

        public void Done()
        {
            if (_terminal && !json && _lastPercent >= 0)
            {
                Console.Error.WriteLine();
            }
        }
    }
}
