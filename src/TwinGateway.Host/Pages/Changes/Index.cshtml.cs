using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TwinGateway.Commissioning.Gate;
using TwinGateway.Core.Changes;
using TwinGateway.Gateway;
using TwinGateway.Host.Commissioning;
using TwinGateway.Host.Web;

namespace TwinGateway.Host.Pages.Changes;

/// <summary><c>/changes</c>: the change requests, newest first, filtered by <c>?state=</c> and <c>?line=</c> (the web form of <c>ListChanges</c>).</summary>
[ForRpc("CommissioningService/ListChanges")]
internal sealed class IndexModel(CommissioningRuntime runtime, LineRegistry lines) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "state")]
    public string? State { get; set; }

    [BindProperty(SupportsGet = true, Name = "line")]
    public string? Line { get; set; }

    public IReadOnlyList<(ChangeView View, string Approvals)> Changes { get; private set; } = [];

    public IReadOnlyList<string> LineIds { get; private set; } = [];

    public string? Error { get; private set; }

    public async Task OnGetAsync()
    {
        LineIds = [.. lines.Lines.Select(l => l.Id).Order(StringComparer.Ordinal)];
        State = string.IsNullOrEmpty(State) ? null : State;
        Line = string.IsNullOrEmpty(Line) ? null : Line;
        ChangeState[] states = [];
        if (State is not null)
        {
            if (ChangeFacts.ParseState(State) is not { } state)
            {
                Error = $"Unknown state '{State}' (states: {string.Join(", ", ChangeFacts.States.Select(s => s.ToText()))}).";
                Response.StatusCode = Microsoft.AspNetCore.Http.StatusCodes.Status400BadRequest;
                return;
            }

            states = [state];
        }

        var gate = await runtime.GetGateAsync(HttpContext.RequestAborted).ConfigureAwait(false);
        var views = await gate.ListAsync(Line, states, HttpContext.RequestAborted).ConfigureAwait(false);
        Changes = [.. views.Select(v => (v, ChangeFacts.Approvals(v, gate, lines)))];
    }
}
