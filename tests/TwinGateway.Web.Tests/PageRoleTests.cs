using System.Net;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using TwinGateway.Core.Identity;
using TwinGateway.Host.Identity;
using TwinGateway.Host.Web;

namespace TwinGateway.Web.Tests;

/// <summary>
/// Every page and every action of the console is checked against the one role table: each page names the RPC it is
/// the web form of, each POST handler its own, and a user of each single role gets exactly what the table allows.
/// </summary>
public sealed partial class PageRoleTests : IAsyncLifetime
{
    private readonly GatewayUnderTest _gateway = new();

    /// <summary>The views and the RPC whose roles decide them (the same table gRPC callers meet).</summary>
    private static readonly (string Path, string Rpc)[] Views =
    [
        ("/lines", "LineService/ListLines"),
        ("/lines/demo-line", "LineService/GetLine"),
        ("/alerts", "AlertService/ListAlerts"),
        ("/changes", "CommissioningService/ListChanges"),
        ("/audit", "AuditService/ListEntries"),
        ("/replay", "ReplayService/Replay"),
    ];

    public async Task InitializeAsync() => await _gateway.StartAsync(_gateway.DemoYaml);

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public void Every_page_names_its_rpc_and_every_post_handler_its_own_and_each_is_in_the_role_table()
    {
        var pages = typeof(WebAccess).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(PageModel)) && !t.IsAbstract && t.GetCustomAttribute<AllowAnonymousAttribute>() is null)
            .ToList();
        Assert.True(pages.Count >= 8, $"only {pages.Count} pages found");
        var problems = new List<string>();
        foreach (var page in pages)
        {
            var rpc = page.GetCustomAttribute<ForRpcAttribute>()?.Rpc;
            if (rpc is null || !RpcRoles.Table.ContainsKey(rpc))
            {
                problems.Add($"{page.Name}: page RPC {rpc ?? "missing"}");
            }

            foreach (var handler in page.GetMethods(BindingFlags.Instance | BindingFlags.Public | BindingFlags.DeclaredOnly).Where(m => m.Name.StartsWith("OnPost", StringComparison.Ordinal)))
            {
                var own = handler.GetCustomAttribute<ForRpcAttribute>()?.Rpc;
                if (own is null || !RpcRoles.Table.ContainsKey(own))
                {
                    problems.Add($"{page.Name}.{handler.Name}: handler RPC {own ?? "missing"}");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task A_user_of_each_role_opens_exactly_the_views_the_role_table_allows()
    {
        var problems = new List<string>();
        foreach (var role in Roles.All)
        {
            var name = "u-" + role.ToText();
            var token = await _gateway.AddUserAsync(name, role);
            using var client = await SignedInClientAsync(name, token);
            foreach (var (path, rpc) in Views)
            {
                var response = await client.GetAsync(path);
                var allowed = RpcRoles.Permits(RpcRoles.Table[WebAccess.FullName(rpc)], new UserIdentity(name, [role]));
                var expected = allowed ? HttpStatusCode.OK : HttpStatusCode.Forbidden;
                if (response.StatusCode != expected)
                {
                    problems.Add($"{role.ToText()} at {path}: {(int)response.StatusCode}, the table says {(int)expected}");
                }
                else if (!allowed)
                {
                    Assert.Contains($"user '{name}' has {role.ToText()}", WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()), StringComparison.Ordinal);
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task An_action_is_refused_to_a_role_that_may_only_look_even_with_a_valid_form()
    {
        var token = await _gateway.AddUserAsync("vic", Role.Viewer);
        using var client = await SignedInClientAsync("vic", token);
        var form = await AntiforgeryAsync(client, "/alerts");
        var response = await client.PostAsync("/alerts/1?handler=Acknowledge", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = form,
            ["note"] = "not mine to ack",
        }));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("needs one of the roles admin, operator, engineer", WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()), StringComparison.Ordinal);

        // Without a session the live endpoints answer 401 (a script cannot follow a redirect to a form).
        using var anonymous = new HttpClient { BaseAddress = new Uri(_gateway.Server) };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/live/alerts")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/data/lines/demo-line/history?signals=infeed.motorCurrent")).StatusCode);
    }

    private async Task<HttpClient> SignedInClientAsync(string user, string token)
    {
        var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = new Uri(_gateway.Server) };
        var form = await AntiforgeryAsync(client, "/signin");
        var signIn = await client.PostAsync("/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["User"] = user,
            ["Token"] = token,
            ["__RequestVerificationToken"] = form,
        }));
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        return client;
    }

    private static async Task<string> AntiforgeryAsync(HttpClient client, string path)
    {
        var html = await client.GetStringAsync(path);
        return AntiforgeryField().Match(html) is { Success: true } m ? m.Groups[1].Value : throw new InvalidOperationException($"{path} has no antiforgery field");
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
