using TwinGateway.Commissioning.Policy;

namespace TwinGateway.Commissioning.Tests.Policy;

/// <summary>Maintenance windows: when a class of change may be applied, in the policy's time zone.</summary>
public sealed class MaintenanceWindowTests
{
    private const string Policy = """
        line: demo-line
        horizonHours: 2
        seeds: 4
        stepSeconds: 1
        timeZone: Europe/Berlin
        criteria:
          - throughput: { maxDropPercent: 2 }
        credibility: { windowMinutes: 10, maxMeanScaledError: 0.05 }
        authority:
          safety:  { requires: [physics, human], approvals: 2, safetyApprover: true, windows: [ { days: [sat, sun], from: "06:00", to: "14:00" }, { days: [fri], from: "22:00", to: "04:00" } ] }
          process: { requires: [physics, human], approvals: 1 }
          other:   { requires: [human], approvals: 1, windows: [ { from: "12:00", to: "13:00" } ] }
        verification: { windowSeconds: 20, maxMeanScaledError: 0.1 }
        """;

    private static ValidationPolicy Load() => ValidationPolicyLoader.Parse(Policy, "p.yaml").GetPolicyOrThrow();

    [Fact]
    public void Windows_are_read_in_the_policys_time_zone_and_one_past_midnight_runs_into_the_next_day()
    {
        var policy = Load();
        Assert.Equal("Europe/Berlin", policy.TimeZone.Id);
        Assert.Equal(2, policy.Safety.Windows.Length);
        Assert.True(policy.Process.Windows.IsEmpty);

        // 2026-12-05 is a Saturday; Berlin is UTC+1 in December.
        Assert.True(policy.Safety.InWindow(new DateTimeOffset(2026, 12, 5, 5, 0, 0, TimeSpan.Zero), policy.TimeZone));   // 06:00 Berlin
        Assert.False(policy.Safety.InWindow(new DateTimeOffset(2026, 12, 5, 4, 59, 0, TimeSpan.Zero), policy.TimeZone)); // 05:59
        Assert.False(policy.Safety.InWindow(new DateTimeOffset(2026, 12, 5, 13, 0, 0, TimeSpan.Zero), policy.TimeZone)); // 14:00: the end is out
        Assert.False(policy.Safety.InWindow(new DateTimeOffset(2026, 12, 3, 10, 0, 0, TimeSpan.Zero), policy.TimeZone)); // Thursday

        // Friday 22:00 to Saturday 04:00 Berlin.
        Assert.True(policy.Safety.InWindow(new DateTimeOffset(2026, 12, 4, 21, 0, 0, TimeSpan.Zero), policy.TimeZone));  // Fri 22:00
        Assert.True(policy.Safety.InWindow(new DateTimeOffset(2026, 12, 5, 2, 30, 0, TimeSpan.Zero), policy.TimeZone));  // Sat 03:30
        Assert.False(policy.Safety.InWindow(new DateTimeOffset(2026, 12, 4, 2, 30, 0, TimeSpan.Zero), policy.TimeZone)); // Fri 03:30: Thursday night is not listed

        // No days: every day; no windows: any time.
        Assert.True(policy.Other.InWindow(new DateTimeOffset(2026, 12, 3, 11, 30, 0, TimeSpan.Zero), policy.TimeZone));
        Assert.False(policy.Other.InWindow(new DateTimeOffset(2026, 12, 3, 12, 30, 0, TimeSpan.Zero), policy.TimeZone));
        Assert.True(policy.Process.InWindow(new DateTimeOffset(2026, 12, 3, 3, 0, 0, TimeSpan.Zero), policy.TimeZone));
        Assert.Equal("sat,sun 06:00-14:00", policy.Safety.Windows[0].ToString());
    }

    [Fact]
    public void A_bad_day_time_or_time_zone_is_named_with_its_field()
    {
        var text = Policy
            .Replace("days: [sat, sun]", "days: [sat, sundae]", StringComparison.Ordinal)
            .Replace("to: \"04:00\"", "to: \"25:00\"", StringComparison.Ordinal)
            .Replace("Europe/Berlin", "Europe/Atlantis", StringComparison.Ordinal)
            .Replace("from: \"12:00\", to: \"13:00\"", "from: \"12:00\", to: \"12:00\"", StringComparison.Ordinal);
        var problems = ValidationPolicyLoader.Parse(text, "p.yaml").Problems.Select(p => p.ToString()).ToList();

        Assert.Contains(problems, p => p.Contains("authority.safety.windows[0].days[1]", StringComparison.Ordinal) && p.Contains("unknown day 'sundae'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("authority.safety.windows[1].to", StringComparison.Ordinal) && p.Contains("'25:00' is not a time of day", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("timeZone", StringComparison.Ordinal) && p.Contains("unknown time zone 'Europe/Atlantis'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("authority.other.windows[0]", StringComparison.Ordinal) && p.Contains("would be empty", StringComparison.Ordinal));
        Assert.Equal(4, problems.Count);
    }
}
