using Microsoft.Extensions.Options;

namespace TwinGateway.Host.Identity;

/// <summary>
/// JWT bearer tokens from the plant's identity provider (section <c>Identity:Jwt</c>), accepted beside the gateway's own
/// API tokens. On when <see cref="Authority"/> or a signing key is set.
/// </summary>
public sealed class JwtOptions
{
    public const string Section = "Identity:Jwt";

    /// <summary>The OpenID Connect authority: its signing keys and issuer come from <c>{Authority}/.well-known/openid-configuration</c>.</summary>
    public string? Authority { get; set; }

    /// <summary>Fetch the discovery document over https only (off for a test authority on loopback).</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>A PEM public key (RSA or EC) that signs the tokens, in the setting itself.</summary>
    public string? SigningKey { get; set; }

    /// <summary>A file with the PEM public key (or certificate) that signs the tokens.</summary>
    public string? SigningKeyFile { get; set; }

    /// <summary>A symmetric (HMAC) key, base64: the secret <c>jwt.key</c>, never a settings file.</summary>
    public string? SymmetricKey { get; set; }

    /// <summary>The audience the tokens must carry (<c>aud</c>).</summary>
    public string? Audience { get; set; }

    /// <summary>The issuer the tokens must carry (<c>iss</c>); with an authority, the discovery document's by default.</summary>
    public string? Issuer { get; set; }

    /// <summary>The claim whose values are the caller's roles (gateway role names: viewer, operator, ...).</summary>
    public string RoleClaim { get; set; } = "roles";

    /// <summary>The claim that names the caller in the audit and messages (<c>preferred_username</c>, else <c>sub</c>, by default).</summary>
    public string? NameClaim { get; set; }

    /// <summary>Tolerance on the token's times, in seconds.</summary>
    public double ClockSkewSeconds { get; set; } = 60;

    public bool Enabled =>
        !string.IsNullOrWhiteSpace(Authority) || !string.IsNullOrWhiteSpace(SigningKey)
        || !string.IsNullOrWhiteSpace(SigningKeyFile) || !string.IsNullOrWhiteSpace(SymmetricKey);
}

/// <summary>Validates <see cref="JwtOptions"/> at start.</summary>
internal sealed class JwtOptionsValidator : IValidateOptions<JwtOptions>
{
    public ValidateOptionsResult Validate(string? name, JwtOptions options)
    {
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Audience))
        {
            problems.Add($"{JwtOptions.Section}:Audience is empty: set the audience the identity provider issues tokens for the gateway with");
        }

        if (string.IsNullOrWhiteSpace(options.Authority) && string.IsNullOrWhiteSpace(options.Issuer))
        {
            problems.Add($"{JwtOptions.Section}:Issuer is empty: with a configured signing key, set the issuer (iss) the tokens carry");
        }

        if (!string.IsNullOrWhiteSpace(options.Authority)
            && (!Uri.TryCreate(options.Authority, UriKind.Absolute, out var authority) || (options.RequireHttpsMetadata && authority.Scheme != "https")))
        {
            problems.Add($"{JwtOptions.Section}:Authority '{options.Authority}' must be an https URL (RequireHttpsMetadata false allows http for a test authority)");
        }

        if (string.IsNullOrWhiteSpace(options.RoleClaim))
        {
            problems.Add($"{JwtOptions.Section}:RoleClaim is empty");
        }

        if (options.ClockSkewSeconds is < 0 or > 600)
        {
            problems.Add($"{JwtOptions.Section}:ClockSkewSeconds is {options.ClockSkewSeconds}; it must be 0..600");
        }

        try
        {
            _ = JwtCallers.StaticKeys(options);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or FormatException or System.Security.Cryptography.CryptographicException)
        {
            problems.Add($"{JwtOptions.Section}: the signing key cannot be read: {ex.Message}");
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
