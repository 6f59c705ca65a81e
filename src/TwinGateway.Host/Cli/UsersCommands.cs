using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Grpc.Core;
using TwinGateway.Api.V1;
using TwinGateway.Commissioning.Identity;
using TwinGateway.Core.Identity;
using TwinGateway.Host.Gateway;

namespace TwinGateway.Host.Cli;

/// <summary>
/// <c>twingw users add|list|remove</c> and <c>twingw whoami</c>. Without <c>--server</c> the users commands work on
/// <c>users.db</c> in the data folder and need no token, like any administrator's local tool (whoever can write the
/// folder owns the gateway anyway); with <c>--server</c> they go through the API with an admin's token.
/// Exit codes: 0 done, 1 refused (a taken name, no such user, not allowed), 2 usage or connection errors.
/// </summary>
internal static class UsersCommands
{
    private static readonly Option<string?> s_server = new("--server") { Description = "Manage the users through this gateway's API (needs an admin token) instead of the data folder" };
    private static readonly Option<string?> s_data = new("--data") { Description = "The gateway's data folder (default: the one `twingw run` uses here, ./data unless configured)" };
    private static readonly Option<bool> s_json = new("--json") { Description = "One JSON object per line" };

    public static Command Create()
    {
        var command = new Command("users", "The gateway's users and API tokens: add, list, remove");
        command.Subcommands.Add(Add());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Remove());
        return command;
    }

    public static Command WhoAmI()
    {
        var server = new Option<string>("--server") { Description = "Gateway gRPC URL", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        var command = new Command("whoami", "The user and roles the gateway sees for your token") { server, s_json, GatewayCalls.Token };
        command.SetAction((parse, ct) => GatewayCalls.Guard(parse, parse.GetValue(server)!, async invoker =>
        {
            var me = await new UserService.UserServiceClient(invoker).WhoAmIAsync(new WhoAmIRequest(), cancellationToken: ct).ConfigureAwait(false);
            if (parse.GetValue(s_json))
            {
                LinesCommands.JsonLine(w =>
                {
                    w.WriteString("user", me.Name);
                    WriteRoles(w, me.Roles);
                });
            }
            else
            {
                Console.WriteLine($"{me.Name} ({string.Join(", ", me.Roles)})");
            }

            return 0;
        }));
        return command;
    }

    private static void AddWhere(Command command)
    {
        command.Options.Add(s_data);
        command.Options.Add(s_server);
        command.Options.Add(GatewayCalls.Token);
    }

    private static Command Add()
    {
        var name = new Argument<string>("name") { Description = "User name: letters, digits and . _ @ -, at most 64" };
        var roles = new Option<string[]>("--role") { Description = "A role (repeatable): viewer, operator, engineer, approver, safety, admin, mes", Required = true };
        var command = new Command("add", "Add a user and print its API token, once") { name, roles, s_json };
        AddWhere(command);
        command.SetAction(async (parse, ct) =>
        {
            var userName = parse.GetValue(name)!;
            if (UserNames.Problem(userName) is { } problem)
            {
                return await Usage(problem).ConfigureAwait(false);
            }

            if (!UserNames.TryParseRoles(parse.GetValue(roles) ?? [], out var parsed, out var rolesProblem))
            {
                return await Usage(rolesProblem).ConfigureAwait(false);
            }

            var json = parse.GetValue(s_json);
            if (parse.GetValue(s_server) is { } server)
            {
                return await GatewayCalls.Guard(parse, server, async invoker =>
                {
                    var request = new AddUserRequest { Name = userName };
                    request.Roles.AddRange(parsed.Select(r => r.ToText()));
                    var added = await Refusals(() => new UserService.UserServiceClient(invoker).AddUserAsync(request, cancellationToken: ct).ResponseAsync).ConfigureAwait(false);
                    if (added is null)
                    {
                        return 2;
                    }

                    PrintAdded(added.User.Name, added.User.Roles, added.Token, json);
                    return 0;
                }).ConfigureAwait(false);
            }

            return await OnDataFolder(parse, async store =>
            {
                try
                {
                    var added = await store.AddAsync(userName, parsed, ct).ConfigureAwait(false);
                    PrintAdded(added.User.Name, added.User.Roles.Select(r => r.ToText()), added.Token, json);
                    return 0;
                }
                catch (UserRefusedException ex)
                {
                    await Console.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
                    return 1;
                }
            }).ConfigureAwait(false);
        });
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "List the users, their roles and the first characters of their tokens") { s_json };
        AddWhere(command);
        command.SetAction(async (parse, ct) =>
        {
            var json = parse.GetValue(s_json);
            if (parse.GetValue(s_server) is { } server)
            {
                return await GatewayCalls.Guard(parse, server, async invoker =>
                {
                    var response = await new UserService.UserServiceClient(invoker).ListUsersAsync(new ListUsersRequest(), cancellationToken: ct).ConfigureAwait(false);
                    PrintUsers(response.Users.Select(u => (u.Name, (IEnumerable<string>)u.Roles, u.TokenPrefix, u.Created.ToDateTimeOffset(), u.LastUsed?.ToDateTimeOffset())), json);
                    return 0;
                }).ConfigureAwait(false);
            }

            return await OnDataFolder(parse, async store =>
            {
                var users = await store.ListAsync(ct).ConfigureAwait(false);
                PrintUsers(users.Select(u => (u.Name, u.Roles.Select(r => r.ToText()), u.TokenPrefix, u.Created, u.LastUsed)), json);
                return 0;
            }).ConfigureAwait(false);
        });
        return command;
    }

    private static Command Remove()
    {
        var name = new Argument<string>("name") { Description = "The user to remove; its token stops working at once" };
        var command = new Command("remove", "Remove a user and revoke its token") { name };
        AddWhere(command);
        command.SetAction(async (parse, ct) =>
        {
            var userName = parse.GetValue(name)!;
            if (parse.GetValue(s_server) is { } server)
            {
                return await GatewayCalls.Guard(parse, server, async invoker =>
                {
                    var removed = await Refusals(() => new UserService.UserServiceClient(invoker).RemoveUserAsync(new RemoveUserRequest { Name = userName }, cancellationToken: ct).ResponseAsync).ConfigureAwait(false);
                    if (removed is null)
                    {
                        return 2;
                    }

                    Console.WriteLine($"removed user {userName}: its token no longer works");
                    return 0;
                }).ConfigureAwait(false);
            }

            return await OnDataFolder(parse, async store =>
            {
                if (!await store.RemoveAsync(userName, ct).ConfigureAwait(false))
                {
                    var names = (await store.ListAsync(ct).ConfigureAwait(false)).Select(u => u.Name).ToList();
                    await Console.Error.WriteLineAsync($"error: no user '{userName}' in {store.Path} (users: {(names.Count == 0 ? "none" : string.Join(", ", names))})").ConfigureAwait(false);
                    return 1;
                }

                Console.WriteLine($"removed user {userName}: its token no longer works");
                return 0;
            }).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>Runs <paramref name="body"/> on the data folder's store; a store that cannot be opened or read is exit 2.</summary>
    private static async Task<int> OnDataFolder(ParseResult parse, Func<SqliteUserStore, Task<int>> body)
    {
        var folder = parse.GetValue(s_data) is { } data ? Path.GetFullPath(data) : GatewayHost.ConfiguredDataFolder();
        try
        {
            await using var store = SqliteUserStore.Open(folder);
            return await body(store).ConfigureAwait(false);
        }
        catch (UserStoreException ex)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            return 2;
        }
    }

    /// <summary>InvalidArgument is the caller's usage error: printed, null returned (exit 2); other errors go to <see cref="GatewayCalls.Guard"/>.</summary>
    private static async Task<T?> Refusals<T>(Func<Task<T>> call)
        where T : class
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.InvalidArgument)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Status.Detail}").ConfigureAwait(false);
            return null;
        }
    }

    private static async Task<int> Usage(string problem)
    {
        await Console.Error.WriteLineAsync($"error: {problem}").ConfigureAwait(false);
        return 2;
    }

    private static void PrintAdded(string name, IEnumerable<string> roles, string token, bool json)
    {
        if (json)
        {
            LinesCommands.JsonLine(w =>
            {
                w.WriteString("user", name);
                w.WriteString("token", token);
            });
            return;
        }

        Console.WriteLine($"added user {name} ({string.Join(", ", roles)})");
        Console.WriteLine($"token: {token}");
        Console.WriteLine("The token is shown this once (the gateway keeps only its hash): keep it, e.g. export TWINGW_TOKEN=<token>");
    }

    private static void PrintUsers(IEnumerable<(string Name, IEnumerable<string> Roles, string TokenPrefix, DateTimeOffset Created, DateTimeOffset? LastUsed)> users, bool json)
    {
        if (json)
        {
            foreach (var u in users)
            {
                LinesCommands.JsonLine(w =>
                {
                    w.WriteString("user", u.Name);
                    WriteRoles(w, u.Roles);
                    w.WriteString("tokenPrefix", u.TokenPrefix);
                    w.WriteString("created", u.Created.ToString("O", CultureInfo.InvariantCulture));
                    if (u.LastUsed is { } used)
                    {
                        w.WriteString("lastUsed", used.ToString("O", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        w.WriteNull("lastUsed");
                    }
                });
            }

            return;
        }

        var table = new TableWriter("USER", "ROLES", "TOKEN", "CREATED", "LAST USED");
        foreach (var u in users)
        {
            table.Add(u.Name, string.Join(",", u.Roles), u.TokenPrefix + "…", Time(u.Created), u.LastUsed is { } used ? Time(used) : "never");
        }

        table.Write(Console.Out);
    }

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    private static void WriteRoles(Utf8JsonWriter w, IEnumerable<string> roles)
    {
        w.WriteStartArray("roles");
        foreach (var role in roles)
        {
            w.WriteStringValue(role);
        }

        w.WriteEndArray();
    }
}
