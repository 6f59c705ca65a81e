using System.CommandLine;
using System.Net;
using TwinGateway.OpcUa.Server;
using TwinGateway.OpcUa.Server.Demo;

namespace TwinGateway.Host.Cli;

/// <summary><c>twingw opcua serve</c>: our OPC UA server with the demo address space, for engineers and for checks.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "TCP port (0 picks a free one)", DefaultValueFactory = _ => 4840 };
        var listen = new Option<string>("--listen") { Description = "Address to listen on (loopback unless you mean otherwise)", DefaultValueFactory = _ => "127.0.0.1" };
        var scale = new Option<int>("--scale") { Description = "Double variables in the Scale folder, changing every 100 ms", DefaultValueFactory = _ => 10_000 };
        var users = new Option<string[]>("--user") { Description = "A user as NAME:PASSWORD (repeatable); anonymous is always allowed", AllowMultipleArgumentsPerToken = false };
        var testFolder = new Option<bool>("--test-folder") { Description = "Also add the interop Test folder (same nodes as the node-opcua test peer)" };
        var pki = new Option<string?>("--pki")
        {
            Description = "PKI folder: also offer Basic256Sha256, Aes128_Sha256_RsaOaep and Aes256_Sha256_RsaPss (Sign, SignAndEncrypt) with the certificate in own/ (created when missing), trusting the client certificates in trusted/certs",
        };
        var noNone = new Option<bool>("--no-none") { Description = "Turn SecurityPolicy None off (needs --pki)" };
        var verbose = new Option<bool>("--verbose") { Description = "Debug logging" };
        var command = new Command("serve", "Run the demo OPC UA server (Demo, Scale folders) until Ctrl+C") { port, listen, scale, users, testFolder, pki, noNone, verbose };
        command.SetAction(async (parse, ct) =>
        {
            if (!IPAddress.TryParse(parse.GetValue(listen), out var address))
            {
                await Console.Error.WriteLineAsync($"error: --listen '{parse.GetValue(listen)}' is not an IP address").ConfigureAwait(false);
                return 2;
            }

            var table = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var spec in parse.GetValue(users) ?? [])
            {
                var colon = spec.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0)
                {
                    await Console.Error.WriteLineAsync($"error: --user '{spec}' must be NAME:PASSWORD").ConfigureAwait(false);
                    return 2;
                }

                table[spec[..colon]] = spec[(colon + 1)..];
            }

            const string applicationUri = "urn:twingateway:demo-server";
            var pkiFolder = parse.GetValue(pki);
            if (parse.GetValue(noNone) && pkiFolder is null)
            {
                await Console.Error.WriteLineAsync("error: --no-none needs --pki (without a certificate no secured endpoint can be offered)").ConfigureAwait(false);
                return 2;
            }

            using var logging = ConsoleLogging.Create(parse.GetValue(verbose));
            var options = new UaServerOptions
            {
                ListenAddress = address,
                Port = parse.GetValue(port),
                ApplicationUri = applicationUri,
                ApplicationName = "TwinGateway demo OPC UA server",
                Authenticator = table.Count > 0 ? new StaticUserAuthenticator(table) : null,
                AllowSecurityPolicyNone = !parse.GetValue(noNone),
            };
            if (pkiFolder is not null)
            {
                options = options with
                {
                    Certificate = ServerCertificates.LoadOrCreate(pkiFolder, applicationUri, "TwinGateway demo OPC UA server", ["localhost", System.Net.Dns.GetHostName(), address.ToString()]),
                    ClientCertificateValidator = ServerCertificates.TrustedFolder(pkiFolder),
                };
            }

            await using var server = new UaServer(options, loggerFactory: logging);
            await using var demo = DemoNodes.Add(server, parse.GetValue(scale), parse.GetValue(testFolder));
            try
            {
                await server.StartAsync(ct).ConfigureAwait(false);
            }
            catch (OpcUa.Types.ServiceResultException ex)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
                return 2;
            }

            Console.WriteLine($"listening on {server.EndpointUrl} ({server.AddressSpace.Count} nodes; security: {string.Join(", ", options.OfferedSecurity.Select(s => s.IsNone ? "None" : $"{s.PolicyUri[(s.PolicyUri.LastIndexOf('#') + 1)..]}/{s.Mode}"))}); Ctrl+C stops");
            try
            {
                await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C.
            }

            return 0;
        });
        return command;
    }
}
