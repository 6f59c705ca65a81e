using System.CommandLine;
using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using TwinGateway.Api.V1;
using TwinGateway.Host.Api;
using TwinGateway.Telemetry.Replay;

namespace TwinGateway.Host.Cli;

/// <summary><c>twingw replay</c>: recorded production into the twin on a running gateway, with a progress bar and a report.</summary>
internal static class ReplayCommand
{
    private static readonly Option<double?> s_speed = new("--speed") { Description = "Replay N times faster than real time" };
    private static readonly Option<bool> s_max = new("--max") { Description = "Replay as fast as possible (the default)" };
    private static readonly Option<string> s_report = new("--report") { Description = "Report file (JSON)", DefaultValueFactory = _ => "replay-report.json" };
    private static readonly Option<string?> s_series = new("--series") { Description = "Plot series file: .csv or .parquet (default: beside the report, .csv)" };
    private static readonly Option<int> s_points = new("--plot-points") { Description = "Buckets per signal in the plot series", DefaultValueFactory = _ => 500 };
    private static readonly Option<ulong> s_seed = new("--seed") { Description = "The twin's seed (default: the gateway's)" };

    public static Command Create()
    {
        var command = new Command("replay", "Replay a line's recorded inputs into the twin and compare its outputs with the recording");
        command.Options.Add(TelemetryCommands.Line);
        command.Options.Add(TelemetryCommands.From);
        command.Options.Add(TelemetryCommands.To);
        command.Options.Add(s_speed);
        command.Options.Add(s_max);
        command.Options.Add(TelemetryCommands.Signals);
        command.Options.Add(s_report);
        command.Options.Add(s_series);
        command.Options.Add(s_points);
        command.Options.Add(s_seed);
        command.Options.Add(TelemetryCommands.Server);
        command.Options.Add(GatewayCalls.Token);
        command.SetAction(RunAsync);
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CancellationToken ct)
    {
        if (TelemetryCommands.ParseRange(parse) is not { } range)
        {
            return 2;
        }

        var speed = parse.GetValue(s_speed);
        if (speed is not null && parse.GetValue(s_max))
        {
            await Console.Error.WriteLineAsync("error: --speed and --max exclude each other").ConfigureAwait(false);
            return 2;
        }

        if (speed is <= 0 || (speed is { } s && !double.IsFinite(s)))
        {
            await Console.Error.WriteLineAsync($"error: --speed {speed} must be a positive number").ConfigureAwait(false);
            return 2;
        }

        var reportPath = parse.GetValue(s_report)!;
        var seriesPath = parse.GetValue(s_series) ?? Path.ChangeExtension(reportPath, null) + "-series.csv";
        var extension = Path.GetExtension(seriesPath).ToLowerInvariant();
        if (extension is not (".csv" or ".parquet"))
        {
            await Console.Error.WriteLineAsync($"error: --series {seriesPath}: the extension '{extension}' names no format; use .csv or .parquet").ConfigureAwait(false);
            return 2;
        }

        var request = new ReplayRequest
        {
            LineId = parse.GetValue(TelemetryCommands.Line)!,
            From = Timestamp.FromDateTimeOffset(range.From),
            To = Timestamp.FromDateTimeOffset(range.To),
            Speed = speed ?? 0,
            PlotPoints = parse.GetValue(s_points),
            Seed = parse.GetValue(s_seed),
        };
        request.SignalIds.AddRange(parse.GetValue(TelemetryCommands.Signals) ?? []);
        return await GatewayCalls.Guard(parse, parse.GetValue(TelemetryCommands.Server)!, async channel =>
        {
            using var call = new ReplayService.ReplayServiceClient(channel).Replay(request, cancellationToken: ct);
            var bar = new ProgressBar(Console.Error);
            TwinGateway.Api.V1.ReplayReport? report = null;
            await foreach (var update in call.ResponseStream.ReadAllAsync(ct).ConfigureAwait(false))
            {
                if (update.Progress is { } progress)
                {
                    bar.Draw(progress);
                }
                else if (update.Report is { } done)
                {
                    report = done;
                }
            }

            bar.Finish();
            if (report is null)
            {
                await Console.Error.WriteLineAsync("error: the gateway ended the replay without a report").ConfigureAwait(false);
                return 1;
            }

            var result = ReplayReports.FromProto(report);
            await ReplayReportWriter.WriteAsync(result, reportPath, seriesPath, ct).ConfigureAwait(false);
            PrintSummary(result);
            await Console.Error.WriteLineAsync($"report: {Path.GetFullPath(reportPath)}, plot series: {Path.GetFullPath(seriesPath)}").ConfigureAwait(false);
            return 0;
        }).ConfigureAwait(false);
    }

    private static void PrintSummary(TwinGateway.Telemetry.Replay.ReplayReport report)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{report.LineId}: {report.SamplesRead} samples ({report.InputsFed} inputs fed, {report.OutputsCompared} outputs compared) in {report.WallSeconds:F2} s, {report.SamplesPerSecond:N0} samples/s"));
        var table = new TableWriter("SIGNAL", "UNIT", "COUNT", "BIAS", "RMS", "MAX", "TOL", "ABOVE TOL");
        foreach (var s in report.Signals.OrderByDescending(s => s.FractionAboveTolerance).ThenByDescending(s => s.Rms))
        {
            table.Add(s.SignalId, s.Unit, s.Count.ToString(CultureInfo.InvariantCulture), G(s.Bias), G(s.Rms), G(s.MaxAbsError), G(s.Tolerance),
                string.Create(CultureInfo.InvariantCulture, $"{s.TimeAboveToleranceSeconds:F1} s ({s.FractionAboveTolerance:P1})"));
        }

        table.Write(Console.Out);
    }

    private static string G(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

    /// <summary>A one-line progress bar on standard error, redrawn in place; plain lines when stderr is not a terminal.</summary>
    private sealed class ProgressBar(TextWriter writer)
    {
        private const int Width = 30;
        private readonly bool _interactive = !Console.IsErrorRedirected;
        private int _lastPercent = -1;

        public void Draw(TwinGateway.Api.V1.ReplayProgress p)
        {
            var percent = (int)Math.Floor(p.Fraction * 100);
            if (!_interactive && percent / 10 == _lastPercent / 10)
            {
                return;
            }

            _lastPercent = percent;
            var filled = (int)Math.Round(p.Fraction * Width);
            var left = p.EstimatedLeft is { } e ? FormatSpan(e.ToTimeSpan()) : "--:--";
            var text = string.Create(CultureInfo.InvariantCulture,
                $"[{new string('#', filled)}{new string('-', Width - filled)}] {percent,3}% {p.SamplesProcessed:N0}/{p.SamplesTotal:N0} samples, {p.SamplesPerSecond:N0}/s, sim {p.SimTime.ToDateTime():HH:mm:ss}, ETA {left}");
            if (_interactive)
            {
                writer.Write("\r" + text);
            }
            else
            {
                writer.WriteLine(text);
            }
        }

        public void Finish()
        {
            if (_interactive && _lastPercent >= 0)
            {
                writer.WriteLine();
            }
        }

        private static string FormatSpan(TimeSpan span) =>
            span.TotalHours >= 1 ? span.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : span.ToString(@"mm\:ss", CultureInfo.InvariantCulture);
    }
}
