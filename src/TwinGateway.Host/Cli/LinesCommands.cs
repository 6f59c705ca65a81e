using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using TwinGateway.Api.V1;

namespace TwinGateway.Host.Cli;

/// <summary><c>twingw lines list|show|watch</c>: the gRPC LineService from the command line. Tables by default, <c>--json</c> for one object per line.</summary>
internal static class LinesCommands
{
    private static readonly Option<string> s_server = new("--server") { Description = "Gateway gRPC URL", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
    private static readonly Option<bool> s_json = new("--json") { Description = "One JSON object per line" };

    public static Command Create()
    {
        var command = new Command("lines", "Lines on a running gateway: list, show, watch");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Show());
        command.Subcommands.Add(Watch());
        return command;
    }

    private static void AddCommon(Command command)
    {
        command.Options.Add(s_server);
        command.Options.Add(s_json);
        command.Options.Add(GatewayCalls.Token);
    }

    private static Task<int> Guard(ParseResult parse, Func<LineService.LineServiceClient, Task<int>> body) =>
        GatewayCalls.Guard(parse, parse.GetValue(s_server)!, channel => body(new LineService.LineServiceClient(channel)));

    private static Command List()
    {
        var command = new Command("list", "List the gateway's lines with their connection state");
        AddCommon(command);
        command.SetAction((parse, ct) => Guard(parse, async client =>
        {
            var response = await client.ListLinesAsync(new ListLinesRequest(), cancellationToken: ct).ConfigureAwait(false);
            if (parse.GetValue(s_json))
            {
                foreach (var line in response.Lines)
                {
                    JsonLine(w =>
                    {
                        w.WriteString("id", line.Id);
                        w.WriteString("name", line.Name);
                        w.WriteString("state", StateName(line.State));
                        w.WriteString("reason", line.Reason);
                        w.WriteNumber("stations", line.StationCount);
                        w.WriteNumber("signals", line.SignalCount);
                        w.WriteNumber("monitored", line.MonitoredSignals);
                        w.WriteString("health", line.Health);
                        w.WriteString("healthReason", line.HealthReason);
                    });
                }

                foreach (var problem in response.FileProblems)
                {
                    JsonLine(w => w.WriteString("fileProblem", problem));
                }
            }
            else
            {
                var table = new TableWriter("LINE", "NAME", "STATE", "STATIONS", "MONITORED", "HEALTH", "REASON");
                foreach (var line in response.Lines)
                {
                    table.Add(line.Id, line.Name, StateName(line.State), Num(line.StationCount), $"{line.MonitoredSignals}/{line.SignalCount}", line.Health,
                        line.HealthReason.Length > 0 ? line.HealthReason : line.Reason);
                }

                table.Write(Console.Out);
                foreach (var problem in response.FileProblems)
                {
                    Console.WriteLine($"not loaded: {problem}");
                }
            }

            return 0;
        }));
        return command;
    }

    private static Command Show()
    {
        var lineId = new Argument<string>("line") { Description = "Line id" };
        var command = new Command("show", "Show a line: controllers, twin, and every signal's real and expected value") { lineId };
        AddCommon(command);
        command.SetAction((parse, ct) => Guard(parse, async client =>
        {
            var line = await client.GetLineAsync(new GetLineRequest { LineId = parse.GetValue(lineId) }, cancellationToken: ct).ConfigureAwait(false);
            var values = await client.ReadSignalsAsync(new ReadSignalsRequest { LineId = line.Id }, cancellationToken: ct).ConfigureAwait(false);
            if (parse.GetValue(s_json))
            {
                foreach (var c in line.Controllers)
                {
                    JsonLine(w =>
                    {
                        w.WriteString("controller", c.Id);
                        w.WriteString("endpointUrl", c.EndpointUrl);
                        w.WriteString("state", StateName(c.State));
                        w.WriteString("reason", c.Reason);
                        w.WriteNumber("monitoredSignals", c.MonitoredSignals);
                        w.WriteNumber("problems", c.Problems.Count);
                    });
                }

                JsonLine(w =>
                {
                    w.WriteString("twinLoop", line.TwinLoop.State);
                    w.WriteString("reason", line.TwinLoop.Reason);
                    w.WriteNumber("restarts", line.TwinLoop.Restarts);
                    w.WriteString("health", line.Health);
                    w.WriteString("healthReason", line.HealthReason);
                });
                foreach (var sink in line.Sinks)
                {
                    JsonLine(w =>
                    {
                        w.WriteString("sink", sink.Name);
                        w.WriteString("overflow", sink.Overflow);
                        w.WriteString("state", sink.Component.State);
                        w.WriteString("reason", sink.Component.Reason);
                        w.WriteNumber("restarts", sink.Component.Restarts);
                        w.WriteNumber("received", sink.Received);
                        w.WriteNumber("written", sink.Written);
                        w.WriteNumber("dropped", sink.Dropped);
                        w.WriteNumber("queuedBatches", sink.QueuedBatches);
                        w.WriteBoolean("behind", sink.Behind);
                        w.WriteString("problem", sink.Problem);
                    });
                }

                JsonLine(w =>
                {
                    w.WriteString("sink", "live-watchers");
                    w.WriteString("overflow", "drop-oldest");
                    w.WriteNumber("watchers", line.Watchers.Count);
                    w.WriteNumber("delivered", line.Watchers.Delivered);
                    w.WriteNumber("dropped", line.Watchers.Dropped);
                });

                foreach (var v in values.Values)
                {
                    JsonLine(w => WriteValue(w, line.Id, v));
                }

                return 0;
            }

            Console.WriteLine($"{line.Id}: {line.Name}  (twin {line.Twin.Mode}, {line.Twin.Steps} steps, seed {line.Twin.Seed})");
            var controllers = new TableWriter("CONTROLLER", "ENDPOINT", "STATE", "SINCE", "SIGNALS", "REASON");
            foreach (var c in line.Controllers)
            {
                controllers.Add(c.Id, c.EndpointUrl, StateName(c.State), c.Since?.ToDateTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture), Num(c.MonitoredSignals), c.Reason);
            }

            controllers.Write(Console.Out);
            foreach (var p in line.Controllers.SelectMany(c => c.Problems))
            {
                Console.WriteLine($"  problem: {p.SignalId} ({p.NodeId}): {p.Reason}");
            }

            Console.WriteLine();
            Console.WriteLine($"health: {line.Health}{(line.HealthReason.Length > 0 ? " (" + line.HealthReason + ")" : "")}");
            Console.WriteLine($"twin loop: {line.TwinLoop.State}{(line.TwinLoop.Restarts > 0 ? $", {line.TwinLoop.Restarts} restart(s)" : "")}{(line.TwinLoop.State == "failed" ? ": " + line.TwinLoop.Reason : "")}");
            var sinks = new TableWriter("SINK", "OVERFLOW", "STATE", "RECEIVED", "WRITTEN", "DROPPED", "QUEUED", "RESTARTS", "REASON");
            foreach (var sink in line.Sinks)
            {
                sinks.Add(sink.Name, sink.Overflow, sink.Component.State, Count(sink.Received), Count(sink.Written), Count(sink.Dropped),
                    $"{sink.QueuedBatches}/{sink.Capacity}", Count(sink.Component.Restarts), sink.Component.State == "failed" ? sink.Component.Reason : sink.Problem);
            }

            sinks.Add("live-watchers", "drop-oldest", $"{line.Watchers.Count} watching", "", Count(line.Watchers.Delivered), Count(line.Watchers.Dropped), "", "", "");
            sinks.Write(Console.Out);
            Console.WriteLine();
            var table = new TableWriter("SIGNAL", "REAL", "EXPECTED", "UNIT", "STATUS", "SOURCE TIME");
            foreach (var v in values.Values)
            {
                table.Add(v.SignalId, v.HasReal ? Num(v.Real) : "", v.HasExpected ? Num(v.Expected) : "", v.Unit, v.Status,
                    v.SourceTime?.ToDateTime().ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture));
            }

            table.Write(Console.Out);
            return 0;
        }));
        return command;
    }

    private static Command Watch()
    {
        var lineId = new Argument<string>("line") { Description = "Line id" };
        var signals = new Option<string[]>("--signal") { Description = "Signal ids to watch (all when omitted)" };
        var count = new Option<int?>("--count") { Description = "Stop after this many updates" };
        var command = new Command("watch", "Stream a line's signal values (real and expected) as they change") { lineId, signals, count };
        AddCommon(command);
        command.SetAction((parse, ct) => Guard(parse, async client =>
        {
            var request = new WatchSignalsRequest { LineId = parse.GetValue(lineId) };
            request.SignalIds.AddRange(parse.GetValue(signals) ?? []);
            using var call = client.WatchSignals(request, cancellationToken: ct);
            var json = parse.GetValue(s_json);
            var limit = parse.GetValue(count);
            var n = 0;
            try
            {
                await foreach (var update in call.ResponseStream.ReadAllAsync(ct).ConfigureAwait(false))
                {
                    var v = update.Value;
                    if (json)
                    {
                        JsonLine(w => WriteValue(w, update.LineId, v));
                    }
                    else
                    {
                        Console.WriteLine($"{v.SourceTime?.ToDateTime().ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture),-12}  {v.SignalId,-36}  real {(v.HasReal ? Num(v.Real) : "-"),-14}  expected {(v.HasExpected ? Num(v.Expected) : "-"),-14}  {v.Unit}  {v.Status}");
                    }

                    if (limit is { } l && ++n >= l)
                    {
                        return 0;
                    }
                }
            }
            catch (RpcException ex) when (ex.StatusCode == Grpc.Core.StatusCode.Cancelled)
            {
                // Ctrl+C.
            }

            return 0;
        }));
        return command;
    }

    private static void WriteValue(Utf8JsonWriter w, string lineId, SignalValue v)
    {
        w.WriteString("line", lineId);
        w.WriteString("signal", v.SignalId);
        if (v.HasReal)
        {
            w.WriteNumber("real", v.Real);
        }
        else
        {
            w.WriteNull("real");
        }

        if (v.HasExpected)
        {
            w.WriteNumber("expected", v.Expected);
        }
        else
        {
            w.WriteNull("expected");
        }

        w.WriteString("unit", v.Unit);
        w.WriteString("status", v.Status);
        w.WriteString("sourceTimestamp", v.SourceTime?.ToDateTime().ToString("O", CultureInfo.InvariantCulture));
    }

    private static string StateName(ConnectionState state) => state switch
    {
        ConnectionState.Connected => "connected",
        ConnectionState.Connecting => "connecting",
        ConnectionState.Reconnecting => "reconnecting",
        ConnectionState.Failed => "failed",
        _ => "unknown",
    };

    private static string Num(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    private static string Count(long value) => value.ToString(CultureInfo.InvariantCulture);

    internal static void JsonLine(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }

        Console.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }
}
