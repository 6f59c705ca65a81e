using TwinGateway.Drift.Models;

namespace TwinGateway.Drift.Tests;

/// <summary>The hand-written backpropagation against central finite differences, in double, on the same generic code training runs in float.</summary>
public sealed class AutoencoderGradientTests
{
    private const double Epsilon = 1e-5;

    /// <summary>Per tensor, ‖analytic − numeric‖ / (‖analytic‖ + ‖numeric‖); well-implemented backprop in double lands near 1e-9.</summary>
    private const double Tolerance = 1e-6;

    [Theory]
    [InlineData(7, 5, 3, 4)]
    [InlineData(12, 8, 2, 1)]
    [InlineData(3, 4, 5, 6)]
    public void Backward_matches_central_differences_for_every_parameter_tensor(int inputs, int hidden, int bottleneck, int batch)
    {
        var (network, x) = SmallNetwork(inputs, hidden, bottleneck, batch, seed: inputs * 31 + batch);
        var analytic = AnalyticGradient(network, x);
        var numeric = NumericGradient(network, x);

        foreach (var (name, offset, length) in Tensors(network))
        {
            var error = RelativeError(analytic.AsSpan(offset, length), numeric.AsSpan(offset, length));
            Assert.True(error < Tolerance, $"{name}: relative error {error:G3} (tolerance {Tolerance:G1})");
            Assert.True(Norm(numeric.AsSpan(offset, length)) > 1e-8, $"{name}: the numeric gradient is 0, the check would prove nothing");
        }
    }

    [Fact]
    public void The_check_rejects_a_gradient_that_is_slightly_wrong()
    {
        var (network, x) = SmallNetwork(7, 5, 3, 4, seed: 5);
        var analytic = AnalyticGradient(network, x);
        var numeric = NumericGradient(network, x);
        foreach (var (name, offset, length) in Tensors(network))
        {
            // A 1 % error in one tensor (a wrong constant factor in a layer's backward pass) must be caught.
            var wrong = analytic.AsSpan(offset, length).ToArray();
            for (var i = 0; i < wrong.Length; i++)
            {
                wrong[i] *= 1.01;
            }

            Assert.True(RelativeError(wrong, numeric.AsSpan(offset, length)) > Tolerance, name);
        }
    }

    private static (AutoencoderNetwork<double> Network, double[] X) SmallNetwork(int inputs, int hidden, int bottleneck, int batch, int seed)
    {
        var random = new Random(seed);
        var network = new AutoencoderNetwork<double>(inputs, hidden, bottleneck);
        network.Initialise(random);

        // Non-zero biases and weights off Glorot's range so every tanh runs away from 0 as well as near it.
        for (var i = 0; i < network.Parameters.Length; i++)
        {
            network.Parameters[i] += 0.3 * AutoencoderSyntheticLine.Gaussian(random);
        }

        var x = new double[batch * inputs];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = AutoencoderSyntheticLine.Gaussian(random);
        }

        return (network, x);
    }

    private static double[] AnalyticGradient(AutoencoderNetwork<double> network, double[] x)
    {
        var rows = x.Length / network.Inputs;
        var gradient = new double[network.Parameters.Length];
        var activations = new double[network.ActivationLength];
        var scratch = new double[network.GradientScratchLength];
        for (var i = 0; i < rows; i++)
        {
            var sample = x.AsSpan(i * network.Inputs, network.Inputs);
            network.Forward(sample, activations);
            network.Backward(sample, activations, 1.0 / (rows * network.Inputs), gradient, scratch);
        }

        return gradient;
    }

    private static double[] NumericGradient(AutoencoderNetwork<double> network, double[] x)
    {
        var activations = new double[network.ActivationLength];
        var p = network.Parameters;
        var gradient = new double[p.Length];
        for (var i = 0; i < p.Length; i++)
        {
            var saved = p[i];
            p[i] = saved + Epsilon;
            var plus = network.Loss(x, activations);
            p[i] = saved - Epsilon;
            var minus = network.Loss(x, activations);
            p[i] = saved;
            gradient[i] = (plus - minus) / (2 * Epsilon);
        }

        return gradient;
    }

    private static IEnumerable<(string Name, int Offset, int Length)> Tensors(AutoencoderNetwork<double> network)
    {
        var names = new[] { "encoder", "bottleneck", "expand", "decoder" };
        for (var l = 0; l < network.Layers.Count; l++)
        {
            var layer = network.Layers[l];
            yield return ($"{names[l]} weights", layer.WeightOffset, layer.WeightLength);
            yield return ($"{names[l]} bias", layer.BiasOffset, layer.Out);
        }
    }

    private static double RelativeError(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        var difference = 0.0;
        for (var i = 0; i < a.Length; i++)
        {
            difference += (a[i] - b[i]) * (a[i] - b[i]);
        }

        return Math.Sqrt(difference) / Math.Max(Norm(a) + Norm(b), 1e-300);
    }

    private static double Norm(ReadOnlySpan<double> values)
    {
        var sum = 0.0;
        foreach (var v in values)
        {
            sum += v * v;
        }

        return Math.Sqrt(sum);
    }
}
