using System.Text.RegularExpressions;
using Microsoft.Playwright;
using TwinGateway.Core.Identity;
using Xunit.Abstractions;

namespace TwinGateway.Web.Tests.Fixtures;

/// <summary>
/// The base of a browser test: a real gateway (the demo line and its simulated PLC on free loopback ports, in this
/// process), a fresh browser context at 1280x800, and users to sign in as. At the end every test saves a screenshot of
/// its page to <c>artifacts/screenshots/&lt;test&gt;.png</c> (look at them), closes the context and stops the gateway.
/// </summary>
[Collection(BrowserTests.Name)]
public abstract class ConsoleTest(BrowserFixture browser, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _testName = TestName(output);

    private readonly List<IBrowserContext> _contexts = [];

    private IPage? _lastPage;

    protected GatewayUnderTest Gateway { get; } = new();

    protected ITestOutputHelper Output => output;

    /// <summary>The first page, opened by <see cref="InitializeAsync"/> (not signed in).</summary>
    protected IPage Page { get; private set; } = null!;

    /// <summary>Settings the test's gateway starts with (override to add; the defaults make drift quick to show).</summary>
    protected virtual IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Commissioning:ValidationDirectory"] = Path.Combine(RepositoryPaths.Root, "config", "validation"),
    };

    protected string BaseUrl => Gateway.Server;

    public async Task InitializeAsync()
    {
        await Gateway.StartAsync(Gateway.DemoYaml, settings: Settings);
        Page = await NewPageAsync();
    }

    /// <summary>A page in a context of its own (its own cookies: another person at another screen).</summary>
    protected async Task<IPage> NewPageAsync(int width = 1280, int height = 800)
    {
        var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseUrl,
            ViewportSize = new ViewportSize { Width = width, Height = height },
        });
        _contexts.Add(context);
        context.SetDefaultTimeout(20_000);
        var page = await context.NewPageAsync();
        _lastPage = page;
        page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning")
            {
                ConsoleMessages.Add($"{message.Type}: {message.Text}");
            }
        };
        page.PageError += (_, error) => ConsoleMessages.Add($"page error: {error}");
        return page;
    }

    /// <summary>Errors and warnings the pages printed to their console (a test may assert there are none).</summary>
    protected List<string> ConsoleMessages { get; } = [];

    /// <summary>Adds a user to the gateway and returns its token, as <c>twingw users add</c> does.</summary>
    protected Task<string> AddUserAsync(string name, params Role[] roles) => Gateway.AddUserAsync(name, roles);

    /// <summary>Signs <paramref name="page"/> in through the form, as a person does, and waits for the lines view.</summary>
    protected static async Task SignInAsync(IPage page, string user, string token)
    {
        await page.GotoAsync("/signin");
        await page.GetByLabel("User", new() { Exact = true }).FillAsync(user);
        await page.GetByLabel("Token", new() { Exact = true }).FillAsync(token);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/lines$"));
    }

    /// <summary>A new user with <paramref name="roles"/>, signed in on a page of its own.</summary>
    protected async Task<IPage> SignedInPageAsync(string user, params Role[] roles)
    {
        var token = await AddUserAsync(user, roles);
        var page = await NewPageAsync();
        await SignInAsync(page, user, token);
        return page;
    }

    /// <summary>Saves a screenshot of <paramref name="page"/> as <c>artifacts/screenshots/&lt;name&gt;.png</c>.</summary>
    protected static async Task<string> ScreenshotAsync(IPage page, string name)
    {
        var folder = Path.Combine(RepositoryPaths.Root, "artifacts", "screenshots");
        Directory.CreateDirectory(folder);
        var file = Path.Combine(folder, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = file, FullPage = true });
        return file;
    }

    /// <summary>Waits (up to <paramref name="seconds"/>) for <paramref name="probe"/> to hold.</summary>
    protected static async Task EventuallyAsync(Func<Task<bool>> probe, string what, int seconds = 30)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (!await probe())
        {
            if (DateTime.UtcNow > until)
            {
                Assert.Fail($"not within {seconds} s: {what}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>The running test's method name (xunit 2 keeps it on the output helper's test).</summary>
    private static string TestName(ITestOutputHelper output)
    {
        var test = output.GetType().GetField("test", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)?.GetValue(output) as ITest;
        var name = test?.TestCase.TestMethod.Method.Name ?? "test";
        return name.Length > 80 ? name[..80] : name;
    }

    public async Task DisposeAsync()
    {
        try
        {
            // The page the test opened last, as the test left it.
            if (_lastPage is { IsClosed: false })
            {
                await ScreenshotAsync(_lastPage, $"{GetType().Name}-{_testName}");
            }
        }
        finally
        {
            foreach (var context in _contexts)
            {
                await context.CloseAsync();
            }

            await Gateway.DisposeAsync();
        }
    }
}
