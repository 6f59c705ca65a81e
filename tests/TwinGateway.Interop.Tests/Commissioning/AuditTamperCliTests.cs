using Microsoft.Data.Sqlite;
using TwinGateway.Commissioning.Audit;
using TwinGateway.Core;
using TwinGateway.Interop.Tests.Cli;

namespace TwinGateway.Interop.Tests.Commissioning;

/// <summary>
/// <c>twingw audit verify --data DIR</c> as an auditor runs it on a copy of a gateway's data folder: an intact chain
/// exits 0, one byte changed in one entry exits 1 and names it, a folder without a chain exits 2 and names the path.
/// </summary>
public sealed class AuditTamperCliTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(90);
    private readonly TempFolder _data = new();

    public void Dispose() => _data.Dispose();

    /// <summary>Five entries of one change, as a gateway writes them, in the data folder's audit.db; the log is closed again.</summary>
    private async Task WriteChainAsync()
    {
        await using var log = await AuditLog.OpenAsync(_data.Path, TimeProvider.System);
        AuditRecord Record(AuditEventKind kind, string actor, Authority authority, int n) =>
            new("demo-line", "c-0001", kind, actor, authority, $$"""{"n":{{n}}}""");
        await log.AppendAsync(Record(AuditEventKind.Submitted, "erin", Authority.Human, 1));
        await log.AppendAsync(Record(AuditEventKind.Validated, "erin", Authority.Physics, 2));
        await log.AppendAsync(Record(AuditEventKind.Approved, "ada", Authority.Human, 3));
        await log.AppendAsync(Record(AuditEventKind.Applying, "erin", Authority.Human, 4));
        await log.AppendAsync(Record(AuditEventKind.Applied, "erin", Authority.Human, 5));
    }

    /// <summary>What someone with write access to the file does: drops the append-only trigger and rewrites a column of one entry.</summary>
    private void Tamper(long sequence, string column, string value)
    {
        var builder = new SqliteConnectionStringBuilder { DataSource = _data.File(SqliteAuditStore.FileName), Pooling = false };
        using var connection = new SqliteConnection(builder.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"DROP TRIGGER audit_entries_no_update; UPDATE audit_entries SET {column} = $value WHERE seq = $seq;";
        command.Parameters.AddWithValue("$value", value);
        command.Parameters.AddWithValue("$seq", sequence);
        Assert.Equal(1, command.ExecuteNonQuery());
    }

    [Theory]
    [InlineData("payload", """{"n":4}""")]
    [InlineData("actor", "adb")]
    public async Task One_byte_changed_in_an_entry_fails_the_verification_and_names_the_entry(string column, string changed)
    {
        await WriteChainAsync();
        var intact = await TwingwProcess.RunAsync(s_timeout, "audit", "verify", "--data", _data.Path);
        Assert.True(intact.ExitCode == 0, intact.ToString());
        Assert.Contains("audit chain intact: 5 entries", intact.StdOut, StringComparison.Ordinal);

        // Entry 3 holds {"n":3} and actor "ada": one byte differs in either.
        Tamper(3, column, changed);

        var broken = await TwingwProcess.RunAsync(s_timeout, "audit", "verify", "--data", _data.Path);
        Assert.True(broken.ExitCode == 1, broken.ToString());
        Assert.Contains("BROKEN at entry 3 (changed)", broken.StdOut, StringComparison.Ordinal);
        Assert.Contains("entry 3:", broken.StdOut, StringComparison.Ordinal);
        Assert.Contains("2 entries before it check out", broken.StdOut, StringComparison.Ordinal);

        var json = await TwingwProcess.RunAsync(s_timeout, "audit", "verify", "--data", _data.Path, "--json");
        Assert.True(json.ExitCode == 1, json.ToString());
        var result = Assert.Single(json.JsonLines);
        Assert.False(result.GetProperty("valid").GetBoolean());
        Assert.Equal(3, result.GetProperty("firstBadSequence").GetInt64());
        Assert.Equal("changed", result.GetProperty("problem").GetString());
        Assert.Contains("entry 3", result.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_folder_without_an_audit_chain_is_exit_2_naming_the_path()
    {
        var missing = _data.File("no-gateway-here");
        Directory.CreateDirectory(missing);

        var result = await TwingwProcess.RunAsync(s_timeout, "audit", "verify", "--data", missing);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(Path.Combine(missing, SqliteAuditStore.FileName), result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.StdErr + result.StdOut, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.StdOut.Trim(), StringComparer.Ordinal);
    }
}
