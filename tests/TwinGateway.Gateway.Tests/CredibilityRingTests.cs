using Microsoft.Extensions.Time.Testing;

namespace TwinGateway.Gateway.Tests;

/// <summary>
/// The per-second record of how far the real line was from the twin: a window's mean and max over the samples in it,
/// old seconds forgotten, a slot reused after an hour not mixed with its old contents.
/// </summary>
public sealed class CredibilityRingTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 3, 8, 0, 0, TimeSpan.Zero));
    private readonly CredibilityRing _ring = new();

    [Fact]
    public void No_samples_gives_zero_and_no_figures()
    {
        Assert.Equal((0L, (double?)null, (double?)null), _ring.Query(TimeSpan.FromSeconds(10), _time.GetUtcNow()));
    }

    [Fact]
    public void A_window_holds_the_mean_and_max_of_its_samples()
    {
        // 10 samples a second for 5 s: errors 0.1 in the first 4 s, 0.5 in the last.
        for (var second = 0; second < 5; second++)
        {
            for (var step = 0; step < 10; step++)
            {
                _ring.Record(second < 4 ? 0.1 : 0.5, _time.GetUtcNow());
                _time.Advance(TimeSpan.FromMilliseconds(100));
            }
        }

        var all = _ring.Query(TimeSpan.FromSeconds(10), _time.GetUtcNow());
        Assert.Equal(50, all.Samples);
        Assert.Equal((40 * 0.1 + 10 * 0.5) / 50, all.Mean!.Value, 5);
        Assert.Equal(0.5, all.Max!.Value, 5);

        // The clock is at the start of second 5 (no sample yet): a 1 s window covers seconds 4 and 5.
        var last = _ring.Query(TimeSpan.FromSeconds(1), _time.GetUtcNow());
        Assert.Equal(10, last.Samples);
        Assert.Equal(0.5, last.Mean!.Value, 5);
    }

    [Fact]
    public void Samples_older_than_the_window_are_not_counted()
    {
        _ring.Record(0.9, _time.GetUtcNow());
        _time.Advance(TimeSpan.FromSeconds(30));
        _ring.Record(0.1, _time.GetUtcNow());

        var recent = _ring.Query(TimeSpan.FromSeconds(5), _time.GetUtcNow());
        Assert.Equal(1, recent.Samples);
        Assert.Equal(0.1, recent.Mean!.Value, 5);
        Assert.Equal(2, _ring.Query(TimeSpan.FromMinutes(1), _time.GetUtcNow()).Samples);
    }

    [Fact]
    public void A_slot_reused_after_the_ring_wrapped_starts_empty()
    {
        _ring.Record(0.9, _time.GetUtcNow());
        _time.Advance(TimeSpan.FromHours(1));
        _ring.Record(0.1, _time.GetUtcNow());

        // One hour later the same slot holds the new second only, and even the longest window no longer sees the old one.
        var figures = _ring.Query(TimeSpan.FromHours(2), _time.GetUtcNow());
        Assert.Equal(1, figures.Samples);
        Assert.Equal(0.1, figures.Max!.Value, 5);
    }

    [Fact]
    public void Non_finite_errors_are_ignored()
    {
        _ring.Record(double.NaN, _time.GetUtcNow());
        _ring.Record(double.PositiveInfinity, _time.GetUtcNow());
        _ring.Record(0.2, _time.GetUtcNow());

        var credibility = _ring.ToCredibility("cnc1.spindleSpeed", TimeSpan.FromSeconds(1), _time.GetUtcNow());
        Assert.Equal("cnc1.spindleSpeed", credibility.SignalId);
        Assert.Equal(1, credibility.Samples);
        Assert.Equal(0.2, credibility.MeanScaledError!.Value, 5);
    }
}
