using System.Security.Cryptography;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.AspNetCore.Routing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using System.Security.Cryptography.X509Certificates;
using TwinGateway.Api.V1;
using TwinGateway.Core.Identity;
using TwinGateway.Host.Identity;

namespace TwinGateway.Interop.Tests.Gateway;

/// <summary>
/// JWT bearer tokens of a plant identity provider (a key this test makes signs them) on an https gateway: accepted
/// beside the gateway's own tokens, refused with the precise reason, and held to the role table RPC by RPC.
/// </summary>
public sealed class JwtTests : IAsyncLifetime
{
    private const string Audience = "twingw-plant-7";
    private const string Issuer = "https://idp.plant.test/realms/plant";
    private readonly GatewayUnderTest _gateway = new();
    private readonly RSA _providerKey = RSA.Create(2048);
    private TlsChannel? _tls;

    private TlsChannel Tls => _tls!;

    public async Task InitializeAsync()
    {
        await _gateway.StartAsync(_gateway.DemoYaml, settings: new Dictionary<string, string?>
        {
            ["Gateway:ApiUrl"] = $"https://127.0.0.1:{_gateway.ApiPort}",
            ["Identity:Jwt:SigningKey"] = _providerKey.ExportSubjectPublicKeyInfoPem(),
            ["Identity:Jwt:Audience"] = Audience,
            ["Identity:Jwt:Issuer"] = Issuer,
            ["Identity:Jwt:NameClaim"] = "preferred_username",
        });
        using var certificate = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.Combine(_gateway.DataFolder, "tls", "gateway.crt")));
        _tls = new TlsChannel($"https://127.0.0.1:{_gateway.ApiPort}", certificate);
    }

    public async Task DisposeAsync()
    {
        _tls?.Dispose();
        _providerKey.Dispose();
        await _gateway.DisposeAsync();
    }

    private string Token(RSA? key = null, string audience = Audience, DateTime? expires = null, object? roles = null, bool withRoles = true, string user = "alice", string? keyId = null)
    {
        var now = DateTime.UtcNow;
        var claims = new Dictionary<string, object> { ["preferred_username"] = user, ["sub"] = "id-" + user };
        if (withRoles)
        {
            claims["roles"] = roles ?? new[] { "operator" };
        }

        var end = expires ?? now.AddMinutes(10);
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = audience,
            IssuedAt = end.AddMinutes(-20),
            NotBefore = end.AddMinutes(-20),
            Expires = end,
            Claims = claims,
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(key ?? _providerKey) { KeyId = keyId }, SecurityAlgorithms.RsaSha256),
        });
    }

    private async Task<RpcException> RefusedAsync(string token) =>
        await Assert.ThrowsAsync<RpcException>(() => new LineService.LineServiceClient(Tls.For(token)).ListLinesAsync(new ListLinesRequest()).ResponseAsync);

    [Fact]
    public async Task A_valid_token_is_the_caller_with_its_roles_beside_the_gateways_own_tokens()
    {
        var me = await new UserService.UserServiceClient(Tls.For(Token(roles: new[] { "operator", "viewer" }))).WhoAmIAsync(new WhoAmIRequest());
        var lines = await new LineService.LineServiceClient(Tls.For(Token())).ListLinesAsync(new ListLinesRequest());
        var own = await new LineService.LineServiceClient(Tls.For(_gateway.Token)).ListLinesAsync(new ListLinesRequest());

        Assert.Equal("alice", me.Name);
        Assert.Equal(["operator", "viewer"], me.Roles.Order(StringComparer.Ordinal));
        Assert.NotEmpty(lines.Lines);
        Assert.NotEmpty(own.Lines);
    }

    [Fact]
    public async Task An_expired_token_is_unauthenticated_and_says_so()
    {
        var ex = await RefusedAsync(Token(expires: DateTime.UtcNow.AddHours(-1)));

        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
        Assert.Contains("expired at", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Contains(_gateway.Log.Entries, e => e.Id.Id == 4687 && e.Message.Contains("expired", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_token_for_another_audience_is_unauthenticated_naming_the_audience_setting()
    {
        var ex = await RefusedAsync(Token(audience: "some-other-app"));

        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
        Assert.Contains($"Identity:Jwt:Audience '{Audience}'", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_signed_by_another_key_is_unauthenticated_and_never_echoed()
    {
        using var forger = RSA.Create(2048);
        var forged = Token(key: forger, roles: new[] { "admin" });

        var ex = await RefusedAsync(forged);

        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
        Assert.Contains("signature does not verify", ex.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(forged.Split('.')[2], ex.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(_gateway.Log.Entries, e => e.Message.Contains(forged.Split('.')[2], StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_token_without_the_role_claim_is_authenticated_but_denied_naming_the_claim()
    {
        var ex = await RefusedAsync(Token(withRoles: false, user: "bob"));

        Assert.Equal(StatusCode.PermissionDenied, ex.StatusCode);
        Assert.Contains("user 'bob' has none", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("claim 'roles'", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_role_names_are_ignored_and_logged_once()
    {
        var token = Token(roles: new[] { "plant-superuser", "viewer" });

        await new LineService.LineServiceClient(Tls.For(token)).ListLinesAsync(new ListLinesRequest());
        var me = await new UserService.UserServiceClient(Tls.For(token)).WhoAmIAsync(new WhoAmIRequest());
        var denied = await Assert.ThrowsAsync<RpcException>(() =>
            new UserService.UserServiceClient(Tls.For(Token(roles: new[] { "plant-superuser" }))).ListUsersAsync(new ListUsersRequest()).ResponseAsync);

        Assert.Equal(["viewer"], me.Roles);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        Assert.Single(_gateway.Log.Entries, e => e.Id.Id == 4685 && e.Message.Contains("plant-superuser", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Over_tls_each_jwt_role_is_refused_exactly_the_rpcs_the_table_does_not_allow_it()
    {
        var methods = ((IEndpointRouteBuilder)_gateway.App!).DataSources
            .SelectMany(d => d.Endpoints)
            .Select(e => e.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method)
            .OfType<IMethod>()
            .Where(m => !m.FullName.Contains('{', StringComparison.Ordinal) && !RpcRoles.IsExempt(m.FullName))
            .DistinctBy(m => m.FullName)
            .OrderBy(m => m.FullName, StringComparer.Ordinal)
            .ToList();
        var mismatches = new List<string>();
        var walked = 0;
        foreach (var method in methods)
        {
            Assert.True(RpcRoles.TryGetAllowed(method.FullName, out var allowed), $"{method.FullName} has no roles");
            foreach (var role in Roles.All)
            {
                var status = await RoleMatrixTests.CallAsync(Tls.For(Token(roles: new[] { role.ToText() }, user: "jwt-" + role.ToText())), method);
                walked++;
                var expectAllowed = role == Role.Admin || allowed.Contains(role);
                if (status == StatusCode.Unauthenticated)
                {
                    mismatches.Add($"{method.FullName} as {role.ToText()}: Unauthenticated (the JWT was not accepted)");
                }
                else if (expectAllowed == (status == StatusCode.PermissionDenied))
                {
                    mismatches.Add($"{method.FullName} as {role.ToText()}: {status}, expected {(expectAllowed ? "to pass authorization" : "PermissionDenied")}");
                }
            }
        }

        Assert.True(mismatches.Count == 0, string.Join(Environment.NewLine, mismatches));
        Assert.True(walked >= 12 * Roles.All.Count, $"only {walked} calls walked over {methods.Count} methods");
        Assert.Contains(_gateway.Log.Entries, e => e.Id.Id == 4412 && e.Message.Contains("jwt-viewer", StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_an_authority_the_keys_and_issuer_come_from_its_discovery_document()
    {
        var parameters = _providerKey.ExportParameters(false);
        using var authority = new DiscoveryAuthority(Issuer, $$"""{"keys":[{"kty":"RSA","use":"sig","alg":"RS256","kid":"plant-1","n":"{{Base64UrlEncoder.Encode(parameters.Modulus)}}","e":"{{Base64UrlEncoder.Encode(parameters.Exponent)}}"}]}""");
        await using var gateway = new GatewayUnderTest();
        await gateway.StartAsync(gateway.DemoYaml, settings: new Dictionary<string, string?>
        {
            ["Identity:Jwt:Authority"] = authority.Url,
            ["Identity:Jwt:RequireHttpsMetadata"] = "false",
            ["Identity:Jwt:Audience"] = Audience,
        });
        using var forger = RSA.Create(2048);

        var me = await new UserService.UserServiceClient(gateway.CallInvokerFor(Token(keyId: "plant-1", roles: new[] { "engineer" }))).WhoAmIAsync(new WhoAmIRequest());
        var forged = await Assert.ThrowsAsync<RpcException>(() =>
            new UserService.UserServiceClient(gateway.CallInvokerFor(Token(key: forger, keyId: "plant-1"))).WhoAmIAsync(new WhoAmIRequest()).ResponseAsync);

        Assert.Equal(["engineer"], me.Roles);
        Assert.Contains("/.well-known/openid-configuration", authority.Requests);
        Assert.Equal(StatusCode.Unauthenticated, forged.StatusCode);
        Assert.Contains("signature does not verify", forged.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_authority_makes_jwt_calls_unavailable_not_unauthenticated()
    {
        await using var gateway = new GatewayUnderTest();
        gateway.Log.Expect(4686);
        await gateway.StartAsync(gateway.DemoYaml, settings: new Dictionary<string, string?>
        {
            ["Identity:Jwt:Authority"] = $"http://127.0.0.1:{FreePort.Next()}",
            ["Identity:Jwt:RequireHttpsMetadata"] = "false",
            ["Identity:Jwt:Audience"] = Audience,
        });

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            new UserService.UserServiceClient(gateway.CallInvokerFor(Token())).WhoAmIAsync(new WhoAmIRequest()).ResponseAsync);
        var own = await new UserService.UserServiceClient(gateway.CallInvoker!).WhoAmIAsync(new WhoAmIRequest());

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.Contains("cannot be reached", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(GatewayUnderTest.AdminName, own.Name);
    }

    /// <summary>An OpenID Connect authority on loopback: the discovery document and the key set, nothing else.</summary>
    private sealed class DiscoveryAuthority : IDisposable
    {
        private readonly System.Net.HttpListener _listener = new();
        private readonly Task _serving;

        public DiscoveryAuthority(string issuer, string keys)
        {
            Url = $"http://127.0.0.1:{FreePort.Next()}";
            _listener.Prefixes.Add(Url + "/");
            _listener.Start();
            _serving = ServeAsync($$"""{"issuer":"{{issuer}}","jwks_uri":"{{Url}}/keys","id_token_signing_alg_values_supported":["RS256"]}""", keys);
        }

        public string Url { get; }

        public System.Collections.Concurrent.ConcurrentBag<string> Requests { get; } = [];

        private async Task ServeAsync(string discovery, string keys)
        {
            while (_listener.IsListening)
            {
                System.Net.HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is System.Net.HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }

                var path = context.Request.Url!.AbsolutePath;
                Requests.Add(path);
                var body = path switch
                {
                    "/.well-known/openid-configuration" => discovery,
                    "/keys" => keys,
                    _ => null,
                };
                context.Response.StatusCode = body is null ? 404 : 200;
                context.Response.ContentType = "application/json";
                await context.Response.OutputStream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(body ?? "{}"));
                context.Response.Close();
            }
        }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            _serving.Wait(TimeSpan.FromSeconds(5));
        }
    }
}
