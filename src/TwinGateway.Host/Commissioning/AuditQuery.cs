using System.Runtime.CompilerServices;
using TwinGateway.Commissioning.Audit;

namespace TwinGateway.Host.Commissioning;

/// <summary>Reads audit entries page by page, filtered by line and change: what the API and the offline CLI both list.</summary>
internal static class AuditQuery
{
    private const int PageSize = 4096;

    public static async IAsyncEnumerable<AuditEntry> ReadAsync(IAuditStore store, long fromSequence, string? lineId, string? changeId, int maxCount,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var next = Math.Max(1, fromSequence);
        var returned = 0;
        while (returned < maxCount)
        {
            var page = await store.ReadAsync(next, PageSize, cancellationToken).ConfigureAwait(false);
            if (page.Count == 0)
            {
                yield break;
            }

            foreach (var entry in page)
            {
                if ((lineId is null || entry.LineId == lineId) && (changeId is null || entry.ChangeId == changeId))
                {
                    yield return entry;
                    if (++returned >= maxCount)
                    {
                        yield break;
                    }
                }
            }

            next = page[^1].Sequence + 1;
        }
    }
}
