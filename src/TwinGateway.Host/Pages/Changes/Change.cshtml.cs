using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TwinGateway.Commissioning.Gate;
using TwinGateway.Commissioning.Validation;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Identity;
using TwinGateway.Gateway;
using TwinGateway.Host.Commissioning;
using TwinGateway.Host.Web;

namespace TwinGateway.Host.Pages.Changes;

/// <summary>
/// <c>/changes/{id}</c>: one change (the web form of <c>GetChange</c>): its operations, validation (criteria, per-seed
/// plots, credibility), approvals and apply steps, followed live; with the approve, reject, validate and apply forms
/// for the roles that may use them. The gate decides: its refusals (four eyes, state) are shown with its message.
/// </summary>
[ForRpc("CommissioningService/GetChange")]
internal sealed class ChangeModel(CommissioningRuntime runtime, ChangeRuns runs, LineRegistry lines) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string Id { get; set; } = "";

    [BindProperty]
    public string? Comment { get; set; }

    [BindProperty]
    public string? Reason { get; set; }

    public ChangeView? View { get; private set; }

    public string Approvals { get; private set; } = "";

    /// <summary>The gate's refusal of the last action, or why the change cannot be shown.</summary>
    public string? Error { get; private set; }

    /// <summary>What the last action did (after its redirect), from <c>?done=</c>.</summary>
    [BindProperty(SupportsGet = true, Name = "done")]
    public string? Done { get; set; }

    public bool CanApprove => WebAccess.Allows(User, "CommissioningService/ApproveChange");

    public bool CanReject => WebAccess.Allows(User, "CommissioningService/RejectChange");

    public bool CanValidate => WebAccess.Allows(User, "CommissioningService/ValidateChange");

    public bool CanApply => WebAccess.Allows(User, "CommissioningService/ApplyChange");

    public async Task<IActionResult> OnGetAsync()
    {
        await LoadAsync().ConfigureAwait(false);
        return Page();
    }

    [ForRpc("CommissioningService/ApproveChange")]
    public Task<IActionResult> OnPostApproveAsync() =>
        ActAsync("approved", async (gate, user) => await gate.ApproveAsync(Id, user, Comment, HttpContext.RequestAborted).ConfigureAwait(false));

    [ForRpc("CommissioningService/RejectChange")]
    public Task<IActionResult> OnPostRejectAsync() =>
        ActAsync("rejected", async (gate, user) => await gate.RejectAsync(Id, user, Reason, HttpContext.RequestAborted).ConfigureAwait(false));

    [ForRpc("CommissioningService/ValidateChange")]
    public Task<IActionResult> OnPostValidateAsync() =>
        ActAsync("validating", (_, user) => runs.StartValidationAsync(Id, user, HttpContext.RequestAborted));

    [ForRpc("CommissioningService/ApplyChange")]
    public Task<IActionResult> OnPostApplyAsync() =>
        ActAsync("applying", (_, user) => runs.StartApplyAsync(Id, user, HttpContext.RequestAborted));

    /// <summary>
    /// An SVG of one criterion's per-seed values: baseline as hollow circles, candidate as filled squares (shape, not
    /// only colour, tells them apart), on a shared scale; the table beside it gives the same numbers.
    /// </summary>
    public static string Plot(CriterionResult c)
    {
        ArgumentNullException.ThrowIfNull(c);
        const int Width = 320, Height = 130, Pad = 8, Label = 16;
        var values = c.Baseline.Concat(c.Candidate).Where(double.IsFinite).ToList();
        if (values.Count == 0)
        {
            return "";
        }

        var lowest = values.Min();
        var highest = values.Max();
        var min = lowest;
        var max = highest;
        if (max - min < 1e-12)
        {
            min -= 1;
            max += 1;
        }

        var n = Math.Max(c.Baseline.Length, c.Candidate.Length);
        // Baseline left of the seed's x, candidate right of it: equal values (common random numbers) stay both visible.
        double X(int i) => n <= 1 ? Width / 2.0 : (2 * Pad) + (i * (Width - (4.0 * Pad)) / (n - 1));
        double Y(double v) => Height - Label - Pad - ((v - min) / (max - min) * (Height - (2.0 * Label) - (2.0 * Pad)));
        var svg = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        svg.Append(inv, $"<svg class=\"seed-plot\" viewBox=\"0 0 {Width} {Height}\" width=\"{Width}\" height=\"{Height}\" role=\"img\" aria-label=\"{Encode(c.Kind)} per seed: baseline mean {ChangeFacts.Number(c.BaselineMean)}, candidate mean {ChangeFacts.Number(c.CandidateMean)}\">");
        svg.Append(inv, $"<line class=\"axis\" x1=\"{Pad}\" y1=\"{Height - Label}\" x2=\"{Width - Pad}\" y2=\"{Height - Label}\"/>");
        for (var i = 0; i < c.Baseline.Length; i++)
        {
            if (double.IsFinite(c.Baseline[i]))
            {
                svg.Append(inv, $"<circle class=\"baseline\" cx=\"{X(i) - 4:F1}\" cy=\"{Y(c.Baseline[i]):F1}\" r=\"4\"><title>seed {i + 1} baseline {ChangeFacts.Number(c.Baseline[i])}</title></circle>");
            }
        }

        for (var i = 0; i < c.Candidate.Length; i++)
        {
            if (double.IsFinite(c.Candidate[i]))
            {
                svg.Append(inv, $"<rect class=\"candidate\" x=\"{X(i) + 0.5:F1}\" y=\"{Y(c.Candidate[i]) - 3.5:F1}\" width=\"7\" height=\"7\"><title>seed {i + 1} candidate {ChangeFacts.Number(c.Candidate[i])}</title></rect>");
            }
        }

        svg.Append(inv, $"<text x=\"{Pad}\" y=\"11\" class=\"tick\">highest {ChangeFacts.Number(highest)}</text><text x=\"{Pad}\" y=\"{Height - 3}\" class=\"tick\">lowest {ChangeFacts.Number(lowest)}</text>");
        svg.Append("</svg>");
        return svg.ToString();
    }

    public static string OperationTarget(ChangeOperation operation) => operation switch
    {
        SetOperation set => set.SignalId,
        CallOperation call => $"{call.ObjectId}.{call.MethodId}{(call.ControllerId is null ? "" : $" on {call.ControllerId}")}",
        PoseOperation pose => $"{pose.RobotId} {pose.Position}",
        DefinitionOperation definition => definition.Path,
        _ => "",
    };

    public static string OperationValue(ChangeOperation operation) => operation switch
    {
        SetOperation set => set.Value.ToString(),
        CallOperation call => $"({string.Join(", ", call.Arguments.Select(a => a.ToString()))})",
        PoseOperation pose => $"joints [{string.Join(", ", pose.Joints.Select(j => ChangeFacts.Number(j)))}]",
        DefinitionOperation definition => definition.Definition is { } d ? $"line definition '{d.Id}' ({d.Signals.Length} signals)" : "line definition",
        _ => "",
    };

    private static string Encode(string text) => System.Net.WebUtility.HtmlEncode(text);

    private async Task<IActionResult> ActAsync(string done, Func<CommissioningGate, UserIdentity, Task> action)
    {
        var user = WebAccess.User(User);
        if (user is null)
        {
            return Challenge();
        }

        var gate = await runtime.GetGateAsync(HttpContext.RequestAborted).ConfigureAwait(false);
        try
        {
            await action(gate, user).ConfigureAwait(false);
        }
        catch (ChangeRefusedException ex)
        {
            Error = ex.Message;
            Response.StatusCode = ex.Kind switch
            {
                RefusalKind.NotFound => Microsoft.AspNetCore.Http.StatusCodes.Status404NotFound,
                RefusalKind.NotAllowed => Microsoft.AspNetCore.Http.StatusCodes.Status403Forbidden,
                RefusalKind.Invalid => Microsoft.AspNetCore.Http.StatusCodes.Status400BadRequest,
                _ => Microsoft.AspNetCore.Http.StatusCodes.Status409Conflict,
            };
            await LoadAsync().ConfigureAwait(false);
            return Page();
        }

        return RedirectToPage(new { id = Id, done });
    }

    private async Task LoadAsync()
    {
        var gate = await runtime.GetGateAsync(HttpContext.RequestAborted).ConfigureAwait(false);
        try
        {
            View = await gate.GetAsync(Id, HttpContext.RequestAborted).ConfigureAwait(false);
            Approvals = ChangeFacts.Approvals(View, gate, lines);
        }
        catch (ChangeRefusedException ex)
        {
            Error ??= ex.Message;
            if (Response.StatusCode < 400)
            {
                Response.StatusCode = Microsoft.AspNetCore.Http.StatusCodes.Status404NotFound;
            }
        }
    }
}
