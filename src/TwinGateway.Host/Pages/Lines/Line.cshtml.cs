using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TwinGateway.Core.Lines;
using TwinGateway.Core.Twins;
using TwinGateway.Gateway;
using TwinGateway.Gateway.Health;
using TwinGateway.Host.Drift;
using TwinGateway.Host.Web;

namespace TwinGateway.Host.Pages.Lines;

/// <summary>
/// One line: its station diagram along the part flow with live states, and live plots of chosen signals (real,
/// expected, tolerance band) and of the drift score, which zoom into the recorded past. The URL carries the plots
/// (<c>?signals=a,b</c>) and a past range (<c>&amp;from=ISO&amp;to=ISO</c>, the form drift alerts link to).
/// </summary>
[ForRpc("LineService/GetLine")]
internal sealed class LineModel(LineRegistry registry, DriftRuntime drift) : PageModel
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    public LineRuntime? Line { get; private set; }

    public IReadOnlyList<string> KnownLines { get; private set; } = [];

    public LineDiagram? Diagram { get; private set; }

    public IReadOnlyList<StationRow> Stations { get; private set; } = [];

    /// <summary>The signals a plot can draw, by station (line-wide signals under "line").</summary>
    public IReadOnlyList<IGrouping<string, SignalDefinition>> Picker { get; private set; } = [];

    public IReadOnlyList<SignalDefinition> Plotted { get; private set; } = [];

    /// <summary>Signal ids of the URL that the line does not have or cannot plot, to say so.</summary>
    public IReadOnlyList<string> Ignored { get; private set; } = [];

    /// <summary>Every signal of the line with its value now, for the live table (updated by <c>/live/lines/{id}/values</c>).</summary>
    public IReadOnlyList<SignalRow> AllSignals { get; private set; } = [];

    public string? From { get; private set; }

    public string? To { get; private set; }

    public string? RangeProblem { get; private set; }

    public bool HasDrift { get; private set; }

    public LineHealthReport? Health { get; private set; }

    /// <summary>What the script needs, as a JSON data block (not a script): every plottable signal's unit, range and tolerance.</summary>
    public string SignalsJson { get; private set; } = "[]";

    public IActionResult OnGet(string id, string? signals, string? from, string? to, string? add)
    {
        if (!registry.TryGet(id, out var line))
        {
            KnownLines = [.. registry.Lines.Select(l => l.Id).Order(StringComparer.Ordinal)];
            Response.StatusCode = Microsoft.AspNetCore.Http.StatusCodes.Status404NotFound;
            return Page();
        }

        Line = line;
        var definition = line.Definition;
        var plottable = definition.Signals.Where(LineSignals.IsPlottable).ToArray();
        var requested = signals is null
            ? [.. LineSignals.Defaults(definition)]
            : signals.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToList();
        if (!string.IsNullOrWhiteSpace(add))
        {
            // The picker without the script: add the signal and come back to the page's own URL.
            if (!requested.Contains(add, StringComparer.Ordinal))
            {
                requested.Add(add);
            }

            return Redirect(PageUrl(line.Id, requested.Take(LineSignals.MaxPlots), from, to));
        }

        Plotted = [.. requested.Select(definition.FindSignal).OfType<SignalDefinition>().Where(LineSignals.IsPlottable).Take(LineSignals.MaxPlots)];
        Ignored = [.. requested.Where(r => !Plotted.Any(p => p.Id == r))];
        if (!string.IsNullOrWhiteSpace(from) || !string.IsNullOrWhiteSpace(to))
        {
            if (TryIso(from, out var f) && TryIso(to, out var t) && t > f)
            {
                From = f.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
                To = t.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
            }
            else
            {
                RangeProblem = $"The range in the address (from={from}, to={to}) is not two ISO 8601 times with 'to' after 'from'; showing live values.";
            }
        }

        Picker = [.. plottable.GroupBy(s => s.StationId ?? "line")];
        Diagram = LineDiagram.Of(definition);
        Stations = [.. definition.Stations.Select(s =>
        {
            var code = LineSignals.StateCode(definition, s.Id);
            var snapshot = code is not null && line.TryGetSignal(code.Id, out var state) ? state.Snapshot : null;
            return new StationRow(s, code?.Id, LineSignals.StateName(snapshot?.Real), LineSignals.StateName(snapshot?.Expected));
        })];
        AllSignals = [.. definition.Signals.Select((s, i) => new SignalRow(i, s,
            line.TryGetSignal(s.Id, out var state) ? state.Snapshot : null,
            SignalComparison.IsComparable(s) ? SignalComparison.Tolerance(s) : null,
            LineSignals.IsPlottable(s) && !Plotted.Contains(s) ? PageUrl(line.Id, Plotted.Select(p => p.Id).Append(s.Id).Take(LineSignals.MaxPlots), From, To) : null))];
        HasDrift = drift.Monitor.Get(line.Id) is not null;
        Health = LineHealthReport.Of(line);
        SignalsJson = JsonSerializer.Serialize(plottable.Select(s => new
        {
            s.Id,
            Name = s.Name,
            Station = s.StationId ?? "line",
            s.Unit,
            Tolerance = SignalComparison.Tolerance(s),
            Low = s.NominalRange?.Low,
            High = s.NominalRange?.High,
        }), s_json);
        return Page();
    }

    public string StateOf(string stationId) => Stations.FirstOrDefault(s => s.Station.Id == stationId)?.Real ?? "unknown";

    private static string PageUrl(string line, IEnumerable<string> signals, string? from, string? to)
    {
        var url = $"/lines/{Uri.EscapeDataString(line)}?signals={string.Join(',', signals.Select(Uri.EscapeDataString))}";
        if (!string.IsNullOrWhiteSpace(from) && !string.IsNullOrWhiteSpace(to))
        {
            url += $"&from={Uri.EscapeDataString(from)}&to={Uri.EscapeDataString(to)}";
        }

        return url;
    }

    private static bool TryIso(string? text, out DateTimeOffset time) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);
}

/// <summary>A row of the all-signals table: the signal's position in the definition (the live stream's key), its value now, its tolerance when the twin's value can be compared, and the link that adds its plot.</summary>
internal sealed record SignalRow(int Index, SignalDefinition Signal, SignalSnapshot? Now, double? Tolerance, string? PlotUrl)
{
    public static string Number(double? value) => value is { } v && double.IsFinite(v) ? v.ToString("G5", CultureInfo.InvariantCulture) : "";

    /// <summary>|real - expected| as a multiple of the tolerance ("0.42x"); empty when either is missing or the signal is not compared.</summary>
    public string Deviation => Tolerance is > 0 && Now is { Real: { } r, Expected: { } e } ? (Math.Abs(r - e) / Tolerance.Value).ToString("0.00", CultureInfo.InvariantCulture) + "\u00d7" : "";

    public bool OutOfTolerance => Tolerance is > 0 && Now is { Real: { } r, Expected: { } e } && Math.Abs(r - e) > Tolerance.Value;
}

/// <summary>A station's row in the plain list beside the diagram.</summary>
internal sealed record StationRow(StationDefinition Station, string? StateSignal, string Real, string Twin);
