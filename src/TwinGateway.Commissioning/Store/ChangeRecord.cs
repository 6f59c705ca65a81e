using System.Collections.Immutable;
using TwinGateway.Core;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Identity;

namespace TwinGateway.Commissioning.Store;

/// <summary>
/// A change request as the gateway keeps it: what was submitted (<see cref="SpecJson"/>, the canonical JSON of the
/// request), where it is in its life, its content hash, and the evidence of its last validation.
/// <see cref="Version"/> increases with every update; an update names the version it replaces, so two writers never
/// overwrite each other's state.
/// </summary>
public sealed record ChangeRecord
{
    public required string Id { get; init; }

    public required string LineId { get; init; }

    public required string Title { get; init; }

    public required ChangeState State { get; init; }

    public required ChangeClass Class { get; init; }

    /// <summary>Why the change is of its class (which operation made it safety-related).</summary>
    public ImmutableArray<string> ClassReasons { get; init; } = [];

    /// <summary>SHA-256 (hex) over everything that defines the change.</summary>
    public required string ContentHash { get; init; }

    public required string Submitter { get; init; }

    public required DateTimeOffset SubmittedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The request as canonical JSON (what an export and a reproduction read back).</summary>
    public required string SpecJson { get; init; }

    /// <summary>The last validation's evidence as canonical JSON; null before the first validation.</summary>
    public string? EvidenceJson { get; init; }

    /// <summary>SHA-256 (hex) of the evidence's hashed part; approvals are bound to it.</summary>
    public string? EvidenceHash { get; init; }

    /// <summary>Why the change ended as it did (rejection reason, failed criteria, rollback reason).</summary>
    public string? Outcome { get; init; }

    public long Version { get; init; }
}

/// <summary>A person's approval of a change as it was (<see cref="ContentHash"/>, <see cref="EvidenceHash"/>).</summary>
public sealed record ApprovalRecord(
    string ChangeId,
    string User,
    ImmutableArray<Role> Roles,
    Authority Authority,
    string? Comment,
    DateTimeOffset Time,
    string ContentHash,
    string EvidenceHash);

/// <summary>One recorded step of an apply (written before and after each action, so a restart finds the last one).</summary>
public sealed record JournalEntry(string ChangeId, long Sequence, string Kind, DateTimeOffset Time, string DetailJson);

/// <summary>
/// Where change requests, approvals and apply journals are kept: SQLite in the data folder by default
/// (<see cref="SqliteChangeStore"/>); a PostgreSQL store for a plant of several gateways implements the same.
/// </summary>
public interface IChangeStore : IAsyncDisposable
{
    Task AddAsync(ChangeRecord change, CancellationToken cancellationToken = default);

    Task<ChangeRecord?> GetAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Changes, newest first, optionally of one line and in some states.</summary>
    Task<IReadOnlyList<ChangeRecord>> ListAsync(string? lineId = null, IReadOnlyCollection<ChangeState>? states = null, CancellationToken cancellationToken = default);

    /// <summary>Replaces the change if it is still at <paramref name="expectedVersion"/>; returns the stored record (version + 1).</summary>
    /// <exception cref="ChangeConflictException">Someone else updated it first; nothing was written.</exception>
    Task<ChangeRecord> UpdateAsync(ChangeRecord change, long expectedVersion, CancellationToken cancellationToken = default);

    Task AddApprovalAsync(ApprovalRecord approval, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<ApprovalRecord>> GetApprovalsAsync(string changeId, CancellationToken cancellationToken = default);

    /// <summary>Appends one apply step (durably, before the call returns).</summary>
    Task<JournalEntry> AppendJournalAsync(string changeId, string kind, DateTimeOffset time, string detailJson, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<JournalEntry>> GetJournalAsync(string changeId, CancellationToken cancellationToken = default);
}

/// <summary>An update that lost a race: the change was updated by someone else since it was read.</summary>
public sealed class ChangeConflictException : Exception
{
    public ChangeConflictException()
    {
    }

    public ChangeConflictException(string message)
        : base(message)
    {
    }

    public ChangeConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The change store cannot be opened or read.</summary>
public sealed class ChangeStoreException : Exception
{
    public ChangeStoreException()
    {
    }

    public ChangeStoreException(string message)
        : base(message)
    {
    }

    public ChangeStoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
