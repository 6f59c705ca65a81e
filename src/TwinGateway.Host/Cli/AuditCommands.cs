using System.CommandLine;
using System.Globalization;
using TwinGateway.Api.V1;
using TwinGateway.Commissioning.Audit;
using TwinGateway.Host.Api;
using TwinGateway.Host.Commissioning;

namespace TwinGateway.Host.Cli;

/// <summary>
/// <c>twingw audit verify|list</c>: the audit chain through the running gateway (<c>--server</c>), or offline on a
/// data folder (<c>--data DIR</c>: what an auditor does on a copy, with the public key found beside the chain).
/// </summary>
internal static class AuditCommands
{
    private static readonly Option<string> s_server = new("--server") { Description = "Gateway gRPC URL", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
    private static readonly Option<string?> s_data = new("--data") { Description = "Verify or list offline on this data folder (audit.db and audit-public-key.pem) instead of asking a gateway" };
    private static readonly Option<bool> s_json = new("--json") { Description = "One JSON object per line" };

    public static Command Create()
    {
        var command = new Command("audit", "The signed, hash-chained audit log: verify the chain, list entries");
        command.Subcommands.Add(Verify());
        command.Subcommands.Add(List());
        return command;
    }

    private static Command Verify()
    {
        var command = new Command("verify", "Check the whole chain: every hash, link and signature; names the first entry that was changed, removed or reordered. Exit 0 intact, 1 broken");
        command.Options.Add(s_server);
        command.Options.Add(GatewayCalls.Token);
        command.Options.Add(s_data);
        command.Options.Add(s_json);
        command.SetAction(async (parse, ct) =>
        {
            VerifyChainResponse result;
            if (parse.GetValue(s_data) is { } data)
            {
                if (await OfflineAsync(data, async (store, key) =>
                {
                    var verified = await AuditChainVerifier.VerifyAsync(store, key, cancellationToken: ct).ConfigureAwait(false);
                    return new VerifyChainResponse
                    {
                        Valid = verified.IsValid,
                        EntriesChecked = verified.EntriesChecked,
                        FirstBadSequence = verified.FirstBadSequence ?? 0,
                        Problem = verified.Problem.ToString().ToLowerInvariant(),
                        Message = verified.Message,
                        PublicKeyFingerprint = key.Fingerprint,
                    };
                }).ConfigureAwait(false) is not { } offline)
                {
                    return 2;
                }

                result = offline;
            }
            else
            {
                VerifyChainResponse? online = null;
                var code = await GatewayCalls.Guard(parse, parse.GetValue(s_server)!, async channel =>
                {
                    online = await new AuditService.AuditServiceClient(channel).VerifyChainAsync(new VerifyChainRequest(), cancellationToken: ct).ConfigureAwait(false);
                    return 0;
                }).ConfigureAwait(false);
                if (online is null)
                {
                    return code;
                }

                result = online;
            }

            if (parse.GetValue(s_json))
            {
                LinesCommands.JsonLine(w =>
                {
                    w.WriteBoolean("valid", result.Valid);
                    w.WriteNumber("entriesChecked", result.EntriesChecked);
                    if (!result.Valid)
                    {
                        w.WriteNumber("firstBadSequence", result.FirstBadSequence);
                    }

                    w.WriteString("problem", result.Problem);
                    w.WriteString("message", result.Message);
                    w.WriteString("publicKeyFingerprint", result.PublicKeyFingerprint);
                });
            }
            else if (result.Valid)
            {
                Console.WriteLine($"audit chain intact: {result.EntriesChecked.ToString("N0", CultureInfo.InvariantCulture)} entries, every hash, link and signature checks out (key {result.PublicKeyFingerprint[..16]}…)");
            }
            else
            {
                Console.WriteLine($"audit chain BROKEN at entry {result.FirstBadSequence} ({result.Problem}): {result.Message}");
                Console.WriteLine($"{result.EntriesChecked.ToString("N0", CultureInfo.InvariantCulture)} entries before it check out");
            }

            return result.Valid ? 0 : 1;
        });
        return command;
    }

    private static Command List()
    {
        var line = new Option<string?>("--line") { Description = "Only this line's entries" };
        var change = new Option<string?>("--change") { Description = "Only this change's entries" };
        var from = new Option<long>("--from") { Description = "First sequence number", DefaultValueFactory = _ => 1 };
        var max = new Option<int>("--max") { Description = "At most this many entries", DefaultValueFactory = _ => 1000 };
        var command = new Command("list", "List audit entries, oldest first") { line, change, from, max };
        command.Options.Add(s_server);
        command.Options.Add(GatewayCalls.Token);
        command.Options.Add(s_data);
        command.Options.Add(s_json);
        command.SetAction(async (parse, ct) =>
        {
            var entries = new List<TwinGateway.Api.V1.AuditEntry>();
            if (parse.GetValue(s_data) is { } data)
            {
                if (await OfflineAsync(data, async (store, _) =>
                {
                    await foreach (var entry in AuditQuery.ReadAsync(store, parse.GetValue(from), parse.GetValue(line), parse.GetValue(change), parse.GetValue(max), ct).ConfigureAwait(false))
                    {
                        entries.Add(AuditGrpcService.ToProto(entry));
                    }

                    return entries;
                }).ConfigureAwait(false) is null)
                {
                    return 2;
                }
            }
            else
            {
                var code = await GatewayCalls.Guard(parse, parse.GetValue(s_server)!, async channel =>
                {
                    var response = await new AuditService.AuditServiceClient(channel).ListEntriesAsync(new ListAuditEntriesRequest
                    {
                        Line = parse.GetValue(line) ?? "",
                        Change = parse.GetValue(change) ?? "",
                        FromSequence = parse.GetValue(from),
                        MaxCount = parse.GetValue(max),
                    }, cancellationToken: ct).ConfigureAwait(false);
                    entries.AddRange(response.Entries);
                    return 0;
                }).ConfigureAwait(false);
                if (code != 0)
                {
                    return code;
                }
            }

            if (parse.GetValue(s_json))
            {
                foreach (var e in entries)
                {
                    LinesCommands.JsonLine(w =>
                    {
                        w.WriteNumber("sequence", e.Sequence);
                        w.WriteString("time", e.Time.ToDateTimeOffset().ToString("O", CultureInfo.InvariantCulture));
                        w.WriteString("line", e.Line);
                        w.WriteString("change", e.Change);
                        w.WriteString("kind", e.Kind);
                        w.WriteString("actor", e.Actor);
                        w.WriteString("authority", e.Authority);
                        w.WriteString("payload", e.Payload);
                        w.WriteString("hash", e.Hash);
                    });
                }
            }
            else
            {
                var table = new TableWriter("SEQ", "TIME", "LINE", "CHANGE", "EVENT", "ACTOR", "AUTHORITY", "HASH");
                foreach (var e in entries)
                {
                    table.Add(e.Sequence.ToString(CultureInfo.InvariantCulture), e.Time.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                        e.Line, e.Change, e.Kind, e.Actor, e.Authority, e.Hash[..12]);
                }

                table.Write(Console.Out);
            }

            return 0;
        });
        return command;
    }

    /// <summary>Opens the data folder's chain and public key read-only in spirit (nothing is written); null (after an error message) when they are missing.</summary>
    private static async Task<T?> OfflineAsync<T>(string dataFolder, Func<IAuditStore, AuditPublicKey, Task<T>> body)
        where T : class
    {
        var dbPath = Path.Combine(dataFolder, SqliteAuditStore.FileName);
        var keyPath = Path.Combine(dataFolder, AuditSigningKey.PublicKeyFileName);
        if (!File.Exists(dbPath))
        {
            await Console.Error.WriteLineAsync($"error: no audit chain at '{dbPath}': is '{dataFolder}' a gateway's data folder?").ConfigureAwait(false);
            return null;
        }

        if (!File.Exists(keyPath))
        {
            await Console.Error.WriteLineAsync($"error: no public key at '{keyPath}': copy the gateway's {AuditSigningKey.PublicKeyFileName} beside the chain").ConfigureAwait(false);
            return null;
        }

        AuditPublicKey key;
        try
        {
            key = AuditPublicKey.FromPem(await File.ReadAllTextAsync(keyPath).ConfigureAwait(false), keyPath);
        }
        catch (AuditKeyException ex)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            return null;
        }

        try
        {
            var store = await SqliteAuditStore.OpenAsync(dataFolder).ConfigureAwait(false);
            await using (store.ConfigureAwait(false))
            {
                return await body(store, key).ConfigureAwait(false);
            }
        }
        catch (AuditStoreException ex)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            return null;
        }
    }
}
