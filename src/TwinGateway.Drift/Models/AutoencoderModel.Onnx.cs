using TwinGateway.Drift.Onnx;

namespace TwinGateway.Drift.Models;

public sealed partial class AutoencoderModel
{
    /// <inheritdoc/>
    /// <remarks>
    /// The graph is <see cref="Score"/> step by step: NaN → mean (IsNaN, Where), standardise (Sub, Div), pool
    /// (Reshape to <c>[N, P, W / P, F]</c>, ReduceMean over axis 2), flatten to <c>[N, D]</c>, four Gemm layers with Tanh
    /// after the first and third, the squared error (Sub, Mul), the score (ReduceMean over D, Div by the threshold) and
    /// the contributions (ReduceSum over the slots, Div by the row total; Where gives the uniform share when it is 0).
    /// </remarks>
    public override byte[] ExportOnnx(ModelCard card)
    {
        ArgumentNullException.ThrowIfNull(card);
        var features = Features.Length;
        var graph = new OnnxGraphBuilder("autoencoder");
        graph.FloatInput("window", null, Window, features);
        graph.FloatOutput("score", [null]);
        graph.FloatOutput("contributions", null, features);

        var mean = graph.Constant("mean", Mean, features);
        var scale = graph.Constant("scale", Scale, features);
        var filled = graph.Node("Where", [graph.Node("IsNaN", ["window"]), mean, "window"]);
        var standard = graph.Node("Div", [graph.Node("Sub", [filled, mean]), scale]);
        var slotted = graph.Node("Reshape", [standard, graph.Int64Constant("slotted_shape", -1, Slots, Window / Slots, features)]);
        var pooled = graph.Node("ReduceMean", [slotted], null, ("axes", new long[] { 2 }), ("keepdims", 0L));
        var input = graph.Node("Reshape", [pooled, graph.Int64Constant("input_shape", -1, Inputs)]);

        var h1 = graph.Node("Tanh", [Gemm(graph, Network.Encoder, input)]);
        var z = Gemm(graph, Network.Bottle, h1);
        var h3 = graph.Node("Tanh", [Gemm(graph, Network.Expand, z)]);
        var reconstruction = Gemm(graph, Network.Decoder, h3);

        var error = graph.Node("Sub", [reconstruction, input]);
        var squared = graph.Node("Mul", [error, error]);
        var raw = graph.Node("ReduceMean", [squared], null, ("axes", new long[] { 1 }), ("keepdims", 0L));
        graph.Node("Div", [raw, graph.Constant("threshold", [_threshold])], "score");

        var perSlot = graph.Node("Reshape", [squared, graph.Int64Constant("per_slot_shape", -1, Slots, features)]);
        var perFeature = graph.Node("ReduceSum", [perSlot, graph.Int64Constant("slot_axis", 1)], null, ("keepdims", 0L));
        var total = graph.Node("ReduceSum", [perFeature, graph.Int64Constant("feature_axis", 1)], null, ("keepdims", 1L));
        var isZero = graph.Node("Equal", [total, graph.Constant("zero", [0f])]);
        var one = graph.Constant("one", [1f]);
        var shares = graph.Node("Div", [perFeature, graph.Node("Where", [isZero, one, total])]);
        graph.Node("Where", [isZero, graph.Constant("uniform", [1f / features]), shares], "contributions");
        return graph.Build(card);
    }

    private string Gemm(OnnxGraphBuilder graph, AutoencoderNetwork<float>.Layer layer, string input)
    {
        var parameters = Network.Parameters.AsSpan();
        var weights = layer.InputMajor
            ? graph.Constant("weights", parameters.Slice(layer.WeightOffset, layer.WeightLength), layer.In, layer.Out)
            : graph.Constant("weights", parameters.Slice(layer.WeightOffset, layer.WeightLength), layer.Out, layer.In);
        var bias = graph.Constant("bias", parameters.Slice(layer.BiasOffset, layer.Out), layer.Out);
        return graph.Node("Gemm", [input, weights, bias], null, ("transB", layer.InputMajor ? 0L : 1L));
    }
}
