using System.Text.Json;
using TwinGateway.Commissioning.Apply;
using TwinGateway.Commissioning.Store;

namespace TwinGateway.Commissioning.Gate;

/// <summary>The apply journal kept in the change store: one row per step, appended durably before the applier goes on.</summary>
internal sealed class StoreApplyJournal(IChangeStore store) : IApplyJournal
{
    private sealed record Row(string Message, int? Index, string? Detail);

    public async Task RecordAsync(string changeId, ApplyStep step, CancellationToken cancellationToken) =>
        await store.AppendJournalAsync(changeId, step.Kind.ToString(), step.At, JsonSerializer.Serialize(new Row(step.Message, step.Index, step.Detail)),
            // A step is recorded even when the apply was aborted: the record is what makes the abort safe.
            CancellationToken.None).ConfigureAwait(false);

    public async Task<IReadOnlyList<ApplyStep>> ReadAsync(string changeId, CancellationToken cancellationToken)
    {
        var entries = await store.GetJournalAsync(changeId, cancellationToken).ConfigureAwait(false);
        return [.. entries.Select(ToStep)];
    }

    internal static ApplyStep ToStep(JournalEntry entry)
    {
        var row = JsonSerializer.Deserialize<Row>(entry.DetailJson) ?? new Row("", null, null);
        var kind = Enum.TryParse<ApplyStepKind>(entry.Kind, out var k) ? k : throw new InvalidDataException($"apply journal of change {entry.ChangeId}, step {entry.Sequence}: unknown kind '{entry.Kind}'");
        return new ApplyStep(kind, entry.Time, row.Message, row.Index, row.Detail);
    }
}
