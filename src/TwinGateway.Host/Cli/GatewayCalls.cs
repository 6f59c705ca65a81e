using System.CommandLine;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;

namespace TwinGateway.Host.Cli;

/// <summary>
/// What every command that talks to a running gateway shares: the API token, the channel that sends it on every call,
/// and the exit codes of its errors.
/// </summary>
internal static class GatewayCalls
{
    public const string TokenVariable = "TWINGW_TOKEN";

    public const string CaVariable = "TWINGW_CA";

    /// <summary>
    /// The certificate (PEM or DER, one or more) to trust for an https gateway instead of the system's trust: the
    /// gateway's own self-signed <c>tls/gateway.crt</c> or the plant CA's. Recursive on the root, so every command has it.
    /// </summary>
    public static readonly Option<FileInfo?> Ca = new("--ca") { Description = $"trust this certificate (PEM) for an https gateway instead of the system trust (default: the {CaVariable} environment variable)", Recursive = true };

    /// <summary>Every command that calls the gateway adds this option.</summary>
    public static readonly Option<string?> Token = new("--token") { Description = $"API token (default: the {TokenVariable} environment variable); create one with `twingw users add`" };

    /// <summary>
    /// How to get a token, for the error of a command run without one. The gateway's own Unauthenticated message says
    /// the same for other clients.
    /// </summary>
    public const string HowToGetAToken =
        $"pass an API token with --token or set {TokenVariable}; create one with `twingw users add NAME --role viewer` in the gateway's working directory "
        + "(the first admin: `twingw users add admin --role admin`), or ask the gateway's admin";

    /// <summary>The token of <c>--token</c>, else of <c>TWINGW_TOKEN</c>; null when neither is set.</summary>
    public static string? ResolveToken(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var token = parse.GetValue(Token);
        if (string.IsNullOrWhiteSpace(token))
        {
            token = Environment.GetEnvironmentVariable(TokenVariable);
        }

        return string.IsNullOrWhiteSpace(token) ? null : token.Trim();
    }

    /// <summary>
    /// Runs <paramref name="body"/> with a call invoker to <paramref name="server"/> that sends the token on every call.
    /// No token: exit 2 before any call, with how to get one. No gateway there: exit 2 with how to start one; the caller
    /// cancelled: 130; any other gRPC error (Unauthenticated and PermissionDenied included): exit 1 with its status and detail.
    /// </summary>
    public static async Task<int> Guard(ParseResult parse, string server, Func<CallInvoker, Task<int>> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (ResolveToken(parse) is not { } token)
        {
            await Console.Error.WriteLineAsync($"error: no API token for {server}: {HowToGetAToken}").ConfigureAwait(false);
            return 2;
        }

        var ca = parse.GetValue(Ca)?.FullName ?? (Environment.GetEnvironmentVariable(CaVariable) is { Length: > 0 } variable ? Path.GetFullPath(variable) : null);
        X509Certificate2Collection? anchors = null;
        if (ca is not null)
        {
            try
            {
                anchors = LoadAnchors(ca);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                await Console.Error.WriteLineAsync($"error: --ca {ca} cannot be read as a certificate: {ex.Message}").ConfigureAwait(false);
                return 2;
            }
        }

        var refusal = new CertificateRefusal();
        using var handler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, errors) => refusal.Check(certificate, chain, errors, anchors);
        using var channel = GrpcChannel.ForAddress(server, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = false });

        // Call credentials would need TLS; the gateway's default endpoint is h2c on loopback, so the header is added here.
        var invoker = channel.Intercept(metadata =>
        {
            metadata.Add("authorization", "Bearer " + token);
            return metadata;
        });
        try
        {
            return await body(invoker).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.Internal && (refusal.Reason is not null || IsTlsFailure(ex.Status.DebugException)))
        {
            await Console.Error.WriteLineAsync($"error: the gateway at {server} presented a certificate this client does not trust ({refusal.Reason ?? ex.Status.DebugException?.Message}): "
                + $"pass --ca FILE (or set {CaVariable}) with the gateway's certificate (a self-signed one is tls/gateway.crt in the gateway's data folder) "
                + "or with the CA that issued it, or add that CA to this machine's trust").ConfigureAwait(false);
            return 2;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable && ex.Status.DebugException is not null)
        {
            // A connection failure; an Unavailable the gateway itself sends (the recorder failing) has its own detail.
            await Console.Error.WriteLineAsync($"error: no gateway at {server} ({ex.Status.Detail}); start one with `twingw run`").ConfigureAwait(false);
            return 2;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled)
        {
            await Console.Error.WriteLineAsync("cancelled").ConfigureAwait(false);
            return 130;
        }
        catch (RpcException ex)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Status.StatusCode}: {ex.Status.Detail}").ConfigureAwait(false);
            return 1;
        }
    }

    private static bool IsTlsFailure(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is AuthenticationException)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The certificates of a PEM file (or one DER certificate).</summary>
    private static X509Certificate2Collection LoadAnchors(string file)
    {
        var anchors = new X509Certificate2Collection();
        var text = File.ReadAllText(file);
        if (text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
        {
            anchors.ImportFromPem(text);
        }
        else
        {
            anchors.Add(X509CertificateLoader.LoadCertificateFromFile(file));
        }

        return anchors.Count > 0 ? anchors : throw new System.Security.Cryptography.CryptographicException("no certificate in the file");
    }

    /// <summary>
    /// Checks the gateway's certificate: against <c>--ca</c>'s certificates when given (the certificate itself, or a chain
    /// to one of them), else the system's verdict; the host name must match either way. Keeps the reason of a refusal.
    /// </summary>
    private sealed class CertificateRefusal
    {
        public string? Reason { get; private set; }

        public bool Check(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors, X509Certificate2Collection? anchors)
        {
            if (certificate is null)
            {
                Reason = "it presented none";
                return false;
            }

            if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            {
                Reason = $"its names do not include the host of the address ({certificate.Subject})";
                return false;
            }

            if (anchors is null)
            {
                if (errors == SslPolicyErrors.None)
                {
                    return true;
                }

                var status = chain?.ChainStatus.Select(s => s.StatusInformation.Trim()).FirstOrDefault(s => s.Length > 0);
                Reason = $"the system trust refuses {certificate.Subject}: {status ?? errors.ToString()}";
                return false;
            }

            using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            if (anchors.Any(a => a.RawDataMemory.Span.SequenceEqual(leaf.RawDataMemory.Span)))
            {
                return true;
            }

            using var custom = new X509Chain();
            custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            custom.ChainPolicy.CustomTrustStore.AddRange(anchors);
            custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            if (chain is not null)
            {
                foreach (var element in chain.ChainElements)
                {
                    custom.ChainPolicy.ExtraStore.Add(element.Certificate);
                }
            }

            if (custom.Build(leaf))
            {
                return true;
            }

            var why = custom.ChainStatus.Select(s => s.StatusInformation.Trim()).FirstOrDefault(s => s.Length > 0) ?? "no chain to the --ca certificates";
            Reason = $"{certificate.Subject} is not the --ca certificate nor issued by it: {why}";
            return false;
        }
    }
}
