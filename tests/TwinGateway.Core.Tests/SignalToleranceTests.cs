using TwinGateway.Core.Lines;
using TwinGateway.Core.Twins;

namespace TwinGateway.Core.Tests;

/// <summary>The physics authority's tolerance per signal: read from the definition, or the stated default.</summary>
public sealed class SignalToleranceTests
{
    [Fact]
    public void A_stated_tolerance_is_used_and_a_missing_one_is_five_percent_of_the_nominal_range()
    {
        var stated = Load(LineDefinitionErrorTests.Change("nominalRange: { low: 0, high: 100 }", "nominalRange: { low: 0, high: 100 }\n    tolerance: 2.5"));
        Assert.Equal(2.5, stated.FindSignal("st1.speed")!.Tolerance);
        Assert.Equal(2.5, SignalComparison.Tolerance(stated.FindSignal("st1.speed")!));

        var defaulted = Load(LineDefinitionErrorTests.MiniLine);
        Assert.Null(defaulted.FindSignal("st1.speed")!.Tolerance);
        Assert.Equal(5.0, SignalComparison.Tolerance(defaulted.FindSignal("st1.speed")!), 9);
        // A Boolean state flag: 5 % of the time the two may disagree on average.
        Assert.Equal(0.05, SignalComparison.Tolerance(defaulted.FindSignal("st2.running")!), 9);
    }

    [Theory]
    [InlineData("0", "tolerance 0 must be a positive number (in the signal's unit)")]
    [InlineData("-1", "tolerance -1 must be a positive number (in the signal's unit)")]
    public void A_tolerance_that_is_not_positive_is_refused_with_its_place(string value, string message)
    {
        var yaml = LineDefinitionErrorTests.Change("nominalRange: { low: 0, high: 100 }", "nominalRange: { low: 0, high: 100 }\n    tolerance: " + value);
        var errors = LineDefinitionLoader.Parse(yaml, "mini.yaml").Errors;
        var error = Assert.Single(errors);
        Assert.Equal(message, error.Message);
        Assert.Equal("signals[0].tolerance", error.Path);
        Assert.Equal(19, error.Line);
    }

    [Fact]
    public void A_tolerance_on_a_boolean_is_refused()
    {
        var yaml = LineDefinitionErrorTests.Change("nodeId: ns=2;s=Mini.st2.running", "nodeId: ns=2;s=Mini.st2.running\n    tolerance: 1");
        var error = Assert.Single(LineDefinitionLoader.Parse(yaml, "mini.yaml").Errors);
        Assert.Equal("tolerance applies only to numeric signals; this one is Boolean", error.Message);
    }

    private static LineDefinition Load(string yaml) => LineDefinitionLoader.Parse(yaml, "mini.yaml").GetDefinitionOrThrow();
}
