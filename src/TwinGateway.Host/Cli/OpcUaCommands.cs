using System.CommandLine;
using System.Text.Json;
using TwinGateway.OpcUa.Security;
using TwinGateway.OpcUa.Security.Pki;
using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.Host.Cli;

/// <summary>
/// <c>twingw opcua</c>: a command-line OPC UA client for commissioning engineers. Tables by default, <c>--json</c> for
/// one JSON object per line. Exit code 0 on success, 1 when an operation returned a bad status (named on stderr),
/// 2 for usage and connection errors.
/// </summary>
internal static class OpcUaCommands
{
    private static readonly Option<bool> s_json = new("--json") { Description = "Print one JSON object per line instead of a table" };
    private static readonly Option<string?> s_user = new("--user") { Description = "User name (omit for an anonymous session)" };
    private static readonly Option<string?> s_password = new("--password") { Description = "Password for --user" };
    private static readonly Option<string?> s_security = new("--security")
    {
        Description = "Security policy: None (default), Basic256Sha256, Aes128_Sha256_RsaOaep or Aes256_Sha256_RsaPss",
    };

    private static readonly Option<string?> s_mode = new("--mode") { Description = "Message security mode with --security: Sign or SignAndEncrypt (default)" };

    private static readonly Option<string?> s_pki = new("--pki")
    {
        Description = "PKI folder of this client's certificate (own/, created when missing) and the servers it trusts (trusted/, issuers/); default: the gateway data folder's pki",
    };

    private static readonly Option<double> s_timeout = new("--timeout") { Description = "Seconds to wait for the server", DefaultValueFactory = _ => 15 };

    public static Command Create()
    {
        var command = new Command("opcua", "OPC UA client commands: endpoints, browse, read, write, call, subscribe");
        command.Subcommands.Add(Endpoints());
        command.Subcommands.Add(Browse());
        command.Subcommands.Add(Read());
        command.Subcommands.Add(Write());
        command.Subcommands.Add(Call());
        command.Subcommands.Add(Subscribe());
        command.Subcommands.Add(ServeCommand.Create());
        return command;
    }

    private static Argument<string> UrlArgument() => new("url") { Description = "Endpoint URL, e.g. opc.tcp://127.0.0.1:4840" };

    private static void AddCommon(Command command)
    {
        command.Options.Add(s_json);
        command.Options.Add(s_user);
        command.Options.Add(s_password);
        command.Options.Add(s_timeout);
        command.Options.Add(s_security);
        command.Options.Add(s_mode);
        command.Options.Add(s_pki);
    }

    private static OpcUaClientOptions ClientOptions(ParseResult parse)
    {
        var user = parse.GetValue(s_user);
        var timeout = TimeSpan.FromSeconds(parse.GetValue(s_timeout));
        var (policy, mode, certificate, validator) = Security(parse);
        return new OpcUaClientOptions
        {
            SecurityPolicy = policy,
            SecurityMode = mode,
            Certificate = certificate,
            CertificateValidator = validator,
            ApplicationName = "twingw opcua",
            SessionName = "twingw opcua",
            Identity = user is null ? UserIdentity.Anonymous : UserIdentity.ForUser(user, parse.GetValue(s_password) ?? ""),
            RequestTimeout = timeout,
            Channel = new OpcUa.Channel.ClientChannelOptions { ConnectTimeout = timeout, RequestTimeout = timeout },
        };
    }

    /// <summary>
    /// <c>--security</c>, <c>--mode</c> and <c>--pki</c>: the policy and mode, this client's certificate from the PKI
    /// folder (created on first use) and a trust-list validator on the same folder for the server's certificate.
    /// </summary>
    /// <exception cref="FormatException">An unknown policy or mode, named with the ones there are.</exception>
    private static (SecurityPolicy Policy, MessageSecurityMode Mode, ApplicationCertificate? Certificate, ICertificateValidator? Validator) Security(ParseResult parse)
    {
        var name = parse.GetValue(s_security);
        if (string.IsNullOrWhiteSpace(name) || string.Equals(name, "None", StringComparison.OrdinalIgnoreCase))
        {
            return (SecurityPolicy.None, MessageSecurityMode.None, null, null);
        }

        var uri = name.Contains('#', StringComparison.Ordinal) ? name : "http://opcfoundation.org/UA/SecurityPolicy#" + name;
        if (!SecurityPolicy.TryGet(uri, out var policy))
        {
            throw new FormatException($"--security: unknown policy '{name}' (None, {string.Join(", ", SecurityPolicy.Secured.Select(p => p.Name))})");
        }

        var mode = parse.GetValue(s_mode) switch
        {
            null or "" => MessageSecurityMode.SignAndEncrypt,
            var m when string.Equals(m, "SignAndEncrypt", StringComparison.OrdinalIgnoreCase) => MessageSecurityMode.SignAndEncrypt,
            var m when string.Equals(m, "Sign", StringComparison.OrdinalIgnoreCase) => MessageSecurityMode.Sign,
            var m => throw new FormatException($"--mode: unknown mode '{m}' (Sign or SignAndEncrypt)"),
        };
        var folder = parse.GetValue(s_pki) ?? TwinGateway.Host.Security.CertificateWiring.PkiFolder(Gateway.GatewayHost.ConfiguredDataFolder());
        var store = new DirectoryCertificateStore(folder);
        var own = new ApplicationCertificates(store, new OwnCertificateSettings
        {
            ApplicationUri = "urn:twingateway:client",
            ApplicationName = "twingw opcua",
            Hosts = ApplicationCertificates.HostNames(),
        }).LoadOrCreate();
        return (policy, mode, new ApplicationCertificate(own), new TrustListValidator(store));
    }

    /// <summary>Runs a command body, turning failures into one clear line on stderr and an exit code.</summary>
    private static async Task<int> Guard(Func<Task<int>> body)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (ServiceResultException ex)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            return 2;
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            // Usage errors (a bad node id, value or field): one line naming what is wrong, exit 2, no stack trace.
            await Console.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            return 2;
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("cancelled").ConfigureAwait(false);
            return 130;
        }
    }

    private static NodeId ParseNodeId(string text) =>
        NodeId.TryParse(text, out var id, out var error) ? id : throw new FormatException($"'{text}' is not a node id: {error} (examples: i=2258, ns=2;s=Line.Speed)");

    private static Command Endpoints()
    {
        var url = UrlArgument();
        var command = new Command("endpoints", "List the server's endpoints (GetEndpoints)") { url };
        AddCommon(command);
        command.SetAction((parse, ct) => Guard(async () =>
        {
            var options = ClientOptions(parse);
            var endpoints = await OpcUaClient.GetEndpointsAsync(parse.GetValue(url)!, options.Channel, cancellationToken: ct).ConfigureAwait(false);
            if (parse.GetValue(s_json))
            {
                foreach (var e in endpoints)
                {
                    WriteJsonLine(json =>
                    {
                        json.WriteString("endpointUrl", e.EndpointUrl);
                        json.WriteString("securityMode", e.SecurityMode.ToString());
                        json.WriteString("securityPolicyUri", e.SecurityPolicyUri);
                        json.WriteString("transportProfileUri", e.TransportProfileUri);
                        json.WriteNumber("securityLevel", e.SecurityLevel);
                        json.WriteString("server", e.Server.ApplicationUri);
                        json.WriteStartArray("userTokens");
                        foreach (var t in e.UserIdentityTokens ?? [])
                        {
                            json.WriteStringValue(t.TokenType.ToString());
                        }

                        json.WriteEndArray();
                    });
                }
            }
            else
            {
                var table = new TableWriter("ENDPOINT", "MODE", "POLICY", "LEVEL", "USER TOKENS");
                foreach (var e in endpoints)
                {
                    table.Add(e.EndpointUrl, e.SecurityMode.ToString(), e.SecurityPolicyUri?.Split('#').Last(), e.SecurityLevel.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        string.Join(",", (e.UserIdentityTokens ?? []).Select(t => t.TokenType.ToString()).Distinct()));
                }

                table.Write(Console.Out);
            }

            return 0;
        }));
        return command;
    }

    private static Command Browse()
    {
        var url = UrlArgument();
        var node = new Option<string>("--node") { Description = "Node to start from", DefaultValueFactory = _ => "i=85" };
        var depth = new Option<int>("--depth") { Description = "Levels to descend (1 = children)", DefaultValueFactory = _ => 1 };
        var command = new Command("browse", "Browse the address space (Browse/BrowseNext)") { url, node, depth };
        AddCommon(command);
        command.SetAction((parse, ct) => Guard(async () =>
        {
            var root = ParseNodeId(parse.GetValue(node)!);
            var levels = parse.GetValue(depth);
            if (levels < 1)
            {
                throw new FormatException($"--depth must be at least 1 (got {levels})");
            }

            await using var client = await OpcUaClient.ConnectAsync(parse.GetValue(url)!, ClientOptions(parse), cancellationToken: ct).ConfigureAwait(false);
            var found = await client.BrowseTreeAsync(root, levels, cancellationToken: ct).ConfigureAwait(false);
            if (parse.GetValue(s_json))
            {
                foreach (var r in found)
                {
                    WriteJsonLine(json =>
                    {
                        json.WriteString("nodeId", r.Reference.NodeId.ToString());
                        json.WriteString("browseName", r.Reference.BrowseName.ToString());
                        json.WriteString("displayName", r.Reference.DisplayName.Text);
                        json.WriteString("nodeClass", r.Reference.NodeClass.ToString());
                        json.WriteString("parent", r.Parent.ToString());
                    });
                }
            }
            else
            {
                var table = new TableWriter("NODE ID", "BROWSE NAME", "DISPLAY NAME", "CLASS", "PARENT");
                foreach (var r in found)
                {
                    table.Add(r.Reference.NodeId.ToString(), r.Reference.BrowseName.ToString(), r.Reference.DisplayName.Text, r.Reference.NodeClass.ToString(), r.Parent.ToString());
                }

                table.Write(Console.Out);
            }

            return 0;
        }));
        return command;
    }

    private static Command Read()
    {
        var url = UrlArgument();
        var ids = new Argument<string[]>("node-ids") { Description = "Node ids to read", Arity = ArgumentArity.OneOrMore };
        var attribute = new Option<string>("--attribute") { Description = "Attribute to read (Value, DataType, DisplayName, ...)", DefaultValueFactory = _ => "Value" };
        var command = new Command("read", "Read attributes of nodes (Read)") { url, ids, attribute };
        AddCommon(command);
        command.SetAction((parse, ct) => Guard(async () =>
        {
            var nodes = parse.GetValue(ids)!.Select(ParseNodeId).ToArray();
            var attributeText = parse.GetValue(attribute)!;
            if (!Attributes.TryParse(attributeText, out var attributeId))
            {
                throw new FormatException($"'{attributeText}' is not an attribute name or id (Value, DataType, BrowseName, DisplayName, ...)");
            }

            await using var client = await OpcUaClient.ConnectAsync(parse.GetValue(url)!, ClientOptions(parse), cancellationToken: ct).ConfigureAwait(false);
            var values = await client.ReadAsync([.. nodes.Select(n => new ReadValueId { NodeId = n, AttributeId = attributeId })], cancellationToken: ct).ConfigureAwait(false);
            var types = new DataTypes(client);
            var json = parse.GetValue(s_json);
            var table = new TableWriter("NODE ID", "VALUE", "TYPE", "STATUS", "SOURCE TIME", "SERVER TIME");
            for (var i = 0; i < nodes.Length; i++)
            {
                var v = values[i];
                // Structures print with their fields: our generated types from their properties, others from the server's DataTypeDefinition.
                var display = await types.ToDisplayAsync(v.Value, ct).ConfigureAwait(false);
                var typeName = ValueText.TypeName(v.Value, display);
                if (json)
                {
                    WriteJsonLine(w =>
                    {
                        w.WriteString("nodeId", nodes[i].ToString());
                        w.WritePropertyName("value");
                        ValueText.WriteJson(w, display);
                        w.WriteString("dataType", typeName);
                        w.WriteString("status", v.StatusCode.Name);
                        w.WriteString("sourceTimestamp", ValueText.FormatTime(v.SourceTimestamp));
                        w.WriteString("serverTimestamp", ValueText.FormatTime(v.ServerTimestamp));
                    });
                }
                else
                {
                    table.Add(nodes[i].ToString(), display is Variant plain ? plain.ToString() : ValueText.Format(display), typeName, v.StatusCode.Name, ValueText.FormatTime(v.SourceTimestamp), ValueText.FormatTime(v.ServerTimestamp));
                    foreach (var (path, text) in ValueText.FieldLines(display))
                    {
                        table.Add("", "  " + path + " = " + text);
                    }
                }
            }

            if (!json)
            {
                table.Write(Console.Out);
            }

            return await ReportBad(nodes.Select((n, i) => (n, values[i].StatusCode)), "read").ConfigureAwait(false);
        }));
        return command;
    }

    private static Command Write()
    {
        var url = UrlArgument();
        var id = new Argument<string>("node-id") { Description = "Node whose Value to write" };
        var value = new Argument<string>("value") { Description = "The value; arrays as [1,2,3] or 1,2,3, matrices as [[1,2,3],[4,5,6]], structures as {\"X\":1,\"Y\":2}" };
        var type = new Option<string?>("--type") { Description = "Built-in type (Double, Int32, String, Boolean, ...[] for arrays); read from the node when omitted" };
        var command = new Command("write", "Write the Value of a node (Write)") { url, id, value, type };
        AddCommon(command);
        command.SetAction((parse, ct) => Guard(async () =>
        {
            var node = ParseNodeId(parse.GetValue(id)!);
            var typeText = parse.GetValue(type);
            var given = typeText is null ? default : ParseTypeName(typeText);
            await using var client = await OpcUaClient.ConnectAsync(parse.GetValue(url)!, ClientOptions(parse), cancellationToken: ct).ConfigureAwait(false);
            var types = new DataTypes(client);
            // Without --type: the node's DataType, and for a structure the fields its DataTypeDefinition lists.
            var (valueType, valueRank) = typeText is not null
                ? (new TypeInfo(given.Type), given.IsArray ? 0 : -1)
                : await types.ResolveValueTypeAsync(node, ct).ConfigureAwait(false);
            var variant = ValueText.Parse(parse.GetValue(value)!, valueType, valueRank);
            var status = await client.WriteValueAsync(node, variant, ct).ConfigureAwait(false);
            var display = await types.ToDisplayAsync(variant, ct).ConfigureAwait(false);
            var typeName = ValueText.TypeName(variant, display);
            if (parse.GetValue(s_json))
            {
                WriteJsonLine(w =>
                {
                    w.WriteString("nodeId", node.ToString());
                    w.WritePropertyName("value");
                    ValueText.WriteJson(w, display);
                    w.WriteString("dataType", typeName);
                    w.WriteString("status", status.Name);
                });
            }
            else if (status.IsGood)
            {
                Console.WriteLine($"{node} = {(display is Variant plain ? plain.ToString() : ValueText.Format(display))} ({typeName}): {status.Name}");
            }

            return await ReportBad([(node, status)], "write").ConfigureAwait(false);
        }));
        return command;
    }

    private static (BuiltInType Type, bool IsArray) ParseTypeName(string text)
    {
        var isArray = text.EndsWith("[]", StringComparison.Ordinal);
        var name = isArray ? text[..^2] : text;
        return Enum.TryParse<BuiltInType>(name, ignoreCase: true, out var t) && t != BuiltInType.Null
            ? (t, isArray)
            : throw new FormatException($"'{text}' is not a built-in type (Boolean, SByte, Byte, Int16, UInt16, Int32, UInt32, Int64, UInt64, Float, Double, String, DateTime, Guid, ByteString, NodeId, ...; add [] for arrays)");
    }

    private static Command Call()
    {
        var url = UrlArgument();
        var objectId = new Argument<string>("object-id") { Description = "Object that owns the method" };
        var methodId = new Argument<string>("method-id") { Description = "The method" };
        var args = new Argument<string[]>("args") { Description = "Input arguments (typed from the method's InputArguments)", Arity = ArgumentArity.ZeroOrMore };
        var raw = new Option<bool>("--raw")
        {
            Description = "Send the arguments as given, typed from their text (true/false Boolean, whole numbers Int32 or Int64, other numbers Double, [..] arrays, else String) without looking up InputArguments, so the server's own checks answer",
        };
        var command = new Command("call", "Call a method (Call)") { url, objectId, methodId, args, raw };
        AddCommon(command);
        command.SetAction((parse, ct) => Guard(async () =>
        {
            var obj = ParseNodeId(parse.GetValue(objectId)!);
            var method = ParseNodeId(parse.GetValue(methodId)!);
            var texts = parse.GetValue(args) ?? [];
            await using var client = await OpcUaClient.ConnectAsync(parse.GetValue(url)!, ClientOptions(parse), cancellationToken: ct).ConfigureAwait(false);
            var types = new DataTypes(client);
            var inputs = parse.GetValue(raw)
                ? [.. texts.Select(ValueText.Guess)]
                : await TypedInputsAsync(types, method, texts, ct).ConfigureAwait(false);
            var result = await client.CallMethodAsync(obj, method, inputs).ConfigureAwait(false);
            var outputs = new object?[(result.OutputArguments ?? []).Length];
            for (var i = 0; i < outputs.Length; i++)
            {
                outputs[i] = await types.ToDisplayAsync(result.OutputArguments![i], ct).ConfigureAwait(false);
            }

            if (parse.GetValue(s_json))
            {
                WriteJsonLine(w =>
                {
                    w.WriteString("objectId", obj.ToString());
                    w.WriteString("methodId", method.ToString());
                    w.WriteString("status", result.StatusCode.Name);
                    w.WriteStartArray("outputs");
                    foreach (var o in outputs)
                    {
                        ValueText.WriteJson(w, o);
                    }

                    w.WriteEndArray();
                    w.WriteStartArray("inputArgumentResults");
                    foreach (var r in result.InputArgumentResults ?? [])
                    {
                        w.WriteStringValue(r.Name);
                    }

                    w.WriteEndArray();
                });
            }
            else if (result.StatusCode.IsGood)
            {
                var table = new TableWriter("OUTPUT", "VALUE", "TYPE");
                for (var i = 0; i < outputs.Length; i++)
                {
                    table.Add(i.ToString(System.Globalization.CultureInfo.InvariantCulture), ValueText.Format(outputs[i]), ValueText.TypeName(result.OutputArguments![i], outputs[i]));
                }

                table.Write(Console.Out);
            }

            if (result.StatusCode.IsBad)
            {
                var argumentProblems = (result.InputArgumentResults ?? []).Select((s, i) => (s, i)).Where(x => x.s.IsBad).Select(x => $"argument {x.i}: {x.s.Name}");
                var detail = string.Join("; ", argumentProblems);
                await Console.Error.WriteLineAsync($"error: call of {method} on {obj} failed: {result.StatusCode.Name}{(detail.Length > 0 ? " (" + detail + ")" : "")}").ConfigureAwait(false);
                return 1;
            }

            return 0;
        }));
        return command;
    }

    /// <summary>
    /// The arguments typed from the method's InputArguments. A node without that property either takes no arguments or
    /// is no method of this server: given arguments are then refused only for a real method; otherwise the call goes out
    /// and the server says what is wrong (BadNodeIdUnknown, BadMethodInvalid), rather than this command guessing.
    /// </summary>
    private static async Task<Variant[]> TypedInputsAsync(DataTypes types, NodeId method, string[] texts, CancellationToken ct)
    {
        var (found, arguments) = await types.ResolveInputArgumentsAsync(method, ct).ConfigureAwait(false);
        if (!found)
        {
            if (texts.Length > 0 && await types.IsMethodAsync(method, ct).ConfigureAwait(false))
            {
                throw new FormatException($"method {method} takes no arguments, {texts.Length} given (--raw sends them anyway)");
            }

            return [.. texts.Select(ValueText.Guess)];
        }

        if (arguments is null)
        {
            return [.. texts.Select(ValueText.Guess)];
        }

        if (arguments.Count != texts.Length)
        {
            throw new FormatException($"method {method} takes {arguments.Count} argument(s) ({string.Join(", ", arguments)}), {texts.Length} given (--raw sends them anyway)");
        }

        var inputs = new Variant[texts.Length];
        for (var i = 0; i < texts.Length; i++)
        {
            try
            {
                inputs[i] = ValueText.Parse(texts[i], arguments[i].Type, arguments[i].ValueRank);
            }
            catch (FormatException ex)
            {
                throw new FormatException($"argument {i} ({arguments[i]}): {ex.Message}", ex);
            }
        }

        return inputs;
    }

    private static Command Subscribe()
    {
        var url = UrlArgument();
        var ids = new Argument<string[]>("node-ids") { Description = "Node ids to monitor", Arity = ArgumentArity.OneOrMore };
        var interval = new Option<double>("--interval") { Description = "Sampling and publishing interval in ms", DefaultValueFactory = _ => 1000 };
        var count = new Option<int?>("--count") { Description = "Stop after this many notifications" };
        var duration = new Option<double?>("--duration") { Description = "Stop after this many seconds" };
        var command = new Command("subscribe", "Monitor values (CreateSubscription, CreateMonitoredItems, Publish)") { url, ids, interval, count, duration };
        AddCommon(command);
        command.SetAction((parse, ct) => Guard(async () =>
        {
            var nodes = parse.GetValue(ids)!.Select(ParseNodeId).ToArray();
            var ms = parse.GetValue(interval);
            var limit = parse.GetValue(count);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            if (parse.GetValue(duration) is { } seconds)
            {
                stop.CancelAfter(TimeSpan.FromSeconds(seconds));
            }

            await using var client = await OpcUaClient.ConnectAsync(parse.GetValue(url)!, ClientOptions(parse), cancellationToken: ct).ConfigureAwait(false);
            var subscription = await client.CreateSubscriptionAsync(new SubscriptionOptions { PublishingInterval = TimeSpan.FromMilliseconds(ms) }, ct).ConfigureAwait(false);
            var items = await subscription.AddItemsAsync(nodes.Select(n => new MonitoredItemOptions(n) { SamplingInterval = TimeSpan.FromMilliseconds(ms), QueueSize = 10 }), ct).ConfigureAwait(false);
            var bad = items.Where(i => !i.Status.IsGood).ToArray();
            foreach (var item in bad)
            {
                await Console.Error.WriteLineAsync($"error: cannot monitor {item.NodeId}: {item.Status.Name}").ConfigureAwait(false);
            }

            if (bad.Length == items.Count)
            {
                return 1;
            }

            var json = parse.GetValue(s_json);
            var received = 0;
            try
            {
                await foreach (var e in subscription.Events.ReadAllAsync(stop.Token).ConfigureAwait(false))
                {
                    switch (e)
                    {
                        case DataChangeBatch batch:
                            foreach (var v in batch.Values)
                            {
                                PrintNotification(json, v);
                                if (limit is { } l && ++received >= l)
                                {
                                    return bad.Length > 0 ? 1 : 0;
                                }
                            }

                            break;
                        case NotificationGap gap:
                            await Console.Error.WriteLineAsync($"warning: notifications lost: {gap.Reason}").ConfigureAwait(false);
                            break;
                        case SubscriptionStatusChanged status:
                            await Console.Error.WriteLineAsync($"warning: subscription status {status.Status.Name}").ConfigureAwait(false);
                            break;
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested && !ct.IsCancellationRequested)
            {
                // --duration elapsed.
            }

            return bad.Length > 0 ? 1 : 0;
        }));
        return command;
    }

    private static void PrintNotification(bool json, MonitoredItemValue v)
    {
        if (json)
        {
            WriteJsonLine(w =>
            {
                w.WriteString("nodeId", v.Item.NodeId.ToString());
                w.WritePropertyName("value");
                ValueText.WriteJson(w, v.Value.Value);
                w.WriteString("dataType", ValueText.TypeName(v.Value.Value));
                w.WriteString("status", v.Value.StatusCode.Name);
                w.WriteString("sourceTimestamp", ValueText.FormatTime(v.Value.SourceTimestamp));
            });
        }
        else
        {
            Console.WriteLine($"{ValueText.FormatTime(v.Value.SourceTimestamp),-28}  {v.Item.NodeId}  {v.Value.Value}  {v.Value.StatusCode.Name}");
        }
    }

    private static async Task<int> ReportBad(IEnumerable<(NodeId Node, StatusCode Status)> results, string verb)
    {
        var code = 0;
        foreach (var (node, status) in results)
        {
            if (status.IsBad)
            {
                await Console.Error.WriteLineAsync($"error: {verb} {node}: {status.Name}").ConfigureAwait(false);
                code = 1;
            }
        }

        return code;
    }

    private static void WriteJsonLine(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            body(json);
            json.WriteEndObject();
        }

        Console.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }
}
