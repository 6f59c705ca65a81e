using System.CommandLine;
using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using TwinGateway.Api.V1;
using TwinGateway.Telemetry;
using TwinGateway.Telemetry.Recording;

namespace TwinGateway.Host.Cli;

/// <summary><c>twingw telemetry export|status</c>: the flight recorder from the command line.</summary>
internal static class TelemetryCommands
{
    internal static readonly Option<string> Server = new("--server") { Description = "Gateway gRPC URL", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
    internal static readonly Option<string> Line = new("--line") { Description = "Line id", Required = true };
    internal static readonly Option<string> From = new("--from") { Description = "Start (inclusive): ISO 8601 (UTC without an offset), now, or -15m/-2h/-1d", Required = true };
    internal static readonly Option<string> To = new("--to") { Description = "End (exclusive), same forms; default now", DefaultValueFactory = _ => "now" };
    internal static readonly Option<string[]> Signals = new("--signal") { Description = "Only these signals (repeatable); default all", AllowMultipleArgumentsPerToken = true };
    private static readonly Option<string> s_out = new("--out") { Description = "Output file: .parquet or .csv", Required = true };
    private static readonly Option<string?> s_db = new("--db") { Description = "Read a flight recorder file directly (the gateway must not be running on it) instead of asking a gateway" };
    private static readonly Option<bool> s_json = new("--json") { Description = "JSON instead of a table" };

    public static Command Create()
    {
        var command = new Command("telemetry", "The flight recorder: export ranges, show the recorder's and forwarder's state");
        command.Subcommands.Add(Export());
        command.Subcommands.Add(Status());
        return command;
    }

    /// <summary>Parses --from/--to; on a bad value writes the error and returns null.</summary>
    internal static (DateTimeOffset From, DateTimeOffset To)? ParseRange(ParseResult parse)
    {
        var now = DateTimeOffset.UtcNow;
        if (!CliTime.TryParse(parse.GetValue(From)!, now, out var from, out var error) || !CliTime.TryParse(parse.GetValue(To)!, now, out var to, out error))
        {
            Console.Error.WriteLine($"error: {error}");
            return null;
        }

        if (to <= from)
        {
            Console.Error.WriteLine($"error: --to ({to:O}) is not after --from ({from:O})");
            return null;
        }

        return (from, to);
    }

    private static Command Export()
    {
        var command = new Command("export", "Write a line's recorded samples in a time range to Parquet or CSV (by the file's extension)");
        command.Options.Add(Line);
        command.Options.Add(From);
        command.Options.Add(To);
        command.Options.Add(s_out);
        command.Options.Add(Signals);
        command.Options.Add(Server);
        command.Options.Add(GatewayCalls.Token);
        command.Options.Add(s_db);
        command.SetAction(async (parse, ct) =>
        {
            if (ParseRange(parse) is not { } range)
            {
                return 2;
            }

            var output = parse.GetValue(s_out)!;
            try
            {
                TelemetryFileFormat.FromPath(output);
            }
            catch (ArgumentException ex)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
                return 2;
            }

            var line = parse.GetValue(Line)!;
            var signals = parse.GetValue(Signals) ?? [];
            if (parse.GetValue(s_db) is { } db)
            {
                return ExportFromFile(db, line, range.From, range.To, signals, output);
            }

            return await GatewayCalls.Guard(parse, parse.GetValue(Server)!, async channel =>
            {
                var client = new TelemetryService.TelemetryServiceClient(channel);
                var request = new QueryRangeRequest { LineId = line, From = Timestamp.FromDateTimeOffset(range.From), To = Timestamp.FromDateTimeOffset(range.To) };
                request.SignalIds.AddRange(signals);
                using var call = client.QueryRange(request, cancellationToken: ct);
                using var writer = new TelemetryFileWriter(output);
                await foreach (var page in call.ResponseStream.ReadAllAsync(ct).ConfigureAwait(false))
                {
                    foreach (var s in page.Samples)
                    {
                        writer.Add(s.Seq, s.LineId, s.SignalId, s.StationId.Length == 0 ? null : s.StationId, Ns(s.SourceTime), Ns(s.ServerTime),
                            s.HasValue ? s.Value : null, s.Status, s.HasExpected ? s.Expected : null);
                    }
                }

                var rows = writer.Complete();
                await Console.Error.WriteLineAsync($"wrote {rows} samples of {line} to {Path.GetFullPath(output)}").ConfigureAwait(false);
                return 0;
            }).ConfigureAwait(false);
        });
        return command;
    }

    private static int ExportFromFile(string db, string line, DateTimeOffset from, DateTimeOffset to, string[] signals, string output)
    {
        if (!File.Exists(db))
        {
            Console.Error.WriteLine($"error: no flight recorder file at {Path.GetFullPath(db)}");
            return 2;
        }

        try
        {
            using var recorder = TelemetryRecorder.Open(new RecorderOptions { DatabasePath = db, MoveCorruptDatabaseAside = false });
            var f = TelemetryTime.ToUnixNanoseconds(from);
            var t = TelemetryTime.ToUnixNanoseconds(to);
            if (recorder.CountRange(line, f, t, signals) == 0)
            {
                var span = recorder.GetLineSpan(line);
                Console.Error.WriteLine(span is { } s
                    ? $"error: no samples of line '{line}' from {from:O} to {to:O}; {db} holds {s.Count} samples of it from {TelemetryTime.FromUnixNanoseconds(s.First):O} to {TelemetryTime.FromUnixNanoseconds(s.Last):O}"
                    : $"error: {db} holds no samples of line '{line}' (lines: {string.Join(", ", recorder.Series.Select(x => x.LineId).Distinct())})");
                return 1;
            }

            var rows = recorder.Export(line, f, t, output, signals);
            Console.Error.WriteLine($"wrote {rows} samples of {line} to {Path.GetFullPath(output)}");
            return 0;
        }
        catch (TelemetryStoreException ex)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return 2;
        }
    }

    private static long Ns(Timestamp? t) => t is null ? 0 : (t.Seconds * 1_000_000_000L) + t.Nanos;

    private static Command Status()
    {
        var command = new Command("status", "The flight recorder's and the InfluxDB forwarder's state: counts, backlog, lag, errors");
        command.Options.Add(Server);
        command.Options.Add(GatewayCalls.Token);
        command.Options.Add(s_json);
        command.SetAction((parse, ct) => GatewayCalls.Guard(parse, parse.GetValue(Server)!, async channel =>
        {
            var status = await new TelemetryService.TelemetryServiceClient(channel).GetTelemetryStatusAsync(new GetTelemetryStatusRequest(), cancellationToken: ct).ConfigureAwait(false);
            if (parse.GetValue(s_json))
            {
                Console.WriteLine(Google.Protobuf.JsonFormatter.Default.Format(status));
                return 0;
            }

            var r = status.Recorder;
            var f = status.Forwarder;
            var table = new TableWriter("PART", "STATE", "DETAIL");
            table.Add("recorder", r.Healthy ? "healthy" : "failing",
                string.Create(CultureInfo.InvariantCulture, $"{r.LastSeq} samples, {r.Pending} pending, {r.DatabaseBytes / 1048576.0:F1} MB in {r.DatabasePath}") + (r.LastError.Length > 0 ? $"; {r.LastError}" : ""));
            table.Add("influx", f.State,
                f.Enabled
                    ? string.Create(CultureInfo.InvariantCulture, $"{f.Url} bucket {f.Bucket}: backlog {f.Backlog}, lag {f.Lag?.ToTimeSpan().TotalSeconds ?? 0:F1} s, {f.PointsForwarded} forwarded") + (f.LastError.Length > 0 ? $"; {f.LastError}" : "")
                    : "forwarding is off (Telemetry:Influx:Enabled)");
            table.Write(Console.Out);
            return r.Healthy && f.LastError.Length == 0 ? 0 : 1;
        }));
        return command;
    }
}
