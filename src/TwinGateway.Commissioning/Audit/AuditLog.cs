using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TwinGateway.Core;

namespace TwinGateway.Commissioning.Audit;

/// <summary>
/// The gateway's audit log: every event of the commissioning gate appended as a hash-chained entry signed with the
/// gateway's key, and the chain verified on request. Several instances (several processes) may append to one store:
/// each append names the head it follows, the store refuses it when another writer came first, and the log then
/// builds the entry again on the new head (up to <see cref="MaxAttempts"/> times) before it gives up with a retry-able
/// <see cref="AuditAppendConflictException"/>. The chain never forks.
/// </summary>
public sealed partial class AuditLog : IAsyncDisposable
{
    private readonly IAuditStore _store;
    private readonly AuditSigningKey _key;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly bool _ownsStoreAndKey;

    public AuditLog(IAuditStore store, AuditSigningKey key, TimeProvider time, ILogger<AuditLog>? logger = null)
        : this(store, key, time, (ILogger?)logger ?? NullLogger.Instance, ownsStoreAndKey: false)
    {
    }

    private AuditLog(IAuditStore store, AuditSigningKey key, TimeProvider time, ILogger logger, bool ownsStoreAndKey)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(time);
        _store = store;
        _key = key;
        _time = time;
        _logger = logger;
        _ownsStoreAndKey = ownsStoreAndKey;
    }

    /// <summary>How often an append is built again on a head another writer moved before it gives up.</summary>
    public int MaxAttempts { get; init; } = 8;

    public IAuditStore Store => _store;

    public AuditPublicKey PublicKey => _key.PublicKey;

    internal AuditSigningKey SigningKey => _key;

    /// <summary>
    /// Opens the audit log of a data folder: <c>audit.db</c> and the signing key (created on first use). The log owns
    /// both and disposes them.
    /// </summary>
    public static async Task<AuditLog> OpenAsync(string dataFolder, TimeProvider time, ILogger<AuditLog>? logger = null, CancellationToken cancellationToken = default)
    {
        var key = AuditSigningKey.LoadOrCreate(dataFolder);
        try
        {
            var store = await SqliteAuditStore.OpenAsync(dataFolder, cancellationToken: cancellationToken).ConfigureAwait(false);
            var log = new AuditLog(store, key, time, (ILogger?)logger ?? NullLogger.Instance, ownsStoreAndKey: true);
            if (key.Created)
            {
                Log.KeyCreated(log._logger, key.PrivateKeyPath, key.PublicKey.Fingerprint);
            }
            else if (key.IsReadableByOthers)
            {
                Log.KeyReadableByOthers(log._logger, key.PrivateKeyPath);
            }

            return log;
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>Appends one event; returns the entry as stored.</summary>
    public async Task<AuditEntry> AppendAsync(AuditRecord record, CancellationToken cancellationToken = default)
    {
        var entries = await AppendBatchAsync([record], cancellationToken).ConfigureAwait(false);
        return entries[0];
    }

    /// <summary>
    /// Appends several events in one transaction (all land or none), consecutive in the chain. The benchmark's batched
    /// rate is this call with 1,000 records.
    /// </summary>
    /// <exception cref="ArgumentException">A record is incomplete: empty line or actor, unknown kind or authority, a payload
    /// that is not JSON, or text that is not valid UTF-16 (an unpaired surrogate).</exception>
    /// <exception cref="AuditAppendConflictException">Other writers kept moving the head for <see cref="MaxAttempts"/>
    /// attempts; nothing was written; retry.</exception>
    public async Task<IReadOnlyList<AuditEntry>> AppendBatchAsync(IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        foreach (var record in records)
        {
            Validate(record);
        }

        for (var attempt = 1; ; attempt++)
        {
            var head = await _store.GetHeadAsync(cancellationToken).ConfigureAwait(false);
            var entries = Build(records, head is null ? AuditHead.Genesis : new AuditHead(head.Sequence, head.Hash));
            try
            {
                await _store.AppendAsync(entries, head?.Sequence ?? 0, cancellationToken).ConfigureAwait(false);
                return entries;
            }
            catch (AuditAppendConflictException ex) when (attempt < MaxAttempts)
            {
                Log.AppendConflict(_logger, attempt, MaxAttempts, ex.Message);
            }
        }
    }

    /// <summary>Verifies the whole chain with this log's public key (see <see cref="AuditChainVerifier"/>).</summary>
    public async Task<AuditVerificationResult> VerifyAsync(CancellationToken cancellationToken = default)
    {
        var result = await AuditChainVerifier.VerifyAsync(_store, _key.PublicKey, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (result.IsValid)
        {
            Log.ChainVerified(_logger, result.EntriesChecked, result.Head.Sequence);
        }
        else
        {
            Log.ChainBroken(_logger, result.FirstBadSequence ?? 0, result.Problem, result.Message);
        }

        return result;
    }

    private AuditEntry[] Build(IReadOnlyList<AuditRecord> records, AuditHead head)
    {
        var entries = new AuditEntry[records.Count];
        var previous = head;
        var now = _time.GetUtcNow();
        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i];
            var unsigned = new AuditEntry(previous.Sequence + 1, now, record.LineId, record.ChangeId, record.Kind, record.Actor, record.Authority,
                record.Payload, previous.Hash, ReadOnlyMemory<byte>.Empty, ReadOnlyMemory<byte>.Empty);
            var hash = AuditEncoding.ComputeHash(unsigned);
            var entry = unsigned with { Hash = hash, Signature = _key.SignHash(hash) };
            entries[i] = entry;
            previous = new AuditHead(entry.Sequence, hash);
        }

        return entries;
    }

    private static void Validate(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (string.IsNullOrWhiteSpace(record.LineId))
        {
            throw new ArgumentException("an audit record needs a line id", nameof(record));
        }

        if (string.IsNullOrWhiteSpace(record.Actor))
        {
            throw new ArgumentException("an audit record needs an actor (a user name, or the gateway)", nameof(record));
        }

        if (!Enum.IsDefined(record.Kind))
        {
            throw new ArgumentException($"event kind {(int)record.Kind} is not one of the audit log's kinds", nameof(record));
        }

        if (!Enum.IsDefined(record.Authority))
        {
            throw new ArgumentException($"authority {(int)record.Authority} is not physics, statistical or human", nameof(record));
        }

        try
        {
            // Strict UTF-8: an unpaired surrogate would be stored as U+FFFD and the entry would no longer match its hash.
            _ = AuditEncoding.StrictUtf8.GetByteCount(record.LineId) + AuditEncoding.StrictUtf8.GetByteCount(record.Actor)
                + AuditEncoding.StrictUtf8.GetByteCount(record.Payload) + AuditEncoding.StrictUtf8.GetByteCount(record.ChangeId ?? string.Empty);
        }
        catch (System.Text.EncoderFallbackException ex)
        {
            throw new ArgumentException($"an audit record's text is not valid Unicode: {ex.Message}", nameof(record), ex);
        }

        try
        {
            using var document = JsonDocument.Parse(record.Payload);
        }
        catch (JsonException ex)
        {
            throw new ArgumentException($"an audit record's payload is not JSON: {ex.Message}", nameof(record), ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_ownsStoreAndKey)
        {
            await _store.DisposeAsync().ConfigureAwait(false);
            _key.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Audit signing key created at {Path} (public key fingerprint {Fingerprint}); back it up: the chain can only be extended with it")]
        public static partial void KeyCreated(ILogger logger, string path, string fingerprint);

        [LoggerMessage(EventId = 6002, Level = LogLevel.Debug, Message = "Audit append attempt {Attempt} of {MaxAttempts} lost to another writer, building it again on the new head: {Reason}")]
        public static partial void AppendConflict(ILogger logger, int attempt, int maxAttempts, string reason);

        [LoggerMessage(EventId = 6003, Level = LogLevel.Information, Message = "Audit chain verified: {Entries} entries, head entry {Head}")]
        public static partial void ChainVerified(ILogger logger, long entries, long head);

        [LoggerMessage(EventId = 6004, Level = LogLevel.Warning, Message = "Audit chain verification failed at entry {Sequence} ({Problem}): {Message}")]
        public static partial void ChainBroken(ILogger logger, long sequence, AuditProblem problem, string message);

        [LoggerMessage(EventId = 6005, Level = LogLevel.Warning, Message = "The audit signing key {Path} can be read or written by other users than its owner: anyone who can read it can sign entries; run chmod 600 on it")]
        public static partial void KeyReadableByOthers(ILogger logger, string path);
    }
}
