using System.CommandLine;
using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using TwinGateway.Api.V1;
using TwinGateway.Host.Gateway;
using TwinGateway.Host.Security;
using TwinGateway.OpcUa.Security.Pki;

namespace TwinGateway.Host.Cli;

/// <summary>
/// <c>twingw certs list|show|trust|reject|remove|export-own</c>: the OPC UA certificate stores of the gateway
/// (<c>&lt;data folder&gt;/pki</c>). Like <c>twingw users</c>, without <c>--server</c> they work on the data folder
/// directly (a running gateway sees the change within a second); with <c>--server</c> they go through the
/// CertificateService with an admin's token. Exit codes: 0 done, 1 refused (no such certificate, not allowed),
/// 2 usage errors (a malformed thumbprint, an unreadable file) or no gateway.
/// </summary>
internal static class CertsCommands
{
    private static readonly Option<string?> s_server = new("--server") { Description = "Manage the certificates through this gateway's API (needs an admin token) instead of the data folder" };
    private static readonly Option<string?> s_data = new("--data") { Description = "The gateway's data folder (default: the one `twingw run` uses here, ./data unless configured); the stores are in its pki/" };
    private static readonly Option<bool> s_json = new("--json") { Description = "One JSON object per line" };

    private sealed record Row(string Store, string Subject, string Thumbprint, string? ApplicationUri, DateTimeOffset NotBefore, DateTimeOffset NotAfter, string Issuer, bool SelfSigned, bool Authority)
    {
        public static Row Of(CertificateEntry e) =>
            new(e.Store.ToString().ToLowerInvariant(), e.Subject, e.Thumbprint, e.ApplicationUri, e.NotBefore, e.NotAfter, e.Issuer, e.SelfSigned, e.Authority);

        public static Row Of(Certificate c) => new(
            c.Store.ToString().ToLowerInvariant(), c.Subject, c.Thumbprint, c.ApplicationUri.Length == 0 ? null : c.ApplicationUri,
            c.NotBefore.ToDateTimeOffset(), c.NotAfter.ToDateTimeOffset(), c.Issuer, c.SelfSigned, c.CertificateAuthority);
    }

    public static Command Create()
    {
        var command = new Command("certs", "The OPC UA certificate stores (own, trusted, issuers, rejected): list, show, trust, reject, remove, export-own");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Show());
        command.Subcommands.Add(Trust());
        command.Subcommands.Add(Move("reject", "Move a certificate from trusted or issuers to rejected: the peer is refused from its next connection",
            (store, t) => [store.Reject(t)], async (client, t, ct) => [(await client.RejectCertificateAsync(new RejectCertificateRequest { Thumbprint = t }, cancellationToken: ct).ConfigureAwait(false)).Certificate]));
        command.Subcommands.Add(Move("remove", "Delete a certificate from trusted, issuers and rejected (never the gateway's own)",
            (store, t) => store.Remove(t), async (client, t, ct) => [.. (await client.RemoveCertificateAsync(new RemoveCertificateRequest { Thumbprint = t }, cancellationToken: ct).ConfigureAwait(false)).Certificates]));
        command.Subcommands.Add(ExportOwn());
        command.Subcommands.Add(AddIssuer());
        return command;
    }

    /// <summary>
    /// A plant CA for chains: its certificate into issuers/ and its CRLs beside it. On the data folder only: the
    /// CertificateService has no method for it yet.
    /// </summary>
    private static Command AddIssuer()
    {
        var file = new Argument<string?>("certificate") { Description = "The CA's certificate (DER or PEM)", Arity = ArgumentArity.ZeroOrOne };
        var crls = new Option<string[]>("--crl") { Description = "A revocation list of a CA already in trusted or issuers, or of this one (repeatable)" };
        var command = new Command("add-issuer", "Add a CA that completes peers' chains (issuers/) and its revocation lists (crl/); on the data folder") { file, crls, s_data, s_json };
        command.SetAction((parse, ct) =>
        {
            var ca = parse.GetValue(file);
            var lists = parse.GetValue(crls) ?? [];
            if (ca is null && lists.Length == 0)
            {
                Console.Error.WriteLine("error: give a CA certificate file, --crl FILE, or both");
                return Task.FromResult(2);
            }

            return Where(parse, store =>
            {
                if (ca is not null)
                {
                    Done("added issuer", [Row.Of(store.AddIssuer(ca))], parse.GetValue(s_json));
                }

                foreach (var crl in lists)
                {
                    Console.WriteLine($"added revocation list {crl} as {store.AddRevocationList(crl)}");
                }

                return 0;
            }, _ => throw new InvalidOperationException("add-issuer works on the data folder only"));
        });
        return command;
    }

    private static void AddWhere(Command command)
    {
        command.Options.Add(s_data);
        command.Options.Add(s_server);
        command.Options.Add(GatewayCalls.Token);
    }

    private static Command List()
    {
        var store = new Option<string?>("--store") { Description = "Only this store: own, trusted, issuers or rejected" };
        store.AcceptOnlyFromAmong("own", "trusted", "issuers", "rejected");
        var command = new Command("list", "List the certificates of every store (or one): store, subject, thumbprint, application URI, validity, issuer") { store, s_json };
        AddWhere(command);
        command.SetAction((parse, ct) =>
        {
            var only = parse.GetValue(store) is { } s ? Enum.Parse<PkiStoreName>(s, ignoreCase: true) : (PkiStoreName?)null;
            return Where(parse,
                local => Print(local.List(only).Select(Row.Of), parse.GetValue(s_json)),
                async client =>
                {
                    var response = await client.ListCertificatesAsync(new ListCertificatesRequest { Store = only is { } o ? (CertificateStore)((int)o + 1) : CertificateStore.Unspecified }, cancellationToken: ct).ConfigureAwait(false);
                    return Print(response.Certificates.Select(Row.Of), parse.GetValue(s_json));
                });
        });
        return command;
    }

    private static Command Show()
    {
        var thumbprint = new Argument<string>("thumbprint") { Description = "SHA-1 thumbprint, or a unique prefix of at least 6 hex characters" };
        var pem = new Option<bool>("--pem") { Description = "Also print the certificate as PEM" };
        var command = new Command("show", "Show one certificate: the stores that hold it, its subject, URI, validity, issuer") { thumbprint, pem, s_json };
        AddWhere(command);
        command.SetAction((parse, ct) =>
        {
            var t = parse.GetValue(thumbprint)!;
            return Where(parse,
                local =>
                {
                    var found = local.Find(t);
                    return Detail(found.Select(Row.Of), found[0].Certificate.RawData, parse.GetValue(pem), parse.GetValue(s_json));
                },
                async client =>
                {
                    var response = await client.GetCertificateAsync(new GetCertificateRequest { Thumbprint = t }, cancellationToken: ct).ConfigureAwait(false);
                    return Detail(response.Certificates.Select(Row.Of), response.Der.ToByteArray(), parse.GetValue(pem), parse.GetValue(s_json));
                });
        });
        return command;
    }

    private static Command Trust()
    {
        var thumbprint = new Argument<string?>("thumbprint") { Description = "A certificate in rejected (as `twingw certs list --store rejected` shows it)", Arity = ArgumentArity.ZeroOrOne };
        var file = new Option<string?>("--file") { Description = "Trust the certificate in this file (DER or PEM) instead" };
        var command = new Command("trust", "Trust a peer: move its certificate from rejected to trusted, or add one from a file") { thumbprint, file, s_json };
        AddWhere(command);
        command.SetAction(async (parse, ct) =>
        {
            var t = parse.GetValue(thumbprint);
            var f = parse.GetValue(file);
            if ((t is null) == (f is null))
            {
                await Console.Error.WriteLineAsync("error: give either a thumbprint or --file FILE").ConfigureAwait(false);
                return 2;
            }

            byte[]? content = null;
            if (f is not null && parse.GetValue(s_server) is not null)
            {
                try
                {
                    content = await File.ReadAllBytesAsync(f, ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    await Console.Error.WriteLineAsync($"error: {f}: {ex.Message}").ConfigureAwait(false);
                    return 2;
                }
            }

            return await Where(parse,
                local => Done("trusted", [Row.Of(t is not null ? local.Trust(t) : local.TrustFile(f!))], parse.GetValue(s_json)),
                async client =>
                {
                    var request = t is not null ? new TrustCertificateRequest { Thumbprint = t } : new TrustCertificateRequest { Certificate = ByteString.CopyFrom(content) };
                    var response = await client.TrustCertificateAsync(request, cancellationToken: ct).ConfigureAwait(false);
                    return Done("trusted", [Row.Of(response.Certificate)], parse.GetValue(s_json));
                }).ConfigureAwait(false);
        });
        return command;
    }

    private static Command Move(string verb, string description, Func<DirectoryCertificateStore, string, IReadOnlyList<CertificateEntry>> local, Func<CertificateService.CertificateServiceClient, string, CancellationToken, Task<List<Certificate>>> remote)
    {
        var thumbprint = new Argument<string>("thumbprint") { Description = "SHA-1 thumbprint, or a unique prefix of at least 6 hex characters" };
        var command = new Command(verb, description) { thumbprint, s_json };
        AddWhere(command);
        var past = verb == "reject" ? "rejected" : "removed";
        command.SetAction((parse, ct) => Where(parse,
            store => Done(past, local(store, parse.GetValue(thumbprint)!).Select(Row.Of), parse.GetValue(s_json)),
            async client => Done(past, (await remote(client, parse.GetValue(thumbprint)!, ct).ConfigureAwait(false)).Select(Row.Of), parse.GetValue(s_json))));
        return command;
    }

    private static Command ExportOwn()
    {
        var pem = new Option<bool>("--pem") { Description = "PEM text (the default on the terminal; with --out the default is DER)" };
        var output = new Option<string?>("--out") { Description = "Write to this file instead of printing PEM" };
        var command = new Command("export-own", "Export the gateway's own application instance certificate (public part), for a controller's trust list") { pem, output };
        AddWhere(command);
        command.SetAction((parse, ct) =>
        {
            var file = parse.GetValue(output);
            var asPem = parse.GetValue(pem) || file is null;
            return Where(parse,
                local => Export(local.ExportOwn(asPem), file),
                async client => Export((await client.ExportOwnCertificateAsync(new ExportOwnCertificateRequest { Pem = asPem }, cancellationToken: ct).ConfigureAwait(false)).Certificate.ToByteArray(), file));
        });
        return command;
    }

    /// <summary>
    /// Runs the local body on the data folder's stores, or the remote one through the API. Refusals: a malformed
    /// thumbprint or unreadable input exits 2, no such certificate 1; the API's InvalidArgument is 2 too.
    /// </summary>
    private static async Task<int> Where(ParseResult parse, Func<DirectoryCertificateStore, int> local, Func<CertificateService.CertificateServiceClient, Task<int>> remote)
    {
        if (parse.GetValue(s_server) is { } server)
        {
            return await GatewayCalls.Guard(parse, server, async invoker =>
            {
                try
                {
                    return await remote(new CertificateService.CertificateServiceClient(invoker)).ConfigureAwait(false);
                }
                catch (RpcException ex) when (ex.StatusCode is StatusCode.InvalidArgument or StatusCode.NotFound)
                {
                    await Console.Error.WriteLineAsync($"error: {ex.Status.Detail}").ConfigureAwait(false);
                    return ex.StatusCode == StatusCode.NotFound ? 1 : 2;
                }
            }).ConfigureAwait(false);
        }

        var folder = parse.GetValue(s_data) is { } data ? Path.GetFullPath(data) : GatewayHost.ConfiguredDataFolder();
        try
        {
            return local(new DirectoryCertificateStore(CertificateWiring.PkiFolder(folder)));
        }
        catch (PkiException ex)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            return ex.Problem == PkiProblem.NotFound ? 1 : 2;
        }
    }

    private static int Print(IEnumerable<Row> rows, bool json)
    {
        if (json)
        {
            foreach (var row in rows)
            {
                LinesCommands.JsonLine(w => WriteRow(w, row));
            }

            return 0;
        }

        var table = new TableWriter("STORE", "SUBJECT", "THUMBPRINT", "APPLICATION URI", "VALID UNTIL", "ISSUER");
        foreach (var row in rows)
        {
            table.Add(row.Store, row.Subject, row.Thumbprint, row.ApplicationUri ?? "-", Time(row.NotAfter), row.SelfSigned ? "(self-signed)" : row.Issuer);
        }

        table.Write(Console.Out);
        return 0;
    }

    private static int Detail(IEnumerable<Row> rows, byte[] der, bool pem, bool json)
    {
        var all = rows.ToList();
        var first = all[0];
        using var certificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(der);
        var text = CertificateFacts.ToPem(certificate);
        if (json)
        {
            LinesCommands.JsonLine(w =>
            {
                WriteRow(w, first);
                w.WriteStartArray("stores");
                foreach (var row in all)
                {
                    w.WriteStringValue(row.Store);
                }

                w.WriteEndArray();
                w.WriteString("pem", text);
            });
            return 0;
        }

        Console.WriteLine($"subject:         {first.Subject}");
        Console.WriteLine($"thumbprint:      {first.Thumbprint}");
        Console.WriteLine($"stores:          {string.Join(", ", all.Select(r => r.Store))}");
        Console.WriteLine($"application URI: {first.ApplicationUri ?? "none"}");
        Console.WriteLine($"valid:           {Time(first.NotBefore)} to {Time(first.NotAfter)}");
        Console.WriteLine($"issuer:          {(first.SelfSigned ? "self-signed" : first.Issuer)}{(first.Authority ? " (a certificate authority)" : "")}");
        if (pem)
        {
            Console.WriteLine(text);
        }

        return 0;
    }

    private static int Done(string verb, IEnumerable<Row> rows, bool json)
    {
        foreach (var row in rows)
        {
            if (json)
            {
                LinesCommands.JsonLine(w =>
                {
                    w.WriteString("action", verb);
                    WriteRow(w, row);
                });
            }
            else
            {
                Console.WriteLine($"{verb} {row.Subject} ({row.Thumbprint}){(verb == "removed" ? $" from {row.Store}" : "")}");
            }
        }

        return 0;
    }

    private static int Export(byte[] content, string? file)
    {
        if (file is null)
        {
            Console.Out.Write(System.Text.Encoding.ASCII.GetString(content));
            return 0;
        }

        File.WriteAllBytes(file, content);
        Console.WriteLine($"wrote {content.Length} bytes to {file}");
        return 0;
    }

    private static void WriteRow(System.Text.Json.Utf8JsonWriter w, Row row)
    {
        w.WriteString("store", row.Store);
        w.WriteString("subject", row.Subject);
        w.WriteString("thumbprint", row.Thumbprint);
        if (row.ApplicationUri is { } uri)
        {
            w.WriteString("applicationUri", uri);
        }
        else
        {
            w.WriteNull("applicationUri");
        }

        w.WriteString("notBefore", row.NotBefore.ToString("O", CultureInfo.InvariantCulture));
        w.WriteString("notAfter", row.NotAfter.ToString("O", CultureInfo.InvariantCulture));
        w.WriteString("issuer", row.Issuer);
        w.WriteBoolean("selfSigned", row.SelfSigned);
        w.WriteBoolean("certificateAuthority", row.Authority);
    }

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
}
