using Grpc.Core;
using Grpc.Core.Interceptors;
using TwinGateway.Commissioning.Identity;
using TwinGateway.Core.Identity;

namespace TwinGateway.Host.Identity;

/// <summary>
/// Authenticates every gRPC call by its <c>authorization: Bearer &lt;token&gt;</c> metadata and authorizes it by
/// <see cref="RpcRoles"/>. A gRPC interceptor rather than ASP.NET Core authentication and policies: the rule is one
/// table keyed by the method's full name, which the interceptor has in <see cref="ServerCallContext.Method"/> for all
/// four call kinds, and the refusals must be gRPC statuses with messages (Unauthenticated, PermissionDenied) that say
/// what to do, where ASP.NET Core's challenge and forbid produce bare statuses.
/// </summary>
internal sealed class CallerAuthorization(IUserStore users, JwtCallers jwt, ILogger<CallerAuthorization> log) : Interceptor
{
    private const string BearerScheme = "Bearer ";

    private const string HowToGetOne =
        "create a user and its token with `twingw users add NAME --role ROLE` in the gateway's working directory (or ask an admin), "
        + "then pass the token with --token or the TWINGW_TOKEN environment variable (other clients: `authorization: Bearer <token>` metadata)";

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        await AuthorizeAsync(context).ConfigureAwait(false);
        return await continuation(request, context).ConfigureAwait(false);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthorizeAsync(context).ConfigureAwait(false);
        await continuation(request, responseStream, context).ConfigureAwait(false);
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthorizeAsync(context).ConfigureAwait(false);
        return await continuation(requestStream, context).ConfigureAwait(false);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthorizeAsync(context).ConfigureAwait(false);
        await continuation(requestStream, responseStream, context).ConfigureAwait(false);
    }

    private async Task AuthorizeAsync(ServerCallContext context)
    {
        var method = context.Method;
        if (RpcRoles.IsExempt(method))
        {
            return;
        }

        var header = context.RequestHeaders.GetValue("authorization");
        if (string.IsNullOrWhiteSpace(header))
        {
            AuthorizationLog.NoToken(log, method, context.Peer);
            throw new RpcException(new Status(StatusCode.Unauthenticated, $"{method} needs an API token and the call carried none: {HowToGetOne}"));
        }

        var token = header.StartsWith(BearerScheme, StringComparison.OrdinalIgnoreCase) ? header[BearerScheme.Length..].Trim() : header.Trim();
        var identity = jwt.Enabled && JwtCallers.LooksLikeJwt(token)
            ? await JwtCallerAsync(token, context).ConfigureAwait(false)
            : await TokenUserAsync(token, context).ConfigureAwait(false);
        if (!RpcRoles.TryGetAllowed(method, out var allowed))
        {
            AuthorizationLog.NoRolesDeclared(log, method);
            throw new RpcException(new Status(StatusCode.PermissionDenied,
                $"{method} has no roles declared, so nobody may call it (a programming error in the gateway, reported in its log)"));
        }

        if (!RpcRoles.Permits(allowed, identity))
        {
            var needed = string.Join(", ", allowed.Select(r => r.ToText()));
            var has = identity.Roles.IsEmpty ? "none" : string.Join(", ", identity.Roles.Select(r => r.ToText()));
            AuthorizationLog.Denied(log, method, identity.Name, has);
            throw new RpcException(new Status(StatusCode.PermissionDenied,
                $"{method} needs one of the roles {needed}; user '{identity.Name}' has {has}"
                + (identity.Roles.IsEmpty && jwt.Enabled ? $" (a JWT's roles are read from its claim '{jwt.RoleClaim}')" : "")));
        }

        CallerIdentity.Set(context, identity);
    }

    /// <summary>The caller of a JWT bearer token from the plant's identity provider.</summary>
    private async Task<UserIdentity> JwtCallerAsync(string token, ServerCallContext context)
    {
        var verdict = await jwt.ValidateAsync(token, context.CancellationToken).ConfigureAwait(false);
        if (verdict.Caller is { } caller)
        {
            return caller;
        }

        JwtLog.Refused(log, context.Method, context.Peer, verdict.Refusal!);
        throw new RpcException(verdict.ProviderUnreachable
            ? new Status(StatusCode.Unavailable, $"the gateway cannot check JWT bearer tokens now: {verdict.Refusal}")
            : new Status(StatusCode.Unauthenticated, $"the JWT bearer token is refused: {verdict.Refusal}; get a new one from the identity provider"));
    }

    /// <summary>The user of one of the gateway's own API tokens.</summary>
    private async Task<UserIdentity> TokenUserAsync(string token, ServerCallContext context)
    {
        var method = context.Method;
        UserRecord? user;
        try
        {
            user = await users.FindByTokenAsync(token, context.CancellationToken).ConfigureAwait(false);
        }
        catch (UserStoreException ex)
        {
            AuthorizationLog.StoreFailed(log, method, ex.Message, ex);
            throw new RpcException(new Status(StatusCode.Unavailable, $"the gateway cannot check API tokens now: {ex.Message}"));
        }

        if (user is null)
        {
            AuthorizationLog.UnknownToken(log, method, context.Peer);
            throw new RpcException(new Status(StatusCode.Unauthenticated, $"the API token is not valid (unknown, mistyped or its user was removed): {HowToGetOne}"));
        }

        return user.ToIdentity();
    }
}

internal static partial class AuthorizationLog
{
    [LoggerMessage(EventId = 4410, Level = LogLevel.Warning, Message = "Refused {Method} from {Peer}: no API token")]
    public static partial void NoToken(ILogger logger, string method, string peer);

    [LoggerMessage(EventId = 4411, Level = LogLevel.Warning, Message = "Refused {Method} from {Peer}: unknown or revoked API token")]
    public static partial void UnknownToken(ILogger logger, string method, string peer);

    [LoggerMessage(EventId = 4412, Level = LogLevel.Warning, Message = "Refused {Method} to user {User} with roles {Roles}: not allowed by the role table")]
    public static partial void Denied(ILogger logger, string method, string user, string roles);

    [LoggerMessage(EventId = 4413, Level = LogLevel.Error, Message = "Refused {Method}: it has no entry in the role table (RpcRoles); every RPC must declare its roles")]
    public static partial void NoRolesDeclared(ILogger logger, string method);

    [LoggerMessage(EventId = 4414, Level = LogLevel.Error, Message = "Refused {Method}: the user store cannot be read: {Reason}")]
    public static partial void StoreFailed(ILogger logger, string method, string reason, Exception exception);
}
