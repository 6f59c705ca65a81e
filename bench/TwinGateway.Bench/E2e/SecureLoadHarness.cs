using System.Globalization;
using System.Text.Json;
using TwinGateway.OpcUa.Security;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.Bench.E2e;

/// <summary>
/// <c>secure-load</c> (issue 13 §4): our client subscribed to N items at 100 ms on our server (<c>twingw opcua serve</c>,
/// its own process), first over SecurityPolicy None, then over a secured policy and mode (default
/// Aes256_Sha256_RsaPss with SignAndEncrypt) in the same run: notifications per second of both and their ratio, and
/// each side's CPU per notification. Target: secured at least 60 % of None's rate.
/// </summary>
internal static class SecureLoadHarness
{
    private const string Usage =
        "usage: secure-load [--items 100000] [--duration 60] [--warmup 15] [--policy Aes256_Sha256_RsaPss] [--mode SignAndEncrypt] [--no-build] [--out bench/results/secure-load.json]";

    public static Task<int> RunAsync(string[] args)
    {
        var items = 100_000;
        var duration = 60;
        var warmup = 15;
        var policyName = "Aes256_Sha256_RsaPss";
        var mode = MessageSecurityMode.SignAndEncrypt;
        var noBuild = false;
        string? output = null;
        var problem = HarnessArguments.Parse(args, Usage, ["--no-build"], (name, value) =>
        {
            switch (name)
            {
                case "--items" when int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 1_000_000:
                    items = n;
                    return true;
                case "--duration" when int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var d) && d is >= 5 and <= 3600:
                    duration = d;
                    return true;
                case "--warmup" when int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var w) && w is >= 0 and <= 600:
                    warmup = w;
                    return true;
                case "--policy" when SecurityPolicy.TryGet("http://opcfoundation.org/UA/SecurityPolicy#" + value, out var p) && !p.IsNone:
                    policyName = value;
                    return true;
                case "--mode" when Enum.TryParse<MessageSecurityMode>(value, ignoreCase: false, out var m) && m is MessageSecurityMode.Sign or MessageSecurityMode.SignAndEncrypt:
                    mode = m;
                    return true;
                case "--no-build":
                    noBuild = true;
                    return true;
                case "--out" when value.Length > 0:
                    output = value;
                    return true;
                default:
                    return false;
            }
        });
        var options = problem is null
            ? new ServerLoadOptions
            {
                Items = items,
                Duration = TimeSpan.FromSeconds(duration),
                Warmup = TimeSpan.FromSeconds(warmup),
                NoBuild = noBuild,
                ServerCounters = false,
                OutputPath = output ?? Path.Combine(RepositoryPaths.BenchResults, "secure-load.json"),
            }
            : null;
        return HarnessRunner.RunAsync("secure-load", options, problem, async (o, cancellationToken) =>
        {
            SecurityPolicy.TryGet("http://opcfoundation.org/UA/SecurityPolicy#" + policyName, out var policy);
            var report = await RunAsync(o, policy, mode, args, cancellationToken).ConfigureAwait(false);
            var path = await HarnessReport.WriteAsync(o.OutputPath, report).ConfigureAwait(false);
            Console.WriteLine($"secure-load: None {report.NoneNotificationsPerSecond:N0}/s, {policy.Name}/{mode} {report.SecuredNotificationsPerSecond:N0}/s: {report.SecuredShareOfNone:P1} of None (target >= 60 %); wrote {path}");
            return 0;
        }, ex => ex is InvalidOperationException or TimeoutException or IOException or ServiceResultException);
    }

    private static async Task<SecureLoadReport> RunAsync(ServerLoadOptions options, SecurityPolicy policy, MessageSecurityMode mode, string[] args, CancellationToken cancellationToken)
    {
        var twingw = await ChildCommands.TwingwAsync("secure-load", options.TwingwPath, options.NoBuild, cancellationToken).ConfigureAwait(false);
        var pki = Directory.CreateTempSubdirectory("twingw-secure-load-").FullName;
        try
        {
            // Our client's certificate, trusted by the server before it starts (its trusted/certs is read at start).
            var client = ApplicationCertificate.CreateSelfSigned("urn:twingateway:bench-client", "CN=secure-load bench client", ["localhost"], TimeSpan.FromDays(2));
            Directory.CreateDirectory(Path.Combine(pki, "trusted", "certs"));
            await File.WriteAllBytesAsync(Path.Combine(pki, "trusted", "certs", "bench-client.der"), client.Der, cancellationToken).ConfigureAwait(false);
            var startTimeout = TimeSpan.FromMinutes(3);

            ServerPhaseResult none;
            ServerPhaseResult secured;
            await using (var server = await ServerLoadProcess.StartTwingwAsync(twingw, options.Items, [], startTimeout, cancellationToken, ["--pki", pki]).ConfigureAwait(false))
            {
                Console.Error.WriteLine($"secure-load: None, {options.Items} items");
                none = await ServerLoadClient.RunAsync(server, options.Items, options, "none", cancellationToken).ConfigureAwait(false);
            }

            await using (var server = await ServerLoadProcess.StartTwingwAsync(twingw, options.Items, [], startTimeout, cancellationToken, ["--pki", pki]).ConfigureAwait(false))
            {
                var serverCertificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(
                    await File.ReadAllBytesAsync(Path.Combine(pki, "own", "certs", "certificate.der"), cancellationToken).ConfigureAwait(false));
                Console.Error.WriteLine($"secure-load: {policy.Name}/{mode}, {options.Items} items");
                secured = await ServerLoadClient.RunAsync(server, options.Items, options, "secured", cancellationToken, o => o with
                {
                    ApplicationUri = client.ApplicationUri,
                    SecurityPolicy = policy,
                    SecurityMode = mode,
                    Certificate = client,
                    CertificateValidator = new PinnedCertificateValidator([serverCertificate]),
                }).ConfigureAwait(false);
            }

            var noneRate = none.Window?.Client.NotificationsPerSec ?? 0;
            var securedRate = secured.Window?.Client.NotificationsPerSec ?? 0;
            return new SecureLoadReport(
                "secure-load",
                DateTimeOffset.UtcNow,
                "dotnet run -c Release --project bench/TwinGateway.Bench -- secure-load " + string.Join(' ', args),
                MachineFacts.Collect(withNode: false),
                options.Items,
                policy.Name,
                mode.ToString(),
                noneRate,
                securedRate,
                noneRate > 0 ? securedRate / noneRate : 0,
                none.Window?.Client.CpuNsPerNotification,
                secured.Window?.Client.CpuNsPerNotification,
                none.Window?.Server.CoresUsed,
                secured.Window?.Server.CoresUsed,
                none,
                secured);
        }
        finally
        {
            ChildProcess.DeleteQuietly(pki);
        }
    }
}

internal sealed record SecureLoadReport(
    string Harness,
    DateTimeOffset Measured,
    string Command,
    MachineFacts Machine,
    int Items,
    string Policy,
    string Mode,
    double NoneNotificationsPerSecond,
    double SecuredNotificationsPerSecond,
    double SecuredShareOfNone,
    double? NoneClientCpuNsPerNotification,
    double? SecuredClientCpuNsPerNotification,
    double? NoneServerCores,
    double? SecuredServerCores,
    ServerPhaseResult None,
    ServerPhaseResult Secured);
