using Grpc.Core;
using Microsoft.Playwright;
using TwinGateway.Api.V1;
using TwinGateway.Core.Identity;
using TwinGateway.Web.Tests.Fixtures;
using Xunit.Abstractions;

namespace TwinGateway.Web.Tests;

/// <summary>A change's page: evidence, and four eyes enforced by the server when people approve from the page.</summary>
public sealed class ChangesTests(BrowserFixture browser, ITestOutputHelper output) : ConsoleTest(browser, output)
{
    [Fact]
    public async Task A_second_user_approves_from_the_page_while_the_submitters_own_approval_is_refused()
    {
        // Eve may approve changes in general (engineer and approver) but not her own; Ada approves it.
        var eveToken = await AddUserAsync("eve", Role.Engineer, Role.Approver);
        var eve = new CommissioningService.CommissioningServiceClient(Gateway.CallInvokerFor(eveToken));
        await WaitForLineAsync();
        var submitted = await eve.SubmitChangeAsync(new SubmitChangeRequest
        {
            Change = new ChangeSpec
            {
                Line = "demo-line",
                Title = "Palletizer robot at 90 %",
                Reason = "more headroom",
                Operations = { new Operation { Set = new SetOperation { Signal = "robot2.speedOverride", Value = new Value { Number = 90 } } } },
            },
        });
        using (var validation = eve.ValidateChange(new ValidateChangeRequest { Id = submitted.Id }))
        {
            await foreach (var _ in validation.ResponseStream.ReadAllAsync())
            {
            }
        }

        Assert.Equal("validated", (await eve.GetChangeAsync(new GetChangeRequest { Id = submitted.Id })).State);

        var evePage = await NewPageAsync();
        await SignInAsync(evePage, "eve", eveToken);
        await evePage.GotoAsync("/changes");
        await Assertions.Expect(evePage.GetByTestId("change-row").And(evePage.Locator($"[data-change-id='{submitted.Id}']"))).ToBeVisibleAsync();
        await evePage.GotoAsync($"/changes/{submitted.Id}");
        await Assertions.Expect(evePage.GetByTestId("change-state")).ToContainTextAsync("validated");
        await Assertions.Expect(evePage.GetByTestId("criteria-table")).ToContainTextAsync("throughput");
        await evePage.GetByTestId("approve-comment").FillAsync("looks fine to me");
        await evePage.GetByTestId("approve-button").ClickAsync();
        await Assertions.Expect(evePage.GetByTestId("change-error")).ToContainTextAsync("submitted this change");
        await Assertions.Expect(evePage.GetByTestId("change-state")).ToContainTextAsync("validated");
        await ScreenshotAsync(evePage, "change-own-approval-refused");

        var ada = await SignedInPageAsync("ada", Role.Approver);
        await ada.GotoAsync($"/changes/{submitted.Id}");
        await ada.GetByTestId("approve-comment").FillAsync("palletizer has headroom");
        await ada.GetByTestId("approve-button").ClickAsync();
        await Assertions.Expect(ada.GetByTestId("change-state")).ToContainTextAsync("approved");
        await Assertions.Expect(ada.GetByTestId("approval-row")).ToContainTextAsync("ada");
        await ScreenshotAsync(ada, "change-approved");

        var change = await eve.GetChangeAsync(new GetChangeRequest { Id = submitted.Id });
        Assert.Equal("approved", change.State);
        Assert.Equal("ada", Assert.Single(change.Approvals).User);

        // The audit view lists the change's entries, and the chain verifies.
        await ada.GotoAsync($"/audit?change={submitted.Id}");
        await Assertions.Expect(ada.GetByTestId("audit-status")).ToHaveAttributeAsync("data-intact", "true");
        Assert.True(await ada.GetByTestId("audit-row").CountAsync() >= 3, "submitted, validated and approved are in the audit");
        await Assertions.Expect(ada.GetByTestId("audit-row").First).ToContainTextAsync(submitted.Id);
        await ScreenshotAsync(ada, "audit-change");
    }

    private async Task WaitForLineAsync()
    {
        var lines = new LineService.LineServiceClient(Gateway.CallInvoker!);
        await EventuallyAsync(async () =>
        {
            var line = (await lines.ListLinesAsync(new ListLinesRequest())).Lines.Single();
            return line.State == ConnectionState.Connected && line.MonitoredSignals == line.SignalCount;
        }, "the demo line connected");
        await Task.Delay(TimeSpan.FromSeconds(3)); // the twin's credibility needs seconds of real against expected
    }
}
