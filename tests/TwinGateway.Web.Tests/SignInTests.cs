using System.Text.RegularExpressions;
using Microsoft.Playwright;
using TwinGateway.Core.Identity;
using TwinGateway.Web.Tests.Fixtures;
using Xunit.Abstractions;

namespace TwinGateway.Web.Tests;

/// <summary>Sign-in with the gateway's users and tokens, sessions, and the role check on pages.</summary>
public sealed class SignInTests(BrowserFixture browser, ITestOutputHelper output) : ConsoleTest(browser, output)
{
    [Fact]
    public async Task A_page_asks_for_sign_in_then_opens_where_the_link_pointed()
    {
        var token = await AddUserAsync("vic", Role.Viewer);
        await Page.GotoAsync("/audit");
        await Page.WaitForURLAsync(new Regex("/signin"));
        await Assertions.Expect(Page.GetByLabel("User", new() { Exact = true })).ToBeVisibleAsync();

        // A wrong token is refused with a message, and the form keeps the user name.
        await Page.GetByLabel("User", new() { Exact = true }).FillAsync("vic");
        await Page.GetByLabel("Token", new() { Exact = true }).FillAsync("tgw_not-a-token");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("do not match");
        Assert.Equal("vic", await Page.GetByLabel("User", new() { Exact = true }).InputValueAsync());
        await ScreenshotAsync(Page, "signin-refused");

        // Another user's name with this token is refused too: the token must be the user's own.
        await Page.GetByLabel("User", new() { Exact = true }).FillAsync(GatewayUnderTest.AdminName);
        await Page.GetByLabel("Token", new() { Exact = true }).FillAsync(token);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("do not match");

        await Page.GetByLabel("User", new() { Exact = true }).FillAsync("vic");
        await Page.GetByLabel("Token", new() { Exact = true }).FillAsync(token);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Page.WaitForURLAsync(new Regex("/audit$"));
        await Assertions.Expect(Page.GetByTestId("signed-in-user")).ToHaveTextAsync("vic");
    }

    [Fact]
    public async Task A_removed_user_is_signed_out_at_the_next_page()
    {
        var page = await SignedInPageAsync("tom", Role.Viewer);
        await using (var store = TwinGateway.Commissioning.Identity.SqliteUserStore.Open(Gateway.DataFolder))
        {
            Assert.True(await store.RemoveAsync("tom"));
        }

        await page.GotoAsync("/lines");
        await page.WaitForURLAsync(new Regex("/signin"));
    }

    [Fact]
    public async Task A_page_the_role_does_not_allow_says_which_roles_it_needs()
    {
        var page = await SignedInPageAsync("vic", Role.Viewer);
        var response = await page.GotoAsync("/replay");
        Assert.Equal(403, response!.Status);
        await Assertions.Expect(page.GetByTestId("refusal")).ToContainTextAsync("engineer");
        await Assertions.Expect(page.GetByTestId("refusal")).ToContainTextAsync("user 'vic' has viewer");
        await ScreenshotAsync(page, "refused-replay-viewer");
    }

    [Fact]
    public async Task Signing_out_ends_the_session()
    {
        var page = await SignedInPageAsync("vic", Role.Viewer);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/signin"));
        await page.GotoAsync("/lines");
        await page.WaitForURLAsync(new Regex("/signin"));
    }
}
