using System.Text.Json.Serialization;

namespace TwinGateway.Drift.Evaluation;

/// <summary>
/// Point-wise counts of alarms against labels. The rates are fractions in [0, 1], or null where their denominator is
/// 0 (F1 with no anomaly and no alarm, FAR with no normal row, MAR with no anomalous row): an undefined rate is not
/// reported as a number.
/// </summary>
public readonly record struct ConfusionCounts(long TruePositives, long FalsePositives, long TrueNegatives, long FalseNegatives)
{
    [JsonIgnore]
    public long Total => TruePositives + FalsePositives + TrueNegatives + FalseNegatives;

    /// <summary>2 TP / (2 TP + FP + FN).</summary>
    [JsonIgnore]
    public double? F1 => Ratio(2 * TruePositives, (2 * TruePositives) + FalsePositives + FalseNegatives);

    /// <summary>False-alarm rate: FP / (FP + TN).</summary>
    [JsonIgnore]
    public double? FalseAlarmRate => Ratio(FalsePositives, FalsePositives + TrueNegatives);

    /// <summary>Missed-alarm rate: FN / (FN + TP).</summary>
    [JsonIgnore]
    public double? MissedAlarmRate => Ratio(FalseNegatives, FalseNegatives + TruePositives);

    public static ConfusionCounts operator +(ConfusionCounts left, ConfusionCounts right) => left.Add(right);

    public ConfusionCounts Add(ConfusionCounts other) => new(
        TruePositives + other.TruePositives,
        FalsePositives + other.FalsePositives,
        TrueNegatives + other.TrueNegatives,
        FalseNegatives + other.FalseNegatives);

    private static double? Ratio(long numerator, long denominator) => denominator == 0 ? null : (double)numerator / denominator;
}

/// <summary>Point-wise detection metrics.</summary>
public static class DetectionMetrics
{
    /// <summary>Counts rows <c>[firstRow, labels.Count)</c>: an alarm on an anomalous row is a TP, on a normal row an FP, and so on.</summary>
    public static ConfusionCounts Count(IReadOnlyList<bool> labels, IReadOnlyList<bool> alarms, int firstRow = 0)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(alarms);
        if (labels.Count != alarms.Count)
        {
            throw new ArgumentException($"{labels.Count} labels but {alarms.Count} alarms");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(firstRow);
        long tp = 0, fp = 0, tn = 0, fn = 0;
        for (var r = firstRow; r < labels.Count; r++)
        {
            switch (labels[r], alarms[r])
            {
                case (true, true): tp++; break;
                case (false, true): fp++; break;
                case (false, false): tn++; break;
                case (true, false): fn++; break;
            }
        }

        return new ConfusionCounts(tp, fp, tn, fn);
    }
}
