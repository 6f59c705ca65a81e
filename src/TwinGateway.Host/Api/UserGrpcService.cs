using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using TwinGateway.Api.V1;
using TwinGateway.Commissioning.Identity;
using TwinGateway.Core.Identity;
using TwinGateway.Host.Identity;

namespace TwinGateway.Host.Api;

/// <summary>UserService: the users and tokens of <c>users.db</c> for an admin over the API, and WhoAmI for anyone.</summary>
internal sealed partial class UserGrpcService(IUserStore users, ILogger<UserGrpcService> log) : UserService.UserServiceBase
{
    public override async Task<AddUserResponse> AddUser(AddUserRequest request, ServerCallContext context)
    {
        if (UserNames.Problem(request.Name) is { } problem)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, problem));
        }

        if (!UserNames.TryParseRoles(request.Roles, out var roles, out var rolesProblem))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, rolesProblem));
        }

        NewUser added;
        try
        {
            added = await users.AddAsync(request.Name, roles, context.CancellationToken).ConfigureAwait(false);
        }
        catch (UserRefusedException ex)
        {
            throw new RpcException(new Status(StatusCode.AlreadyExists, ex.Message));
        }
        catch (UserStoreException ex)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, ex.Message));
        }

        var admin = CallerIdentity.Get(context);
        UserAdded(log, added.User.Name, string.Join(",", roles.Select(r => r.ToText())), admin.Name);
        return new AddUserResponse { User = ToProto(added.User), Token = added.Token };
    }

    public override async Task<ListUsersResponse> ListUsers(ListUsersRequest request, ServerCallContext context)
    {
        var response = new ListUsersResponse();
        try
        {
            response.Users.AddRange((await users.ListAsync(context.CancellationToken).ConfigureAwait(false)).Select(ToProto));
        }
        catch (UserStoreException ex)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, ex.Message));
        }

        return response;
    }

    public override async Task<RemoveUserResponse> RemoveUser(RemoveUserRequest request, ServerCallContext context)
    {
        if (string.IsNullOrEmpty(request.Name))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "name the user to remove"));
        }

        bool removed;
        try
        {
            removed = await users.RemoveAsync(request.Name, context.CancellationToken).ConfigureAwait(false);
        }
        catch (UserStoreException ex)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, ex.Message));
        }

        if (!removed)
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"no user '{request.Name}'; `twingw users list` shows the users"));
        }

        UserRemoved(log, request.Name, CallerIdentity.Get(context).Name);
        return new RemoveUserResponse();
    }

    public override Task<WhoAmIResponse> WhoAmI(WhoAmIRequest request, ServerCallContext context)
    {
        var caller = CallerIdentity.Get(context);
        var response = new WhoAmIResponse { Name = caller.Name };
        response.Roles.AddRange(caller.Roles.Select(r => r.ToText()));
        return Task.FromResult(response);
    }

    internal static User ToProto(UserRecord user)
    {
        var proto = new User
        {
            Name = user.Name,
            Created = Timestamp.FromDateTimeOffset(user.Created),
            TokenPrefix = user.TokenPrefix,
            LastUsed = user.LastUsed is { } used ? Timestamp.FromDateTimeOffset(used) : null,
        };
        proto.Roles.AddRange(user.Roles.Select(r => r.ToText()));
        return proto;
    }

    [LoggerMessage(EventId = 4415, Level = LogLevel.Information, Message = "User {User} added with roles {Roles} by {Admin}")]
    private static partial void UserAdded(ILogger logger, string user, string roles, string admin);

    [LoggerMessage(EventId = 4416, Level = LogLevel.Information, Message = "User {User} removed by {Admin}; its token no longer works")]
    private static partial void UserRemoved(ILogger logger, string user, string admin);
}
