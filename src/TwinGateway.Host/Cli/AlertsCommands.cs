using System.CommandLine;
using System.Globalization;
using Grpc.Core;
using TwinGateway.Api.V1;

namespace TwinGateway.Host.Cli;

/// <summary><c>twingw alerts list|watch|ack|resolve</c>: drift alerts through the running gateway.</summary>
internal static class AlertsCommands
{
    private static readonly Option<string> s_server = TelemetryCommands.Server;
    private static readonly Option<bool> s_json = new("--json") { Description = "One JSON object per line instead of a table" };
    private static readonly Option<string?> s_line = new("--line") { Description = "Only this line" };

    public static Command Create()
    {
        var command = new Command("alerts", "Drift alerts: list, watch live, acknowledge, resolve");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Watch());
        command.Subcommands.Add(Act("ack", "Acknowledge an alert: you are looking into it (recorded with your name and note)", acknowledge: true));
        command.Subcommands.Add(Act("resolve", "Resolve an alert (recorded with your name and note)", acknowledge: false));
        return command;
    }

    private static Command List()
    {
        var state = new Option<string?>("--state") { Description = "open, acknowledged or resolved (default: all)" };
        var limit = new Option<int>("--limit") { Description = "At most this many, newest first", DefaultValueFactory = _ => 50 };
        var command = new Command("list", "Alerts, newest first") { s_server, GatewayCalls.Token, s_line, state, limit, s_json };
        command.SetAction(async (parse, ct) => await GatewayCalls.Guard(parse, parse.GetValue(s_server)!, async channel =>
        {
            var response = await new AlertService.AlertServiceClient(channel).ListAlertsAsync(new ListAlertsRequest
            {
                Line = parse.GetValue(s_line) ?? "",
                State = parse.GetValue(state) ?? "",
                Limit = parse.GetValue(limit),
            }, cancellationToken: ct).ConfigureAwait(false);
            if (parse.GetValue(s_json))
            {
                foreach (var alert in response.Alerts)
                {
                    WriteJson("listed", alert);
                }

                return 0;
            }

            var table = new TableWriter("ID", "LINE", "STATE", "SEVERITY", "AUTHORITY", "DETECTOR", "ONSET", "PEAK", "SIGNALS", "BY");
            foreach (var a in response.Alerts)
            {
                table.Add(a.Id.ToString(CultureInfo.InvariantCulture), a.Line, a.State, a.Severity, a.Authority, a.Detector + (a.ModelVersion.Length > 0 ? " v" + a.ModelVersion : ""),
                    a.Onset.ToDateTimeOffset().ToString("u", CultureInfo.InvariantCulture), a.PeakScore.ToString("0.00", CultureInfo.InvariantCulture),
                    string.Join(", ", a.Contributors.Select(c => $"{c.Signal} {c.Share:P0}")), a.ResolvedBy.Length > 0 ? a.ResolvedBy : a.AcknowledgedBy);
            }

            table.Write(Console.Out);
            return 0;
        }).ConfigureAwait(false));
        return command;
    }

    private static Command Watch()
    {
        var command = new Command("watch", "The open alerts, then every alert as it opens, changes or resolves, until Ctrl+C") { s_server, GatewayCalls.Token, s_line, s_json };
        command.SetAction(async (parse, ct) => await GatewayCalls.Guard(parse, parse.GetValue(s_server)!, async channel =>
        {
            using var call = new AlertService.AlertServiceClient(channel).WatchAlerts(new WatchAlertsRequest { Line = parse.GetValue(s_line) ?? "" }, cancellationToken: ct);
            await foreach (var e in call.ResponseStream.ReadAllAsync(ct).ConfigureAwait(false))
            {
                if (e.Alert is null)
                {
                    await Console.Error.WriteLineAsync("watching: alerts appear here as they open, change or resolve (Ctrl+C to stop)").ConfigureAwait(false);
                }
                else if (parse.GetValue(s_json))
                {
                    WriteJson(e.Kind, e.Alert);
                }
                else
                {
                    Console.WriteLine(Describe(e.Kind, e.Alert));
                }
            }

            return 0;
        }).ConfigureAwait(false));
        return command;
    }

    private static Command Act(string name, string description, bool acknowledge)
    {
        var id = new Argument<long>("id") { Description = "The alert's id (from `twingw alerts list`)" };
        var note = new Option<string?>("--note") { Description = "What you found or did" };
        var command = new Command(name, description) { id, s_server, GatewayCalls.Token, note, s_json };
        command.SetAction(async (parse, ct) => await GatewayCalls.Guard(parse, parse.GetValue(s_server)!, async channel =>
        {
            var client = new AlertService.AlertServiceClient(channel);
            var alert = acknowledge
                ? await client.AcknowledgeAlertAsync(new AcknowledgeAlertRequest { Id = parse.GetValue(id), Note = parse.GetValue(note) ?? "" }, cancellationToken: ct).ConfigureAwait(false)
                : await client.ResolveAlertAsync(new ResolveAlertRequest { Id = parse.GetValue(id), Note = parse.GetValue(note) ?? "" }, cancellationToken: ct).ConfigureAwait(false);
            if (parse.GetValue(s_json))
            {
                WriteJson(acknowledge ? "acknowledged" : "resolved", alert);
            }
            else
            {
                Console.WriteLine(Describe(acknowledge ? "acknowledged" : "resolved", alert));
            }

            return 0;
        }).ConfigureAwait(false));
        return command;
    }

    private static string Describe(string kind, Alert a) =>
        $"{kind,-12} alert {a.Id} line {a.Line}: {a.Severity} {a.Authority} drift ({a.Detector}{(a.ModelVersion.Length > 0 ? " v" + a.ModelVersion : "")}) since "
        + $"{a.Onset.ToDateTimeOffset():u}, peak {a.PeakScore:0.00} of threshold 1; "
        + string.Join(", ", a.Contributors.Select(c => $"{c.Signal} {c.Share:P0}" + (c.HasReal && c.HasExpected ? $" (real {c.Real:G4}, twin {c.Expected:G4})" : "")))
        + (a.AcknowledgedBy.Length > 0 ? $"; acknowledged by {a.AcknowledgedBy}" + (a.AcknowledgeNote.Length > 0 ? $": {a.AcknowledgeNote}" : "") : "")
        + (a.ResolvedBy.Length > 0 ? $"; resolved by {a.ResolvedBy}" + (a.ResolveNote.Length > 0 ? $": {a.ResolveNote}" : "") : "")
        + $"; plot {a.PlotLink}";

    private static void WriteJson(string kind, Alert a) => LinesCommands.JsonLine(w =>
    {
        w.WriteString("event", kind);
        w.WriteNumber("id", a.Id);
        w.WriteString("line", a.Line);
        w.WriteString("state", a.State);
        w.WriteString("severity", a.Severity);
        w.WriteString("authority", a.Authority);
        w.WriteString("detector", a.Detector);
        w.WriteString("modelVersion", a.ModelVersion);
        w.WriteString("onset", a.Onset.ToDateTimeOffset().ToString("O", CultureInfo.InvariantCulture));
        w.WriteString("lastSeen", a.LastSeen.ToDateTimeOffset().ToString("O", CultureInfo.InvariantCulture));
        w.WriteNumber("peakScore", a.PeakScore);
        w.WriteStartArray("contributors");
        foreach (var c in a.Contributors)
        {
            w.WriteStartObject();
            w.WriteString("signal", c.Signal);
            w.WriteNumber("share", c.Share);
            if (c.HasReal)
            {
                w.WriteNumber("real", c.Real);
            }

            if (c.HasExpected)
            {
                w.WriteNumber("expected", c.Expected);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteString("acknowledgedBy", a.AcknowledgedBy);
        w.WriteString("acknowledgeNote", a.AcknowledgeNote);
        w.WriteString("resolvedBy", a.ResolvedBy);
        w.WriteString("resolveNote", a.ResolveNote);
        w.WriteString("plotLink", a.PlotLink);
        w.WriteNumber("suppressedEpisodes", a.SuppressedEpisodes);
    });
}
