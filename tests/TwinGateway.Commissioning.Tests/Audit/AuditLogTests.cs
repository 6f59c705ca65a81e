using System.Text;
using TwinGateway.Commissioning.Audit;
using TwinGateway.Core;

namespace TwinGateway.Commissioning.Tests.Audit;

public sealed class AuditLogTests : IDisposable
{
    private readonly AuditTestFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Appended_entries_read_back_with_every_field_linked_and_signed()
    {
        await using (var log = await _folder.OpenAsync())
        {
            _folder.Clock.Advance(TimeSpan.FromMinutes(5));
            var first = await log.AppendAsync(new AuditRecord("demo-line", "change-1", AuditEventKind.Submitted, "alice", Authority.Human, """{"title":"Palletizer robot at 90 %"}"""));
            _folder.Clock.Advance(TimeSpan.FromMilliseconds(1.5));
            var second = await log.AppendAsync(new AuditRecord("demo-line", null, AuditEventKind.Validated, "gateway", Authority.Physics, """{"evidence":"ab12"}"""));

            Assert.Equal(1, first.Sequence);
            Assert.Equal(2, second.Sequence);
            Assert.Equal(new byte[32], first.PreviousHash.ToArray());
            Assert.Equal(first.Hash.ToArray(), second.PreviousHash.ToArray());
            Assert.Equal(new DateTimeOffset(2026, 12, 3, 8, 5, 0, TimeSpan.Zero), first.Time);
        }

        await using var reopened = await _folder.OpenAsync();
        var entries = await reopened.Store.ReadAsync(1, 10);
        Assert.Equal(2, entries.Count);
        Assert.Equal(2, await reopened.Store.CountAsync());
        Assert.Equal(2, (await reopened.Store.GetHeadAsync())!.Sequence);

        var e1 = entries[0];
        Assert.Equal(("demo-line", "change-1", AuditEventKind.Submitted, "alice", Authority.Human), (e1.LineId, e1.ChangeId, e1.Kind, e1.Actor, e1.Authority));
        Assert.Equal("""{"title":"Palletizer robot at 90 %"}""", e1.Payload);
        var e2 = entries[1];
        Assert.Null(e2.ChangeId);
        Assert.Equal(new DateTimeOffset(2026, 12, 3, 8, 5, 0, TimeSpan.Zero).AddTicks(15_000), e2.Time);
        Assert.Equal(AuditEncoding.ComputeHash(e2), e2.Hash.ToArray());
        Assert.Equal(64, e2.Signature.Length);
        Assert.True((await reopened.VerifyAsync()).IsValid);
    }

    [Fact]
    public async Task Batch_appends_land_together_and_chain_on()
    {
        await using var log = await _folder.OpenAsync();
        await log.AppendAsync(AuditTestFolder.Record(1));
        var batch = await log.AppendBatchAsync([AuditTestFolder.Record(2), AuditTestFolder.Record(3), AuditTestFolder.Record(4)]);

        Assert.Equal([2L, 3L, 4L], batch.Select(e => e.Sequence));
        var result = await log.VerifyAsync();
        Assert.True(result.IsValid, result.Message);
        Assert.Equal(4, result.EntriesChecked);
    }

    [Fact]
    public async Task An_untouched_chain_verifies_and_an_empty_one_too()
    {
        await using var log = await _folder.OpenAsync();
        var empty = await log.VerifyAsync();
        Assert.True(empty.IsValid, empty.Message);
        Assert.Equal(0, empty.EntriesChecked);

        await _folder.AppendAsync(log, 50);
        var result = await AuditChainVerifier.VerifyAsync(log.Store, log.PublicKey, pageSize: 7);
        Assert.True(result.IsValid, result.Message);
        Assert.Equal(50, result.EntriesChecked);
        Assert.Equal(50, result.Head.Sequence);
        Assert.Equal(AuditProblem.None, result.Problem);
    }

    [Fact]
    public async Task An_auditor_verifies_offline_with_the_public_key_file_only()
    {
        await using (var log = await _folder.OpenAsync())
        {
            await _folder.AppendAsync(log, 10);
        }

        // No private key in reach: a copy of audit.db and audit-public-key.pem.
        var copy = Path.Combine(_folder.Path, "auditor");
        Directory.CreateDirectory(copy);
        File.Copy(_folder.DatabasePath, Path.Combine(copy, SqliteAuditStore.FileName));
        var publicKey = AuditPublicKey.FromPem(File.ReadAllText(Path.Combine(_folder.Path, AuditSigningKey.PublicKeyFileName)));

        await using var store = await SqliteAuditStore.OpenAsync(copy);
        var result = await AuditChainVerifier.VerifyAsync(store, publicKey);
        Assert.True(result.IsValid, result.Message);
        Assert.Equal(10, result.EntriesChecked);

        // Another gateway's key does not vouch for this chain.
        using var other = AuditSigningKey.LoadOrCreate(Path.Combine(_folder.Path, "other-gateway"));
        var wrongKey = await AuditChainVerifier.VerifyAsync(store, other.PublicKey);
        Assert.False(wrongKey.IsValid);
        Assert.Equal(1, wrongKey.FirstBadSequence);
        Assert.Equal(AuditProblem.Forged, wrongKey.Problem);
    }

    [Fact]
    public async Task One_byte_changed_in_the_database_file_fails_verification_naming_the_entry()
    {
        await using (var log = await _folder.OpenAsync())
        {
            await _folder.AppendAsync(log, 20);
        }

        // The store is closed (no pool), so the WAL is checkpointed into audit.db and the file holds every row.
        Assert.False(File.Exists(_folder.DatabasePath + "-wal") && new FileInfo(_folder.DatabasePath + "-wal").Length > 0);
        var bytes = File.ReadAllBytes(_folder.DatabasePath);
        var marker = Encoding.UTF8.GetBytes("marker-0013");
        var at = bytes.AsSpan().IndexOf(marker);
        Assert.True(at >= 0, "the payload of entry 13 is in the file");
        Assert.Equal(-1, bytes.AsSpan(at + 1).IndexOf(marker));
        bytes[at] = (byte)'M';
        File.WriteAllBytes(_folder.DatabasePath, bytes);

        await using var reopened = await _folder.OpenAsync();
        var result = await reopened.VerifyAsync();
        Assert.False(result.IsValid);
        Assert.Equal(13, result.FirstBadSequence);
        Assert.Equal(AuditProblem.Changed, result.Problem);
        Assert.Equal("entry 13: its hash does not match its content (changed)", result.Message);
        Assert.Equal(12, result.EntriesChecked);
        Assert.Equal(12, result.Head.Sequence);
    }

    [Fact]
    public async Task A_damaged_database_page_fails_verification_instead_of_throwing()
    {
        await using (var log = await _folder.OpenAsync())
        {
            var big = new string('x', 3000);
            for (var i = 0; i < 30; i++)
            {
                await log.AppendAsync(AuditTestFolder.Record(i + 1) with { Payload = $$"""{"fill":"{{big}}"}""" });
            }
        }

        // Zero a page in the middle of the table: SQLite itself reports the file as malformed when it gets there.
        var bytes = File.ReadAllBytes(_folder.DatabasePath);
        var pageSize = (bytes[16] << 8) | bytes[17];
        Assert.True(bytes.Length > 12 * pageSize);
        Array.Clear(bytes, 10 * pageSize, pageSize);
        File.WriteAllBytes(_folder.DatabasePath, bytes);

        await using var reopened = await _folder.OpenAsync();
        var result = await reopened.VerifyAsync();
        Assert.False(result.IsValid);
        Assert.Equal(AuditProblem.Unreadable, result.Problem);

        // The entries before the damaged page were read and checked one by one; the first one on it is named.
        Assert.True(result.FirstBadSequence > 1, result.Message);
        Assert.Equal(result.FirstBadSequence - 1, result.EntriesChecked);
        Assert.StartsWith($"entry {result.FirstBadSequence}: the store cannot be read from here on", result.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("UPDATE audit_entries SET actor = 'mallory' WHERE seq = 7")]
    [InlineData("UPDATE audit_entries SET time_ticks = time_ticks + 1 WHERE seq = 7")]
    [InlineData("UPDATE audit_entries SET authority = 2 WHERE seq = 7")]
    [InlineData("UPDATE audit_entries SET change_id = NULL WHERE seq = 7")]
    [InlineData("UPDATE audit_entries SET payload = '{\"n\":\"marker-0007\" }' WHERE seq = 7")]
    [InlineData("UPDATE audit_entries SET hash = zeroblob(32) WHERE seq = 7")]
    [InlineData("UPDATE audit_entries SET kind = 99 WHERE seq = 7")]
    public async Task A_field_changed_with_plain_SQL_is_named(string sql)
    {
        await using (var log = await _folder.OpenAsync())
        {
            await _folder.AppendAsync(log, 12);
        }

        _folder.Tamper(sql);

        await using var reopened = await _folder.OpenAsync();
        var result = await reopened.VerifyAsync();
        Assert.False(result.IsValid);
        Assert.Equal(7, result.FirstBadSequence);
        Assert.Equal(AuditProblem.Changed, result.Problem);
        Assert.StartsWith("entry 7: ", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_changed_signature_is_named()
    {
        await using (var log = await _folder.OpenAsync())
        {
            await _folder.AppendAsync(log, 12);
        }

        _folder.Tamper("UPDATE audit_entries SET signature = (SELECT signature FROM audit_entries WHERE seq = 3) WHERE seq = 9");

        await using var reopened = await _folder.OpenAsync();
        var result = await reopened.VerifyAsync();
        Assert.Equal(9, result.FirstBadSequence);
        Assert.Equal(AuditProblem.Forged, result.Problem);
    }

    [Fact]
    public async Task A_deleted_entry_is_named_by_the_gap()
    {
        await using (var log = await _folder.OpenAsync())
        {
            await _folder.AppendAsync(log, 12);
        }

        _folder.Tamper("DELETE FROM audit_entries WHERE seq = 5");

        await using var reopened = await _folder.OpenAsync();
        var result = await reopened.VerifyAsync();
        Assert.False(result.IsValid);
        Assert.Equal(6, result.FirstBadSequence);
        Assert.Equal(AuditProblem.Removed, result.Problem);
        Assert.Equal("entry 6: it follows 4 (5 removed)", result.Message);
    }

    [Fact]
    public async Task Deleted_first_entries_are_named()
    {
        await using (var log = await _folder.OpenAsync())
        {
            await _folder.AppendAsync(log, 6);
        }

        _folder.Tamper("DELETE FROM audit_entries WHERE seq <= 2");

        await using var reopened = await _folder.OpenAsync();
        var result = await reopened.VerifyAsync();
        Assert.Equal(3, result.FirstBadSequence);
        Assert.Equal("entry 3: it is the first entry (1 to 2 removed)", result.Message);
    }

    [Fact]
    public async Task Two_swapped_entries_are_named_as_reordered()
    {
        await using (var log = await _folder.OpenAsync())
        {
            await _folder.AppendAsync(log, 12);
        }

        _folder.Tamper("""
            UPDATE audit_entries SET seq = 1000005 WHERE seq = 5;
            UPDATE audit_entries SET seq = 5 WHERE seq = 6;
            UPDATE audit_entries SET seq = 6 WHERE seq = 1000005;
            """);

        await using var reopened = await _folder.OpenAsync();
        var result = await reopened.VerifyAsync();
        Assert.False(result.IsValid);
        Assert.Equal(5, result.FirstBadSequence);
        Assert.Equal(AuditProblem.Reordered, result.Problem);
        Assert.Contains("links after entry 6", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_swapped_rows_with_their_numbers_kept_are_named_as_reordered()
    {
        await using (var log = await _folder.OpenAsync())
        {
            await _folder.AppendAsync(log, 12);
        }

        // Everything but the sequence number exchanged: the rows sit in the other's place.
        const string Fields = "time_ticks, line_id, change_id, kind, actor, authority, payload, previous_hash, hash, signature";
        _folder.Tamper($"""
            CREATE TEMP TABLE saved AS SELECT * FROM audit_entries WHERE seq IN (8, 9);
            UPDATE audit_entries SET ({Fields}) = (SELECT {Fields} FROM saved WHERE saved.seq = 17 - audit_entries.seq) WHERE seq IN (8, 9);
            """);

        await using var reopened = await _folder.OpenAsync();
        var result = await reopened.VerifyAsync();
        Assert.Equal(8, result.FirstBadSequence);
        Assert.Equal(AuditProblem.Reordered, result.Problem);
    }

    [Fact]
    public async Task A_forged_entry_with_a_valid_hash_but_another_keys_signature_is_named()
    {
        await using var log = await _folder.OpenAsync();
        await _folder.AppendAsync(log, 5);

        // Someone with write access to the store but not the gateway's key builds a well-formed entry.
        using var forger = AuditSigningKey.LoadOrCreate(Path.Combine(_folder.Path, "forger"));
        var head = (await log.Store.GetHeadAsync())!;
        var unsigned = new AuditEntry(6, _folder.Clock.GetUtcNow(), "demo-line", "change-9", AuditEventKind.Approved, "mallory",
            Authority.Human, "{}", head.Hash, ReadOnlyMemory<byte>.Empty, ReadOnlyMemory<byte>.Empty);
        var hash = AuditEncoding.ComputeHash(unsigned);
        await log.Store.AppendAsync([unsigned with { Hash = hash, Signature = forger.SignHash(hash) }], 5);
        await _folder.AppendAsync(log, 2);

        var result = await log.VerifyAsync();
        Assert.False(result.IsValid);
        Assert.Equal(6, result.FirstBadSequence);
        Assert.Equal(AuditProblem.Forged, result.Problem);
        Assert.Equal("entry 6: its hash matches its content but its signature does not verify with the gateway's public key (forged or inserted)", result.Message);
    }

    [Fact]
    public async Task An_entry_inserted_in_the_middle_is_named()
    {
        await using (var log = await _folder.OpenAsync())
        {
            await _folder.AppendAsync(log, 10);
        }

        // Entries 6.. moved up by one and a well-formed entry linking to 5 put in the gap, signed with another key.
        byte[] previous;
        await using (var store = await SqliteAuditStore.OpenAsync(_folder.Path))
        {
            previous = (await store.ReadAsync(5, 1))[0].Hash.ToArray();
        }

        using var forger = AuditSigningKey.LoadOrCreate(Path.Combine(_folder.Path, "forger"));
        var unsigned = new AuditEntry(6, _folder.Clock.GetUtcNow(), "demo-line", "change-2", AuditEventKind.Approved, "mallory",
            Authority.Human, "{}", previous, ReadOnlyMemory<byte>.Empty, ReadOnlyMemory<byte>.Empty);
        var hash = AuditEncoding.ComputeHash(unsigned);
        var signature = forger.SignHash(hash);
        _folder.Tamper($"""
            UPDATE audit_entries SET seq = seq + 1000000 WHERE seq >= 6;
            UPDATE audit_entries SET seq = seq - 999999 WHERE seq >= 1000000;
            INSERT INTO audit_entries VALUES (6, {AuditEncoding.ToUnixTicks(unsigned.Time)}, 'demo-line', 'change-2', {(int)AuditEventKind.Approved},
                'mallory', {(int)Authority.Human}, '{"{}"}', x'{Convert.ToHexString(previous)}', x'{Convert.ToHexString(hash)}', x'{Convert.ToHexString(signature)}');
            """);

        await using var reopened = await _folder.OpenAsync();
        Assert.Equal(11, await reopened.Store.CountAsync());
        var result = await reopened.VerifyAsync();
        Assert.Equal(6, result.FirstBadSequence);
        Assert.Equal(AuditProblem.Forged, result.Problem);
        Assert.Contains("(forged or inserted)", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_store_refuses_an_append_on_a_stale_head_or_a_broken_link_and_writes_nothing()
    {
        await using var log = await _folder.OpenAsync();
        await _folder.AppendAsync(log, 3);
        var head = (await log.Store.GetHeadAsync())!;

        var next = head with { Sequence = 4, PreviousHash = head.Hash };
        await Assert.ThrowsAsync<AuditAppendConflictException>(() => log.Store.AppendAsync([next with { Sequence = 3 }], 2));

        // The expected head is right but the entry does not link to it: the database's own trigger refuses it.
        var unlinked = next with { PreviousHash = new byte[32] };
        var refused = await Assert.ThrowsAsync<AuditAppendConflictException>(() => log.Store.AppendAsync([unlinked], 3));
        Assert.Contains("previous hash", refused.Message, StringComparison.Ordinal);

        // A gap is refused too, and a batch is all or nothing.
        await Assert.ThrowsAsync<AuditAppendConflictException>(() => log.Store.AppendAsync([next, next with { Sequence = 6 }], 3));
        Assert.Equal(3, await log.Store.CountAsync());
        Assert.True((await log.VerifyAsync()).IsValid);
    }

    [Fact]
    public async Task Two_appenders_on_one_file_never_fork_the_chain()
    {
        const int PerWriter = 60;
        await using var a = await _folder.OpenAsync();
        await using var b = await AuditLog.OpenAsync(_folder.Path, _folder.Clock);

        // One attempt each: a lost race surfaces as the retry-able conflict, never as a fork or a half-written entry.
        var landed = 0;
        var conflicts = 0;
        async Task WriteAsync(AuditLog log, string actor)
        {
            var single = new AuditLogAttempts(log);
            for (var i = 0; i < PerWriter; i++)
            {
                while (true)
                {
                    try
                    {
                        await single.AppendOnceAsync(new AuditRecord("demo-line", $"change-{i}", AuditEventKind.Submitted, actor, Authority.Human, $$"""{"i":{{i}}}"""));
                        Interlocked.Increment(ref landed);
                        break;
                    }
                    catch (AuditAppendConflictException)
                    {
                        Interlocked.Increment(ref conflicts);
                    }
                }
            }
        }

        await Task.WhenAll(Task.Run(() => WriteAsync(a, "alice")), Task.Run(() => WriteAsync(b, "bob")));

        Assert.Equal(2 * PerWriter, landed);
        Assert.Equal(2 * PerWriter, await a.Store.CountAsync());
        var result = await b.VerifyAsync();
        Assert.True(result.IsValid, result.Message);
        Assert.Equal(2 * PerWriter, result.EntriesChecked);
        var entries = await a.Store.ReadAsync(1, 1000);
        Assert.Equal(PerWriter, entries.Count(e => e.Actor == "alice"));
        Assert.Equal(PerWriter, entries.Count(e => e.Actor == "bob"));
    }

    [Fact]
    public async Task An_append_that_loses_the_race_is_refused_whole_then_built_again_on_the_new_head()
    {
        await using var other = await _folder.OpenAsync();
        await using var store = await SqliteAuditStore.OpenAsync(_folder.Path);
        using var key = AuditSigningKey.LoadOrCreate(_folder.Path);

        // The other writer appends between this log's head read and its append: the race, made to happen every time.
        var racing = new RacingStore(store, races: 2, () => other.AppendAsync(AuditTestFolder.Record(1)));
        var once = new AuditLog(racing, key, _folder.Clock) { MaxAttempts = 1 };
        await Assert.ThrowsAsync<AuditAppendConflictException>(() => once.AppendBatchAsync([AuditTestFolder.Record(2), AuditTestFolder.Record(3)]));
        Assert.Equal(1, await store.CountAsync());

        var retrying = new AuditLog(racing, key, _folder.Clock);
        var landed = await retrying.AppendBatchAsync([AuditTestFolder.Record(4), AuditTestFolder.Record(5)]);
        Assert.Equal([3L, 4L], landed.Select(e => e.Sequence));
        Assert.Equal(4, await store.CountAsync());
        var result = await retrying.VerifyAsync();
        Assert.True(result.IsValid, result.Message);
        Assert.Equal(4, result.EntriesChecked);
    }

    /// <summary>Runs <c>race</c> (another writer's append) just before each of the first <c>races</c> appends.</summary>
    private sealed class RacingStore(IAuditStore inner, int races, Func<Task> race) : IAuditStore
    {
        private int _races = races;

        public async Task AppendAsync(IReadOnlyList<AuditEntry> entries, long expectedPreviousSequence, CancellationToken cancellationToken = default)
        {
            if (_races-- > 0)
            {
                await race();
            }

            await inner.AppendAsync(entries, expectedPreviousSequence, cancellationToken);
        }

        public Task<IReadOnlyList<AuditEntry>> ReadAsync(long fromSequence, int maxCount, CancellationToken cancellationToken = default) => inner.ReadAsync(fromSequence, maxCount, cancellationToken);

        public Task<long> CountAsync(CancellationToken cancellationToken = default) => inner.CountAsync(cancellationToken);

        public Task<AuditEntry?> GetHeadAsync(CancellationToken cancellationToken = default) => inner.GetHeadAsync(cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Two_appenders_with_retries_inside_the_log_both_land_everything()
    {
        await using var a = await _folder.OpenAsync();
        await using var b = await AuditLog.OpenAsync(_folder.Path, _folder.Clock);
        var failures = 0;

        async Task WriteAsync(AuditLog log)
        {
            for (var i = 0; i < 40; i++)
            {
                try
                {
                    await log.AppendAsync(AuditTestFolder.Record(i + 1));
                }
                catch (AuditAppendConflictException)
                {
                    // Allowed by the contract (retry-able); counted so the chain's length can be checked against it.
                    Interlocked.Increment(ref failures);
                }
            }
        }

        await Task.WhenAll(Task.Run(() => WriteAsync(a)), Task.Run(() => WriteAsync(b)));

        Assert.Equal(80 - failures, await a.Store.CountAsync());
        Assert.True((await a.VerifyAsync()).IsValid);
    }

    [Theory]
    [InlineData("", "alice", "{}")]
    [InlineData("demo-line", " ", "{}")]
    [InlineData("demo-line", "alice", "not json")]
    public async Task An_incomplete_record_is_refused_before_anything_is_written(string line, string actor, string payload)
    {
        await using var log = await _folder.OpenAsync();
        await Assert.ThrowsAsync<ArgumentException>(() => log.AppendAsync(new AuditRecord(line, null, AuditEventKind.Submitted, actor, Authority.Human, payload)));
        await Assert.ThrowsAsync<ArgumentException>(() => log.AppendAsync(new AuditRecord("demo-line", null, (AuditEventKind)77, "alice", Authority.Human)));
        await Assert.ThrowsAsync<ArgumentException>(() => log.AppendAsync(new AuditRecord("demo-line", null, AuditEventKind.Submitted, "alice", (Authority)0)));
        Assert.Equal(0, await log.Store.CountAsync());
    }

    [Fact]
    public async Task Text_with_an_unpaired_surrogate_is_refused_since_it_could_not_be_stored_as_hashed()
    {
        // Built at run time: an attribute argument cannot carry an unpaired surrogate (it is stored as UTF-8).
        var payload = "{\"a\":\"" + '\ud800' + "\"}";
        await using var log = await _folder.OpenAsync();
        await Assert.ThrowsAsync<ArgumentException>(() => log.AppendAsync(new AuditRecord("demo-line", null, AuditEventKind.Submitted, "alice", Authority.Human, payload)));
        await Assert.ThrowsAsync<ArgumentException>(() => log.AppendAsync(new AuditRecord("demo-line", null, AuditEventKind.Submitted, "al" + '\udc00', Authority.Human)));
        Assert.Equal(0, await log.Store.CountAsync());
    }

    /// <summary>An append that reads the head once and tries once: the store's conflict is what the caller sees.</summary>
    private sealed class AuditLogAttempts(AuditLog log)
    {
        private readonly AuditLog _once = new(log.Store, GetKey(log), TimeProvider.System) { MaxAttempts = 1 };

        public Task<AuditEntry> AppendOnceAsync(AuditRecord record) => _once.AppendAsync(record);

        private static AuditSigningKey GetKey(AuditLog log) => log.SigningKey;
    }
}
