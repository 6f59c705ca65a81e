using System.Collections.Immutable;
using System.Globalization;
using System.Numerics.Tensors;
using MathNet.Numerics.LinearAlgebra;

namespace TwinGateway.Drift.Models;

/// <summary>
/// Trains a <see cref="PcaModel"/>: standardisation on the fit part, the covariance of the pooled windows (one pass,
/// double sums), its symmetric eigen-decomposition (MathNet), the components that explain
/// <see cref="ExplainedVarianceTarget"/> of the variance, then the T² and Q limits and the threshold on the held-back part.
/// Deterministic: no random draw, a fixed eigenvector sign, so the same data give the same model file.
/// </summary>
public sealed class PcaTrainer : IDriftModelTrainer
{
    /// <summary>The share of the pooled variance the kept components explain (at least one, at most <c>dims - 1</c>, so Q always has a residual).</summary>
    public const double ExplainedVarianceTarget = 0.95;

    /// <summary>
    /// The most windows the covariance is taken over; a longer fit range uses every n-th window. Consecutive windows
    /// overlap by all but one frame, so the stride loses little, and it keeps a day of 100 ms frames with 400 pooled
    /// values to about 50,000 rank-one updates instead of 650,000.
    /// </summary>
    public const int MaxFitWindows = 50_000;

    /// <summary>Eigenvalues below this share of the largest are raised to it, so T² never divides by (nearly) zero.</summary>
    private const double EigenvalueFloor = 1e-6;

    /// <summary>Windows copied and pooled per chunk.</summary>
    private const int Chunk = 256;

    public ModelKind Kind => ModelKind.Pca;

    /// <inheritdoc/>
    public DriftModel Train(FrameMatrix healthy, TrainingOptions options, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(healthy);
        ArgumentNullException.ThrowIfNull(options);
        var (fitRows, holdBackRows) = TrainingData.Split(healthy.Rows, options);
        var (mean, scale) = TrainingData.Standardisation(healthy, fitRows);
        if (scale.All(s => s <= TrainingData.ScaleFloor))
        {
            throw new ArgumentException($"none of the {healthy.Width} features varies over the {fitRows} fit frames; a PCA model needs at least one that does", nameof(healthy));
        }

        var window = options.Window;
        var features = healthy.Width;
        var slots = PcaModel.PoolSlots(window, features);
        var framesPerSlot = window / slots;
        var dims = slots * features;
        if (dims < 2)
        {
            throw new ArgumentException($"a window of {window} frames over {features} feature pools to {dims} value; a PCA model needs at least 2 (use a longer window)", nameof(options));
        }

        progress?.Report(new("fitting", 0));
        var fitWindows = fitRows - window + 1;
        var stride = (fitWindows + MaxFitWindows - 1) / MaxFitWindows;
        var (pooledMean, covariance, used) = Covariance(healthy, mean, scale, window, slots, framesPerSlot, fitWindows, stride, progress, cancellationToken);

        progress?.Report(new("eigen-decomposition", 0.5));
        cancellationToken.ThrowIfCancellationRequested();
        var (basis, eigenvalues, explained, totalVariance) = Components(covariance, dims);
        if (totalVariance <= 0)
        {
            throw new ArgumentException($"the {used} pooled fit windows have no variance; a PCA model needs data that varies", nameof(healthy));
        }

        progress?.Report(new("thresholds", 0.8));
        var provisional = new ModelMetrics(fitRows, holdBackRows, 1, 1, ImmutableDictionary<string, string>.Empty);
        var columns = healthy.Columns;
        var model = new PcaModel(window, columns, mean, scale, provisional, slots, pooledMean, basis, eigenvalues, 1, 1);

        var heldBackWindows = holdBackRows - window + 1;
        var tSquared = new float[heldBackWindows];
        var q = new float[heldBackWindows];
        var buffer = new float[Chunk * window * features];
        for (var start = 0; start < heldBackWindows; start += Chunk)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var n = Math.Min(Chunk, heldBackWindows - start);
            TrainingData.CopyWindows(healthy, window, fitRows + window - 1 + start, n, buffer);
            model.Statistics(buffer, n, tSquared.AsSpan(start, n), q.AsSpan(start, n));
        }

        // Each statistic's limit: its held-back quantile, floored so a (near) perfect fit does not divide by ~0.
        var floor = 1e-6 * Math.Max(totalVariance / dims, 1e-12);
        var tSquaredLimit = Math.Max(floor, Quantile(tSquared, options.ThresholdQuantile));
        var qLimit = Math.Max(floor, Quantile(q, options.ThresholdQuantile));
        var raw = new float[heldBackWindows];
        for (var i = 0; i < raw.Length; i++)
        {
            raw[i] = (float)((tSquared[i] / tSquaredLimit) + (q[i] / qLimit));
        }

        var (threshold, quantile) = TrainingData.Threshold(raw, options);
        var inv = CultureInfo.InvariantCulture;
        var details = ImmutableDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, string>
        {
            ["slots"] = slots.ToString(inv),
            ["framesPerSlot"] = framesPerSlot.ToString(inv),
            ["poolingRule"] = $"slots = largest divisor of the window not above max(1, {PcaModel.PooledDimsTarget} / features)",
            ["pooledDims"] = dims.ToString(inv),
            ["components"] = eigenvalues.Length.ToString(inv),
            ["explainedVariance"] = explained.ToString("R", inv),
            ["explainedVarianceTarget"] = ExplainedVarianceTarget.ToString("R", inv),
            ["fitWindows"] = used.ToString(inv),
            ["fitWindowStride"] = stride.ToString(inv),
            ["tSquaredLimit"] = tSquaredLimit.ToString("R", inv),
            ["qLimit"] = qLimit.ToString("R", inv),
            ["combination"] = "raw = T2 / tSquaredLimit + Q / qLimit",
            ["contributionRule"] = "r_d^2 / qLimit + w_d^2 / tSquaredLimit with w = V diag(lambda^-1/2) t (|w|^2 = T2), summed over slots",
        });
        var metrics = new ModelMetrics(fitRows, holdBackRows, threshold, quantile, details);
        progress?.Report(new("done", 1));
        return new PcaModel(window, columns, mean, scale, metrics, slots, pooledMean, basis, eigenvalues, tSquaredLimit, qLimit);
    }

    private static double Quantile(float[] values, double q)
    {
        var sorted = (float[])values.Clone();
        Array.Sort(sorted);
        return TrainingData.Quantile(sorted, q);
    }

    /// <summary>The pooled fit windows' mean and covariance (upper triangle summed, then mirrored), over every <paramref name="stride"/>-th window.</summary>
    private static (float[] Mean, double[] Covariance, int Used) Covariance(
        FrameMatrix healthy, float[] mean, float[] scale, int window, int slots, int framesPerSlot, int fitWindows, int stride,
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        var features = healthy.Width;
        var dims = slots * features;
        var inverseScale = new float[features];
        TensorPrimitives.Divide(1f, scale, inverseScale);
        var sum = new double[dims];
        var products = new double[dims * dims];
        var pooled = new float[dims];
        var u = new double[dims];
        var raw = new float[window * features];
        var used = 0;
        for (var w = 0; w < fitWindows; w += stride)
        {
            if (used % 1024 == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                progress?.Report(new("fitting", 0.5 * w / fitWindows));
            }

            TrainingData.CopyWindows(healthy, window, w + window - 1, 1, raw);
            PcaModel.Pool(raw, mean, inverseScale, slots, framesPerSlot, pooled);
            for (var d = 0; d < dims; d++)
            {
                u[d] = pooled[d];
            }

            TensorPrimitives.Add(sum, u, sum);
            for (var d = 0; d < dims; d++)
            {
                var row = products.AsSpan((d * dims) + d, dims - d);
                TensorPrimitives.MultiplyAdd(u.AsSpan(d), u[d], row, row);
            }

            used++;
        }

        var pooledMean = new float[dims];
        var m = new double[dims];
        for (var d = 0; d < dims; d++)
        {
            m[d] = sum[d] / used;
            pooledMean[d] = (float)m[d];
        }

        var denominator = Math.Max(1, used - 1);
        for (var i = 0; i < dims; i++)
        {
            for (var j = i; j < dims; j++)
            {
                var value = (products[(i * dims) + j] - (used * m[i] * m[j])) / denominator;
                products[(i * dims) + j] = value;
                products[(j * dims) + i] = value;
            }
        }

        return (pooledMean, products, used);
    }

    /// <summary>
    /// The leading components: basis rows (k x dims, unit length, largest-magnitude entry positive), their eigenvalues
    /// (floored), the share of variance they explain and the total variance.
    /// </summary>
    private static (float[] Basis, float[] Eigenvalues, double Explained, double Total) Components(double[] covariance, int dims)
    {
        var matrix = Matrix<double>.Build.Dense(dims, dims, covariance);
        var evd = matrix.Evd(MathNet.Numerics.LinearAlgebra.Symmetricity.Symmetric);
        var values = evd.EigenValues.Select(v => Math.Max(0, v.Real)).ToArray();
        var order = Enumerable.Range(0, dims).OrderByDescending(i => values[i]).ThenBy(i => i).ToArray();
        var total = values.Sum();
        if (total <= 0)
        {
            return ([], [], 0, 0);
        }

        var k = 0;
        var cumulative = 0.0;
        while (k < dims - 1 && cumulative < ExplainedVarianceTarget * total)
        {
            cumulative += values[order[k]];
            k++;
        }

        var largest = values[order[0]];
        var basis = new float[k * dims];
        var eigenvalues = new float[k];
        var vectors = evd.EigenVectors;
        for (var j = 0; j < k; j++)
        {
            var column = order[j];
            var peak = 0;
            for (var d = 1; d < dims; d++)
            {
                if (Math.Abs(vectors[d, column]) > Math.Abs(vectors[peak, column]))
                {
                    peak = d;
                }
            }

            var sign = vectors[peak, column] < 0 ? -1.0 : 1.0;
            for (var d = 0; d < dims; d++)
            {
                basis[(j * dims) + d] = (float)(sign * vectors[d, column]);
            }

            eigenvalues[j] = (float)Math.Max(values[column], EigenvalueFloor * largest);
        }

        return (basis, eigenvalues, cumulative / total, total);
    }
}
