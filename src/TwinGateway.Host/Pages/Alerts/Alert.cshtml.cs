using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TwinGateway.Core.Alerts;
using TwinGateway.Drift.Alerts;
using TwinGateway.Host.Drift;
using TwinGateway.Host.Web;

namespace TwinGateway.Host.Pages.Alerts;

/// <summary>
/// One drift alert: its facts, contributors, notes and the contributing signals' plot around the onset; the
/// acknowledge and resolve forms of both alert pages post here (then go back where they came from).
/// </summary>
[ForRpc("AlertService/ListAlerts")]
internal sealed class AlertModel(DriftRuntime drift) : PageModel
{
    public long Id { get; private set; }

    public DriftAlert? Alert { get; private set; }

    public string? Error { get; private set; }

    public bool CanAcknowledge { get; private set; }

    public bool CanResolve { get; private set; }

    public TimeSpan PlotMargin => drift.Engine.Rules.PlotMargin;

    public IActionResult OnGet(long id)
    {
        Id = id;
        if (!Load(id))
        {
            return Page();
        }

        CanAcknowledge = WebAccess.Allows(User, "AlertService/AcknowledgeAlert");
        CanResolve = WebAccess.Allows(User, "AlertService/ResolveAlert");
        return Page();
    }

    /// <summary>The alert's row of the alerts table, for the script to insert or replace (forms with their antiforgery token).</summary>
    public IActionResult OnGetRow(long id, string? returnUrl)
    {
        DriftAlert? alert;
        try
        {
            alert = drift.Alerts.Get(id);
        }
        catch (AlertStoreException ex)
        {
            return StatusCode(Microsoft.AspNetCore.Http.StatusCodes.Status503ServiceUnavailable, ex.Message);
        }

        if (alert is null)
        {
            return NotFound();
        }

        return Partial("_AlertRow", new AlertRowView(alert, WebAccess.Allows(User, "AlertService/AcknowledgeAlert"),
            WebAccess.Allows(User, "AlertService/ResolveAlert"), Url.IsLocalUrl(returnUrl) ? returnUrl : "/alerts"));
    }

    [ForRpc("AlertService/AcknowledgeAlert")]
    public IActionResult OnPostAcknowledge(long id, string? note, string? returnUrl) =>
        Act(id, returnUrl, "acknowledged", user => drift.AcknowledgeAlert(id, user, Note(note)));

    [ForRpc("AlertService/ResolveAlert")]
    public IActionResult OnPostResolve(long id, string? note, string? returnUrl) =>
        Act(id, returnUrl, "resolved", user => drift.ResolveAlert(id, user, Note(note)));

    /// <summary>Post-Redirect-Get: the outcome (or the domain's refusal, in its words) travels in TempData to the page it goes back to.</summary>
    private IActionResult Act(long id, string? returnUrl, string done, Func<string, DriftAlert> act)
    {
        var user = WebAccess.User(User)?.Name;
        if (user is null)
        {
            return Challenge();
        }

        try
        {
            act(user);
            TempData["AlertNotice"] = $"Alert {id} {done}.";
        }
        catch (Exception ex) when (ex is KeyNotFoundException or AlertActionException or AlertStoreException)
        {
            TempData["AlertError"] = char.ToUpperInvariant(ex.Message[0]) + ex.Message[1..] + ".";
        }

        return LocalRedirect(Url.IsLocalUrl(returnUrl) ? returnUrl : $"/alerts/{id}");
    }

    private static string? Note(string? note) => string.IsNullOrWhiteSpace(note) ? null : note.Trim();

    private bool Load(long id)
    {
        try
        {
            Alert = drift.Alerts.Get(id);
        }
        catch (AlertStoreException ex)
        {
            Error = ex.Message;
            Response.StatusCode = Microsoft.AspNetCore.Http.StatusCodes.Status503ServiceUnavailable;
            return false;
        }

        if (Alert is null)
        {
            Response.StatusCode = Microsoft.AspNetCore.Http.StatusCodes.Status404NotFound;
            return false;
        }

        return true;
    }
}
