using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TwinGateway.Commissioning.Audit;
using TwinGateway.Host.Commissioning;
using TwinGateway.Host.Web;

namespace TwinGateway.Host.Pages.Audit;

/// <summary>
/// The audit chain: whether it verifies (the same walk as <c>twingw audit verify</c>) and its entries newest first,
/// filtered by line and change, a page at a time (<c>?before=seq</c>).
/// </summary>
[ForRpc("AuditService/ListEntries")]
internal sealed class AuditModel(CommissioningStores stores) : PageModel
{
    public const int PageSize = 50;

    /// <summary>Entries are read backwards this many at a time while filtering (the store reads forwards only).</summary>
    private const int ScanWindow = 1024;

    [BindProperty(SupportsGet = true)]
    public string? Line { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Change { get; set; }

    /// <summary>Only entries with a smaller sequence number (the next older page); the newest when absent.</summary>
    [BindProperty(SupportsGet = true)]
    public long? Before { get; set; }

    public AuditVerificationResult? Verification { get; private set; }

    public string? Fingerprint { get; private set; }

    public IReadOnlyList<AuditEntry> Entries { get; private set; } = [];

    public long Head { get; private set; }

    /// <summary>The <c>before</c> of the next older page; null when this page reached the chain's first entry.</summary>
    public long? Older { get; private set; }

    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        Line = Empty(Line);
        Change = Empty(Change);
        try
        {
            var log = await stores.GetAuditAsync(cancellationToken).ConfigureAwait(false);
            Fingerprint = log.PublicKey.Fingerprint;
            Verification = await log.VerifyAsync(cancellationToken).ConfigureAwait(false);
            Head = (await log.Store.GetHeadAsync(cancellationToken).ConfigureAwait(false))?.Sequence ?? 0;
            (Entries, Older) = await ReadPageAsync(log.Store, cancellationToken).ConfigureAwait(false);
        }
        catch (AuditStoreException ex)
        {
            Error = ex.Message;
            Response.StatusCode = Microsoft.AspNetCore.Http.StatusCodes.Status503ServiceUnavailable;
        }

        return Page();
    }

    /// <summary>Up to <see cref="PageSize"/> matching entries below <see cref="Before"/>, newest first.</summary>
    private async Task<(IReadOnlyList<AuditEntry> Entries, long? Older)> ReadPageAsync(IAuditStore store, CancellationToken cancellationToken)
    {
        var entries = new List<AuditEntry>(PageSize);
        var top = Before is { } before ? Math.Min(before - 1, Head) : Head;
        while (top >= 1 && entries.Count < PageSize)
        {
            var from = Math.Max(1, top - ScanWindow + 1);
            var window = await store.ReadAsync(from, (int)(top - from + 1), cancellationToken).ConfigureAwait(false);
            for (var i = window.Count - 1; i >= 0 && entries.Count < PageSize; i--)
            {
                var entry = window[i];
                if (entry.Sequence <= top && (Line is null || entry.LineId == Line) && (Change is null || entry.ChangeId == Change))
                {
                    entries.Add(entry);
                }
            }

            top = from - 1;
        }

        var last = entries.Count > 0 ? entries[^1].Sequence : (long?)null;
        return (entries, entries.Count == PageSize && last > 1 ? last : null);
    }

    /// <summary>This page's query with <paramref name="before"/> (null for the newest page).</summary>
    public string PageUrl(long? before)
    {
        var query = new List<string>();
        if (Line is not null)
        {
            query.Add("line=" + Uri.EscapeDataString(Line));
        }

        if (Change is not null)
        {
            query.Add("change=" + Uri.EscapeDataString(Change));
        }

        if (before is { } b)
        {
            query.Add("before=" + b.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return query.Count == 0 ? "/audit" : "/audit?" + string.Join('&', query);
    }

    /// <summary>The payload as one short line: the entry's summary in the table.</summary>
    public static string Summary(string payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var flat = payload.ReplaceLineEndings(" ");
        return flat.Length <= 160 ? flat : flat[..159] + "…";
    }

    private static string? Empty(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
