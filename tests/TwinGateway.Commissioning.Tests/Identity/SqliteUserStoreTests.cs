using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using TwinGateway.Commissioning.Identity;
using TwinGateway.Core.Identity;

namespace TwinGateway.Commissioning.Tests.Identity;

public sealed class SqliteUserStoreTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("twingateway-users-test-").FullName;
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 3, 8, 0, 0, TimeSpan.Zero));
    private SqliteUserStore _store = null!;

    public Task InitializeAsync()
    {
        _store = SqliteUserStore.Open(_folder, _clock);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task An_added_user_is_listed_with_its_roles_and_found_by_its_token_which_is_stored_only_as_a_hash()
    {
        var added = await _store.AddAsync("alice", [Role.Approver, Role.Engineer]);

        Assert.StartsWith("tgw_", added.Token, StringComparison.Ordinal);
        Assert.Equal(47, added.Token.Length);
        Assert.True(ApiTokens.IsWellFormed(added.Token));
        Assert.Equal([Role.Engineer, Role.Approver], added.User.Roles.ToArray());
        Assert.Equal(added.Token[..10], added.User.TokenPrefix);
        Assert.Equal(_clock.GetUtcNow(), added.User.Created);
        var listed = Assert.Single(await _store.ListAsync());
        Assert.Equal("alice", listed.Name);
        Assert.Equal([Role.Engineer, Role.Approver], listed.Roles.ToArray());
        Assert.Null(listed.LastUsed);

        _clock.Advance(TimeSpan.FromMinutes(5));
        var found = await _store.FindByTokenAsync(added.Token);
        Assert.NotNull(found);
        Assert.Equal("alice", found.ToIdentity().Name);
        Assert.Equal(_clock.GetUtcNow(), found.LastUsed);
        Assert.Equal(_clock.GetUtcNow(), Assert.Single(await _store.ListAsync()).LastUsed);

        // The file holds no token text: an attacker with the file has hashes of 256-bit secrets only.
        var bytes = await File.ReadAllBytesAsync(_store.Path);
        var walPath = _store.Path + "-wal";
        var wal = File.Exists(walPath) ? await ReadSharedAsync(walPath) : [];
        var secret = System.Text.Encoding.UTF8.GetBytes(added.Token[10..]);
        Assert.Equal(-1, bytes.AsSpan().IndexOf(secret));
        Assert.Equal(-1, wal.AsSpan().IndexOf(secret));
    }

    [Fact]
    public async Task Two_users_get_different_tokens_and_each_token_finds_its_own_user()
    {
        var a = await _store.AddAsync("a", [Role.Viewer]);
        var b = await _store.AddAsync("b.c@example-1_x", [Role.Mes]);

        Assert.NotEqual(a.Token, b.Token);
        Assert.Equal("a", (await _store.FindByTokenAsync(a.Token))?.Name);
        Assert.Equal("b.c@example-1_x", (await _store.FindByTokenAsync(b.Token))?.Name);
        Assert.Equal(["a", "b.c@example-1_x"], (await _store.ListAsync()).Select(u => u.Name));
    }

    [Theory]
    [InlineData("")]
    [InlineData("tgw_")]
    [InlineData("not a token")]
    [InlineData("tgw_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("Bearer tgw_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task An_unknown_or_malformed_token_finds_nobody(string token)
    {
        await _store.AddAsync("alice", [Role.Viewer]);

        Assert.Null(await _store.FindByTokenAsync(token));
    }

    [Fact]
    public async Task A_token_with_one_character_changed_finds_nobody()
    {
        var added = await _store.AddAsync("alice", [Role.Viewer]);
        var last = added.Token[^1] == 'A' ? 'B' : 'A';

        Assert.Null(await _store.FindByTokenAsync(added.Token[..^1] + last));
    }

    [Fact]
    public async Task Removing_a_user_revokes_its_token_at_once_also_for_a_store_opened_by_another_process()
    {
        var added = await _store.AddAsync("alice", [Role.Engineer]);
        await using var gateway = SqliteUserStore.Open(_folder, _clock);
        Assert.NotNull(await gateway.FindByTokenAsync(added.Token));

        Assert.True(await _store.RemoveAsync("ALICE"));

        Assert.Null(await gateway.FindByTokenAsync(added.Token));
        Assert.Empty(await gateway.ListAsync());
        Assert.False(await _store.RemoveAsync("alice"));
    }

    [Fact]
    public async Task A_duplicate_name_is_refused_whatever_its_case_and_the_first_user_keeps_its_token()
    {
        var first = await _store.AddAsync("alice", [Role.Engineer]);

        var ex = await Assert.ThrowsAsync<UserRefusedException>(() => _store.AddAsync("Alice", [Role.Admin]));

        Assert.Contains("'Alice' already exists", ex.Message, StringComparison.Ordinal);
        Assert.Contains("twingw users remove", ex.Message, StringComparison.Ordinal);
        Assert.Equal([Role.Engineer], (await _store.FindByTokenAsync(first.Token))?.Roles.ToArray());
    }

    [Theory]
    [InlineData("", "a user name is required")]
    [InlineData("al ice", "' ' at position 3")]
    [InlineData("alice/bob", "'/' at position 6")]
    [InlineData("élise", "'é' at position 1")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "65 characters long; at most 64")]
    public async Task A_bad_name_is_refused_with_what_is_wrong(string name, string expected)
    {
        var ex = await Assert.ThrowsAsync<UserRefusedException>(() => _store.AddAsync(name, [Role.Viewer]));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Empty(await _store.ListAsync());
    }

    [Fact]
    public async Task A_name_of_64_allowed_characters_is_accepted()
    {
        var name = new string('x', 60) + ".@-_";

        await _store.AddAsync(name, [Role.Viewer]);

        Assert.Equal(name, Assert.Single(await _store.ListAsync()).Name);
    }

    [Fact]
    public async Task A_user_without_a_role_is_refused()
    {
        var ex = await Assert.ThrowsAsync<UserRefusedException>(() => _store.AddAsync("alice", []));

        Assert.Contains("at least one role", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_roles_are_all_listed_with_the_known_ones()
    {
        Assert.False(UserNames.TryParseRoles(["engineer", "boss", "7", "root"], out _, out var problem));

        Assert.Equal("unknown roles 'boss', '7', 'root'; the roles are viewer, operator, engineer, approver, safety, admin, mes", problem);
        Assert.True(UserNames.TryParseRoles(["Approver", "engineer", "approver"], out var roles, out _));
        Assert.Equal([Role.Engineer, Role.Approver], roles.ToArray());
        Assert.False(UserNames.TryParseRoles([], out _, out var none));
        Assert.Contains("at least one role", none, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_store_written_by_a_newer_schema_is_refused_with_what_to_do()
    {
        await _store.DisposeAsync();
        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(_folder, SqliteUserStore.FileName)};Pooling=False"))
        {
            await connection.OpenAsync();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA user_version = 2";
            await command.ExecuteNonQueryAsync();
        }

        var ex = Assert.Throws<UserStoreException>(() => SqliteUserStore.Open(_folder, _clock));
        _store = SqliteUserStore.Open(Directory.CreateTempSubdirectory("twingateway-users-test-").FullName, _clock);

        Assert.Contains("schema version 2, newer than this twingw's 1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_store_reopens_with_its_users()
    {
        var added = await _store.AddAsync("alice", [Role.Safety, Role.Approver]);
        await _store.DisposeAsync();

        _store = SqliteUserStore.Open(_folder, _clock);

        Assert.Equal([Role.Approver, Role.Safety], (await _store.FindByTokenAsync(added.Token))?.Roles.ToArray());
    }

    private static async Task<byte[]> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }
}
