using TwinGateway.OpcUa.Client;

namespace TwinGateway.OpcUa.Tests.Client;

/// <summary>The reconnect policy's delays, the options' validation and the wording of a lost range: pure logic.</summary>
public sealed class ClientOptionsTests
{
    [Fact]
    public void The_delays_double_from_the_initial_delay_and_stop_exactly_at_the_maximum()
    {
        var policy = new ReconnectPolicy { InitialDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromMilliseconds(700) };

        var delays = Enumerable.Range(1, 6).Select(policy.DelayBefore).Select(d => d.TotalMilliseconds);

        Assert.Equal([100, 200, 400, 700, 700, 700], delays);
        Assert.Equal(TimeSpan.FromMilliseconds(700), policy.NextDelay(TimeSpan.FromMilliseconds(400)));
        Assert.Equal(TimeSpan.FromMilliseconds(700), policy.NextDelay(TimeSpan.FromMilliseconds(700)));
    }

    [Fact]
    public void The_maximum_delay_is_the_one_a_caller_asks_for_not_a_fixed_cap()
    {
        // The old client capped the backoff at 15 s whatever the caller wanted, and a gateway asking for 2 s got 15.
        var two = new ReconnectPolicy { InitialDelay = TimeSpan.FromMilliseconds(250), MaxDelay = TimeSpan.FromSeconds(2) };
        var sixty = new ReconnectPolicy { InitialDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(60) };

        Assert.Equal(TimeSpan.FromSeconds(2), two.DelayBefore(100));
        Assert.Equal(TimeSpan.FromSeconds(60), sixty.DelayBefore(100));
        Assert.Equal(TimeSpan.FromSeconds(32), sixty.DelayBefore(6));
    }

    [Fact]
    public void An_immediate_first_attempt_still_backs_off_after_it()
    {
        var policy = new ReconnectPolicy { InitialDelay = TimeSpan.Zero, MaxDelay = TimeSpan.FromSeconds(1) };

        Assert.Equal([0, 100, 200, 400, 800, 1000], Enumerable.Range(1, 6).Select(policy.DelayBefore).Select(d => d.TotalMilliseconds));
    }

    [Fact]
    public void Defaults_are_valid_and_every_problem_is_listed_at_once()
    {
        Assert.Empty(new OpcUaClientOptions().Validate());

        var problems = new OpcUaClientOptions
        {
            KeepAliveInterval = TimeSpan.Zero,
            MaxMissedKeepAlives = 0,
            Reconnect = new ReconnectPolicy { InitialDelay = TimeSpan.FromSeconds(10), MaxDelay = TimeSpan.FromSeconds(2) },
        }.Validate();

        Assert.Equal(3, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("KeepAliveInterval", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("MaxMissedKeepAlives", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Reconnect.InitialDelay", StringComparison.Ordinal) && p.Contains("Reconnect.MaxDelay", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Connecting_with_invalid_options_fails_before_any_network_and_names_the_settings()
    {
        var options = new OpcUaClientOptions { Reconnect = new ReconnectPolicy { MaxDelay = TimeSpan.Zero } };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => OpcUaClient.ConnectAsync("opc.tcp://127.0.0.1:1", options));

        Assert.Contains("Reconnect.MaxDelay", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(130u, 130u, "130")]
    [InlineData(129u, 140u, "129..140")]
    [InlineData(uint.MaxValue, 2u, "4294967295..2")]
    [InlineData(129u, null, "129 onwards")]
    public void A_lost_range_reads_as_the_numbers_lost(uint first, uint? last, string expected) =>
        Assert.Equal(expected, NotificationGap.FormatRange(first, last));

    [Theory]
    [InlineData(1u, 2u, true)]
    [InlineData(uint.MaxValue, 1u, true)]
    [InlineData(1u, uint.MaxValue, false)]
    [InlineData(5u, 5u, false)]
    public void Sequence_numbers_compare_across_the_wrap(uint older, uint newer, bool expected) =>
        Assert.Equal(expected, OpcUaClient.IsNewer(newer, older));
}
