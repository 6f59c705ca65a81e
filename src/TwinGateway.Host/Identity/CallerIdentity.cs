using System.Security.Claims;
using Grpc.Core;
using TwinGateway.Core.Identity;

namespace TwinGateway.Host.Identity;

/// <summary>
/// The authenticated caller of a gRPC call, as <see cref="CallerAuthorization"/> resolved it. Service implementations
/// ask <c>CallerIdentity.Get(context)</c> for the name and roles (the commissioning service's submitter and approver);
/// ASP.NET Core code sees the same user as <c>HttpContext.User</c> (name claim and one role claim per role).
/// </summary>
internal static class CallerIdentity
{
    /// <summary>The authentication type of the principal set on <c>HttpContext.User</c>.</summary>
    public const string AuthenticationType = "twingw-token";

    private static readonly object s_key = typeof(CallerIdentity);

    /// <summary>The caller of <paramref name="context"/>'s call.</summary>
    /// <exception cref="InvalidOperationException">The call did not pass the interceptor (an exempt service asking, or
    /// a host wired without it): a programming error, never the caller's.</exception>
    public static UserIdentity Get(ServerCallContext context) =>
        TryGet(context, out var user)
            ? user
            : throw new InvalidOperationException($"the call {context.Method} has no authenticated caller: is CallerAuthorization registered as a gRPC interceptor?");

    public static bool TryGet(ServerCallContext context, out UserIdentity user)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.UserState.TryGetValue(s_key, out var found) && found is UserIdentity identity)
        {
            user = identity;
            return true;
        }

        user = null!;
        return false;
    }

    internal static void Set(ServerCallContext context, UserIdentity user)
    {
        context.UserState[s_key] = user;
        if (context.GetHttpContext() is { } http)
        {
            http.User = new ClaimsPrincipal(new ClaimsIdentity(
                [new Claim(ClaimTypes.Name, user.Name), .. user.Roles.Select(r => new Claim(ClaimTypes.Role, r.ToText()))],
                AuthenticationType, ClaimTypes.Name, ClaimTypes.Role));
        }
    }
}
