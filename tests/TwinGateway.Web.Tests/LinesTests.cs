using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using TwinGateway.Core.Identity;
using TwinGateway.Web.Tests.Fixtures;
using Xunit.Abstractions;

namespace TwinGateway.Web.Tests;

/// <summary>The lines view and a line's page: states, the station diagram, live plots and the recorded past.</summary>
public sealed class LinesTests(BrowserFixture browser, ITestOutputHelper output) : ConsoleTest(browser, output)
{
    [Fact]
    public async Task The_lines_view_shows_the_demo_line_connected_with_its_controller()
    {
        var page = await SignedInPageAsync("vic", Role.Viewer);
        var row = page.GetByTestId("line-row").And(page.Locator("[data-line='demo-line']"));
        await Assertions.Expect(row).ToBeVisibleAsync();
        await Assertions.Expect(row).ToContainTextAsync("plc1");
        await Assertions.Expect(row).ToContainTextAsync("connected", new() { Timeout = 30_000 });
        await ScreenshotAsync(page, "lines-view");

        await row.GetByRole(AriaRole.Link).First.ClickAsync();
        await page.WaitForURLAsync(new Regex("/lines/demo-line"));
    }

    [Fact]
    public async Task A_live_plot_receives_new_points_and_the_diagram_shows_every_station()
    {
        var page = await SignedInPageAsync("olga", Role.Operator);
        await page.GotoAsync("/lines/demo-line");
        var plots = page.GetByTestId("signal-plot");
        await Assertions.Expect(plots.First).ToBeVisibleAsync();
        Assert.InRange(await plots.CountAsync(), 1, 8);

        // The diagram has a group per station of the line (9 in the demo line).
        Assert.Equal(9, await page.Locator("svg [data-station]").CountAsync());

        var plot = plots.First;
        await EventuallyAsync(async () => await PointsAsync(plot) > 0, "the first plot drew points");
        var before = await PointsAsync(plot);
        await EventuallyAsync(async () => await PointsAsync(plot) > before + 5, "the first plot drew new points (live)", 20);
        await Assertions.Expect(page.GetByTestId("live-status")).ToContainTextAsync("live");

        // Every signal of the line is in the live table, and the values move.
        Assert.Equal(191, await page.GetByTestId("value-row").CountAsync());
        var current = page.Locator("[data-testid='value-row'][data-signal='infeed.motorCurrent'] [data-real]");
        var first = await current.TextContentAsync();
        await EventuallyAsync(async () => await current.TextContentAsync() != first, "the table's motor current changed live", 20);
        await ScreenshotAsync(page, "line-live");
        Assert.DoesNotContain(ConsoleMessages, m => m.StartsWith("page error", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_shared_link_opens_the_recorded_past_of_the_signals_it_names()
    {
        var page = await SignedInPageAsync("vic", Role.Viewer);
        await page.GotoAsync("/lines/demo-line");
        await Assertions.Expect(page.GetByTestId("signal-plot").First).ToBeVisibleAsync();
        await Task.Delay(TimeSpan.FromSeconds(6)); // some seconds recorded
        var to = DateTimeOffset.UtcNow;
        var from = to.AddSeconds(-30);
        string Iso(DateTimeOffset t) => t.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        await page.GotoAsync($"/lines/demo-line?signals=cnc1.spindleTemperature&from={Iso(from)}&to={Iso(to)}");
        var plot = page.GetByTestId("signal-plot").And(page.Locator("[data-signal='cnc1.spindleTemperature']"));
        await Assertions.Expect(plot).ToHaveCountAsync(1);
        await EventuallyAsync(async () => await PointsAsync(plot) > 0, "the recorded range was drawn");
        await ScreenshotAsync(page, "line-history");
    }

    private static async Task<int> PointsAsync(ILocator plot) =>
        int.TryParse(await plot.GetAttributeAsync("data-points"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0;
}
