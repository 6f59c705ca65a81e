using TwinGateway.Core;

namespace TwinGateway.Commissioning.Audit;

/// <summary>What a caller asks the audit log to record; <see cref="AuditLog"/> adds the sequence, time, hashes and signature.</summary>
/// <param name="LineId">The line the event concerns.</param>
/// <param name="ChangeId">The change request, when the event concerns one.</param>
/// <param name="Kind">What happened.</param>
/// <param name="Actor">Who did it: a user name, or the gateway itself (for example <c>gateway</c> for a rollback it finished).</param>
/// <param name="Authority">What the decision rests on.</param>
/// <param name="Payload">A JSON document with the event's details (evidence hash, reason, values). Hashed exactly as given:
/// its UTF-8 bytes, never re-serialised, so no serializer's formatting can change a hash.</param>
public sealed record AuditRecord(string LineId, string? ChangeId, AuditEventKind Kind, string Actor, Authority Authority, string Payload = "{}");

/// <summary>
/// One entry of the audit chain as stored. <see cref="Hash"/> is the SHA-256 of <see cref="AuditEncoding"/>'s canonical
/// bytes of every other field but <see cref="Signature"/> (so it covers <see cref="PreviousHash"/> and the chain);
/// <see cref="Signature"/> is the gateway key's ECDSA P-256 signature of <see cref="Hash"/> (IEEE P1363, r || s, 64 bytes).
/// </summary>
/// <remarks>The arrays are the stored bytes; an entry read from a store is what an auditor checks, so it is not
/// validated on construction (a tampered entry must still be readable to be named).</remarks>
public sealed record AuditEntry(
    long Sequence,
    DateTimeOffset Time,
    string LineId,
    string? ChangeId,
    AuditEventKind Kind,
    string Actor,
    Authority Authority,
    string Payload,
    ReadOnlyMemory<byte> PreviousHash,
    ReadOnlyMemory<byte> Hash,
    ReadOnlyMemory<byte> Signature)
{
    /// <summary>The hash hex-encoded (lower case), as reports and the command line show it.</summary>
    public string HashHex => Convert.ToHexStringLower(Hash.Span);
}

/// <summary>The last entry of a chain: what the next entry must follow.</summary>
/// <param name="Sequence">Its sequence number (0 for an empty chain).</param>
/// <param name="Hash">Its hash (32 zero bytes for an empty chain).</param>
public readonly record struct AuditHead(long Sequence, ReadOnlyMemory<byte> Hash)
{
    /// <summary>The head of an empty chain: the first entry has sequence 1 and a previous hash of 32 zero bytes.</summary>
    public static AuditHead Genesis { get; } = new(0, new byte[AuditEncoding.HashLength]);
}
