using TwinGateway.Core.Lines;

namespace TwinGateway.Core.Tests;

public sealed class LineModelTests
{
    [Theory]
    [InlineData("ns=1;s=DemoLine.cnc1.spindleSpeed")]
    [InlineData("i=2258")]
    [InlineData("ns=0;i=85")]
    [InlineData("ns=3;g=09087e75-8e5e-499b-954f-f2a9603db28a")]
    [InlineData("ns=4;b=M/RbKBsRVkePCePcx24oRA==")]
    [InlineData("ns=2;s=with;semicolons=and spaces")]
    public void Valid_node_ids(string nodeId) => Assert.Null(NodeIdText.Validate(nodeId));

    [Theory]
    [InlineData("ns=2;x=abc", "unknown identifier type 'x='")]
    [InlineData("ns=70000;s=abc", "the namespace index '70000' is not a number from 0 to 65535")]
    [InlineData("ns=2", "expected ';' after the namespace index")]
    [InlineData("ns=2;i=-1", "a numeric identifier 'i=-1' must be a number")]
    [InlineData("ns=2;s=", "the string identifier after 's=' is empty")]
    [InlineData("ns=2;g=not-a-guid", "a Guid identifier")]
    [InlineData("nsu=urn:demo;s=abc", "'nsu=' names a namespace URI")]
    [InlineData("DemoLine.cnc1.speed", "expected an identifier type")]
    public void Invalid_node_ids_say_why(string nodeId, string reason) =>
        Assert.StartsWith(reason, NodeIdText.Validate(nodeId), StringComparison.Ordinal);

    [Fact]
    public void Distributions_sample_from_the_given_draws()
    {
        Assert.Equal(42, new FixedDistribution(42).Sample(0.3, 0.7));
        Assert.Equal(15, new UniformDistribution(10, 20).Sample(0.5, 0.9));
        Assert.Equal(10 * Math.Log(2), new ExponentialDistribution(10).Sample(0.5, 0), 12);

        // u2 = 0 puts cos at 1: z = sqrt(-2 ln(1 - u1)); u1 = 1 - e^-0.5 gives z = 1.
        var normal = new NormalDistribution(72, 2.5);
        Assert.Equal(74.5, normal.Sample(1 - Math.Exp(-0.5), 0), 9);
        Assert.Equal(72, normal.Mean);
        Assert.Equal(0, new NormalDistribution(1, 10).Sample(1 - Math.Exp(-0.5), 0.5));
    }

    [Fact]
    public void Conditions_combine_and_compare()
    {
        var values = new Dictionary<string, double> { ["a"] = 1, ["b"] = 20, ["c"] = 0 };
        double Read(string id) => values[id];

        var all = new AllCondition([new SignalCondition("a", ComparisonOperator.EqualTo, 1), new SignalCondition("b", ComparisonOperator.Above, 10)]);
        var any = new AnyCondition([new SignalCondition("c", ComparisonOperator.NotEqualTo, 0), new SignalCondition("b", ComparisonOperator.Below, 10)]);
        Assert.True(all.Evaluate(Read));
        Assert.False(any.Evaluate(Read));
        Assert.Equal(["a", "b"], all.Signals);

        var interlock = new InterlockDefinition { Id = "x", When = all, Forbid = new SignalCondition("c", ComparisonOperator.EqualTo, 0) };
        Assert.True(interlock.IsViolated(Read));
    }

    [Fact]
    public void Data_type_values_are_the_opc_ua_built_in_type_ids()
    {
        Assert.Equal(1, (int)SignalDataType.Boolean);
        Assert.Equal(6, (int)SignalDataType.Int32);
        Assert.Equal(11, (int)SignalDataType.Double);
        Assert.Equal(13, (int)SignalDataType.DateTime);
        Assert.True(SignalDataType.Float.IsNumeric());
        Assert.False(SignalDataType.Float.IsInteger());
        Assert.False(SignalDataType.Boolean.IsNumeric());
    }
}
