using TwinGateway.Commissioning.Validation;

namespace TwinGateway.Commissioning.Tests.Validation;

public sealed class StudentTTests
{
    // Two-sided critical values from published t tables (NIST/SEMATECH e-Handbook, table 1.3.6.7.2), to the table's 3 decimals.
    [Theory]
    [InlineData(0.975, 1, 12.706)]
    [InlineData(0.975, 2, 4.303)]
    [InlineData(0.975, 3, 3.182)]
    [InlineData(0.975, 15, 2.131)]
    [InlineData(0.975, 30, 2.042)]
    [InlineData(0.975, 100, 1.984)]
    [InlineData(0.95, 10, 1.812)]
    [InlineData(0.995, 15, 2.947)]
    [InlineData(0.9, 5, 1.476)]
    [InlineData(0.999, 20, 3.552)]
    public void Quantiles_match_the_published_table(double p, double degreesOfFreedom, double expected)
    {
        Assert.Equal(expected, StudentT.Quantile(p, degreesOfFreedom), 3);
    }

    [Fact]
    public void Quantiles_are_exact_where_a_closed_form_exists()
    {
        // One degree of freedom is the Cauchy distribution: t = tan(pi (p - 1/2)); two: t = (2p - 1) sqrt(2 / (4p(1 - p))).
        foreach (var p in new[] { 0.6, 0.9, 0.975, 0.995 })
        {
            Assert.Equal(Math.Tan(Math.PI * (p - 0.5)), StudentT.Quantile(p, 1), 9);
            Assert.Equal((2 * p - 1) * Math.Sqrt(2 / (4 * p * (1 - p))), StudentT.Quantile(p, 2), 9);
        }
    }

    [Fact]
    public void The_quantile_is_symmetric_and_inverts_the_cdf()
    {
        Assert.Equal(0, StudentT.Quantile(0.5, 7));
        Assert.Equal(-StudentT.Quantile(0.975, 15), StudentT.Quantile(0.025, 15));
        foreach (var df in new[] { 1.0, 3, 15, 200 })
        {
            Assert.Equal(0.975, StudentT.Cdf(StudentT.Quantile(0.975, df), df), 12);
        }

        // Many degrees of freedom approach the normal quantile 1.959964.
        Assert.Equal(1.95996, StudentT.Quantile(0.975, 1e6), 4);
    }

    [Fact]
    public void Log_gamma_matches_factorials()
    {
        Assert.Equal(Math.Log(120), StudentT.LogGamma(6), 12);
        Assert.Equal(0.5 * Math.Log(Math.PI), StudentT.LogGamma(0.5), 12);
    }

    [Fact]
    public void Probabilities_outside_zero_to_one_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => StudentT.Quantile(1, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => StudentT.Quantile(0.9, 0));
    }
}
