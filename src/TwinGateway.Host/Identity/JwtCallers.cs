using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using TwinGateway.Core.Identity;

namespace TwinGateway.Host.Identity;

/// <summary>What a JWT check found: the caller, or why the token is refused (and whether the fault is ours).</summary>
internal sealed record JwtVerdict(UserIdentity? Caller, string? Refusal, bool ProviderUnreachable = false);

/// <summary>
/// Checks JWT bearer tokens of the plant's identity provider (<see cref="JwtOptions"/>) and maps their role claim to the
/// gateway's roles; a role name the gateway does not know is ignored and logged once. A refusal's reason is the
/// gateway's own words, never the library's message or any part of the token.
/// </summary>
internal sealed class JwtCallers
{
    private readonly JwtOptions _options;
    private readonly ILogger<JwtCallers> _log;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly ImmutableArray<SecurityKey> _keys;
    private readonly ConfigurationManager<OpenIdConnectConfiguration>? _discovery;
    private readonly ConcurrentDictionary<string, byte> _unknownRoles = new(StringComparer.Ordinal);

    public JwtCallers(IOptions<JwtOptions> options, ILogger<JwtCallers> log)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _log = log;
        _keys = _options.Enabled ? StaticKeys(_options) : [];
        if (_options.Enabled && !string.IsNullOrWhiteSpace(_options.Authority))
        {
            var metadata = _options.Authority.TrimEnd('/') + "/.well-known/openid-configuration";
            _discovery = new ConfigurationManager<OpenIdConnectConfiguration>(metadata, new OpenIdConnectConfigurationRetriever(),
                new HttpDocumentRetriever { RequireHttps = _options.RequireHttpsMetadata });
        }
    }

    public bool Enabled => _options.Enabled;

    public string RoleClaim => _options.RoleClaim;

    /// <summary>Says at start where tokens are checked against (nothing when JWTs are off).</summary>
    public void LogSettings()
    {
        if (Enabled)
        {
            JwtLog.On(_log, _discovery is not null ? $"authority {_options.Authority}" : $"{_keys.Length} configured signing key(s), issuer {_options.Issuer}", _options.Audience ?? "", _options.RoleClaim);
        }
    }

    /// <summary>A compact JWS (<c>eyJ...</c> with three parts); the gateway's own tokens never look like one.</summary>
    public static bool LooksLikeJwt(string token) =>
        token.StartsWith("eyJ", StringComparison.Ordinal) && token.Count(c => c == '.') == 2;

    /// <summary>The keys given in the settings (PEM public key or certificate, symmetric key); none with only an authority.</summary>
    public static ImmutableArray<SecurityKey> StaticKeys(JwtOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var keys = ImmutableArray.CreateBuilder<SecurityKey>();
        foreach (var pem in new[] { options.SigningKey, string.IsNullOrWhiteSpace(options.SigningKeyFile) ? null : File.ReadAllText(options.SigningKeyFile) })
        {
            if (!string.IsNullOrWhiteSpace(pem))
            {
                keys.Add(PemKey(pem));
            }
        }

        if (!string.IsNullOrWhiteSpace(options.SymmetricKey))
        {
            var bytes = Convert.FromBase64String(options.SymmetricKey.Trim());
            if (bytes.Length < 32)
            {
                throw new ArgumentException("the symmetric key (secret jwt.key) is shorter than 256 bits", nameof(options));
            }

            keys.Add(new SymmetricSecurityKey(bytes));
        }

        return keys.ToImmutable();
    }

    /// <summary>A PEM certificate, RSA public key or EC public key.</summary>
    private static SecurityKey PemKey(string pem)
    {
        if (pem.Contains("BEGIN CERTIFICATE", StringComparison.Ordinal))
        {
            return new X509SecurityKey(X509Certificate2.CreateFromPem(pem));
        }

        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            return new RsaSecurityKey(rsa);
        }
        catch (CryptographicException)
        {
            // Not an RSA key: an EC one, or nothing usable (that error is the EC import's).
            rsa.Dispose();
        }

        var ec = ECDsa.Create();
        ec.ImportFromPem(pem);
        return new ECDsaSecurityKey(ec);
    }

    public async Task<JwtVerdict> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        var parameters = new TokenValidationParameters
        {
            ValidateIssuer = true,
            ValidIssuer = string.IsNullOrWhiteSpace(_options.Issuer) ? null : _options.Issuer,
            ValidateAudience = true,
            ValidAudience = _options.Audience,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = true,
            IssuerSigningKeys = _keys,
            ClockSkew = TimeSpan.FromSeconds(_options.ClockSkewSeconds),
            RoleClaimType = _options.RoleClaim,
        };
        if (_discovery is not null)
        {
            OpenIdConnectConfiguration configuration;
            try
            {
                configuration = await _discovery.GetConfigurationAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (InvalidOperationException ex)
            {
                JwtLog.DiscoveryFailed(_log, _options.Authority!, ex.Message);
                return new JwtVerdict(null, $"the identity provider {_options.Authority} cannot be reached to check the token's signature", ProviderUnreachable: true);
            }

            parameters.IssuerSigningKeys = [.. _keys, .. configuration.SigningKeys];
            parameters.ValidIssuer ??= configuration.Issuer;
        }

        var result = await _handler.ValidateTokenAsync(token, parameters).ConfigureAwait(false);
        if (!result.IsValid)
        {
            return new JwtVerdict(null, Reason(result.Exception));
        }

        var claims = result.ClaimsIdentity;
        var name = (string.IsNullOrWhiteSpace(_options.NameClaim) ? null : claims.FindFirst(_options.NameClaim)?.Value)
            ?? claims.FindFirst("preferred_username")?.Value ?? claims.FindFirst("sub")?.Value ?? "(unnamed)";
        var roles = new SortedSet<Role>();
        foreach (var value in claims.FindAll(_options.RoleClaim).SelectMany(c => c.Value.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries)))
        {
            if (Roles.TryParse(value, out var role))
            {
                roles.Add(role);
            }
            else if (_unknownRoles.TryAdd(value, 0))
            {
                JwtLog.UnknownRole(_log, value, _options.RoleClaim, string.Join(", ", Roles.All.Select(r => r.ToText())));
            }
        }

        return new JwtVerdict(new UserIdentity(name, [.. roles]), null);
    }

    private string Reason(Exception? exception) => exception switch
    {
        SecurityTokenExpiredException expired => $"it expired at {expired.Expires:O}",
        SecurityTokenNotYetValidException early => $"it is not valid before {early.NotBefore:O}",
        SecurityTokenNoExpirationException => "it has no expiry (exp)",
        SecurityTokenInvalidAudienceException => $"its audience is not the gateway's ({JwtOptions.Section}:Audience '{_options.Audience}')",
        SecurityTokenInvalidIssuerException => $"its issuer is not the one the gateway trusts ({JwtOptions.Section}:Issuer or the authority's)",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "its signature does not verify with the identity provider's keys",
        SecurityTokenMalformedException or ArgumentException => "it is not a well-formed JWT",
        null => "it is not valid",
        _ => $"it is not valid ({exception.GetType().Name})",
    };
}

internal static partial class JwtLog
{
    [LoggerMessage(EventId = 4685, Level = LogLevel.Warning,
        Message = "JWT: role '{Role}' in claim {Claim} is not a gateway role and is ignored (gateway roles: {Known}); logged once per name")]
    public static partial void UnknownRole(ILogger logger, string role, string claim, string known);

    [LoggerMessage(EventId = 4686, Level = LogLevel.Error, Message = "JWT: the identity provider {Authority} cannot be read: {Reason}")]
    public static partial void DiscoveryFailed(ILogger logger, string authority, string reason);

    [LoggerMessage(EventId = 4687, Level = LogLevel.Warning, Message = "Refused {Method} from {Peer}: the JWT bearer token is not valid: {Reason}")]
    public static partial void Refused(ILogger logger, string method, string peer, string reason);

    [LoggerMessage(EventId = 4688, Level = LogLevel.Information, Message = "JWT bearer tokens accepted: {Source}, audience {Audience}, roles from claim {Claim}")]
    public static partial void On(ILogger logger, string source, string audience, string claim);
}
