using System.Globalization;
using Microsoft.AspNetCore.Http;
using TwinGateway.Core.Lines;
using TwinGateway.Core.Twins;
using TwinGateway.Gateway;
using TwinGateway.Host.Drift;
using TwinGateway.Telemetry;
using TwinGateway.Telemetry.Recording;

namespace TwinGateway.Host.Web;

/// <summary>The console's live (server-sent events) and data endpoints of one area; each declares its RPC with RequireRpc.</summary>
internal static class LineLiveEndpoints
{
    /// <summary>Buckets a history query may ask for: a plot is at most a few thousand pixels wide.</summary>
    private const int MaxPoints = 5000;

    private const int DefaultPoints = 600;

    public static void Map(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/live/lines/{id}/signals", Signals).RequireRpc("LineService/WatchSignals");
        app.MapGet("/live/lines/{id}/values", Values).RequireRpc("LineService/ReadSignals");
        app.MapGet("/live/lines/{id}/drift", Drift).RequireRpc("DriftService/GetDriftStatus");
        app.MapGet("/data/lines/{id}/history", History).RequireRpc("TelemetryService/QueryRange");
    }

    private static IResult Signals(string id, string? ids, LineRegistry registry, TimeProvider time, ILoggerFactory loggers)
    {
        if (!registry.TryGet(id, out var line))
        {
            return UnknownLine(registry, id);
        }

        var (signals, problem) = ParseSignals(line, ids, "ids");
        return problem is not null ? BadRequest(problem) : new LineSignalStream(line, signals, time, loggers.CreateLogger("TwinGateway.Host.Web.Lines"));
    }

    private static IResult Values(string id, LineRegistry registry, TimeProvider time, ILoggerFactory loggers) =>
        registry.TryGet(id, out var line)
            ? new LineValuesStream(line, time, loggers.CreateLogger("TwinGateway.Host.Web.Lines"))
            : UnknownLine(registry, id);

    private static IResult Drift(string id, LineRegistry registry, DriftRuntime drift, ILoggerFactory loggers)
    {
        if (!registry.TryGet(id, out _))
        {
            return UnknownLine(registry, id);
        }

        return drift.Monitor.Get(id) is { } monitor
            ? new LineDriftStream(monitor, drift.Engine.Rules.Threshold, loggers.CreateLogger("TwinGateway.Host.Web.Lines"))
            : Results.Text($"line '{id}' has no drift monitor (drift detection is off: Drift:Enabled)", "text/plain; charset=utf-8", statusCode: Microsoft.AspNetCore.Http.StatusCodes.Status404NotFound);
    }

    /// <summary>
    /// <c>GET /data/lines/{id}/history?signals=a,b&amp;from=ISO&amp;to=ISO&amp;points=N</c>: the recorded range downsampled
    /// to N buckets (a plot's pixel width): per signal the bucket start times (Unix ms) and per bucket min, max, mean and
    /// mean expected value (null where the bucket had none).
    /// </summary>
    private static IResult History(string id, string? signals, string? from, string? to, string? points, LineRegistry registry, TelemetryRecorder recorder)
    {
        if (!registry.TryGet(id, out var line))
        {
            return UnknownLine(registry, id);
        }

        var (wanted, problem) = ParseSignals(line, signals, "signals");
        if (problem is not null)
        {
            return BadRequest(problem);
        }

        if (!TryTime(from, "from", out var start, out problem) || !TryTime(to, "to", out var end, out problem))
        {
            return BadRequest(problem!);
        }

        if (end <= start)
        {
            return BadRequest($"to ({to}) must be after from ({from})");
        }

        var count = DefaultPoints;
        if (!string.IsNullOrEmpty(points) && (!int.TryParse(points, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count < 1 || count > MaxPoints))
        {
            return BadRequest($"points ({points}) must be a whole number from 1 to {MaxPoints} (the plot's width in pixels)");
        }

        var fromNs = TelemetryTime.ToUnixNanoseconds(start);
        var toNs = TelemetryTime.ToUnixNanoseconds(end);
        var bucket = Math.Max(1, (toNs - fromNs) / count);
        IReadOnlyList<AggregateBucket> buckets;
        try
        {
            buckets = recorder.Aggregate(line.Id, fromNs, toNs, bucket, [.. wanted.Select(s => s.Id)]);
        }
        catch (TelemetryStoreException ex)
        {
            return Results.Text(ex.Message, "text/plain; charset=utf-8", statusCode: Microsoft.AspNetCore.Http.StatusCodes.Status503ServiceUnavailable);
        }

        var bySignal = buckets.ToLookup(b => b.Series.SignalId, StringComparer.Ordinal);
        var series = wanted.Select(s =>
        {
            var rows = bySignal[s.Id].OrderBy(b => b.Start).ToArray();
            return new HistorySeries(s.Id, s.Unit, SignalComparison.Tolerance(s),
                [.. rows.Select(b => b.Start / 1_000_000)],
                [.. rows.Select(b => Finite(b.Min))],
                [.. rows.Select(b => Finite(b.Max))],
                [.. rows.Select(b => Finite(b.Mean))],
                [.. rows.Select(b => Finite(b.MeanExpected))]);
        }).ToArray();
        return TypedResults.Json(new HistoryResponse(line.Id, start, end, bucket / 1_000_000.0, series));
    }

    private static double? Finite(double? value) => value is { } v && double.IsFinite(v) ? v : null;

    /// <summary>Comma-separated signal ids of the line: each known and plottable, at most <see cref="LineSignals.MaxPlots"/>.</summary>
    private static (SignalDefinition[] Signals, string? Problem) ParseSignals(LineRuntime line, string? text, string parameter)
    {
        var ids = (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToArray();
        if (ids.Length == 0)
        {
            return ([], $"{parameter} is empty: name one or more signals of line '{line.Id}', comma-separated ({parameter}=a,b)");
        }

        if (ids.Length > LineSignals.MaxPlots)
        {
            return ([], $"{parameter} names {ids.Length} signals; at most {LineSignals.MaxPlots} at once");
        }

        var result = new SignalDefinition[ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            if (!line.TryGetSignal(ids[i], out var signal))
            {
                return ([], $"{parameter}: line '{line.Id}' has no signal '{ids[i]}'");
            }

            if (!LineSignals.IsPlottable(signal.Definition))
            {
                return ([], $"{parameter}: signal '{ids[i]}' is a {signal.Definition.DataType}, which has no plot (numbers and Booleans do)");
            }

            result[i] = signal.Definition;
        }

        return (result, null);
    }

    private static bool TryTime(string? text, string parameter, out DateTimeOffset time, out string? problem)
    {
        problem = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            time = default;
            problem = $"{parameter} is missing: an ISO 8601 time such as 2026-12-03T15:20:00Z";
            return false;
        }

        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time))
        {
            problem = $"{parameter} ({text}) is not an ISO 8601 time such as 2026-12-03T15:20:00Z";
            return false;
        }

        return true;
    }

    private static IResult BadRequest(string message) =>
        Results.Text(message, "text/plain; charset=utf-8", statusCode: Microsoft.AspNetCore.Http.StatusCodes.Status400BadRequest);

    private static IResult UnknownLine(LineRegistry registry, string id) =>
        Results.Text($"no line '{id}' (lines: {string.Join(", ", registry.Lines.Select(l => l.Id).Order(StringComparer.Ordinal))})",
            "text/plain; charset=utf-8", statusCode: Microsoft.AspNetCore.Http.StatusCodes.Status404NotFound);
}

/// <summary>What <c>/data/lines/{id}/history</c> returns.</summary>
internal sealed record HistoryResponse(string Line, DateTimeOffset From, DateTimeOffset To, double BucketMs, IReadOnlyList<HistorySeries> Signals);

/// <summary>One signal's buckets, as columns: start (Unix ms), min, max, mean and mean expected.</summary>
internal sealed record HistorySeries(string Id, string Unit, double Tolerance, long[] T, double?[] Min, double?[] Max, double?[] Mean, double?[] Expected);
