using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TwinGateway.Host.Telemetry;
using TwinGateway.Host.Web;

namespace TwinGateway.Host.Pages.Replay;

/// <summary>
/// <c>/replay</c>: replays a recorded range of a line into a fresh twin (the web form of <c>ReplayService/Replay</c>).
/// The form starts it in the background and redirects to <c>/replay?id=N</c>, which follows its progress live and shows
/// the per-signal error report when it ends. Times are UTC, as the recorder keeps them.
/// </summary>
[ForRpc("ReplayService/Replay")]
internal sealed class IndexModel(ReplayJobs jobs) : PageModel
{
    /// <summary>The <c>datetime-local</c> form of a UTC time (to the second).</summary>
    public const string InputFormat = "yyyy-MM-ddTHH:mm:ss";

    [BindProperty(SupportsGet = true)]
    public long? Id { get; set; }

    [BindProperty]
    public string? Line { get; set; }

    [BindProperty]
    public string? From { get; set; }

    [BindProperty]
    public string? To { get; set; }

    [BindProperty]
    public double Speed { get; set; }

    public ReplayJob? Job { get; private set; }

    public string? Error { get; private set; }

    /// <summary>Each line the gateway runs, with what the recorder holds of it (null: nothing).</summary>
    public IReadOnlyList<(string Id, string Name, (DateTime First, DateTime Last, long Count)? Span)> Lines { get; private set; } = [];

    public void OnGet()
    {
        Load();
        if (Id is { } id)
        {
            Job = jobs.Get(id);
            if (Job is null)
            {
                Error = $"No replay {id.ToString(CultureInfo.InvariantCulture)}: the gateway keeps the newest {ReplayJobs.Kept} replays started here, until it restarts. Start another below.";
                Response.StatusCode = Microsoft.AspNetCore.Http.StatusCodes.Status404NotFound;
            }
            else
            {
                Line = Job.Options.Line.Id;
                From = Job.Options.From.ToString(InputFormat, CultureInfo.InvariantCulture);
                To = Job.Options.To.ToString(InputFormat, CultureInfo.InvariantCulture);
                Speed = Job.Options.Speed ?? 0;
            }
        }
    }

    [ForRpc("ReplayService/Replay")]
    public IActionResult OnPost()
    {
        Load();
        if (!TryParse(From, "From", out var from) || !TryParse(To, "To", out var to))
        {
            Response.StatusCode = Microsoft.AspNetCore.Http.StatusCodes.Status400BadRequest;
            return Page();
        }

        try
        {
            var job = jobs.Start(Line ?? "", from, to, Speed, WebAccess.User(User)?.Name ?? "?");
            return RedirectToPage(new { id = job.Id });
        }
        catch (ReplayRefusedException ex)
        {
            Error = ex.Message;
            Response.StatusCode = ex.Kind == ReplayFailure.NotFound ? Microsoft.AspNetCore.Http.StatusCodes.Status404NotFound : Microsoft.AspNetCore.Http.StatusCodes.Status400BadRequest;
            return Page();
        }
    }

    public static string Utc(DateTime time) => time.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";

    public static string Number(double value, string format = "G4") =>
        double.IsNaN(value) ? "–" : value.ToString(format, CultureInfo.InvariantCulture);

    private bool TryParse(string? text, string field, out DateTime utc)
    {
        if (DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out utc))
        {
            return true;
        }

        Error = string.IsNullOrWhiteSpace(text) ? $"{field} is empty: pick a time (UTC) within the recorded range." : $"{field} '{text}' is not a date and time (UTC).";
        return false;
    }

    private void Load()
    {
        Lines = [.. jobs.Lines.Lines.OrderBy(l => l.Id, StringComparer.Ordinal).Select(l => (l.Id, l.Definition.Name, jobs.RecordedSpan(l.Id)))];

        // A fresh form offers the last ten minutes recorded of the first line that has any.
        if (Line is null && Lines.FirstOrDefault(l => l.Span is not null) is { Span: { } span } first)
        {
            Line = first.Id;
            var from = span.Last - TimeSpan.FromMinutes(10) > span.First ? span.Last - TimeSpan.FromMinutes(10) : span.First;
            From = from.ToString(InputFormat, CultureInfo.InvariantCulture);
            To = span.Last.AddSeconds(1).ToString(InputFormat, CultureInfo.InvariantCulture);
        }
    }
}
