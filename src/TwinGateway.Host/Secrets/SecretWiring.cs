using TwinGateway.Gateway;

namespace TwinGateway.Host.Secrets;

/// <summary>
/// Puts the secrets the gateway needs into its configuration, above every other source, so the options that use
/// them bind as before while the values come from the <see cref="SecretStore"/>. The names:
/// <list type="bullet">
/// <item><c>&lt;ref&gt;.password</c> and <c>&lt;ref&gt;.user</c>: the controller credentials a line's <c>credentialsRef</c>
/// names (Gateway:Credentials:&lt;ref&gt;; the user name may stay in the settings, it is no secret).</item>
/// <item><c>influx.token</c>: Telemetry:Influx:Token. <c>tls.password</c>: Gateway:Tls:Password (a PFX's or an encrypted
/// PEM key's password). <c>jwt.key</c>: Identity:Jwt:SymmetricKey.</item>
/// </list>
/// </summary>
internal static class SecretWiring
{
    /// <summary>The setting that names the secret file.</summary>
    public const string FileSetting = "Secrets:File";

    private static readonly (string Name, string Key)[] s_fixed =
    [
        ("influx.token", "Telemetry:Influx:Token"),
        ("tls.password", "Gateway:Tls:Password"),
        ("jwt.key", "Identity:Jwt:SymmetricKey"),
    ];

    /// <summary>Reads the secrets and adds them to <paramref name="configuration"/>; returns where each came from (names only).</summary>
    /// <exception cref="GatewayConfigurationException">The secret file is unusable (too open, missing, malformed).</exception>
    public static SecretSources AddTwinGatewaySecrets(this IConfigurationManager configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        SecretStore store;
        try
        {
            store = SecretStore.Open(configuration[FileSetting], Environment.GetEnvironmentVariable(SecretStore.CredentialsDirectoryVariable), Environment.GetEnvironmentVariable);
        }
        catch (SecretStoreException ex)
        {
            throw new GatewayConfigurationException([ex.Message]);
        }

        var inSettings = new List<string>();
        var wanted = new List<(string Name, string Key)>(s_fixed);
        var references = configuration.GetSection($"{GatewayOptions.Section}:{nameof(GatewayOptions.Credentials)}").GetChildren().Select(c => c.Key)
            .Concat(store.KnownNames().Where(n => n.EndsWith(".password", StringComparison.Ordinal)).Select(n => n[..^".password".Length]))
            .Distinct(StringComparer.Ordinal);
        foreach (var reference in references)
        {
            var key = $"{GatewayOptions.Section}:{nameof(GatewayOptions.Credentials)}:{reference}";
            wanted.Add(($"{reference}.user", $"{key}:{nameof(ControllerCredentials.User)}"));
            wanted.Add(($"{reference}.password", $"{key}:{nameof(ControllerCredentials.Password)}"));
            if (!string.IsNullOrEmpty(configuration[$"{key}:{nameof(ControllerCredentials.Password)}"]))
            {
                inSettings.Add($"{key}:{nameof(ControllerCredentials.Password)}");
            }
        }

        if (!string.IsNullOrEmpty(configuration["Telemetry:Influx:Token"]))
        {
            inSettings.Add("Telemetry:Influx:Token");
        }

        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var sources = new List<string>();
        foreach (var (name, key) in wanted)
        {
            if (store.TryGet(name, out var value, out var source))
            {
                values[key] = value;
                sources.Add($"{name} from {source}");
            }
        }

        configuration.AddInMemoryCollection(values);
        return new SecretSources(sources, inSettings);
    }
}

/// <summary>Which secrets came from where, and which settings hold a secret themselves: names only, for the start's log.</summary>
internal sealed record SecretSources(IReadOnlyList<string> Found, IReadOnlyList<string> InSettings)
{
    public void Log(ILogger log)
    {
        if (Found.Count > 0)
        {
            SecretsLog.Found(log, string.Join(", ", Found));
        }

        foreach (var setting in InSettings)
        {
            SecretsLog.InSettings(log, setting);
        }
    }
}

internal static partial class SecretsLog
{
    [LoggerMessage(EventId = 4690, Level = LogLevel.Information, Message = "Secrets: {Sources}")]
    public static partial void Found(ILogger logger, string sources);

    [LoggerMessage(EventId = 4691, Level = LogLevel.Warning,
        Message = "{Setting} holds a secret in the settings; keep it in the secret store instead (Secrets:File readable by the service only, TWINGW_SECRET_<NAME> or a systemd credential)")]
    public static partial void InSettings(ILogger logger, string setting);
}
