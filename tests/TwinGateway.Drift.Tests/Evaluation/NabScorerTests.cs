using System.Collections.Immutable;
using TwinGateway.Drift.Evaluation;

namespace TwinGateway.Drift.Tests.Evaluation;

public sealed class NabScorerTests
{
    private const int Rows = 300;
    private const int FirstScored = 45;

    // Two windows of 20 rows each, both after the probationary rows.
    private static readonly ImmutableArray<RowRange> Windows = [new(100, 119), new(200, 219)];

    private static bool[] AlarmsAt(params int[] rows)
    {
        var alarms = new bool[Rows];
        foreach (var r in rows)
        {
            alarms[r] = true;
        }

        return alarms;
    }

    public static TheoryData<string> Profiles => new(NabProfile.All.Select(p => p.Name));

    private static NabProfile Profile(string name) => NabProfile.All.Single(p => p.Name == name);

    [Fact]
    public void The_scaled_sigmoid_has_NABs_values()
    {
        // NAB's documented values: the left edge of a window (-1) 0.98661, halfway (-0.5) 0.84828, the right edge 0,
        // one window past it -0.98661, and -1 from 3 widths on.
        Assert.Equal(0.98661, NabScorer.ScaledSigmoid(-1.0), 5);
        Assert.Equal(0.84828, NabScorer.ScaledSigmoid(-0.5), 5);
        Assert.Equal(0.0, NabScorer.ScaledSigmoid(0.0), 12);
        Assert.Equal(-0.98661, NabScorer.ScaledSigmoid(1.0), 5);
        Assert.Equal(-1.0, NabScorer.ScaledSigmoid(3.0));
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void A_perfect_detector_scores_100(string profile)
    {
        var score = NabScorer.Score(AlarmsAt(100, 200), Windows, FirstScored, Profile(profile));

        Assert.Equal(100.0, score.Normalised!.Value, 9);
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void The_null_detector_scores_0(string profile)
    {
        var score = NabScorer.Score(AlarmsAt(), Windows, FirstScored, Profile(profile));

        Assert.Equal(0.0, score.Normalised!.Value, 9);
        Assert.Equal(-2 * Profile(profile).FalseNegativeWeight, score.Score, 12);
    }

    [Fact]
    public void A_late_detection_in_a_window_scores_less_than_an_early_one()
    {
        var early = NabScorer.Score(AlarmsAt(102, 200), Windows, FirstScored, NabProfile.Standard);
        var late = NabScorer.Score(AlarmsAt(117, 200), Windows, FirstScored, NabProfile.Standard);

        Assert.True(late.Score < early.Score, $"late {late.Score} should be below early {early.Score}");
        Assert.True(late.Score > NabScorer.Score(AlarmsAt(200), Windows, FirstScored, NabProfile.Standard).Score, "a late detection still beats a miss");
    }

    [Fact]
    public void Only_the_first_detection_in_a_window_counts()
    {
        var once = NabScorer.Score(AlarmsAt(105, 200), Windows, FirstScored, NabProfile.Standard);
        var repeated = NabScorer.Score(AlarmsAt(105, 106, 110, 119, 200), Windows, FirstScored, NabProfile.Standard);

        Assert.Equal(once.Score, repeated.Score, 12);
    }

    [Fact]
    public void A_detection_at_the_right_edge_scores_by_NABs_position_formula()
    {
        // NAB: position = -(right - i + 1) / width = -1/20 at the right edge; weighted by A_TP / σ(-1).
        var score = NabScorer.Score(AlarmsAt(119, 200), Windows, FirstScored, NabProfile.Standard);

        var expected = (NabScorer.ScaledSigmoid(-1.0 / 20) / NabScorer.ScaledSigmoid(-1.0)) + 1.0;
        Assert.Equal(expected, score.Score, 12);
    }

    [Fact]
    public void A_false_positive_costs_more_under_the_low_FP_profile()
    {
        // A perfect detection plus one FP before any window: the FP scores -A_FP (no preceding window).
        var alarms = AlarmsAt(60, 100, 200);
        var standard = NabScorer.Score(alarms, Windows, FirstScored, NabProfile.Standard);
        var lowFp = NabScorer.Score(alarms, Windows, FirstScored, NabProfile.RewardLowFalsePositives);

        // (2 - 0.11 + 2) / 4 and (2 - 0.22 + 2) / 4.
        Assert.Equal(97.25, standard.Normalised!.Value, 9);
        Assert.Equal(94.5, lowFp.Normalised!.Value, 9);
        Assert.True(lowFp.Normalised < standard.Normalised);
    }

    [Fact]
    public void A_false_positive_is_weighted_by_its_distance_after_the_preceding_window()
    {
        // NAB: position = |i - prevRight| / (prevWidth - 1); right after the window it costs little, far after it about A_FP.
        var near = NabScorer.Score(AlarmsAt(100, 120, 200), Windows, FirstScored, NabProfile.Standard);
        var far = NabScorer.Score(AlarmsAt(100, 180, 200), Windows, FirstScored, NabProfile.Standard);

        Assert.Equal(2 + (0.11 * NabScorer.ScaledSigmoid(1.0 / 19)), near.Score, 12);
        Assert.Equal(2 + (0.11 * NabScorer.ScaledSigmoid(61.0 / 19)), far.Score, 12);
        Assert.True(far.Score < near.Score);
    }

    [Fact]
    public void A_missed_window_costs_double_under_the_low_FN_profile()
    {
        var alarms = AlarmsAt(100);

        Assert.Equal(1.0 - 1.0, NabScorer.Score(alarms, Windows, FirstScored, NabProfile.Standard).Score, 12);
        Assert.Equal(1.0 - 2.0, NabScorer.Score(alarms, Windows, FirstScored, NabProfile.RewardLowFalseNegatives).Score, 12);
    }

    [Fact]
    public void Alarms_in_the_probationary_rows_are_not_scored()
    {
        var with = NabScorer.Score(AlarmsAt(10, 20, 100, 200), Windows, FirstScored, NabProfile.Standard);

        Assert.Equal(100.0, with.Normalised!.Value, 9);
    }

    [Fact]
    public void Raw_scores_add_over_files_and_normalise_once()
    {
        var perfect = NabScorer.Score(AlarmsAt(100, 200), Windows, FirstScored, NabProfile.Standard);
        var none = NabScorer.Score(AlarmsAt(), Windows, FirstScored, NabProfile.Standard);

        Assert.Equal(50.0, (perfect + none).Normalised!.Value, 9);
    }

    [Fact]
    public void A_file_without_windows_has_no_normalised_score_but_its_false_positives_count()
    {
        var score = NabScorer.Score(AlarmsAt(50), [], FirstScored, NabProfile.Standard);

        Assert.Null(score.Normalised);
        Assert.Equal(-0.11, score.Score, 12);
    }

    [Fact]
    public void Overlapping_windows_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => NabScorer.Score(AlarmsAt(), [new(10, 20), new(20, 30)], 0, NabProfile.Standard));
    }

    [Fact]
    public void NABs_probationary_period_is_15_percent_capped_at_750_rows()
    {
        Assert.Equal(150, EvaluationData.NabProbationaryRows(1000));
        Assert.Equal(604, EvaluationData.NabProbationaryRows(4032));
        Assert.Equal(750, EvaluationData.NabProbationaryRows(22695));
    }
}
