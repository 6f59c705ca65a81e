namespace TwinGateway.Commissioning.Audit;

/// <summary>
/// Where audit entries are kept: append-only, in sequence order. The store keeps the chain from forking across
/// processes (not only inside one): an append names the head it follows, and the store refuses it inside its own
/// transaction when the head has moved on. A PostgreSQL store for a plant of several gateways implements the same.
/// The store does not verify hashes or signatures; <see cref="AuditLog"/> and <see cref="AuditChainVerifier"/> do,
/// so a tampered store is still readable and its first bad entry can be named.
/// </summary>
public interface IAuditStore : IAsyncDisposable
{
    /// <summary>
    /// Appends <paramref name="entries"/> (consecutive sequence numbers, each linking to the one before) after the
    /// entry <paramref name="expectedPreviousSequence"/> (0 for an empty chain), atomically: all land or none.
    /// </summary>
    /// <exception cref="AuditAppendConflictException">The head is no longer <paramref name="expectedPreviousSequence"/>,
    /// the entries do not link to the head, or the store stayed busy: nothing was written; read the head and try again.</exception>
    Task AppendAsync(IReadOnlyList<AuditEntry> entries, long expectedPreviousSequence, CancellationToken cancellationToken = default);

    /// <summary>Up to <paramref name="maxCount"/> entries with a sequence number of at least <paramref name="fromSequence"/>, in sequence order.</summary>
    Task<IReadOnlyList<AuditEntry>> ReadAsync(long fromSequence, int maxCount, CancellationToken cancellationToken = default);

    /// <summary>How many entries the store holds.</summary>
    Task<long> CountAsync(CancellationToken cancellationToken = default);

    /// <summary>The last entry, or null when the chain is empty.</summary>
    Task<AuditEntry?> GetHeadAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// An append that did not land because another writer appended first (or the store stayed locked): nothing was
/// written and the chain is unchanged; reading the head again and retrying is safe.
/// </summary>
public sealed class AuditAppendConflictException : Exception
{
    public AuditAppendConflictException()
    {
    }

    public AuditAppendConflictException(string message)
        : base(message)
    {
    }

    public AuditAppendConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The audit store cannot be opened or read (not a database, a schema it does not know).</summary>
public sealed class AuditStoreException : Exception
{
    public AuditStoreException()
    {
    }

    public AuditStoreException(string message)
        : base(message)
    {
    }

    public AuditStoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
