using TwinGateway.Drift.Evaluation;

namespace TwinGateway.Drift.Tests.Evaluation;

public sealed class DetectionMetricsTests
{
    private static bool[] Flags(string pattern) => [.. pattern.Select(c => c == '1')];

    [Fact]
    public void Counts_and_rates_match_a_hand_computed_case()
    {
        // rows:    0 1 2 3 4 5
        // labels:  0 0 1 1 1 0
        // alarms:  0 1 1 1 0 0   -> TP 2 (rows 2, 3), FP 1 (row 1), FN 1 (row 4), TN 2 (rows 0, 5)
        var counts = DetectionMetrics.Count(Flags("001110"), Flags("011100"));

        Assert.Equal(new ConfusionCounts(2, 1, 2, 1), counts);
        Assert.Equal(4.0 / 6.0, counts.F1!.Value, 12);
        Assert.Equal(1.0 / 3.0, counts.FalseAlarmRate!.Value, 12);
        Assert.Equal(1.0 / 3.0, counts.MissedAlarmRate!.Value, 12);
    }

    [Fact]
    public void Rows_before_the_first_scored_row_are_not_counted()
    {
        var counts = DetectionMetrics.Count(Flags("110000"), Flags("111000"), firstRow: 2);

        Assert.Equal(new ConfusionCounts(0, 1, 3, 0), counts);
        Assert.Equal(0.25, counts.FalseAlarmRate!.Value, 12);
        Assert.Null(counts.MissedAlarmRate);
    }

    [Fact]
    public void A_perfect_detector_has_F1_one_and_no_false_or_missed_alarms()
    {
        var counts = DetectionMetrics.Count(Flags("0011100"), Flags("0011100"));

        Assert.Equal(1.0, counts.F1);
        Assert.Equal(0.0, counts.FalseAlarmRate);
        Assert.Equal(0.0, counts.MissedAlarmRate);
    }

    [Fact]
    public void Undefined_rates_are_null_not_numbers()
    {
        var counts = DetectionMetrics.Count(Flags("0000"), Flags("0000"));

        Assert.Null(counts.F1);
        Assert.Null(counts.MissedAlarmRate);
        Assert.Equal(0.0, counts.FalseAlarmRate);
    }

    [Fact]
    public void Counts_add_for_pooling()
    {
        var pooled = new ConfusionCounts(1, 2, 3, 4) + new ConfusionCounts(10, 20, 30, 40);

        Assert.Equal(new ConfusionCounts(11, 22, 33, 44), pooled);
        Assert.Equal(110, pooled.Total);
    }

    [Fact]
    public void Mismatched_lengths_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => DetectionMetrics.Count(Flags("01"), Flags("011")));
    }
}
