using System.Security.Cryptography;

namespace TwinGateway.Drift.Models;

/// <summary>
/// What every trainer does the same way: the fit/hold-back split, the per-feature standardisation, copying windows
/// out of a frame matrix, and the threshold from the held-back scores. One implementation, so the model kinds are
/// compared on the same footing.
/// </summary>
public static class TrainingData
{
    /// <summary>The smallest standard deviation a feature is divided by (a constant feature stays near 0 instead of dividing by 0).</summary>
    public const float ScaleFloor = 1e-3f;

    /// <summary>
    /// Splits <paramref name="rows"/> frames into the leading fit part and the trailing hold-back part; throws
    /// <see cref="ArgumentException"/> naming the numbers when either part has fewer than <c>minWindows</c> windows.
    /// </summary>
    public static (int FitRows, int HoldBackRows) Split(int rows, TrainingOptions options, int minWindows = 20)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.HoldBackFraction is <= 0 or >= 1)
        {
            throw new ArgumentException($"hold-back fraction {options.HoldBackFraction} must be between 0 and 1 (exclusive)", nameof(options));
        }

        var holdBack = (int)Math.Round(rows * options.HoldBackFraction);
        var fit = rows - holdBack;
        var need = options.Window - 1 + minWindows;
        if (fit < need || holdBack < need)
        {
            throw new ArgumentException(
                $"{rows} healthy frames are too few: a window of {options.Window} and a hold-back of {options.HoldBackFraction:P0} need at least " +
                $"{need} frames in each part ({fit} to fit, {holdBack} held back); train on a longer range");
        }

        return (fit, holdBack);
    }

    /// <summary>Per-feature mean and standard deviation over the rows (NaN values skipped; a feature without values gets mean 0).</summary>
    public static (float[] Mean, float[] Scale) Standardisation(FrameMatrix frames, int rows)
    {
        ArgumentNullException.ThrowIfNull(frames);
        var width = frames.Width;
        var sum = new double[width];
        var sumSq = new double[width];
        var count = new int[width];
        for (var r = 0; r < rows; r++)
        {
            var row = frames.Row(r);
            for (var c = 0; c < width; c++)
            {
                var x = row[c];
                if (!float.IsNaN(x))
                {
                    sum[c] += x;
                    sumSq[c] += (double)x * x;
                    count[c]++;
                }
            }
        }

        var mean = new float[width];
        var scale = new float[width];
        for (var c = 0; c < width; c++)
        {
            var m = count[c] > 0 ? sum[c] / count[c] : 0;
            var variance = count[c] > 1 ? Math.Max(0, (sumSq[c] - count[c] * m * m) / (count[c] - 1)) : 0;
            mean[c] = (float)m;
            scale[c] = Math.Max(ScaleFloor, (float)Math.Sqrt(variance));
        }

        return (mean, scale);
    }

    /// <summary>
    /// Copies the windows ending at rows <c>[firstEnd, firstEnd + count)</c> (each <c>window</c> rows, oldest first)
    /// into <paramref name="destination"/> as raw values: the layout <see cref="DriftModel.Score"/> takes.
    /// </summary>
    public static void CopyWindows(FrameMatrix frames, int window, int firstEnd, int count, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(frames);
        var width = frames.Width;
        var length = window * width;
        if (firstEnd - window + 1 < 0 || firstEnd + count > frames.Rows)
        {
            throw new ArgumentOutOfRangeException(nameof(firstEnd), $"windows ending at {firstEnd}..{firstEnd + count - 1} of {window} rows do not fit {frames.Rows} rows");
        }

        for (var i = 0; i < count; i++)
        {
            var start = (firstEnd + i - window + 1) * width;
            frames.Data.AsSpan(start, length).CopyTo(destination.Slice(i * length, length));
        }
    }

    /// <summary>
    /// The threshold: the <see cref="TrainingOptions.ThresholdQuantile"/> quantile of the held-back raw scores (linear
    /// interpolation between order statistics) times <see cref="TrainingOptions.ThresholdMargin"/>; never below a tiny
    /// positive floor, so the normalised score is always defined.
    /// </summary>
    public static (double Threshold, double Quantile) Threshold(ReadOnlySpan<float> heldBackScores, TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (heldBackScores.IsEmpty)
        {
            throw new ArgumentException("no held-back scores to learn a threshold from", nameof(heldBackScores));
        }

        var sorted = heldBackScores.ToArray();
        Array.Sort(sorted);
        var quantile = Quantile(sorted, options.ThresholdQuantile);
        return (Math.Max(1e-9, quantile * options.ThresholdMargin), quantile);
    }

    /// <summary>The <paramref name="q"/> quantile of ascending <paramref name="sorted"/> values (type 7, as R and NumPy default).</summary>
    public static double Quantile(ReadOnlySpan<float> sorted, double q)
    {
        if (sorted.IsEmpty)
        {
            return double.NaN;
        }

        var h = (sorted.Length - 1) * Math.Clamp(q, 0, 1);
        var lo = (int)Math.Floor(h);
        var hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }

    /// <summary>SHA-256 (lower-case hex) over the column names and the rows' float bytes: the training data hash a model card records.</summary>
    public static string Hash(FrameMatrix frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var column in frames.Columns)
        {
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes(column));
            sha.AppendData([0]);
        }

        sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(frames.Data.AsSpan()));
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
