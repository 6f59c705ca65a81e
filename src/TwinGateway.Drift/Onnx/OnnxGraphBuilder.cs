using Google.Protobuf;
using Onnx;
using TwinGateway.Drift.Models;

namespace TwinGateway.Drift.Onnx;

/// <summary>
/// Builds one standard ONNX model (opset 17, IR 8) with OnnxSharp's protobuf types: the scoring graph every model kind
/// exports. Names are unique per builder (<see cref="Name"/>); constants become initializers.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    /// <summary>The opset the graphs use: 17 has LayerNormalization and every op the models need, and ONNX Runtime 1.32 runs it.</summary>
    public const int Opset = 17;

    private readonly GraphProto _graph;
    private int _next;

    public OnnxGraphBuilder(string graphName)
    {
        _graph = new GraphProto { Name = graphName };
    }

    /// <summary>A fresh value name starting with <paramref name="hint"/>.</summary>
    public string Name(string hint) => $"{hint}_{_next++}";

    /// <summary>Declares a float input; a null dimension is symbolic (the batch <c>N</c>).</summary>
    public void FloatInput(string name, params long?[] dims) => _graph.Input.Add(ValueInfo(name, dims));

    /// <summary>Declares a float output.</summary>
    public void FloatOutput(string name, params long?[] dims) => _graph.Output.Add(ValueInfo(name, dims));

    /// <summary>A float constant of the given shape (row-major values).</summary>
    public string Constant(string hint, ReadOnlySpan<float> values, params long[] dims)
    {
        var name = Name(hint);
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        tensor.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values));
        _graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>An int64 constant (shapes and axes).</summary>
    public string Int64Constant(string hint, params long[] values)
    {
        var name = Name(hint);
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(values.Length);
        tensor.Int64Data.AddRange(values);
        _graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>Adds a node with one output, named from <paramref name="output"/> when given, else fresh; returns the output's name.</summary>
    public string Node(string opType, string[] inputs, string? output = null, params (string Name, object Value)[] attributes)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        output ??= Name(opType.ToLowerInvariant());
        var node = new NodeProto { OpType = opType, Name = Name("n_" + opType) };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        foreach (var (name, value) in attributes)
        {
            node.Attribute.Add(Attribute(name, value));
        }

        _graph.Node.Add(node);
        return output;
    }

    /// <summary>
    /// The contract's contributions from non-negative per-feature amounts <paramref name="amounts"/> <c>[N, features]</c>:
    /// each row divided by its sum, or <c>1 / features</c> everywhere where the sum is 0. Writes <paramref name="output"/>.
    /// </summary>
    public string Contributions(string amounts, int features, string output)
    {
        var total = Node("ReduceSum", [amounts, Int64Constant("contributions_axis", 1)], null, ("keepdims", 1L));
        var shares = Node("Div", [amounts, Node("Max", [total, Constant("contributions_floor", [1e-30f])])]);

        // shares + uniform * (total > 0 ? 0 : 1): where the total is 0 every amount is 0, so this is the uniform row.
        // Arithmetic instead of a Where, whose broadcasting path in ONNX Runtime is several times slower.
        var zero = Node("Cast", [Node("LessOrEqual", [total, Constant("zero", [0f])])], null, ("to", (long)TensorProto.Types.DataType.Float));
        var uniform = new float[features];
        Array.Fill(uniform, 1f / features);
        return Node("Add", [shares, Node("Mul", [zero, Constant("uniform", uniform, features)])], output);
    }

    /// <summary>The finished model with the card and its plain keys in metadata_props, serialised.</summary>
    public byte[] Build(ModelCard card)
    {
        ArgumentNullException.ThrowIfNull(card);
        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "TwinGateway",
            ProducerVersion = typeof(OnnxGraphBuilder).Assembly.GetName().Version?.ToString() ?? "0",
            Domain = "twingateway.drift",
            ModelVersion = long.TryParse(card.Version, out var v) ? v : 0,
            DocString = $"{card.Kind} drift model for line '{card.Line}' version {card.Version}",
            Graph = _graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        model.MetadataProps.Add(new StringStringEntryProto { Key = ModelCard.MetadataKey, Value = card.ToJson() });
        foreach (var (key, value) in card.PlainMetadata())
        {
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        }

        return model.ToByteArray();
    }

    private static ValueInfoProto ValueInfo(string name, long?[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
        {
            shape.Dim.Add(dim is { } d ? new TensorShapeProto.Types.Dimension { DimValue = d } : new TensorShapeProto.Types.Dimension { DimParam = "N" });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    private static AttributeProto Attribute(string name, object value) => value switch
    {
        long l => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = l },
        int i => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = i },
        float f => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = f },
        string s => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(s) },
        long[] ls => Ints(name, ls),
        _ => throw new ArgumentException($"attribute '{name}': unsupported type {value?.GetType().Name}", nameof(value)),
    };

    private static AttributeProto Ints(string name, long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }
}
