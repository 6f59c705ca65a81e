namespace TwinGateway.Commissioning.Validation;

/// <summary>
/// Paired-sample statistics of one criterion: the means, the paired t interval of candidate minus baseline, and the
/// one-sample t interval of the candidate mean, both two-sided at the given confidence with n - 1 degrees of freedom.
/// A NaN anywhere in the inputs makes the affected figures NaN (and the criterion fail), never silently dropped.
/// </summary>
internal readonly record struct Statistics(
    double BaselineMean, double CandidateMean, double DifferenceMean, double DifferenceLow, double DifferenceHigh, double CandidateLow, double CandidateHigh)
{
    public static Statistics Of(double[] baseline, double[] candidate, double confidence)
    {
        var n = baseline.Length;
        var t = StudentT.Quantile((1 + confidence) / 2, n - 1);
        var differences = new double[n];
        for (var i = 0; i < n; i++)
        {
            differences[i] = candidate[i] - baseline[i];
        }

        var (dMean, dHalf) = Interval(differences, t);
        var (cMean, cHalf) = Interval(candidate, t);
        return new Statistics(Mean(baseline), cMean, dMean, dMean - dHalf, dMean + dHalf, cMean - cHalf, cMean + cHalf);
    }

    /// <summary>The mean and the interval's half width t·s/√n (summed in index order, so the result never depends on scheduling).</summary>
    private static (double Mean, double Half) Interval(double[] values, double t)
    {
        var mean = Mean(values);
        double squares = 0;
        foreach (var value in values)
        {
            squares += (value - mean) * (value - mean);
        }

        var sd = Math.Sqrt(squares / (values.Length - 1));
        return (mean, t * sd / Math.Sqrt(values.Length));
    }

    private static double Mean(double[] values)
    {
        double sum = 0;
        foreach (var value in values)
        {
            sum += value;
        }

        return sum / values.Length;
    }
}
