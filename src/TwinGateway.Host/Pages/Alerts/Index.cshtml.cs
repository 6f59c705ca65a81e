using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TwinGateway.Core.Alerts;
using TwinGateway.Drift.Alerts;
using TwinGateway.Gateway;
using TwinGateway.Host.Drift;
using TwinGateway.Host.Web;

namespace TwinGateway.Host.Pages.Alerts;

/// <summary>
/// The drift alerts, newest onset first, filtered by state and line (both in the URL); acknowledged and resolved from
/// the row; rows come and change live (alerts-live.js follows <c>/live/alerts</c>).
/// </summary>
[ForRpc("AlertService/ListAlerts")]
internal sealed class AlertListModel(DriftRuntime drift, LineConfiguration lines) : PageModel
{
    /// <summary>As many as one page shows; older ones are reached by narrowing the filter.</summary>
    public const int Limit = 200;

    [BindProperty(SupportsGet = true)]
    public string? State { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Line { get; set; }

    public IReadOnlyList<AlertRowView> Rows { get; private set; } = [];

    public IReadOnlyList<string> LineIds { get; private set; } = [];

    /// <summary>The state filter as the feed names states ("" for every state).</summary>
    public string StateFilter { get; private set; } = "";

    public string? Error { get; private set; }

    /// <summary>The list as it is now, with its filters: where an action goes back to.</summary>
    public string Self { get; private set; } = "/alerts";

    public string LiveUrl => string.IsNullOrEmpty(Line) ? "/live/alerts" : $"/live/alerts?line={Uri.EscapeDataString(Line)}";

    public IActionResult OnGet()
    {
        LineIds = [.. lines.Lines.Select(l => l.Id).Order(StringComparer.Ordinal)];
        Self = Request.Path + Request.QueryString;
        AlertState? wanted = null;
        if (!string.IsNullOrWhiteSpace(State) && !string.Equals(State, "all", StringComparison.OrdinalIgnoreCase))
        {
            if (!Enum.TryParse<AlertState>(State, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed))
            {
                Error = $"unknown alert state '{State}' (expected open, acknowledged or resolved)";
                Response.StatusCode = Microsoft.AspNetCore.Http.StatusCodes.Status400BadRequest;
                return Page();
            }

            wanted = parsed;
            StateFilter = AlertView.StateText(parsed);
        }

        IReadOnlyList<DriftAlert> alerts;
        try
        {
            alerts = drift.Alerts.List(new AlertFilter(string.IsNullOrWhiteSpace(Line) ? null : Line.Trim(), wanted, null, Limit));
        }
        catch (AlertStoreException ex)
        {
            Error = ex.Message;
            Response.StatusCode = Microsoft.AspNetCore.Http.StatusCodes.Status503ServiceUnavailable;
            return Page();
        }

        var canAcknowledge = WebAccess.Allows(User, "AlertService/AcknowledgeAlert");
        var canResolve = WebAccess.Allows(User, "AlertService/ResolveAlert");
        Rows = [.. alerts.Select(a => new AlertRowView(a, canAcknowledge, canResolve, Self))];
        return Page();
    }
}
