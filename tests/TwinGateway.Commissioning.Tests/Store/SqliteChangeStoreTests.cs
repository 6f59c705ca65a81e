using TwinGateway.Commissioning.Tests.Audit;
using TwinGateway.Commissioning.Store;
using TwinGateway.Core;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Identity;

namespace TwinGateway.Commissioning.Tests.Store;

public sealed class SqliteChangeStoreTests : IDisposable
{
    private readonly AuditTestFolder _folder = new();

    private static ChangeRecord Change(string id, string line = "demo-line", DateTimeOffset? at = null) => new()
    {
        Id = id,
        LineId = line,
        Title = "title " + id,
        State = ChangeState.Draft,
        Class = ChangeClass.Process,
        ClassReasons = ["operations[0] (set): process: a setpoint"],
        ContentHash = new string('a', 64),
        Submitter = "erin",
        SubmittedAt = at ?? new DateTimeOffset(2026, 12, 3, 10, 0, 0, TimeSpan.Zero),
        UpdatedAt = at ?? new DateTimeOffset(2026, 12, 3, 10, 0, 0, TimeSpan.Zero),
        SpecJson = "{\"line\":\"demo-line\"}",
    };

    [Fact]
    public async Task A_change_reads_back_as_written_and_survives_reopening()
    {
        await using (var store = await SqliteChangeStore.OpenAsync(_folder.Path))
        {
            await store.AddAsync(Change("c-1"));
        }

        await using var reopened = await SqliteChangeStore.OpenAsync(_folder.Path);
        var read = await reopened.GetAsync("c-1");
        Assert.NotNull(read);
        Assert.Equal(Change("c-1") with { ClassReasons = read.ClassReasons }, read);
        Assert.Equal(Change("c-1").ClassReasons.ToArray(), read.ClassReasons.ToArray());
        Assert.Null(await reopened.GetAsync("c-2"));
    }

    [Fact]
    public async Task An_update_on_a_stale_version_is_refused_and_changes_nothing()
    {
        await using var store = await SqliteChangeStore.OpenAsync(_folder.Path);
        await store.AddAsync(Change("c-1"));
        var first = await store.UpdateAsync(Change("c-1") with { State = ChangeState.Validating }, expectedVersion: 0);
        Assert.Equal(1, first.Version);

        var ex = await Assert.ThrowsAsync<ChangeConflictException>(() => store.UpdateAsync(Change("c-1") with { State = ChangeState.Withdrawn }, expectedVersion: 0));
        Assert.Contains("c-1", ex.Message, StringComparison.Ordinal);
        var stored = await store.GetAsync("c-1");
        Assert.Equal(ChangeState.Validating, stored!.State);
        Assert.Equal(1, stored.Version);
    }

    [Fact]
    public async Task A_duplicate_id_is_refused()
    {
        await using var store = await SqliteChangeStore.OpenAsync(_folder.Path);
        await store.AddAsync(Change("c-1"));
        await Assert.ThrowsAsync<ChangeConflictException>(() => store.AddAsync(Change("c-1")));
    }

    [Fact]
    public async Task Lists_filter_by_line_and_state_newest_first()
    {
        await using var store = await SqliteChangeStore.OpenAsync(_folder.Path);
        var t0 = new DateTimeOffset(2026, 12, 3, 10, 0, 0, TimeSpan.Zero);
        await store.AddAsync(Change("c-1", at: t0));
        await store.AddAsync(Change("c-2", at: t0.AddMinutes(1)));
        await store.AddAsync(Change("c-3", line: "other", at: t0.AddMinutes(2)));
        await store.UpdateAsync(Change("c-1", at: t0) with { State = ChangeState.Approved }, 0);

        Assert.Equal(["c-3", "c-2", "c-1"], (await store.ListAsync()).Select(c => c.Id));
        Assert.Equal(["c-2", "c-1"], (await store.ListAsync("demo-line")).Select(c => c.Id));
        Assert.Equal(["c-1"], (await store.ListAsync(states: [ChangeState.Approved])).Select(c => c.Id));
    }

    [Fact]
    public async Task Approvals_and_journal_steps_keep_their_order()
    {
        await using var store = await SqliteChangeStore.OpenAsync(_folder.Path);
        await store.AddAsync(Change("c-1"));
        var at = new DateTimeOffset(2026, 12, 3, 11, 0, 0, TimeSpan.Zero);
        await store.AddApprovalAsync(new ApprovalRecord("c-1", "ada", [Role.Approver, Role.Safety], Authority.Human, "ok", at, "h1", "e1"));
        await store.AddApprovalAsync(new ApprovalRecord("c-1", "bob", [Role.Approver], Authority.Human, null, at.AddSeconds(1), "h1", "e1"));
        var approvals = await store.GetApprovalsAsync("c-1");
        Assert.Equal(["ada", "bob"], approvals.Select(a => a.User));
        Assert.Equal([Role.Approver, Role.Safety], approvals[0].Roles.ToArray());
        Assert.Null(approvals[1].Comment);

        var a = await store.AppendJournalAsync("c-1", "PreviousValuesRecorded", at, "{\"n\":1}");
        var b = await store.AppendJournalAsync("c-1", "Writing", at.AddSeconds(1), "{}");
        Assert.Equal(1, a.Sequence);
        Assert.Equal(2, b.Sequence);
        Assert.Equal(["PreviousValuesRecorded", "Writing"], (await store.GetJournalAsync("c-1")).Select(j => j.Kind));
        Assert.Empty(await store.GetJournalAsync("c-2"));
    }

    [Fact]
    public async Task A_file_that_is_not_a_database_is_refused_with_its_path()
    {
        await File.WriteAllTextAsync(Path.Combine(_folder.Path, SqliteChangeStore.FileName), "this is not a database, it is a note");
        var ex = await Assert.ThrowsAsync<ChangeStoreException>(() => SqliteChangeStore.OpenAsync(_folder.Path));
        Assert.Contains(SqliteChangeStore.FileName, ex.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _folder.Dispose();
}
