using System.Numerics;
using System.Numerics.Tensors;

namespace TwinGateway.Drift.Models;

/// <summary>
/// The autoencoder's MLP: <c>D → H (tanh) → B (linear bottleneck) → H (tanh) → D (linear)</c>, every parameter in one
/// flat array (so Adam and the gradient check walk one span). Generic over the element type so that the gradient check
/// runs, in double, exactly the code that training and scoring run in float.
/// </summary>
/// <remarks>
/// The two wide layers are laid out so that both directions are contiguous loops: the encoder's input layer keeps
/// its weights output-major (<c>[H, D]</c>: one dot product of length D per hidden unit forward, one axpy of length D
/// per hidden unit for the weight gradient), the decoder's output layer keeps them input-major (<c>[H, D]</c> as well:
/// one axpy of length D per hidden unit forward, one dot product of length D per hidden unit backward). No loop runs
/// over a strided column.
/// </remarks>
internal sealed class AutoencoderNetwork<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The samples <see cref="ForwardBlock"/> runs at once.</summary>
    public const int Lanes = 4;

    public AutoencoderNetwork(int inputs, int hidden, int bottleneck)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hidden, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(bottleneck, 1);
        Inputs = inputs;
        Hidden = hidden;
        Bottleneck = bottleneck;
        var offset = 0;
        Encoder = Layer.Create(ref offset, inputs, hidden, inputMajor: false);
        Bottle = Layer.Create(ref offset, hidden, bottleneck, inputMajor: false);
        Expand = Layer.Create(ref offset, bottleneck, hidden, inputMajor: false);
        Decoder = Layer.Create(ref offset, hidden, inputs, inputMajor: true);
        Parameters = new T[offset];
    }

    /// <summary>D: the pooled, standardised input's length.</summary>
    public int Inputs { get; }

    /// <summary>H: the width of both tanh layers.</summary>
    public int Hidden { get; }

    /// <summary>B: the bottleneck's width.</summary>
    public int Bottleneck { get; }

    /// <summary>D → H (tanh).</summary>
    public Layer Encoder { get; }

    /// <summary>H → B (linear).</summary>
    public Layer Bottle { get; }

    /// <summary>B → H (tanh).</summary>
    public Layer Expand { get; }

    /// <summary>H → D (linear), weights input-major.</summary>
    public Layer Decoder { get; }

    /// <summary>All weights and biases, layer by layer (weights, then bias).</summary>
    public T[] Parameters { get; }

    /// <summary>The four layers in order (for the export, the gradient check and the initialisation).</summary>
    public IReadOnlyList<Layer> Layers => [Encoder, Bottle, Expand, Decoder];

    /// <summary>The per-sample scratch <see cref="Forward"/> and <see cref="Backward"/> need: <c>2H + B</c> activations and the output <c>D</c>.</summary>
    public int ActivationLength => (2 * Hidden) + Bottleneck + Inputs;

    /// <summary>The per-sample scratch <see cref="Backward"/> needs on top of the activations.</summary>
    public int GradientScratchLength => Inputs + (2 * Hidden) + Bottleneck;

    /// <summary>Glorot/Xavier uniform weights, <c>U(-a, a)</c> with <c>a = sqrt(6 / (in + out))</c>; zero biases.</summary>
    public void Initialise(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var p = Parameters.AsSpan();
        p.Clear();
        foreach (var layer in Layers)
        {
            var a = Math.Sqrt(6.0 / (layer.In + layer.Out));
            foreach (ref var w in p.Slice(layer.WeightOffset, layer.WeightLength))
            {
                w = T.CreateChecked(((2 * random.NextDouble()) - 1) * a);
            }
        }
    }

    /// <summary>
    /// One sample forward: <paramref name="activations"/> (<see cref="ActivationLength"/>) receives <c>h1 | z | h3 | y</c>.
    /// </summary>
    public void Forward(ReadOnlySpan<T> x, Span<T> activations)
    {
        var h1 = activations[..Hidden];
        var z = activations.Slice(Hidden, Bottleneck);
        var h3 = activations.Slice(Hidden + Bottleneck, Hidden);
        var y = activations.Slice((2 * Hidden) + Bottleneck, Inputs);
        Dense(Encoder, x, h1);
        TensorPrimitives.Tanh(h1, h1);
        Dense(Bottle, h1, z);
        Dense(Expand, z, h3);
        TensorPrimitives.Tanh(h3, h3);
        Dense(Decoder, h3, y);
    }

    /// <summary>
    /// <see cref="Forward"/> for <see cref="Lanes"/> samples at once (the scoring path): <paramref name="x"/> holds them
    /// back to back, <paramref name="activations"/> holds <see cref="Lanes"/> activation blocks of
    /// <see cref="ActivationLength"/>. Every weight is loaded once per four samples instead of once per sample.
    /// </summary>
    public void ForwardBlock(ReadOnlySpan<T> x, Span<T> activations)
    {
        var a = ActivationLength;
        var h1 = Hidden + Bottleneck;
        var y = (2 * Hidden) + Bottleneck;
        OutputMajorBlock(Encoder, x, Inputs, 0, activations, 0);
        TanhBlock(activations, 0, Hidden);
        OutputMajorBlock(Bottle, activations, a, 0, activations, Hidden);
        OutputMajorBlock(Expand, activations, a, Hidden, activations, h1);
        TanhBlock(activations, h1, Hidden);

        // Decoder, input-major: four accumulators per vector of outputs, each weight vector loaded once.
        var p = Parameters.AsSpan();
        var weights = p.Slice(Decoder.WeightOffset, Decoder.WeightLength);
        var bias = p.Slice(Decoder.BiasOffset, Inputs);
        var lanes = Vector<T>.Count;
        var c = 0;
        for (; c <= Inputs - lanes; c += lanes)
        {
            var b = new Vector<T>(bias[c..]);
            var (y0, y1, y2, y3) = (b, b, b, b);
            for (var j = 0; j < Hidden; j++)
            {
                var w = new Vector<T>(weights[((j * Inputs) + c)..]);
                y0 += w * activations[h1 + j];
                y1 += w * activations[a + h1 + j];
                y2 += w * activations[(2 * a) + h1 + j];
                y3 += w * activations[(3 * a) + h1 + j];
            }

            y0.CopyTo(activations[(y + c)..]);
            y1.CopyTo(activations[(a + y + c)..]);
            y2.CopyTo(activations[((2 * a) + y + c)..]);
            y3.CopyTo(activations[((3 * a) + y + c)..]);
        }

        for (; c < Inputs; c++)
        {
            for (var k = 0; k < Lanes; k++)
            {
                var sum = bias[c];
                for (var j = 0; j < Hidden; j++)
                {
                    sum += weights[(j * Inputs) + c] * activations[(k * a) + h1 + j];
                }

                activations[(k * a) + y + c] = sum;
            }
        }
    }

    /// <summary>
    /// An output-major layer over <see cref="Lanes"/> samples: sample <c>k</c>'s input starts at
    /// <c>k * inputStride + inputOffset</c>, its output at <c>k * ActivationLength + outputOffset</c>.
    /// </summary>
    private void OutputMajorBlock(Layer layer, ReadOnlySpan<T> input, int inputStride, int inputOffset, Span<T> activations, int outputOffset)
    {
        var p = Parameters.AsSpan();
        var weights = p.Slice(layer.WeightOffset, layer.WeightLength);
        var bias = p.Slice(layer.BiasOffset, layer.Out);
        var a = ActivationLength;
        var n = layer.In;
        var x0 = input.Slice(inputOffset, n);
        var x1 = input.Slice(inputStride + inputOffset, n);
        var x2 = input.Slice((2 * inputStride) + inputOffset, n);
        var x3 = input.Slice((3 * inputStride) + inputOffset, n);
        var lanes = Vector<T>.Count;
        for (var o = 0; o < layer.Out; o++)
        {
            var row = weights.Slice(o * n, n);
            var (s0, s1, s2, s3) = (Vector<T>.Zero, Vector<T>.Zero, Vector<T>.Zero, Vector<T>.Zero);
            var i = 0;
            for (; i <= n - lanes; i += lanes)
            {
                var w = new Vector<T>(row[i..]);
                s0 += w * new Vector<T>(x0[i..]);
                s1 += w * new Vector<T>(x1[i..]);
                s2 += w * new Vector<T>(x2[i..]);
                s3 += w * new Vector<T>(x3[i..]);
            }

            var (d0, d1, d2, d3) = (Vector.Sum(s0), Vector.Sum(s1), Vector.Sum(s2), Vector.Sum(s3));
            for (; i < n; i++)
            {
                d0 += row[i] * x0[i];
                d1 += row[i] * x1[i];
                d2 += row[i] * x2[i];
                d3 += row[i] * x3[i];
            }

            activations[outputOffset + o] = bias[o] + d0;
            activations[a + outputOffset + o] = bias[o] + d1;
            activations[(2 * a) + outputOffset + o] = bias[o] + d2;
            activations[(3 * a) + outputOffset + o] = bias[o] + d3;
        }
    }

    private void TanhBlock(Span<T> activations, int offset, int length)
    {
        for (var k = 0; k < Lanes; k++)
        {
            var values = activations.Slice((k * ActivationLength) + offset, length);
            TensorPrimitives.Tanh(values, values);
        }
    }

    /// <summary>
    /// Squared reconstruction error of one sample after <see cref="Forward"/>, and its gradient added into
    /// <paramref name="gradient"/> (same layout as <see cref="Parameters"/>) with the loss scaled by
    /// <paramref name="lossScale"/> (<c>1 / (batch * D)</c> for the batch mean). Returns the unscaled squared error sum.
    /// </summary>
    public T Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> activations, T lossScale, Span<T> gradient, Span<T> scratch)
    {
        var h1 = activations[..Hidden];
        var z = activations.Slice(Hidden, Bottleneck);
        var h3 = activations.Slice(Hidden + Bottleneck, Hidden);
        var y = activations.Slice((2 * Hidden) + Bottleneck, Inputs);
        var dy = scratch[..Inputs];
        var dh3 = scratch.Slice(Inputs, Hidden);
        var dz = scratch.Slice(Inputs + Hidden, Bottleneck);
        var dh1 = scratch.Slice(Inputs + Hidden + Bottleneck, Hidden);
        var p = Parameters.AsSpan();

        // dL/dy = 2 (y - x) * scale; the error sum is (y - x)·(y - x).
        TensorPrimitives.Subtract(y, x, dy);
        var error = TensorPrimitives.Dot<T>(dy, dy);
        TensorPrimitives.Multiply(dy, (T.One + T.One) * lossScale, dy);

        // Decoder (input-major [H, D]): dW[j, :] += h3[j] dy; dh3[j] = W[j, :]·dy.
        var decoderWeights = p.Slice(Decoder.WeightOffset, Decoder.WeightLength);
        var decoderGradient = gradient.Slice(Decoder.WeightOffset, Decoder.WeightLength);
        for (var j = 0; j < Hidden; j++)
        {
            var row = decoderGradient.Slice(j * Inputs, Inputs);
            TensorPrimitives.MultiplyAdd(dy, h3[j], row, row);
            dh3[j] = TensorPrimitives.Dot<T>(decoderWeights.Slice(j * Inputs, Inputs), dy);
        }

        AddTo(gradient.Slice(Decoder.BiasOffset, Inputs), dy);
        TanhBackward(dh3, h3);
        OutputMajorBackward(Expand, z, dh3, gradient, dz);
        OutputMajorBackward(Bottle, h1, dz, gradient, dh1);
        TanhBackward(dh1, h1);
        OutputMajorBackward(Encoder, x, dh1, gradient, default);
        return error;
    }

    /// <summary>Mean squared reconstruction error over rows of <paramref name="inputs"/> (each <see cref="Inputs"/> long), in double.</summary>
    public double Loss(ReadOnlySpan<T> inputs, Span<T> activations)
    {
        var rows = inputs.Length / Inputs;
        var y = activations.Slice((2 * Hidden) + Bottleneck, Inputs);
        var sum = 0.0;
        for (var i = 0; i < rows; i++)
        {
            var x = inputs.Slice(i * Inputs, Inputs);
            Forward(x, activations);
            TensorPrimitives.Subtract(y, x, y);
            sum += double.CreateChecked(TensorPrimitives.Dot<T>(y, y));
        }

        return rows == 0 ? 0 : sum / ((double)rows * Inputs);
    }

    private void Dense(Layer layer, ReadOnlySpan<T> input, Span<T> output)
    {
        var p = Parameters.AsSpan();
        var weights = p.Slice(layer.WeightOffset, layer.WeightLength);
        p.Slice(layer.BiasOffset, layer.Out).CopyTo(output);
        if (layer.InputMajor)
        {
            for (var i = 0; i < layer.In; i++)
            {
                TensorPrimitives.MultiplyAdd(weights.Slice(i * layer.Out, layer.Out), input[i], output, output);
            }
        }
        else
        {
            for (var o = 0; o < layer.Out; o++)
            {
                output[o] += TensorPrimitives.Dot<T>(weights.Slice(o * layer.In, layer.In), input);
            }
        }
    }

    /// <summary>An output-major layer backward: <c>dW[o, :] += d[o] input</c>, <c>db += d</c>, <c>dInput = Wᵀ d</c> (skipped when empty).</summary>
    private void OutputMajorBackward(Layer layer, ReadOnlySpan<T> input, ReadOnlySpan<T> delta, Span<T> gradient, Span<T> inputDelta)
    {
        var weights = Parameters.AsSpan(layer.WeightOffset, layer.WeightLength);
        var weightGradient = gradient.Slice(layer.WeightOffset, layer.WeightLength);
        inputDelta.Clear();
        for (var o = 0; o < layer.Out; o++)
        {
            var row = weightGradient.Slice(o * layer.In, layer.In);
            TensorPrimitives.MultiplyAdd(input, delta[o], row, row);
            if (!inputDelta.IsEmpty)
            {
                TensorPrimitives.MultiplyAdd(weights.Slice(o * layer.In, layer.In), delta[o], inputDelta, inputDelta);
            }
        }

        AddTo(gradient.Slice(layer.BiasOffset, layer.Out), delta);
    }

    /// <summary><c>d *= 1 - h²</c> (h = tanh of the pre-activation).</summary>
    private static void TanhBackward(Span<T> delta, ReadOnlySpan<T> h)
    {
        for (var i = 0; i < delta.Length; i++)
        {
            delta[i] *= T.One - (h[i] * h[i]);
        }
    }

    private static void AddTo(Span<T> destination, ReadOnlySpan<T> values) => TensorPrimitives.Add(destination, values, destination);

    /// <summary>Where one dense layer's weights and bias sit in <see cref="Parameters"/>.</summary>
    /// <param name="In">Inputs.</param>
    /// <param name="Out">Outputs.</param>
    /// <param name="WeightOffset">The weights' first index.</param>
    /// <param name="BiasOffset">The bias's first index (right after the weights).</param>
    /// <param name="InputMajor">Weights stored <c>[In, Out]</c> (else <c>[Out, In]</c>).</param>
    internal readonly record struct Layer(int In, int Out, int WeightOffset, int BiasOffset, bool InputMajor)
    {
        public int WeightLength => In * Out;

        public static Layer Create(ref int offset, int inputs, int outputs, bool inputMajor)
        {
            var layer = new Layer(inputs, outputs, offset, offset + (inputs * outputs), inputMajor);
            offset = layer.BiasOffset + outputs;
            return layer;
        }
    }
}
