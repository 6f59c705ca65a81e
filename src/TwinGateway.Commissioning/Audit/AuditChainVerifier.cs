using System.Collections.Concurrent;
using System.Security.Cryptography;
using TwinGateway.Core;

namespace TwinGateway.Commissioning.Audit;

/// <summary>What is wrong with the first bad entry of a chain.</summary>
public enum AuditProblem
{
    /// <summary>Nothing: the chain is intact.</summary>
    None,

    /// <summary>The entry's content does not match its hash, or its link was rewritten.</summary>
    Changed,

    /// <summary>One or more entries before it are missing (a gap in the sequence).</summary>
    Removed,

    /// <summary>The entry links to an entry that comes after it: entries were swapped or moved.</summary>
    Reordered,

    /// <summary>The entry's hash and link are consistent but the gateway's key did not sign it: forged or inserted.</summary>
    Forged,

    /// <summary>The store could not be read from this entry on (a damaged database page): what follows cannot be checked.</summary>
    Unreadable,
}

/// <summary>The outcome of walking a chain.</summary>
/// <param name="IsValid">True when every entry checked out.</param>
/// <param name="EntriesChecked">Entries found good before the first bad one (all of them when valid).</param>
/// <param name="FirstBadSequence">The sequence number of the first bad entry, as stored; null when valid.</param>
/// <param name="Problem">What is wrong with it.</param>
/// <param name="Message">One line for people: "entry 1234: its hash does not match its content (changed)".</param>
/// <param name="Head">The last good entry: the whole chain's head when valid.</param>
public sealed record AuditVerificationResult(bool IsValid, long EntriesChecked, long? FirstBadSequence, AuditProblem Problem, string Message, AuditHead Head);

/// <summary>
/// Verifies a chain with the public key only, so an auditor can do it offline on a copy of the data folder. It walks
/// every entry in sequence order, recomputes its hash from the canonical encoding, checks the sequence has no gap, the
/// link to the entry before it and the signature, and stops at the first entry that fails, naming it.
/// Hashes and signatures of a page are checked on every core (an ECDSA verification is the cost: about 90 % of the time).
/// </summary>
/// <remarks>
/// What the chain alone cannot show: entries removed from the end (the head is then simply earlier). Compare the head
/// with one recorded elsewhere (an evidence bundle, a report) to catch that.
/// </remarks>
public static class AuditChainVerifier
{
    public const int DefaultPageSize = 4096;

    public static async Task<AuditVerificationResult> VerifyAsync(IAuditStore store, AuditPublicKey publicKey, int pageSize = DefaultPageSize, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(publicKey);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pageSize);

        var verifiers = new ConcurrentBag<ECDsa>();
        try
        {
            var head = AuditHead.Genesis;
            long checkedCount = 0;
            var readSize = pageSize;
            while (true)
            {
                IReadOnlyList<AuditEntry> page;
                try
                {
                    page = await store.ReadAsync(head.Sequence + 1, readSize, cancellationToken).ConfigureAwait(false);
                }
                catch (AuditStoreException) when (readSize > 1)
                {
                    // Somewhere in this page the file is damaged: go on one entry at a time to name the first unreadable one.
                    readSize = 1;
                    continue;
                }
                catch (AuditStoreException ex)
                {
                    // A damaged page of the database file: the chain is not verified, and the report says where it stopped.
                    return new AuditVerificationResult(false, checkedCount, head.Sequence + 1, AuditProblem.Unreadable,
                        $"entry {head.Sequence + 1}: the store cannot be read from here on, after {checkedCount} good entries (damaged): {ex.Message}", head);
                }

                if (page.Count == 0)
                {
                    return new AuditVerificationResult(true, checkedCount, null, AuditProblem.None,
                        $"the audit chain is intact: {checkedCount} entries, head entry {head.Sequence} ({Convert.ToHexStringLower(head.Hash.Span)})", head);
                }

                var checks = CheckPage(page, publicKey, verifiers);
                for (var i = 0; i < page.Count; i++)
                {
                    var entry = page[i];
                    var problem = await FindProblemAsync(store, entry, checks[i], head, cancellationToken).ConfigureAwait(false);
                    if (problem is { } found)
                    {
                        return new AuditVerificationResult(false, checkedCount, entry.Sequence, found.Problem, $"entry {entry.Sequence}: {found.Message}", head);
                    }

                    head = new AuditHead(entry.Sequence, entry.Hash);
                    checkedCount++;
                }
            }
        }
        finally
        {
            foreach (var verifier in verifiers)
            {
                verifier.Dispose();
            }
        }
    }

    private readonly record struct EntryCheck(bool Known, bool HashMatches, bool SignatureValid);

    private static EntryCheck[] CheckPage(IReadOnlyList<AuditEntry> page, AuditPublicKey publicKey, ConcurrentBag<ECDsa> verifiers)
    {
        var checks = new EntryCheck[page.Count];
        Parallel.For(
            0,
            page.Count,
            () => verifiers.TryTake(out var verifier) ? verifier : publicKey.CreateVerifier(),
            (i, _, verifier) =>
            {
                checks[i] = Check(page[i], verifier);
                return verifier;
            },
            verifiers.Add);
        return checks;
    }

    private static EntryCheck Check(AuditEntry entry, ECDsa verifier)
    {
        var known = Enum.IsDefined(entry.Kind) && Enum.IsDefined(entry.Authority)
            && entry.PreviousHash.Length == AuditEncoding.HashLength && entry.Sequence >= 1;
        var hashMatches = known && AuditEncoding.ComputeHash(entry).AsSpan().SequenceEqual(entry.Hash.Span);
        var signatureValid = entry.Hash.Length == AuditEncoding.HashLength
            && verifier.VerifyHash(entry.Hash.Span, entry.Signature.Span, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return new EntryCheck(known, hashMatches, signatureValid);
    }

    private static async Task<(AuditProblem Problem, string Message)?> FindProblemAsync(
        IAuditStore store, AuditEntry entry, EntryCheck check, AuditHead previous, CancellationToken cancellationToken)
    {
        if (entry.Sequence != previous.Sequence + 1)
        {
            var missing = entry.Sequence == previous.Sequence + 2 ? $"{previous.Sequence + 1}" : $"{previous.Sequence + 1} to {entry.Sequence - 1}";
            return previous.Sequence == 0
                ? (AuditProblem.Removed, $"it is the first entry ({missing} removed)")
                : (AuditProblem.Removed, $"it follows {previous.Sequence} ({missing} removed)");
        }

        if (!check.Known)
        {
            return (AuditProblem.Changed, $"it holds values no gateway writes (event kind {(int)entry.Kind}, authority {(int)entry.Authority}, previous hash of {entry.PreviousHash.Length} bytes) (changed)");
        }

        var linked = entry.PreviousHash.Span.SequenceEqual(previous.Hash.Span);
        if (!check.HashMatches)
        {
            if (!linked && await FindLaterAsync(store, entry.PreviousHash, entry.Sequence + 1, cancellationToken).ConfigureAwait(false) is { } later)
            {
                return (AuditProblem.Reordered, $"its hash does not match its content, and it links after entry {later}, which comes later (reordered)");
            }

            return (AuditProblem.Changed, "its hash does not match its content (changed)");
        }

        if (!linked)
        {
            if (await FindLaterAsync(store, entry.PreviousHash, entry.Sequence + 1, cancellationToken).ConfigureAwait(false) is { } later)
            {
                return (AuditProblem.Reordered, $"it links after entry {later}, which comes later, not after entry {previous.Sequence} (reordered)");
            }

            return (AuditProblem.Changed, previous.Sequence == 0
                ? "it is the first entry but its previous hash is not zero (changed or inserted)"
                : $"its previous hash is not the hash of entry {previous.Sequence} (changed or inserted)");
        }

        if (!check.SignatureValid)
        {
            return (AuditProblem.Forged, "its hash matches its content but its signature does not verify with the gateway's public key (forged or inserted)");
        }

        return null;
    }

    /// <summary>Only on the failure path: scans the rest of the chain for the entry whose hash a misplaced entry links to.</summary>
    private static async Task<long?> FindLaterAsync(IAuditStore store, ReadOnlyMemory<byte> hash, long fromSequence, CancellationToken cancellationToken)
    {
        var next = fromSequence;
        while (true)
        {
            var page = await store.ReadAsync(next, DefaultPageSize, cancellationToken).ConfigureAwait(false);
            if (page.Count == 0)
            {
                return null;
            }

            foreach (var entry in page)
            {
                if (entry.Hash.Span.SequenceEqual(hash.Span))
                {
                    return entry.Sequence;
                }
            }

            next = page[^1].Sequence + 1;
        }
    }
}
