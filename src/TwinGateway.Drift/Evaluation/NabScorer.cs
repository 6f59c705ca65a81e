using System.Collections.Immutable;

namespace TwinGateway.Drift.Evaluation;

/// <summary>
/// A NAB application profile: the cost matrix weights A_TP, A_FP, A_TN, A_FN. NAB's scorer does not use A_TN (a true
/// negative scores 0); it is kept so the profile reads as NAB publishes it.
/// </summary>
public sealed record NabProfile(string Name, double TruePositiveWeight, double FalsePositiveWeight, double TrueNegativeWeight, double FalseNegativeWeight)
{
    public static NabProfile Standard { get; } = new("standard", 1.0, 0.11, 1.0, 1.0);

    public static NabProfile RewardLowFalsePositives { get; } = new("reward_low_FP_rate", 1.0, 0.22, 1.0, 1.0);

    public static NabProfile RewardLowFalseNegatives { get; } = new("reward_low_FN_rate", 1.0, 0.11, 1.0, 2.0);

    /// <summary>The three profiles in report order: standard, low FP, low FN.</summary>
    public static ImmutableArray<NabProfile> All { get; } = [Standard, RewardLowFalsePositives, RewardLowFalseNegatives];
}

/// <summary>
/// A raw NAB score with the scores of the null detector (no detection) and the perfect one (a detection at the first
/// row of every window) on the same data. Raw scores add over files; NAB normalises the corpus sum once.
/// </summary>
public readonly record struct NabRawScore(double Score, double NullScore, double PerfectScore)
{
    /// <summary>100 * (S - S_null) / (S_perfect - S_null); null where there is no window (perfect equals null).</summary>
    public double? Normalised => PerfectScore == NullScore ? null : 100 * (Score - NullScore) / (PerfectScore - NullScore);

    public static NabRawScore operator +(NabRawScore left, NabRawScore right) => left.Add(right);

    public NabRawScore Add(NabRawScore other) => new(Score + other.Score, NullScore + other.NullScore, PerfectScore + other.PerfectScore);
}

/// <summary>
/// The NAB score of a detector's alarms on one file, as NAB's sweeper defines it:
/// <list type="bullet">
/// <item>a window's score starts at <c>-A_FN</c> (missed); an alarm at row <c>i</c> inside it scores
/// <c>A_TP * σ(-(right - i + 1) / width) / σ(-1)</c> with σ the scaled sigmoid, and the window keeps its best (so the
/// first, earliest) detection only;</item>
/// <item>an alarm outside every window adds <c>A_FP * σ(|i - prevRight| / (prevWidth - 1))</c> relative to the preceding
/// window (negative: the further after it, the closer to <c>-A_FP</c>), or <c>-A_FP</c> when no window precedes it;</item>
/// <item>rows before <c>firstScoredRow</c> (the probationary or training rows) are not scored, and a window without a
/// scored row does not count.</item>
/// </list>
/// Where NAB would divide by zero (an FP after a one-row window) the denominator is taken as 1. NAB's perfect score is
/// <c>A_TP</c> per labelled window; here it counts the windows that have a scored row, so a perfect detector scores
/// exactly 100 even when a window lies in the training part.
/// </summary>
public static class NabScorer
{
    /// <summary>NAB's scaled sigmoid: <c>2 / (1 + e^(5x)) - 1</c>, and -1 from 3 window widths past a window on.</summary>
    public static double ScaledSigmoid(double relativePosition) =>
        relativePosition >= 3.0 ? -1.0 : (2.0 / (1.0 + Math.Exp(5.0 * relativePosition))) - 1.0;

    /// <summary>Scores <paramref name="alarms"/> (one per row) against sorted, disjoint <paramref name="windows"/>.</summary>
    public static NabRawScore Score(IReadOnlyList<bool> alarms, ImmutableArray<RowRange> windows, int firstScoredRow, NabProfile profile)
    {
        ArgumentNullException.ThrowIfNull(alarms);
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentOutOfRangeException.ThrowIfNegative(firstScoredRow);
        for (var i = 0; i < windows.Length; i++)
        {
            if (windows[i].End < windows[i].Start || (i > 0 && windows[i].Start <= windows[i - 1].End))
            {
                throw new ArgumentException($"window {i} ({windows[i].Start}..{windows[i].End}) is empty or not after the one before it: windows must be sorted and disjoint", nameof(windows));
            }
        }

        var maxTruePositive = ScaledSigmoid(-1.0);
        var falsePositives = 0.0;
        var windowTotal = 0.0;
        var scoredWindows = 0;
        var next = 0;
        int? prevRight = null;
        var prevWidth = 0;
        var rows = alarms.Count;
        var row = 0;
        while (row < rows)
        {
            var window = next < windows.Length ? windows[next] : (RowRange?)null;
            if (window is { } w && row >= w.Start)
            {
                var end = Math.Min(w.End, rows - 1);
                var width = (double)(w.End - w.Start + 1);
                var first = Math.Max(w.Start, firstScoredRow);
                if (first <= end)
                {
                    scoredWindows++;
                    var best = -profile.FalseNegativeWeight;
                    for (var i = first; i <= end; i++)
                    {
                        if (alarms[i])
                        {
                            // The earliest alarm scores highest (the sigmoid falls towards the right edge); later ones add nothing.
                            best = Math.Max(best, ScaledSigmoid(-(w.End - i + 1) / width) * profile.TruePositiveWeight / maxTruePositive);
                            break;
                        }
                    }

                    windowTotal += best;
                }

                prevRight = w.End;
                prevWidth = w.End - w.Start + 1;
                next++;
                row = w.End + 1;
                continue;
            }

            if (row >= firstScoredRow && alarms[row])
            {
                var position = prevRight is { } right ? Math.Abs(row - right) / (double)Math.Max(1, prevWidth - 1) : 3.0;
                falsePositives += ScaledSigmoid(position) * profile.FalsePositiveWeight;
            }

            row++;
        }

        return new NabRawScore(
            windowTotal + falsePositives,
            -profile.FalseNegativeWeight * scoredWindows,
            profile.TruePositiveWeight * scoredWindows);
    }
}
