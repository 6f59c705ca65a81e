using Microsoft.Extensions.Options;

namespace TwinGateway.Gateway;

/// <summary>The gateway's settings (section <c>Gateway</c> of appsettings.json).</summary>
public sealed class GatewayOptions
{
    public const string Section = "Gateway";

    /// <summary>Folder of line definition files (*.yaml); relative paths are resolved against the app's base folder.</summary>
    public string LinesDirectory { get; set; } = "config/lines";

    /// <summary>
    /// Start a simulated PLC for every controller whose endpoint is on loopback, before connecting to it. This is the
    /// embedded default that lets the gateway run with no hardware; turn it off next to real controllers.
    /// </summary>
    public bool SimulateControllers { get; set; } = true;

    /// <summary>Seed of the simulated PLCs (the real behaviour); the twins use their own.</summary>
    public ulong SimulatorSeed { get; set; } = 7;

    /// <summary>Seed of the shadow twins.</summary>
    public ulong TwinSeed { get; set; } = 1;

    /// <summary>Twin step in milliseconds (also the sampling interval of the controllers' signals).</summary>
    public int StepMilliseconds { get; set; } = 100;

    /// <summary>
    /// The longest wait between connection attempts to a controller that is down: a controller that comes back is
    /// connected again within this many seconds of listening.
    /// </summary>
    public double ReconnectSeconds { get; set; } = 2;

    /// <summary>
    /// Seconds of silence from a controller before the gateway asks it for a keep-alive; after two such periods with
    /// no answer (a hung PLC: the connection open, nothing answering) the connection counts as lost.
    /// </summary>
    public double KeepAliveSeconds { get; set; } = 2;

    /// <summary>
    /// Where the gRPC API and the web console listen (loopback by default): gRPC over HTTP/2, the console's pages over
    /// HTTP/1.1, on the same port.
    /// </summary>
    public string ApiUrl { get; set; } = "http://127.0.0.1:5080";

    /// <summary>
    /// Whether <see cref="ApiUrl"/> may be plain http on a loopback address (tokens cross no network there). Plain http on
    /// any other address is always refused: use https (Gateway:Tls).
    /// </summary>
    public bool AllowLoopbackHttp { get; set; } = true;

    /// <summary>Serve the web console on <see cref="ApiUrl"/> (on by default; off leaves gRPC alone on the port).</summary>
    public bool WebConsole { get; set; } = true;

    /// <summary>
    /// Where <c>/healthz</c> answers over HTTP/1.1 for systemd, container and Kubernetes probes (loopback by default;
    /// empty turns it off). A separate listener because Kestrel serves cleartext HTTP/2 (h2c, what gRPC without TLS
    /// needs) only on an endpoint that speaks nothing else.
    /// </summary>
    public string HealthUrl { get; set; } = "http://127.0.0.1:5081";

    /// <summary>User names and passwords for controllers, by the name a line's <c>credentialsRef</c> gives.</summary>
    public Dictionary<string, ControllerCredentials> Credentials { get; set; } = new(StringComparer.Ordinal);
}

public sealed class ControllerCredentials
{
    public string User { get; set; } = "";

    public string Password { get; set; } = "";
}

/// <summary>Validates <see cref="GatewayOptions"/> at start, listing every problem at once.</summary>
public sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(options.LinesDirectory))
        {
            problems.Add("Gateway:LinesDirectory is empty");
        }

        if (options.StepMilliseconds is < 10 or > 60_000)
        {
            problems.Add($"Gateway:StepMilliseconds is {options.StepMilliseconds}; it must be 10..60000");
        }

        if (options.ReconnectSeconds is <= 0 or > 3600)
        {
            problems.Add($"Gateway:ReconnectSeconds is {options.ReconnectSeconds}; it must be above 0 and at most 3600");
        }

        if (options.KeepAliveSeconds is < 0.1 or > 600)
        {
            problems.Add($"Gateway:KeepAliveSeconds is {options.KeepAliveSeconds}; it must be 0.1..600");
        }

        // Kestrel's wildcard hosts (http://*:5080, http://+:5080) mean every address.
        var apiUrl = options.ApiUrl?.Replace("://*:", "://0.0.0.0:", StringComparison.Ordinal).Replace("://+:", "://0.0.0.0:", StringComparison.Ordinal);
        if (!Uri.TryCreate(apiUrl, UriKind.Absolute, out var api) || api.Scheme is not ("http" or "https"))
        {
            problems.Add($"Gateway:ApiUrl '{options.ApiUrl}' is not an http(s) URL");
        }
        else if (api.Scheme == "http" && !(options.AllowLoopbackHttp && IsLoopback(api)))
        {
            problems.Add($"Gateway:ApiUrl '{options.ApiUrl}' is plain http "
                + (IsLoopback(api) ? "and Gateway:AllowLoopbackHttp is false" : "on an address other than loopback, where API tokens and passwords would cross the network in clear")
                + $": use https (https://{api.Authority}), with a certificate in Gateway:Tls:CertificateFile (+ Gateway:Tls:KeyFile, PEM or PFX) "
                + "or, without one, a self-signed certificate the gateway creates in <data folder>/tls/ (clients then pass `--ca` with its gateway.crt)");
        }

        if (!string.IsNullOrEmpty(options.HealthUrl)
            && (!Uri.TryCreate(options.HealthUrl, UriKind.Absolute, out var health) || health.Scheme is not ("http" or "https")))
        {
            problems.Add($"Gateway:HealthUrl '{options.HealthUrl}' is not an http(s) URL (empty turns /healthz off)");
        }

        foreach (var (reference, credentials) in options.Credentials)
        {
            if (string.IsNullOrEmpty(credentials.User))
            {
                problems.Add($"Gateway:Credentials:{reference}:User is empty");
            }
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    /// <summary>localhost or a loopback address (127.0.0.0/8, ::1); never a wildcard or another name.</summary>
    public static bool IsLoopback(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return url.IsLoopback && url.Host is not ("*" or "+")
            && (string.Equals(url.Host, "localhost", StringComparison.OrdinalIgnoreCase) || System.Net.IPAddress.TryParse(url.Host.Trim('[', ']'), out _));
    }
}
