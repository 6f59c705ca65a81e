namespace TwinGateway.Interop.Tests.Cli;

/// <summary>
/// <c>twingw users</c> and <c>whoami</c> as an administrator meets them: on the data folder without a token, and
/// through the API of a running gateway with the admin's token; and a gateway command without a token.
/// </summary>
public sealed class UsersCliTests : IAsyncLifetime
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);
    private readonly GatewayUnderTest _gateway = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private Task<TwingwProcess.Result> OnData(params string[] args) => TwingwProcess.RunAsync(s_timeout, [.. args, "--data", _gateway.DataFolder]);

    [Fact]
    public async Task On_the_data_folder_users_are_added_listed_and_removed_without_a_token_and_refusals_exit_1_or_2()
    {
        var added = await OnData("users", "add", "alice", "--role", "engineer", "--role", "approver", "--json");
        var text = await OnData("users", "add", "bob", "--role", "viewer");
        var duplicate = await OnData("users", "add", "ALICE", "--role", "viewer");
        var badName = await OnData("users", "add", "al/ice", "--role", "viewer");
        var badRoles = await OnData("users", "add", "carol", "--role", "boss", "--role", "root");
        var noRole = await OnData("users", "add", "carol");
        var list = await OnData("users", "list", "--json");
        var table = await OnData("users", "list");
        var removed = await OnData("users", "remove", "bob");
        var missing = await OnData("users", "remove", "bob");
        var after = await OnData("users", "list", "--json");

        Assert.True(added.ExitCode == 0, added.ToString());
        var json = Assert.Single(added.JsonLines);
        Assert.Equal("alice", json.GetProperty("user").GetString());
        var token = json.GetProperty("token").GetString()!;
        Assert.StartsWith("tgw_", token, StringComparison.Ordinal);
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains("token: tgw_", text.StdOut, StringComparison.Ordinal);
        Assert.Contains("shown this once", text.StdOut, StringComparison.Ordinal);
        Assert.True(duplicate.ExitCode == 1, duplicate.ToString());
        Assert.Contains("'ALICE' already exists", duplicate.StdErr, StringComparison.Ordinal);
        Assert.True(badName.ExitCode == 2, badName.ToString());
        Assert.Contains("'/' at position 3", badName.StdErr, StringComparison.Ordinal);
        Assert.True(badRoles.ExitCode == 2, badRoles.ToString());
        Assert.Contains("unknown roles 'boss', 'root'; the roles are viewer, operator, engineer, approver, safety, admin, mes", badRoles.StdErr, StringComparison.Ordinal);
        Assert.True(noRole.ExitCode == 2, noRole.ToString());
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Equal(["alice", "bob"], list.JsonLines.Select(l => l.GetProperty("user").GetString()));
        Assert.Equal(["engineer", "approver"], list.JsonLines[0].GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(token[..10], list.JsonLines[0].GetProperty("tokenPrefix").GetString());
        Assert.DoesNotContain(token, list.StdOut + table.StdOut, StringComparison.Ordinal);
        Assert.Contains("engineer,approver", table.StdOut, StringComparison.Ordinal);
        Assert.Contains("never", table.StdOut, StringComparison.Ordinal);
        Assert.True(removed.ExitCode == 0, removed.ToString());
        Assert.True(missing.ExitCode == 1, missing.ToString());
        Assert.Contains("no user 'bob'", missing.StdErr, StringComparison.Ordinal);
        Assert.Equal(["alice"], after.JsonLines.Select(l => l.GetProperty("user").GetString()));
    }

    [Fact]
    public async Task Without_data_the_users_commands_use_the_data_folder_the_gateway_would_use_in_that_directory()
    {
        var folder = Directory.CreateTempSubdirectory("twingw-users-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(folder, "config"));
            await File.WriteAllTextAsync(Path.Combine(folder, "config", "appsettings.json"), """{ "Telemetry": { "DataFolder": "state" } }""");

            var added = await TwingwProcess.RunInAsync(folder, s_timeout, "users", "add", "admin", "--role", "admin");

            Assert.True(added.ExitCode == 0, added.ToString());
            Assert.True(File.Exists(Path.Combine(folder, "state", "users.db")), "users.db is not in the configured data folder 'state'");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_user_added_on_the_data_folder_of_a_running_gateway_can_call_it_and_loses_access_when_removed()
    {
        await _gateway.StartAsync(_gateway.DemoYaml);
        var added = await OnData("users", "add", "viewer-1", "--role", "viewer", "--json");
        var token = Assert.Single(added.JsonLines).GetProperty("token").GetString();

        var whoami = await TwingwProcess.RunAsAsync(token, s_timeout, "whoami", "--server", _gateway.Server, "--json");
        var lines = await TwingwProcess.RunAsAsync(token, s_timeout, "lines", "list", "--server", _gateway.Server, "--json");
        var replay = await TwingwProcess.RunAsync(s_timeout, "replay", "--line", "demo-line", "--from", "-1h", "--server", _gateway.Server, "--token", token!);
        var removed = await OnData("users", "remove", "viewer-1");
        var revoked = await TwingwProcess.RunAsAsync(token, s_timeout, "lines", "list", "--server", _gateway.Server);

        Assert.True(whoami.ExitCode == 0, whoami.ToString());
        var me = Assert.Single(whoami.JsonLines);
        Assert.Equal("viewer-1", me.GetProperty("user").GetString());
        Assert.Equal(["viewer"], me.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.True(lines.ExitCode == 0, lines.ToString());
        Assert.Equal("demo-line", Assert.Single(lines.JsonLines).GetProperty("id").GetString());
        Assert.True(replay.ExitCode == 1, replay.ToString());
        Assert.Contains("PermissionDenied", replay.StdErr, StringComparison.Ordinal);
        Assert.Contains("needs one of the roles admin, engineer; user 'viewer-1' has viewer", replay.StdErr, StringComparison.Ordinal);
        Assert.True(removed.ExitCode == 0, removed.ToString());
        Assert.True(revoked.ExitCode == 1, revoked.ToString());
        Assert.Contains("Unauthenticated", revoked.StdErr, StringComparison.Ordinal);
        Assert.Contains("twingw users add", revoked.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Through_the_api_an_admin_adds_lists_and_removes_users_and_others_are_refused()
    {
        await _gateway.StartAsync(_gateway.DemoYaml);
        var viewer = await _gateway.AddUserAsync("just-a-viewer", TwinGateway.Core.Identity.Role.Viewer);
        string[] api = ["--server", _gateway.Server];

        var added = await TwingwProcess.RunAsAsync(_gateway.Token, s_timeout, ["users", "add", "eng", "--role", "engineer", "--json", .. api]);
        var duplicate = await TwingwProcess.RunAsAsync(_gateway.Token, s_timeout, ["users", "add", "eng", "--role", "viewer", .. api]);
        var badRole = await TwingwProcess.RunAsAsync(_gateway.Token, s_timeout, ["users", "add", "x", "--role", "boss", .. api]);
        var list = await TwingwProcess.RunAsAsync(_gateway.Token, s_timeout, ["users", "list", "--json", .. api]);
        var notAdmin = await TwingwProcess.RunAsAsync(viewer, s_timeout, ["users", "list", .. api]);
        var removed = await TwingwProcess.RunAsAsync(_gateway.Token, s_timeout, ["users", "remove", "eng", .. api]);
        var missing = await TwingwProcess.RunAsAsync(_gateway.Token, s_timeout, ["users", "remove", "eng", .. api]);
        var noToken = await TwingwProcess.RunAsync(s_timeout, ["users", "list", .. api]);

        Assert.True(added.ExitCode == 0, added.ToString());
        Assert.StartsWith("tgw_", Assert.Single(added.JsonLines).GetProperty("token").GetString(), StringComparison.Ordinal);
        Assert.True(duplicate.ExitCode == 1, duplicate.ToString());
        Assert.Contains("AlreadyExists", duplicate.StdErr, StringComparison.Ordinal);
        Assert.True(badRole.ExitCode == 2, badRole.ToString());
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Equal(["eng", "just-a-viewer", GatewayUnderTest.AdminName], list.JsonLines.Select(l => l.GetProperty("user").GetString()).Order(StringComparer.Ordinal));
        Assert.True(notAdmin.ExitCode == 1, notAdmin.ToString());
        Assert.Contains("PermissionDenied", notAdmin.StdErr, StringComparison.Ordinal);
        Assert.True(removed.ExitCode == 0, removed.ToString());
        Assert.True(missing.ExitCode == 1, missing.ToString());
        Assert.Contains("NotFound", missing.StdErr, StringComparison.Ordinal);
        Assert.True(noToken.ExitCode == 2, noToken.ToString());
        Assert.Contains("no API token", noToken.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gateway_command_without_a_token_exits_2_before_calling_and_says_how_to_get_one()
    {
        var result = await TwingwProcess.RunAsync(s_timeout, "lines", "list", "--server", "http://127.0.0.1:1");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("--token", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("TWINGW_TOKEN", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("twingw users add", result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("no gateway at", result.StdErr, StringComparison.Ordinal);
    }
}
