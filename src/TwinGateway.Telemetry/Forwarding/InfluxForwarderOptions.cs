namespace TwinGateway.Telemetry.Forwarding;

/// <summary>Settings of the <see cref="InfluxForwarder"/> (section <c>Telemetry:Influx</c> in the gateway).</summary>
public sealed class InfluxForwarderOptions
{
    /// <summary>The configuration section; error messages name its keys so an operator knows what to change.</summary>
    public const string SectionName = "Telemetry:Influx";

    /// <summary>Whether recorded telemetry is forwarded at all; the recorder keeps everything either way.</summary>
    public bool Enabled { get; init; }

    /// <summary>The InfluxDB server, for example <c>http://influx.plant.local:8086</c>.</summary>
    public string Url { get; init; } = "";

    /// <summary>An API token with write permission on <see cref="Bucket"/>.</summary>
    public string Token { get; init; } = "";

    public string Organization { get; init; } = "";

    public string Bucket { get; init; } = "";

    /// <summary>
    /// Points per write request. 5,000 is InfluxDB's own recommendation for a batch; a line is about 80 bytes, so a
    /// batch is about 400 kB before gzip, far below the server's default request limit.
    /// </summary>
    public int BatchSize { get; init; } = 5_000;

    /// <summary>Compress requests: telemetry lines repeat their tags, so gzip shrinks a batch several times over.</summary>
    public bool Gzip { get; init; } = true;

    /// <summary>How long one write waits for the server's answer before it counts as failed and is retried.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The wait after the first failure; it doubles with each further failure up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between attempts, also the cap on a server's Retry-After.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Every problem with these settings, each naming its key; empty when they are usable (or forwarding is off).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (!Enabled)
        {
            // A disabled forwarder is never built, so blank connection settings are the normal state, not an error.
            return problems;
        }

        if (string.IsNullOrWhiteSpace(Url))
        {
            problems.Add($"{SectionName}:Url: required (for example http://influx.plant.local:8086)");
        }
        else if (!Uri.TryCreate(Url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            problems.Add($"{SectionName}:Url: '{Url}' is not an absolute http:// or https:// URL");
        }

        if (string.IsNullOrWhiteSpace(Token))
        {
            problems.Add($"{SectionName}:Token: required (an InfluxDB API token with write permission on the bucket)");
        }

        if (string.IsNullOrWhiteSpace(Organization))
        {
            problems.Add($"{SectionName}:Organization: required");
        }

        if (string.IsNullOrWhiteSpace(Bucket))
        {
            problems.Add($"{SectionName}:Bucket: required");
        }

        if (BatchSize is < 1 or > 100_000)
        {
            problems.Add($"{SectionName}:BatchSize: {BatchSize} is outside 1..100000");
        }

        if (RequestTimeout <= TimeSpan.Zero || RequestTimeout > TimeSpan.FromMinutes(10))
        {
            problems.Add($"{SectionName}:RequestTimeout: {RequestTimeout} is outside (0, 10 minutes]");
        }

        if (InitialBackoff <= TimeSpan.Zero)
        {
            problems.Add($"{SectionName}:InitialBackoff: {InitialBackoff} must be positive");
        }

        if (MaxBackoff < InitialBackoff)
        {
            problems.Add($"{SectionName}:MaxBackoff: {MaxBackoff} is shorter than InitialBackoff ({InitialBackoff})");
        }
        else if (MaxBackoff > TimeSpan.FromHours(1))
        {
            problems.Add($"{SectionName}:MaxBackoff: {MaxBackoff} is longer than one hour");
        }

        return problems;
    }
}
