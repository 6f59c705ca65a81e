using System.Collections.Immutable;
using Microsoft.AspNetCore.Http;
using System.Security.Claims;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TwinGateway.Core.Identity;
using TwinGateway.Host.Identity;

namespace TwinGateway.Host.Web;

/// <summary>
/// Marks a page, a page handler or a live endpoint with the RPC it is the web form of, so its role check is that RPC's
/// entry in <see cref="RpcRoles"/>: one table for gRPC, the CLI and the web console. For example the alerts page is
/// <c>AlertService/ListAlerts</c> and its acknowledge button <c>AlertService/AcknowledgeAlert</c>.
/// </summary>
/// <param name="rpc">The RPC as <c>Service/Method</c> in package twingateway.v1 (for example <c>AlertService/ListAlerts</c>).</param>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false)]
internal sealed class ForRpcAttribute(string rpc) : Attribute
{
    public string Rpc { get; } = WebAccess.FullName(rpc);
}

/// <summary>Who the signed-in user is and what the role table lets them do.</summary>
internal static class WebAccess
{
    /// <summary><c>AlertService/ListAlerts</c> to <c>/twingateway.v1.AlertService/ListAlerts</c>.</summary>
    public static string FullName(string rpc)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rpc);
        return rpc.StartsWith('/') ? rpc : $"/twingateway.v1.{rpc}";
    }

    /// <summary>The signed-in user's name and roles, from the session's claims; null when nobody is signed in.</summary>
    public static UserIdentity? User(ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        if (principal.Identity is not { IsAuthenticated: true, Name: { } name })
        {
            return null;
        }

        var roles = principal.FindAll(ClaimTypes.Role)
            .Select(c => Roles.TryParse(c.Value, out var role) ? role : (Role?)null)
            .OfType<Role>()
            .ToImmutableArray();
        return new UserIdentity(name, roles);
    }

    /// <summary>Whether <paramref name="principal"/> may do what <paramref name="rpc"/> does (deny by default: an RPC missing from the table allows nobody).</summary>
    public static bool Allows(ClaimsPrincipal principal, string rpc) =>
        User(principal) is { } user && RpcRoles.TryGetAllowed(FullName(rpc), out var allowed) && RpcRoles.Permits(allowed, user);

    /// <summary>"needs one of the roles admin, operator, engineer; user 'ann' has viewer": the refusal, in the words gRPC uses.</summary>
    public static string Refusal(ClaimsPrincipal principal, string rpc)
    {
        var full = FullName(rpc);
        var user = User(principal);
        var has = user is null ? "no session" : $"user '{user.Name}' has {string.Join(", ", user.Roles.Select(r => r.ToText()))}";
        return RpcRoles.TryGetAllowed(full, out var allowed)
            ? $"{Action(full)} needs one of the roles {string.Join(", ", allowed.Select(r => r.ToText()))}; {has}"
            : $"{Action(full)} has no roles declared, so nobody may do it";
    }

    private static string Action(string full) => full[(full.LastIndexOf('.') + 1)..].Replace("/", ".", StringComparison.Ordinal);
}

/// <summary>
/// Enforces <see cref="ForRpcAttribute"/> on every page and page handler: a page without it is refused (deny by
/// default, like the gRPC table), except the sign-in page; a refusal is 403 with the roles it needs.
/// </summary>
internal sealed partial class RpcRolePageFilter(ILogger<RpcRolePageFilter> log) : IAsyncPageFilter
{
    public Task OnPageHandlerSelectionAsync(PageHandlerSelectedContext context) => Task.CompletedTask;

    public async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (context.ActionDescriptor.EndpointMetadata.OfType<Microsoft.AspNetCore.Authorization.IAllowAnonymous>().Any())
        {
            await next().ConfigureAwait(false);
            return;
        }

        // A handler that acts (POST) must name its own RPC: it never inherits the page's, which is the right to look.
        var own = context.HandlerMethod?.MethodInfo.GetCustomAttributes(typeof(ForRpcAttribute), false).OfType<ForRpcAttribute>().FirstOrDefault()?.Rpc;
        var reads = Microsoft.AspNetCore.Http.HttpMethods.IsGet(context.HttpContext.Request.Method) || Microsoft.AspNetCore.Http.HttpMethods.IsHead(context.HttpContext.Request.Method);
        var rpc = own ?? (reads ? PageRpc(context.HandlerInstance.GetType()) : null);
        if (rpc is null)
        {
            Undeclared(log, context.ActionDescriptor.RelativePath);
            context.Result = Refused(context, "this page has no role declared, so nobody may open it (a programming error in the gateway)");
            return;
        }

        if (!WebAccess.Allows(context.HttpContext.User, rpc))
        {
            var reason = WebAccess.Refusal(context.HttpContext.User, rpc);
            Denied(log, context.HttpContext.User.Identity?.Name ?? "?", context.HttpContext.Request.Path, reason);
            context.Result = Refused(context, reason);
            return;
        }

        await next().ConfigureAwait(false);
    }

    /// <summary>The RPC a page class declares for looking at it, or null.</summary>
    internal static string? PageRpc(Type page) =>
        page.GetCustomAttributes(typeof(ForRpcAttribute), true).OfType<ForRpcAttribute>().FirstOrDefault()?.Rpc;

    private static ViewResult Refused(PageHandlerExecutingContext context, string reason)
    {
        if (context.HandlerInstance is PageModel page)
        {
            page.ViewData["Refusal"] = reason;
        }

        return new ViewResult
        {
            ViewName = "Refused",
            StatusCode = Microsoft.AspNetCore.Http.StatusCodes.Status403Forbidden,
            ViewData = new Microsoft.AspNetCore.Mvc.ViewFeatures.ViewDataDictionary(new Microsoft.AspNetCore.Mvc.ModelBinding.EmptyModelMetadataProvider(), context.ModelState) { ["Refusal"] = reason },
        };
    }

    [LoggerMessage(EventId = 4430, Level = LogLevel.Warning, Message = "Web console: refused {User} at {Path}: {Reason}")]
    private static partial void Denied(ILogger logger, string user, string path, string reason);

    [LoggerMessage(EventId = 4431, Level = LogLevel.Error, Message = "Web console: page {Page} declares no RPC (ForRpc), so it is refused to everyone")]
    private static partial void Undeclared(ILogger logger, string page);
}

/// <summary>The role check of the console's live and data endpoints (minimal APIs), by the same table.</summary>
internal static class RpcEndpointExtensions
{
    /// <summary>Signed-in users only (401 otherwise), and of them those <paramref name="rpc"/>'s roles allow (403 with the reason).</summary>
    public static TBuilder RequireRpc<TBuilder>(this TBuilder builder, string rpc)
        where TBuilder : IEndpointConventionBuilder
    {
        var full = WebAccess.FullName(rpc);
        builder.RequireAuthorization();
        builder.AddEndpointFilter(async (context, next) =>
        {
            var principal = context.HttpContext.User;
            return WebAccess.Allows(principal, full)
                ? await next(context).ConfigureAwait(false)
                : Results.Text(WebAccess.Refusal(principal, full), "text/plain; charset=utf-8", statusCode: StatusCodes.Status403Forbidden);
        });
        return builder;
    }
}
