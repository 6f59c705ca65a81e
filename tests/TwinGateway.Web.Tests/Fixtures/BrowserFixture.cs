using Microsoft.Playwright;

namespace TwinGateway.Web.Tests.Fixtures;

/// <summary>
/// One headless Chromium for the whole test run: Debian's <c>/usr/bin/chromium</c> (or <c>$TWINGW_CHROMIUM</c>), driven
/// by Microsoft.Playwright's bundled driver. Playwright cannot download its own browsers here, so it is pointed at the
/// installed one; a missing browser fails every test with how to install it.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>The executable that runs: <c>$TWINGW_CHROMIUM</c>, else the first of Debian's and other usual paths that exists.</summary>
    public static string? FindChromium()
    {
        var configured = Environment.GetEnvironmentVariable("TWINGW_CHROMIUM");
        if (!string.IsNullOrEmpty(configured))
        {
            return File.Exists(configured) ? configured : null;
        }

        return new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }.FirstOrDefault(File.Exists);
    }

    public async Task InitializeAsync()
    {
        var chromium = FindChromium() ?? throw new InvalidOperationException(
            "no Chromium for the browser tests: install Debian's with `apt-get install chromium` (./test.sh does when it runs as root), "
            + "or point TWINGW_CHROMIUM at a Chromium or Chrome executable");
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            // Root (CI) cannot use Chromium's sandbox; the pages come from the test's own gateway on loopback.
            Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
    }
}

/// <summary>Browser tests share one Chromium and run one at a time (each starts its own gateway: two cores are enough for one).</summary>
[CollectionDefinition(Name)]
public sealed class BrowserTests : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}
