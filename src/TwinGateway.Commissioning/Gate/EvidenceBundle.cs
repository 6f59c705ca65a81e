using System.Collections.Immutable;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TwinGateway.Commissioning.Audit;
using TwinGateway.Commissioning.Changes;
using TwinGateway.Commissioning.Store;
using TwinGateway.Commissioning.Validation;
using TwinGateway.Core;

namespace TwinGateway.Commissioning.Gate;

/// <summary>
/// A change's evidence bundle: one zip an auditor can check offline. It holds the change (canonical JSON), its record,
/// the validation policy and line definition texts and the twin snapshot the validation forked from, the evidence,
/// the approvals, the apply journal, the audit entries that cover the change with the chain's head at export, the
/// gateway's public key, and a manifest with the SHA-256 of every file. <see cref="Check"/> verifies all of it;
/// <c>twingw change reproduce</c> then re-runs the validation from the snapshot and compares the evidence hash.
/// </summary>
public static class EvidenceBundle
{
    public const string Manifest = "manifest.json";
    public const string ChangeFile = "change.json";
    public const string RecordFile = "change-record.json";
    public const string EvidenceFile = "evidence.json";
    public const string ApprovalsFile = "approvals.json";
    public const string JournalFile = "apply-journal.json";
    public const string AuditFile = "audit-entries.json";
    public const string PublicKeyFile = "audit-public-key.pem";

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    /// <summary>An audit entry as the bundle carries it (hashes and signature hex-encoded).</summary>
    public sealed record BundledAuditEntry(long Sequence, DateTimeOffset Time, string LineId, string? ChangeId, int Kind, string Actor, int Authority,
        string Payload, string PreviousHash, string Hash, string Signature)
    {
        public static BundledAuditEntry Of(AuditEntry e) => new(e.Sequence, e.Time, e.LineId, e.ChangeId, (int)e.Kind, e.Actor, (int)e.Authority, e.Payload,
            Convert.ToHexStringLower(e.PreviousHash.Span), Convert.ToHexStringLower(e.Hash.Span), Convert.ToHexStringLower(e.Signature.Span));

        public AuditEntry ToEntry() => new(Sequence, Time, LineId, ChangeId, (AuditEventKind)Kind, Actor, (Authority)Authority, Payload,
            Convert.FromHexString(PreviousHash), Convert.FromHexString(Hash), Convert.FromHexString(Signature));
    }

    private sealed record AuditSection(long HeadSequence, string HeadHash, IReadOnlyList<BundledAuditEntry> Entries);

    private sealed record RecordSection(string Id, string Line, string Title, string State, string Class, IReadOnlyList<string> ClassReasons, string ContentHash,
        string Submitter, DateTimeOffset SubmittedAt, DateTimeOffset UpdatedAt, string? EvidenceHash, string? Outcome);

    private sealed record ApprovalSection(string User, IReadOnlyList<string> Roles, string Authority, string? Comment, DateTimeOffset Time, string ContentHash, string EvidenceHash, bool Counts);

    private sealed record StepSection(string Kind, DateTimeOffset At, string Message, int? Index, string? Detail);

    /// <summary>Writes the bundle of <paramref name="view"/> to <paramref name="output"/>.</summary>
    public static async Task WriteAsync(Stream output, ChangeView view, string artifactsFolder, AuditLog audit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(audit);
        var record = view.Record;
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal)
        {
            [ChangeFile] = Encoding.UTF8.GetBytes(record.SpecJson),
            [RecordFile] = JsonSerializer.SerializeToUtf8Bytes(new RecordSection(record.Id, record.LineId, record.Title, record.State.ToString(), record.Class.ToString(),
                record.ClassReasons, record.ContentHash, record.Submitter, record.SubmittedAt, record.UpdatedAt, record.EvidenceHash, record.Outcome), s_json),
            [ApprovalsFile] = JsonSerializer.SerializeToUtf8Bytes(view.Approvals.Select(a => new ApprovalSection(a.Approval.User, [.. a.Approval.Roles.Select(r => r.ToString().ToLowerInvariant())],
                a.Approval.Authority.ToText(), a.Approval.Comment, a.Approval.Time, a.Approval.ContentHash, a.Approval.EvidenceHash, a.Counts)).ToList(), s_json),
            [JournalFile] = JsonSerializer.SerializeToUtf8Bytes(view.Steps.Select(s => new StepSection(s.Kind.ToString(), s.At, s.Message, s.Index, s.Detail)).ToList(), s_json),
            [PublicKeyFile] = Encoding.UTF8.GetBytes(audit.PublicKey.ExportPem()),
        };
        if (record.EvidenceJson is { } evidence)
        {
            files[EvidenceFile] = Encoding.UTF8.GetBytes(evidence);
            foreach (var name in new[] { CommissioningGate.SnapshotFile, CommissioningGate.LineFile, CommissioningGate.PolicyFile })
            {
                var path = Path.Combine(artifactsFolder, record.Id, name);
                if (File.Exists(path))
                {
                    files[name] = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        var entries = new List<BundledAuditEntry>();
        AuditEntry? head = null;
        for (long next = 1; ;)
        {
            var page = await audit.Store.ReadAsync(next, 4096, cancellationToken).ConfigureAwait(false);
            if (page.Count == 0)
            {
                break;
            }

            entries.AddRange(page.Where(e => e.ChangeId == record.Id).Select(BundledAuditEntry.Of));
            head = page[^1];
            next = head.Sequence + 1;
        }

        files[AuditFile] = JsonSerializer.SerializeToUtf8Bytes(new AuditSection(head?.Sequence ?? 0, head?.HashHex ?? "", entries), s_json);
        files[Manifest] = JsonSerializer.SerializeToUtf8Bytes(files.ToDictionary(f => f.Key, f => Convert.ToHexStringLower(SHA256.HashData(f.Value)), StringComparer.Ordinal), s_json);

        using var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true);
        foreach (var (name, bytes) in files)
        {
            var entry = zip.CreateEntry(name, CompressionLevel.Optimal);
            entry.LastWriteTime = record.UpdatedAt;
            var stream = await entry.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The files of a bundle by name.</summary>
    /// <exception cref="InvalidDataException">Not a zip.</exception>
    public static IReadOnlyDictionary<string, byte[]> Read(Stream input)
    {
        using var zip = new ZipArchive(input, ZipArchiveMode.Read, leaveOpen: true);
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var entry in zip.Entries)
        {
            using var stream = entry.Open();
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            files[entry.FullName] = buffer.ToArray();
        }

        return files;
    }

    /// <summary>What checking a bundle found: every check by name with its result; <see cref="Ok"/> when all passed.</summary>
    public sealed record BundleCheck(ImmutableArray<(string Check, bool Passed, string Detail)> Checks)
    {
        public bool Ok => Checks.All(c => c.Passed);
    }

    /// <summary>
    /// Checks a bundle offline: the manifest's hashes, the change's content hash, the evidence against the change, the
    /// policy and the line definition, every audit entry's hash and signature (with the bundled public key; compare its
    /// fingerprint with the gateway's), that the audit names the evidence and each approval, and that approvals that
    /// count are bound to the change and the evidence.
    /// </summary>
    public static BundleCheck Check(IReadOnlyDictionary<string, byte[]> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var checks = ImmutableArray.CreateBuilder<(string, bool, string)>();
        void Add(string name, bool passed, string detail) => checks.Add((name, passed, detail));

        if (!files.TryGetValue(Manifest, out var manifestBytes))
        {
            Add("manifest", false, $"the bundle has no {Manifest}: not an evidence bundle");
            return new BundleCheck(checks.ToImmutable());
        }

        Dictionary<string, string>? manifest = null;
        try
        {
            manifest = JsonSerializer.Deserialize<Dictionary<string, string>>(manifestBytes) ?? [];
        }
        catch (JsonException ex)
        {
            Add("manifest", false, $"{Manifest} does not read as the gateway wrote it: {ex.Message}");
        }

        if (manifest is not null)
        {
            var bad = manifest.Where(m => !files.TryGetValue(m.Key, out var bytes) || Convert.ToHexStringLower(SHA256.HashData(bytes)) != m.Value).Select(m => m.Key).ToList();
            var extra = files.Keys.Where(k => k != Manifest && !manifest.ContainsKey(k)).ToList();
            Add("manifest", bad.Count == 0 && extra.Count == 0, bad.Count == 0 && extra.Count == 0
                ? $"{manifest.Count} files, each matching its SHA-256"
                : $"{string.Join(", ", bad.Select(b => b + " changed or missing").Concat(extra.Select(e => e + " not in the manifest")))}");
        }

        // A file changed after export may no longer parse: that is a failed check (the manifest above already names the
        // file), never an exception.
        try
        {
            var record = JsonSerializer.Deserialize<RecordSection>(files[RecordFile])!;
            var change = ChangeJson.Read(Encoding.UTF8.GetString(files[ChangeFile]));
            var contentHash = ChangeHash.Compute(change);
            Add("content hash", contentHash == record.ContentHash, $"the change hashes to {contentHash}; the record names {record.ContentHash}");

            Evidence? evidence = null;
            if (files.TryGetValue(EvidenceFile, out var evidenceBytes))
            {
                try
                {
                    evidence = EvidenceJson.Read(Encoding.UTF8.GetString(evidenceBytes));
                }
                catch (Exception ex) when (IsDamage(ex))
                {
                    Add("evidence hash", false, $"{EvidenceFile} does not read as the gateway wrote it: {ex.Message}");
                }
            }

            if (evidence is not null)
            {
                Add("evidence hash", evidence.Hash == record.EvidenceHash, $"the evidence hashes to {evidence.Hash}; the record names {record.EvidenceHash}");
                Add("evidence names the change", evidence.ChangeHash == contentHash, $"evidence of change {evidence.ChangeHash}");
                if (files.TryGetValue(CommissioningGate.PolicyFile, out var policy))
                {
                    Add("policy hash", Sha(policy) == evidence.PolicyHash, $"policy.yaml hashes to {Sha(policy)}; the evidence names {evidence.PolicyHash}");
                }

                if (files.TryGetValue(CommissioningGate.LineFile, out var line))
                {
                    Add("line definition hash", Sha(line) == evidence.LineDefinitionHash, $"line.yaml hashes to {Sha(line)}; the evidence names {evidence.LineDefinitionHash}");
                }
            }

            var audit = JsonSerializer.Deserialize<AuditSection>(files[AuditFile])!;
            var key = AuditPublicKey.FromPem(Encoding.UTF8.GetString(files[PublicKeyFile]), PublicKeyFile);
            using var verifier = key.CreateVerifier();
            var badEntries = new List<string>();
            foreach (var bundled in audit.Entries)
            {
                var entry = bundled.ToEntry();
                var hash = AuditEncoding.ComputeHash(entry);
                if (!hash.AsSpan().SequenceEqual(entry.Hash.Span))
                {
                    badEntries.Add($"entry {entry.Sequence}: its hash does not match its content (changed)");
                }
                else if (!verifier.VerifyHash(hash, entry.Signature.Span, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
                {
                    badEntries.Add($"entry {entry.Sequence}: its signature does not verify with the bundled key (forged)");
                }
            }

            Add("audit entries", badEntries.Count == 0, badEntries.Count == 0
                ? $"{audit.Entries.Count} entries of the change, each hash and signature good (key {key.Fingerprint[..16]}…, chain head {audit.HeadSequence} at export)"
                : string.Join("; ", badEntries));
            if (evidence is not null)
            {
                var named = audit.Entries.Any(e => e.Kind is (int)AuditEventKind.Validated or (int)AuditEventKind.ValidationFailed && e.Payload.Contains(evidence.Hash, StringComparison.Ordinal));
                Add("audit names the evidence", named, named ? "a validation entry records the evidence hash" : "no validation entry records this evidence hash");
            }

            var approvals = JsonSerializer.Deserialize<List<ApprovalSection>>(files[ApprovalsFile]) ?? [];
            foreach (var approval in approvals.Where(a => a.Counts))
            {
                var bound = approval.ContentHash == contentHash && approval.EvidenceHash == record.EvidenceHash;
                var audited = audit.Entries.Any(e => e.Kind == (int)AuditEventKind.Approved && e.Actor == approval.User && e.Payload.Contains(approval.EvidenceHash, StringComparison.Ordinal));
                Add($"approval by {approval.User}", bound && audited, bound && audited
                    ? "bound to this change and evidence, and in the audit"
                    : !bound ? "counted but not bound to this change and evidence" : "not in the audit entries");
            }

        }
        catch (Exception ex) when (IsDamage(ex))
        {
            Add("bundle contents", false, $"the bundle's files do not read as the gateway wrote them: {ex.Message}");
        }

        return new BundleCheck(checks.ToImmutable());
    }

    /// <summary>True for what reading a damaged or altered bundle file throws (a failed check, not a crash).</summary>
    public static bool IsDamage(Exception ex) =>
        ex is JsonException or InvalidDataException or KeyNotFoundException or FormatException or ArgumentException or AuditKeyException;

    private static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
