using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using TwinGateway.Commissioning.Audit;
using TwinGateway.Core;

namespace TwinGateway.Commissioning.Tests.Audit;

/// <summary>A data folder of its own for one test, deleted afterwards.</summary>
internal sealed class AuditTestFolder : IDisposable
{
    public AuditTestFolder() => Path = Directory.CreateTempSubdirectory("twingateway-audit-test-").FullName;

    public string Path { get; }

    public string DatabasePath => System.IO.Path.Combine(Path, SqliteAuditStore.FileName);

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 12, 3, 8, 0, 0, TimeSpan.Zero));

    public Task<AuditLog> OpenAsync() => AuditLog.OpenAsync(Path, Clock);

    /// <summary>Appends <paramref name="count"/> events, the clock moving a second each, payloads <c>{"n":"marker-0001"}</c> ...</summary>
    public async Task AppendAsync(AuditLog log, int count)
    {
        for (var i = 1; i <= count; i++)
        {
            Clock.Advance(TimeSpan.FromSeconds(1));
            await log.AppendAsync(Record(i));
        }
    }

    public static AuditRecord Record(int n) => new(
        "demo-line", $"change-{(n + 3) / 4}", (AuditEventKind)(((n - 1) % 12) + 1), n % 2 == 0 ? "alice" : "bob",
        (Authority)(((n - 1) % 3) + 1), $$"""{"n":"marker-{{n:D4}}"}""");

    /// <summary>Plain SQL on the closed store, as anyone with the file could; the append-only triggers dropped first.</summary>
    public void Tamper(string sql)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "DROP TRIGGER IF EXISTS audit_entries_no_update; DROP TRIGGER IF EXISTS audit_entries_no_delete; DROP TRIGGER IF EXISTS audit_entries_chain; " + sql;
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
