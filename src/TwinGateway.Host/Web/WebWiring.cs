using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.Mvc.ApplicationParts;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using TwinGateway.Commissioning.Identity;
using TwinGateway.Core.Identity;
using TwinGateway.Host.Telemetry;

namespace TwinGateway.Host.Web;

/// <summary>
/// The web console: Razor Pages (server-rendered, one URL per view) with one bundled script for the live parts (plots,
/// alerts arriving, apply steps), served on the gRPC port (see <see cref="CleartextMultiplexer"/>). Sign-in is the
/// gateway's own users and tokens; each page and action is checked against <see cref="Identity.RpcRoles"/>.
/// </summary>
internal static class WebWiring
{
    /// <summary>The claim that carries the session's API token (inside the encrypted cookie), re-checked on every request.</summary>
    public const string TokenClaim = "twingw:token";

    public const string CookieName = "twingw.session";

    public static void AddTwinGatewayWeb(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddRazorPages(pages =>
        {
            pages.Conventions.AuthorizeFolder("/");
            pages.Conventions.AllowAnonymousToPage("/SignIn");
        }).AddMvcOptions(mvc => mvc.Filters.Add<RpcRolePageFilter>())
            .ConfigureApplicationPartManager(parts =>
            {
                // The pages live in this assembly; when another program hosts the gateway (the tests do), its entry
                // assembly is not this one, so the pages are added here, once.
                var assembly = typeof(WebWiring).Assembly;
                if (!parts.ApplicationParts.OfType<AssemblyPart>().Any(p => p.Assembly == assembly))
                {
                    foreach (var part in ApplicationPartFactory.GetApplicationPartFactory(assembly).GetApplicationParts(assembly))
                    {
                        parts.ApplicationParts.Add(part);
                    }
                }
            });
        services.AddSingleton<RpcRolePageFilter>();
        services.AddSingleton<ReplayJobs>();
        services.AddSingleton<ChangeRuns>();

        // Cookie keys in the data folder, so a session survives a restart of the gateway.
        services.AddDataProtection().SetApplicationName("TwinGateway");
        // They are stored unencrypted (as users.db's hashes and the audit key are): the folder is the owner's alone.
        services.AddOptions<KeyManagementOptions>().Configure<IOptions<TelemetryOptions>, ILoggerFactory>((keys, telemetry, logs) =>
            keys.XmlRepository = new FileSystemXmlRepository(PrivateFolder(Path.Combine(Path.GetFullPath(telemetry.Value.DataFolder), "web-keys")), logs));

        services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(cookie =>
            {
                cookie.Cookie.Name = CookieName;
                cookie.Cookie.HttpOnly = true;
                cookie.Cookie.SameSite = SameSiteMode.Strict;
                cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                cookie.LoginPath = "/signin";
                cookie.LogoutPath = "/signout";
                cookie.AccessDeniedPath = "/signin";
                cookie.ExpireTimeSpan = TimeSpan.FromHours(12);
                cookie.SlidingExpiration = true;
                cookie.Events.OnValidatePrincipal = RevalidateAsync;
                // Scripts (live endpoints) get a status, not a redirect to the sign-in form.
                cookie.Events.OnRedirectToLogin = context => Redirect(context, StatusCodes.Status401Unauthorized);
            });
        services.AddAuthorization();
        services.AddAntiforgery(anti =>
        {
            anti.Cookie.Name = "twingw.antiforgery";
            anti.Cookie.SameSite = SameSiteMode.Strict;
        });
    }

    private static DirectoryInfo PrivateFolder(string path) =>
        OperatingSystem.IsWindows()
            ? Directory.CreateDirectory(path)
            : Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

    public static void MapTwinGatewayWeb(this WebApplication app)
    {
        var assets = Path.Combine(AppContext.BaseDirectory, "web");
        Directory.CreateDirectory(assets);
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new PhysicalFileProvider(assets),
            RequestPath = "/assets",
            OnPrepareResponse = files => files.Context.Response.Headers.CacheControl = "no-cache",
        });
        app.Use(async (context, next) =>
        {
            // No framing by other sites, no sniffing, scripts only from here.
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";
            headers["Referrer-Policy"] = "same-origin";
            await next(context).ConfigureAwait(false);
        });
        app.Use(async (context, next) =>
        {
            // A live stream (server-sent events) ends when the gateway stops, so an open page never holds a shutdown
            // until Kestrel's timeout: its RequestAborted also fires on ApplicationStopping.
            if (!context.Request.Path.StartsWithSegments("/live"))
            {
                await next(context).ConfigureAwait(false);
                return;
            }

            var stopping = context.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
            using var ends = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
            context.RequestAborted = ends.Token;
            await next(context).ConfigureAwait(false);
        });
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();
        app.MapRazorPages();
        LineLiveEndpoints.Map(app);
        AlertLiveEndpoints.Map(app);
        ChangeLiveEndpoints.Map(app);
        ReplayLiveEndpoints.Map(app);
        app.MapGet("/", () => Results.Redirect("/lines")).RequireAuthorization();
    }

    /// <summary>Signs <paramref name="user"/> in with the token it proved; the cookie carries both, encrypted.</summary>
    public static Task SignInAsync(HttpContext context, UserRecord user, string token)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(user);
        return context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, Principal(user, token),
            new AuthenticationProperties { IsPersistent = false });
    }

    private static ClaimsPrincipal Principal(UserRecord user, string token) => new(new ClaimsIdentity(
        [
            new Claim(ClaimTypes.Name, user.Name),
            new Claim(TokenClaim, token),
            .. user.Roles.Select(r => new Claim(ClaimTypes.Role, r.ToText())),
        ],
        CookieAuthenticationDefaults.AuthenticationScheme, ClaimTypes.Name, ClaimTypes.Role));

    /// <summary>
    /// Every request checks the session's token against the user store again, as every gRPC call does: a removed user
    /// is signed out at once, and a user whose roles changed gets the new roles.
    /// </summary>
    private static async Task RevalidateAsync(CookieValidatePrincipalContext context)
    {
        var token = context.Principal?.FindFirst(TokenClaim)?.Value;
        var users = context.HttpContext.RequestServices.GetRequiredService<IUserStore>();
        UserRecord? user = null;
        if (!string.IsNullOrEmpty(token))
        {
            try
            {
                user = await users.FindByTokenAsync(token, context.HttpContext.RequestAborted).ConfigureAwait(false);
            }
            catch (UserStoreException)
            {
                user = null;
            }
        }

        if (user is null || !string.Equals(user.Name, context.Principal?.Identity?.Name, StringComparison.Ordinal))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme).ConfigureAwait(false);
            return;
        }

        var roles = context.Principal!.FindAll(ClaimTypes.Role).Select(c => c.Value).Order(StringComparer.Ordinal);
        if (!roles.SequenceEqual(user.Roles.Select(r => r.ToText()).Order(StringComparer.Ordinal), StringComparer.Ordinal))
        {
            context.ReplacePrincipal(Principal(user, token!));
            context.ShouldRenew = true;
        }
    }

    private static Task Redirect(RedirectContext<CookieAuthenticationOptions> context, int scriptStatus)
    {
        var path = context.Request.Path;
        if (path.StartsWithSegments("/live") || path.StartsWithSegments("/data"))
        {
            context.Response.StatusCode = scriptStatus;
            return Task.CompletedTask;
        }

        context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }
}
