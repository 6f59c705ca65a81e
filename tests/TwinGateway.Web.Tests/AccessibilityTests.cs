using System.Text.Json;
using Microsoft.Playwright;
using TwinGateway.Core.Identity;
using TwinGateway.Web.Tests.Fixtures;
using Xunit.Abstractions;

namespace TwinGateway.Web.Tests;

/// <summary>
/// Accessibility basics on every view: every form control has a label, text contrast meets WCAG AA, the keyboard reaches
/// the content, and the page fits a 1280x800 screen and a tablet's width without scrolling sideways.
/// </summary>
public sealed class AccessibilityTests(BrowserFixture browser, ITestOutputHelper output) : ConsoleTest(browser, output)
{
    private static readonly string[] Views = ["/lines", "/lines/demo-line", "/alerts", "/changes", "/audit", "/replay"];

    /// <summary>
    /// In the page: each visible form control without a label, aria-label or aria-labelledby; each visible text whose
    /// contrast with the background behind it is below 4.5:1 (3:1 for large text), with the WCAG relative luminance.
    /// </summary>
    private const string Audit = """
        () => {
          const visible = (e) => { const r = e.getBoundingClientRect(); const s = getComputedStyle(e);
            return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
          const name = (e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${e.name ? '[name=' + e.name + ']' : ''}`;
          const unlabelled = [...document.querySelectorAll('input, select, textarea')]
            .filter(e => e.type !== 'hidden' && visible(e))
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
            .map(name);
          const rgb = (c) => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null;
            const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number); return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 }; };
          const lum = ({ r, g, b }) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
            return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
          const background = (e) => { for (let n = e; n; n = n.parentElement) { const c = rgb(getComputedStyle(n).backgroundColor);
            if (c && c.a > 0.5) return c; } return { r: 255, g: 255, b: 255, a: 1 }; };
          const low = [];
          const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          const seen = new Set();
          for (let t = walker.nextNode(); t; t = walker.nextNode()) {
            const e = t.parentElement; if (!e || seen.has(e) || !t.textContent.trim() || !visible(e)) continue;
            if (e.closest('svg, canvas, .uplot, [aria-hidden=true]')) continue;
            seen.add(e);
            const s = getComputedStyle(e); const fg = rgb(s.color); if (!fg) continue;
            const bg = background(e); const l1 = lum(fg), l2 = lum(bg);
            const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
            const size = parseFloat(s.fontSize); const bold = parseInt(s.fontWeight, 10) >= 700;
            const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
            if (ratio < needed) low.push(`${name(e)} "${t.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}:1`);
          }
          const overflow = document.scrollingElement.scrollWidth - window.innerWidth;
          return JSON.stringify({ unlabelled, low, overflow });
        }
        """;

    [Fact]
    public async Task Every_view_labels_its_controls_meets_contrast_and_fits_a_desktop_and_a_tablet()
    {
        var token = await AddUserAsync("ann", Role.Admin);
        var problems = new List<string>();
        foreach (var (width, height) in new[] { (1280, 800), (768, 1024) })
        {
            var page = await NewPageAsync(width, height);
            await SignInAsync(page, "ann", token);
            foreach (var view in Views)
            {
                var response = await page.GotoAsync(view);
                Assert.True(response is { Ok: true }, $"{view} answered {response?.Status}");
                await page.WaitForLoadStateAsync(LoadState.NetworkIdle, new() { Timeout = 5_000 }).ContinueWith(_ => { }, TaskScheduler.Default);
                using var result = JsonDocument.Parse(await page.EvaluateAsync<string>(Audit));
                var root = result.RootElement;
                problems.AddRange(root.GetProperty("unlabelled").EnumerateArray().Select(e => $"{view} at {width}px: no label on {e.GetString()}"));
                problems.AddRange(root.GetProperty("low").EnumerateArray().Select(e => $"{view} at {width}px: low contrast {e.GetString()}"));
                var overflow = root.GetProperty("overflow").GetInt32();
                if (overflow > 0)
                {
                    problems.Add($"{view} at {width}px: {overflow}px wider than the screen (scrolls sideways)");
                }

                await ScreenshotAsync(page, $"view{view.Replace('/', '-')}-{width}");
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task The_keyboard_reaches_the_skip_link_the_navigation_and_the_content()
    {
        var page = await SignedInPageAsync("vic", Role.Viewer);
        await page.GotoAsync("/lines");
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("Skip to content", await page.EvaluateAsync<string>("() => document.activeElement.textContent.trim()"));
        await page.Keyboard.PressAsync("Enter");
        Assert.Equal("main", await page.EvaluateAsync<string>("() => document.activeElement.id || document.activeElement.closest('main')?.id"));

        // Tab order from the top: the brand, then the views in the navigation, each with a visible focus outline.
        await page.GotoAsync("/lines");
        var reached = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            reached.Add(await page.EvaluateAsync<string>("() => document.activeElement.textContent.trim()"));
            var outline = await page.EvaluateAsync<string>("() => getComputedStyle(document.activeElement).outlineStyle");
            Assert.NotEqual("none", outline);
        }

        Assert.Contains("Alerts", reached);
        Assert.Contains("Changes", reached);
        Assert.Contains("Audit", reached);
        await page.Keyboard.PressAsync("Shift+Tab");
        await page.GotoAsync("/alerts");
        Assert.Equal("Alerts", await page.Locator("nav a[aria-current='page']").TextContentAsync());
    }
}
