using Microsoft.AspNetCore.Mvc.RazorPages;
using TwinGateway.Core.Alerts;
using TwinGateway.Drift.Alerts;
using TwinGateway.Gateway;
using TwinGateway.Gateway.Health;
using TwinGateway.Host.Drift;
using TwinGateway.Host.Web;
using TwinGateway.Telemetry.Recording;

namespace TwinGateway.Host.Pages.Lines;

/// <summary>Every line: connection, health, controllers, twin, open drift alerts, throughput real vs twin; and line files that did not load.</summary>
[ForRpc("LineService/ListLines")]
internal sealed class IndexModel(LineRegistry registry, DriftRuntime drift, TelemetryRecorder recorder, TimeProvider time) : PageModel
{
    public IReadOnlyList<LineRow> Lines { get; private set; } = [];

    public IReadOnlyList<string> FileProblems { get; private set; } = [];

    public void OnGet()
    {
        var now = time.GetUtcNow();
        Lines = [.. registry.Lines.OrderBy(l => l.Id, StringComparer.Ordinal).Select(line =>
        {
            var summary = line.Summary;
            var health = LineHealthReport.Of(line);
            var open = drift.Alerts.List(new AlertFilter(line.Id, AlertState.Open, Limit: 1000)).Count;
            return new LineRow(line.Id, line.Definition.Name, summary.State, summary.State == LinkState.Connected ? "" : summary.Reason,
                health.Status.ToString().ToLowerInvariant(), health.Reason, line.Links, open, LineThroughput.Of(line, recorder, now));
        })];
        FileProblems = [.. registry.FileProblems.Select(p => p.ToString())];
    }
}

/// <summary>One row of the Lines table.</summary>
internal sealed record LineRow(string Id, string Name, LinkState State, string Reason, string Health, string HealthReason,
    IReadOnlyList<LinkStatus> Controllers, int OpenAlerts, LineThroughput Throughput)
{
    public static string Badge(LinkState state) => state switch
    {
        LinkState.Connected => "ok",
        LinkState.Failed => "bad",
        _ => "warn",
    };

    public static string HealthBadge(string health) => health switch
    {
        "healthy" => "ok",
        "unhealthy" => "bad",
        _ => "warn",
    };
}
