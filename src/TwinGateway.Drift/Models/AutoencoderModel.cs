using System.Collections.Immutable;
using System.Numerics;
using System.Numerics.Tensors;

namespace TwinGateway.Drift.Models;

/// <summary>
/// A small MLP autoencoder over windows: the window is standardised, pooled in time into <see cref="Slots"/> slots,
/// encoded <c>D → H (tanh) → B</c> and decoded <c>B → H (tanh) → D</c> with <c>D = Slots * Features</c>. The raw score is
/// the mean squared reconstruction error of the standardised pooled input; a feature's contribution is its squared
/// error summed over the slots, as a share of the total.
/// </summary>
/// <remarks>
/// Sizes follow fixed rules from the data's shape, never tuned on held-out data: <see cref="SlotsFor"/>,
/// <see cref="HiddenFor"/>, <see cref="BottleneckFor"/>. Pooling keeps live scoring cheap on wide lines: for 200
/// features and a window of 10 the input is 200 values instead of 2,000.
/// </remarks>
public sealed partial class AutoencoderModel : DriftModel
{
    /// <summary>The pooled input's target size: <see cref="SlotsFor"/> keeps <c>Slots * Features</c> at or under it where it can.</summary>
    public const int PooledInputBudget = 256;

    [ThreadStatic]
    private static float[]? t_scratch;

    private readonly float _threshold;
    private readonly float[] _inverseScale;

    internal AutoencoderModel(int window, ImmutableArray<string> features, float[] mean, float[] scale, ModelMetrics metrics, int slots, AutoencoderNetwork<float> network)
        : base(ModelKind.Autoencoder, window, features, mean, scale, metrics)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        if (window % slots != 0 || network.Inputs != slots * features.Length)
        {
            throw new ArgumentException($"{slots} slots do not fit a window of {window} and a network of {network.Inputs} inputs over {features.Length} features");
        }

        Slots = slots;
        Network = network;
        _threshold = (float)metrics.Threshold;
        _inverseScale = InverseOf(scale);
    }

    /// <summary>P: the time slots a window is pooled into (each the mean of <c>Window / P</c> consecutive frames).</summary>
    public int Slots { get; }

    /// <summary>H: the width of the tanh layers.</summary>
    public int Hidden => Network.Hidden;

    /// <summary>B: the bottleneck's width.</summary>
    public int Bottleneck => Network.Bottleneck;

    /// <summary>D = P * Features: the network's input length.</summary>
    public int Inputs => Network.Inputs;

    internal AutoencoderNetwork<float> Network { get; }

    /// <summary>
    /// P: the largest divisor of <paramref name="window"/> not above <c>max(1, 256 / features)</c>. A divisor, so every
    /// slot averages the same number of frames (a slot's error means the same in every slot, and the ONNX graph pools
    /// with one Reshape and ReduceMean); for 200 features that is 1 (the window's mean), for 20 features and a window
    /// of 10 it is 10 (no pooling).
    /// </summary>
    public static int SlotsFor(int window, int features)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(features, 1);
        var most = Math.Min(window, Math.Max(1, PooledInputBudget / features));
        for (var p = most; p > 1; p--)
        {
            if (window % p == 0)
            {
                return p;
            }
        }

        return 1;
    }

    /// <summary>H = clamp(D / 4, 8, 64).</summary>
    public static int HiddenFor(int inputs) => Math.Clamp(inputs / 4, 8, 64);

    /// <summary>B = clamp(D / 16, 2, 16).</summary>
    public static int BottleneckFor(int inputs) => Math.Clamp(inputs / 16, 2, 16);

    /// <inheritdoc/>
    /// <remarks>
    /// One thread scores four windows per network pass with per-thread scratch (no allocation after a thread's first
    /// call); callers scoring a large batch split it across threads themselves. Measured for 200 features and a window
    /// of 10 (P = 1, H = 50, B = 12) on the shared 2-core build machine: 190,000 to 290,000 windows/s on one thread,
    /// 210,000 to 450,000 on two (the spread is the other builds on the machine).
    /// </remarks>
    public override void Score(ReadOnlySpan<float> windows, int count, Span<float> scores, Span<float> contributions)
    {
        var features = Features.Length;
        var length = Window * features;
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (windows.Length < count * length || scores.Length < count || contributions.Length < count * features)
        {
            throw new ArgumentException(
                $"{count} windows need {count * length} values, {count} scores and {count * features} contributions; got {windows.Length}, {scores.Length} and {contributions.Length}");
        }

        var inputs = Inputs;
        var activationLength = Network.ActivationLength;
        const int lanes = AutoencoderNetwork<float>.Lanes;
        var scratch = Scratch(lanes * (inputs + activationLength));
        var pooled = scratch[..(lanes * inputs)];
        var activations = scratch[(lanes * inputs)..];
        var i = 0;
        for (; i <= count - lanes; i += lanes)
        {
            for (var k = 0; k < lanes; k++)
            {
                Pool(windows.Slice((i + k) * length, length), Window, Slots, Mean, _inverseScale, pooled.Slice(k * inputs, inputs));
            }

            Network.ForwardBlock(pooled, activations);
            for (var k = 0; k < lanes; k++)
            {
                var block = activations.Slice(k * activationLength, activationLength);
                Finish(pooled.Slice(k * inputs, inputs), block[^inputs..], out scores[i + k], contributions.Slice((i + k) * features, features));
            }
        }

        for (; i < count; i++)
        {
            var one = pooled[..inputs];
            var block = activations[..activationLength];
            Pool(windows.Slice(i * length, length), Window, Slots, Mean, _inverseScale, one);
            Network.Forward(one, block);
            Finish(one, block[^inputs..], out scores[i], contributions.Slice(i * features, features));
        }
    }

    /// <summary>The score and the shares from one window's pooled input and its reconstruction (overwritten with the squared error).</summary>
    private void Finish(ReadOnlySpan<float> pooled, Span<float> reconstruction, out float score, Span<float> share)
    {
        var features = share.Length;
        TensorPrimitives.Subtract(reconstruction, pooled, reconstruction);
        TensorPrimitives.Multiply(reconstruction, reconstruction, reconstruction);
        score = TensorPrimitives.Sum(reconstruction) / reconstruction.Length / _threshold;

        reconstruction[..features].CopyTo(share);
        for (var s = 1; s < Slots; s++)
        {
            TensorPrimitives.Add(share, reconstruction.Slice(s * features, features), share);
        }

        var total = TensorPrimitives.Sum(share);
        if (total > 0)
        {
            TensorPrimitives.Divide(share, total, share);
        }
        else
        {
            share.Fill(1f / features);
        }
    }

    /// <summary>
    /// Standardises one raw window (<c>window * features</c> values, oldest frame first; NaN = the feature's mean, so 0)
    /// and pools it into <paramref name="pooled"/> (<c>slots * features</c>): slot <c>s</c> is the mean of frames
    /// <c>[s * window / slots, (s + 1) * window / slots)</c>. Standardise first, then pool, in the order the ONNX graph
    /// does (pooling raw values first would cancel badly for a large mean and a small scale).
    /// </summary>
    /// <remarks>
    /// One fused vector pass (subtract, multiply by the reciprocal scale, zero the NaNs, accumulate). Written as four
    /// TensorPrimitives calls per frame (IsNaNAny among them) it cost about 16 µs per window of 200 features x 10 frames
    /// on the shared 2-core build machine, more than the network; fused it reads the window once (3 to 5 µs there,
    /// under a load average above 10, which is mostly memory traffic).
    /// </remarks>
    internal static void Pool(ReadOnlySpan<float> window, int frames, int slots, ReadOnlySpan<float> mean, ReadOnlySpan<float> inverseScale, Span<float> pooled)
    {
        var features = mean.Length;
        var perSlot = frames / slots;
        var lanes = Vector<float>.Count;
        var vectorEnd = features - (features % lanes);
        var toMean = 1f / perSlot;
        for (var s = 0; s < slots; s++)
        {
            var first = s * perSlot * features;
            var slot = pooled.Slice(s * features, features);
            var c = 0;
            for (; c < vectorEnd; c += lanes)
            {
                var m = new Vector<float>(mean[c..]);
                var inverse = new Vector<float>(inverseScale[c..]);
                var sum = Vector<float>.Zero;
                for (var f = 0; f < perSlot; f++)
                {
                    var x = new Vector<float>(window[(first + (f * features) + c)..]);
                    sum += Vector.ConditionalSelect(Vector.IsNaN(x), Vector<float>.Zero, (x - m) * inverse);
                }

                (perSlot > 1 ? sum * toMean : sum).CopyTo(slot[c..]);
            }

            for (; c < features; c++)
            {
                var sum = 0f;
                for (var f = 0; f < perSlot; f++)
                {
                    var x = window[first + (f * features) + c];
                    sum += float.IsNaN(x) ? 0 : (x - mean[c]) * inverseScale[c];
                }

                slot[c] = perSlot > 1 ? sum * toMean : sum;
            }
        }
    }

    /// <summary>1 / scale per feature: the pooling multiplies (a division per value cost more than the whole network).</summary>
    internal static float[] InverseOf(ReadOnlySpan<float> scale)
    {
        var inverse = new float[scale.Length];
        TensorPrimitives.Reciprocal(scale, inverse);
        return inverse;
    }

    private static Span<float> Scratch(int length)
    {
        var scratch = t_scratch;
        if (scratch is null || scratch.Length < length)
        {
            t_scratch = scratch = new float[length];
        }

        return scratch.AsSpan(0, length);
    }
}
