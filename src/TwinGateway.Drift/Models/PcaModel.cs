using System.Collections.Immutable;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TwinGateway.Drift.Onnx;

namespace TwinGateway.Drift.Models;

/// <summary>
/// A principal component subspace over pooled, standardised windows, scored by Hotelling's T-squared and the Q (SPE)
/// statistic. The scoring path, managed and in the exported graph alike:
/// <list type="number">
/// <item>NaN becomes the feature's training mean, then <c>z = (x - Mean) / Scale</c>;</item>
/// <item>the window's <c>Window</c> frames are pooled in time into <see cref="Slots"/> slots of
/// <see cref="FramesPerSlot"/> consecutive frames (their mean), flattened slot-major to <see cref="Dims"/> values, and the
/// fit part's pooled mean is subtracted: <c>c</c>;</item>
/// <item><c>t = Vᵀc</c> over the <see cref="Components"/> kept components, <c>T² = Σ t_j² / λ_j</c>,
/// <c>r = c - V t</c>, <c>Q = ‖r‖²</c>;</item>
/// <item><c>raw = T² / T²limit + Q / Qlimit</c> (each limit is the held-back quantile of its statistic), score = raw / Threshold.</item>
/// </list>
/// Contributions share <c>raw</c> exactly: a pooled value <c>d</c> gets <c>r_d² / Qlimit + w_d² / T²limit</c> with
/// <c>w = V Λ^-1/2 t</c>, the whitened scores mapped back to the pooled values (V's columns are orthonormal, so
/// <c>‖w‖² = Σ t_j² / λ_j = T²</c> exactly and every share is non-negative); a feature's share is the sum over its slots,
/// divided by the row's total. Computing <c>w</c> reads each basis row while it is still in cache from the residual
/// update, so T² attribution costs one multiply-add per component and value.
/// </summary>
public sealed class PcaModel : DriftModel
{
    [ThreadStatic]
    private static float[]? t_scratch;

    private readonly float[] _pooledMean;
    private readonly float[] _basis;
    private readonly float[] _inverseRootEigenvalues;
    private readonly float[] _inverseScale;

    internal PcaModel(
        int window, ImmutableArray<string> features, float[] mean, float[] scale, ModelMetrics metrics,
        int slots, float[] pooledMean, float[] basis, float[] eigenvalues, double tSquaredLimit, double qLimit)
        : base(ModelKind.Pca, window, features, mean, scale, metrics)
    {
        ArgumentNullException.ThrowIfNull(pooledMean);
        ArgumentNullException.ThrowIfNull(basis);
        ArgumentNullException.ThrowIfNull(eigenvalues);
        if (slots < 1 || window % slots != 0)
        {
            throw new ArgumentException($"{slots} slots do not divide a window of {window} frames", nameof(slots));
        }

        Slots = slots;
        FramesPerSlot = window / slots;
        Dims = slots * features.Length;
        Components = eigenvalues.Length;
        if (pooledMean.Length != Dims || basis.Length != Dims * Components)
        {
            throw new ArgumentException($"{Dims} pooled dims and {Components} components need a mean of {Dims} and a basis of {Dims * Components} values, not {pooledMean.Length} and {basis.Length}");
        }

        _pooledMean = pooledMean;
        _basis = basis;
        _inverseRootEigenvalues = new float[Components];
        for (var j = 0; j < Components; j++)
        {
            _inverseRootEigenvalues[j] = (float)(1 / Math.Sqrt(eigenvalues[j]));
        }

        _inverseScale = new float[features.Length];
        TensorPrimitives.Divide(1f, scale, _inverseScale);
        TSquaredLimit = tSquaredLimit;
        QLimit = qLimit;
    }

    /// <summary>Pooled time slots per window (see <see cref="PoolSlots"/>).</summary>
    public int Slots { get; }

    /// <summary>Consecutive frames averaged into one slot.</summary>
    public int FramesPerSlot { get; }

    /// <summary>Length of a pooled window: <c>Slots * Features</c>.</summary>
    public int Dims { get; }

    /// <summary>Principal components kept (<c>k</c>).</summary>
    public int Components { get; }

    /// <summary>The held-back quantile of T² the raw score divides T² by.</summary>
    public double TSquaredLimit { get; }

    /// <summary>The held-back quantile of Q the raw score divides Q by.</summary>
    public double QLimit { get; }

    /// <summary>The largest number of values a pooled window aims for: it bounds the covariance at 512 x 512.</summary>
    public const int PooledDimsTarget = 512;

    /// <summary>
    /// The rule for the slots: the largest divisor of <paramref name="window"/> not above
    /// <c>max(1, 512 / features)</c>, so every slot averages the same number of frames and a window pools to at most
    /// <c>max(512, features)</c> values (Features 200, Window 10: 2 slots of 5 frames, 400 values).
    /// </summary>
    public static int PoolSlots(int window, int features)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(features, 1);
        var most = Math.Min(window, Math.Max(1, PooledDimsTarget / features));
        for (var p = most; p > 1; p--)
        {
            if (window % p == 0)
            {
                return p;
            }
        }

        return 1;
    }

    /// <inheritdoc/>
    public override void Score(ReadOnlySpan<float> windows, int count, Span<float> scores, Span<float> contributions)
    {
        var features = Features.Length;
        CheckLengths(windows.Length, count, scores.Length, contributions.Length);
        var scratch = Scratch();
        var c = scratch.AsSpan(0, Dims);
        var r = scratch.AsSpan(Dims, Dims);
        var share = scratch.AsSpan(2 * Dims, Dims);
        var t = scratch.AsSpan(3 * Dims, Components);
        var whitened = scratch.AsSpan((3 * Dims) + Components, Components);
        var length = Window * features;
        var inverseT = (float)(1 / TSquaredLimit);
        var inverseQ = (float)(1 / QLimit);
        var inverseThreshold = 1f / (float)Metrics.Threshold;
        var uniform = 1f / features;
        for (var i = 0; i < count; i++)
        {
            Statistics(windows.Slice(i * length, length), c, r, share, t, whitened, out var tSquared, out var q);
            var raw = (tSquared * inverseT) + (q * inverseQ);
            scores[i] = raw * inverseThreshold;

            // share_d = w_d² / T²limit + r_d² / Qlimit, then summed over slots per feature.
            TensorPrimitives.Multiply(share, share, share);
            TensorPrimitives.Multiply(share, inverseT, share);
            TensorPrimitives.Multiply(r, r, r);
            TensorPrimitives.MultiplyAdd(r, inverseQ, share, share);
            var row = contributions.Slice(i * features, features);
            share[..features].CopyTo(row);
            for (var s = 1; s < Slots; s++)
            {
                TensorPrimitives.Add(row, share.Slice(s * features, features), row);
            }

            var total = TensorPrimitives.Sum(row);
            if (total > 0)
            {
                TensorPrimitives.Divide(row, total, row);
            }
            else
            {
                row.Fill(uniform);
            }
        }
    }

    /// <summary>T² and Q of each window, unnormalised (the trainer learns the limits from them).</summary>
    internal void Statistics(ReadOnlySpan<float> windows, int count, Span<float> tSquared, Span<float> q)
    {
        var scratch = Scratch();
        var c = scratch.AsSpan(0, Dims);
        var r = scratch.AsSpan(Dims, Dims);
        var share = scratch.AsSpan(2 * Dims, Dims);
        var t = scratch.AsSpan(3 * Dims, Components);
        var whitened = scratch.AsSpan((3 * Dims) + Components, Components);
        var length = Window * Features.Length;
        for (var i = 0; i < count; i++)
        {
            Statistics(windows.Slice(i * length, length), c, r, share, t, whitened, out tSquared[i], out q[i]);
        }
    }

    /// <summary>
    /// Standardises and pools one raw window into <paramref name="pooled"/> (<c>Slots * Features</c>), NaN counting as
    /// the mean (0 after standardisation); the pooled mean is not subtracted. Shared with the trainer, so the
    /// covariance is taken over exactly what scoring sees.
    /// </summary>
    internal static void Pool(ReadOnlySpan<float> window, ReadOnlySpan<float> mean, ReadOnlySpan<float> inverseScale, int slots, int framesPerSlot, Span<float> pooled)
    {
        var features = mean.Length;
        var lanes = Vector<float>.Count;
        var perFrame = 1f / framesPerSlot;
        for (var s = 0; s < slots; s++)
        {
            var acc = pooled.Slice(s * features, features);
            acc.Clear();
            for (var w = 0; w < framesPerSlot; w++)
            {
                var frame = window.Slice(((s * framesPerSlot) + w) * features, features);
                var f = 0;
                for (; f <= features - lanes; f += lanes)
                {
                    var x = new Vector<float>(frame[f..]);
                    var z = (x - new Vector<float>(mean[f..])) * new Vector<float>(inverseScale[f..]);
                    z = Vector.ConditionalSelect(Vector.Equals(x, x), z, Vector<float>.Zero);
                    (new Vector<float>(acc[f..]) + z).CopyTo(acc[f..]);
                }

                for (; f < features; f++)
                {
                    var x = frame[f];
                    if (!float.IsNaN(x))
                    {
                        acc[f] += (x - mean[f]) * inverseScale[f];
                    }
                }
            }

            TensorPrimitives.Multiply(acc, perFrame, acc);
        }
    }

    /// <inheritdoc/>
    public override byte[] ExportOnnx(ModelCard card)
    {
        ArgumentNullException.ThrowIfNull(card);
        if (card.Kind != ModelKind.Pca || card.Window != Window || !card.Features.SequenceEqual(Features))
        {
            throw new ArgumentException($"the card ({card.Kind}, window {card.Window}, {card.Features.Length} features) does not describe this model (Pca, window {Window}, {Features.Length} features)", nameof(card));
        }

        var features = Features.Length;
        var g = new OnnxGraphBuilder("pca_drift");
        g.FloatInput("window", null, Window, features);

        // (x - Mean), NaN -> 0 (the mean), pooled in time ([N, Slots, FramesPerSlot, F], mean over axis 2), then / Scale
        // on the pooled values: the managed path's affine map, ordered for ONNX Runtime, where the graph is memory-bound.
        // Where against a broadcast constant takes ORT's general broadcasting path; against a same-shape zeros tensor it
        // does not: measured 29k -> 59k windows/s at Features 200, Window 10 (2 cores).
        var meanName = g.Constant("mean", Mean, features);
        var centred = g.Node("Sub", ["window", meanName]);
        var zeros = g.Node("ConstantOfShape", [g.Node("Shape", ["window"])]);
        var x = g.Node("Where", [g.Node("IsNaN", ["window"]), zeros, centred]);
        var grouped = g.Node("Reshape", [x, g.Int64Constant("slots_shape", -1, Slots, FramesPerSlot, features)]);
        var pooled = g.Node("ReduceMean", [grouped], null, ("axes", new long[] { 2 }), ("keepdims", 0L));
        var z = g.Node("Div", [pooled, g.Constant("scale", Scale, features)]);
        var flat = g.Node("Reshape", [z, g.Int64Constant("flat_shape", -1, Dims)]);
        var c = g.Node("Sub", [flat, g.Constant("pooled_mean", _pooledMean, Dims)]);

        // Basis stored k x D; the graph takes V as D x k for t = c V.
        var basisDk = Transpose(_basis, Components, Dims);
        var t = g.Node("MatMul", [c, g.Constant("basis", basisDk, Dims, Components)]);
        var whitened = g.Node("Mul", [t, g.Constant("inverse_root_eigenvalues", _inverseRootEigenvalues, Components)]);
        var axisOne = g.Int64Constant("axis1", 1);
        var tSquared = g.Node("ReduceSum", [g.Node("Mul", [whitened, whitened]), axisOne], null, ("keepdims", 0L));
        var basisKd = g.Constant("basis_t", _basis, Components, Dims);
        var residual = g.Node("Sub", [c, g.Node("MatMul", [t, basisKd])]);
        var residualSquared = g.Node("Mul", [residual, residual]);
        var q = g.Node("ReduceSum", [residualSquared, axisOne], null, ("keepdims", 0L));

        var inverseT = g.Constant("inverse_t2_limit", [(float)(1 / TSquaredLimit)]);
        var inverseQ = g.Constant("inverse_q_limit", [(float)(1 / QLimit)]);
        var raw = g.Node("Add", [g.Node("Mul", [tSquared, inverseT]), g.Node("Mul", [q, inverseQ])]);
        g.Node("Mul", [raw, g.Constant("inverse_threshold", [1f / (float)Metrics.Threshold])], "score");

        var back = g.Node("MatMul", [whitened, basisKd]);
        var share = g.Node("Add", [g.Node("Mul", [g.Node("Mul", [back, back]), inverseT]), g.Node("Mul", [residualSquared, inverseQ])]);
        var perSlot = g.Node("Reshape", [share, g.Int64Constant("share_shape", -1, Slots, features)]);
        var perFeature = g.Node("ReduceSum", [perSlot, axisOne], null, ("keepdims", 0L));
        g.Contributions(perFeature, features, "contributions");

        g.FloatOutput("score", [null]);
        g.FloatOutput("contributions", null, features);
        return g.Build(card);
    }

    private static float[] Transpose(float[] rowMajor, int rows, int columns)
    {
        var result = new float[rowMajor.Length];
        for (var i = 0; i < rows; i++)
        {
            for (var j = 0; j < columns; j++)
            {
                result[(j * rows) + i] = rowMajor[(i * columns) + j];
            }
        }

        return result;
    }

    private void CheckLengths(int windows, int count, int scores, int contributions)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var features = Features.Length;
        if (windows < (long)count * Window * features || scores < count || contributions < (long)count * features)
        {
            throw new ArgumentException(
                $"{count} windows of {Window} x {features} need {(long)count * Window * features} values, {count} scores and {(long)count * features} contributions; got {windows}, {scores} and {contributions}");
        }
    }

    private float[] Scratch()
    {
        var need = (3 * Dims) + (2 * Components);
        var scratch = t_scratch;
        if (scratch is null || scratch.Length < need)
        {
            scratch = new float[need];
            t_scratch = scratch;
        }

        return scratch;
    }

    /// <summary>
    /// T² and Q of one window; leaves the residual in <paramref name="r"/> and <c>w</c> in <paramref name="w"/>.
    /// Register-blocked rather than one <see cref="TensorPrimitives"/> pass per component: the projection takes four
    /// basis rows per pass over <c>c</c>, and <c>r</c> and <c>w</c> stay in registers per vector of values while the
    /// components stream past (one load per two multiply-adds instead of four loads and two stores). Measured at
    /// Features 200, Window 10 (400 pooled values), 1 thread on a shared 2-core machine: k = 9 gives 400k to 780k
    /// windows/s, k = 190 (noisy data, 95% rule) went from 46k to 60k to 74k windows/s.
    /// </summary>
    private void Statistics(ReadOnlySpan<float> window, Span<float> c, Span<float> r, Span<float> w, Span<float> t, Span<float> whitened, out float tSquared, out float q)
    {
        var dims = Dims;
        var k = Components;
        Pool(window, Mean, _inverseScale, Slots, FramesPerSlot, c);
        TensorPrimitives.Subtract(c, _pooledMean, c);
        ReadOnlySpan<float> basis = _basis;
        Project(basis, c, dims, t);
        TensorPrimitives.Multiply(t, _inverseRootEigenvalues, whitened);
        tSquared = TensorPrimitives.SumOfSquares(whitened);

        // Two vectors of values per pass share each component's broadcasts; LoadUnsafe skips the bounds checks (the
        // offsets stay below j * dims + dims by the loop bounds).
        var lanes = Vector<float>.Count;
        ref var basisRef = ref MemoryMarshal.GetReference(basis);
        ref var tRef = ref MemoryMarshal.GetReference(t);
        ref var whiteRef = ref MemoryMarshal.GetReference(whitened);
        var d = 0;
        for (; d <= dims - (2 * lanes); d += 2 * lanes)
        {
            var accR0 = new Vector<float>(c[d..]);
            var accR1 = new Vector<float>(c[(d + lanes)..]);
            var accW0 = Vector<float>.Zero;
            var accW1 = Vector<float>.Zero;
            for (var j = 0; j < k; j++)
            {
                var offset = (nuint)((j * dims) + d);
                var v0 = Vector.LoadUnsafe(ref basisRef, offset);
                var v1 = Vector.LoadUnsafe(ref basisRef, offset + (nuint)lanes);
                var minusT = new Vector<float>(-Unsafe.Add(ref tRef, j));
                var white = new Vector<float>(Unsafe.Add(ref whiteRef, j));
                accR0 = Vector.FusedMultiplyAdd(minusT, v0, accR0);
                accR1 = Vector.FusedMultiplyAdd(minusT, v1, accR1);
                accW0 = Vector.FusedMultiplyAdd(white, v0, accW0);
                accW1 = Vector.FusedMultiplyAdd(white, v1, accW1);
            }

            accR0.CopyTo(r[d..]);
            accR1.CopyTo(r[(d + lanes)..]);
            accW0.CopyTo(w[d..]);
            accW1.CopyTo(w[(d + lanes)..]);
        }

        for (; d <= dims - lanes; d += lanes)
        {
            var accR = new Vector<float>(c[d..]);
            var accW = Vector<float>.Zero;
            for (var j = 0; j < k; j++)
            {
                var v = new Vector<float>(basis.Slice((j * dims) + d, lanes));
                accR = Vector.FusedMultiplyAdd(new Vector<float>(-t[j]), v, accR);
                accW = Vector.FusedMultiplyAdd(new Vector<float>(whitened[j]), v, accW);
            }

            accR.CopyTo(r[d..]);
            accW.CopyTo(w[d..]);
        }

        for (; d < dims; d++)
        {
            var accR = c[d];
            var accW = 0f;
            for (var j = 0; j < k; j++)
            {
                var v = basis[(j * dims) + d];
                accR = MathF.FusedMultiplyAdd(-t[j], v, accR);
                accW = MathF.FusedMultiplyAdd(whitened[j], v, accW);
            }

            r[d] = accR;
            w[d] = accW;
        }

        q = TensorPrimitives.SumOfSquares(r[..dims]);
    }

    /// <summary><c>t_j = V_j · c</c>, four rows per pass so <c>c</c> is loaded once for four multiply-adds.</summary>
    private static void Project(ReadOnlySpan<float> basis, ReadOnlySpan<float> c, int dims, Span<float> t)
    {
        var k = t.Length;
        var j = 0;
        if (dims >= Vector<float>.Count)
        {
            for (; j <= k - 4; j += 4)
            {
                var row0 = basis.Slice(j * dims, dims);
                var row1 = basis.Slice((j + 1) * dims, dims);
                var row2 = basis.Slice((j + 2) * dims, dims);
                var row3 = basis.Slice((j + 3) * dims, dims);
                Vector<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
                var lanes = Vector<float>.Count;
                var d = 0;
                for (; d <= dims - lanes; d += lanes)
                {
                    var x = new Vector<float>(c[d..]);
                    acc0 = Vector.FusedMultiplyAdd(new Vector<float>(row0[d..]), x, acc0);
                    acc1 = Vector.FusedMultiplyAdd(new Vector<float>(row1[d..]), x, acc1);
                    acc2 = Vector.FusedMultiplyAdd(new Vector<float>(row2[d..]), x, acc2);
                    acc3 = Vector.FusedMultiplyAdd(new Vector<float>(row3[d..]), x, acc3);
                }

                float s0 = Vector.Sum(acc0), s1 = Vector.Sum(acc1), s2 = Vector.Sum(acc2), s3 = Vector.Sum(acc3);
                for (; d < dims; d++)
                {
                    s0 += row0[d] * c[d];
                    s1 += row1[d] * c[d];
                    s2 += row2[d] * c[d];
                    s3 += row3[d] * c[d];
                }

                t[j] = s0;
                t[j + 1] = s1;
                t[j + 2] = s2;
                t[j + 3] = s3;
            }
        }

        for (; j < k; j++)
        {
            t[j] = TensorPrimitives.Dot(basis.Slice(j * dims, dims), c);
        }
    }
}
