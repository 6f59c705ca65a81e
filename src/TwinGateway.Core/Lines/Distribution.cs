namespace TwinGateway.Core.Lines;

/// <summary>
/// A distribution of durations in seconds (cycle times). Sampling takes the uniform draws as arguments, so the
/// simulation engine owns its random generator and its determinism; the same draws always give the same value.
/// </summary>
public abstract record Distribution
{
    private protected Distribution()
    {
    }

    /// <summary>The distribution's mean in seconds.</summary>
    public abstract double Mean { get; }

    /// <summary>
    /// Maps two independent uniform draws in [0, 1) to a value of this distribution by inverse transform
    /// (Box-Muller for the normal). Results below 0 are returned as 0: a duration is never negative.
    /// Distributions that need one draw ignore <paramref name="u2"/>.
    /// </summary>
    public abstract double Sample(double u1, double u2);
}

/// <summary>Always <see cref="Value"/> seconds.</summary>
public sealed record FixedDistribution(double Value) : Distribution
{
    public override double Mean => Value;

    public override double Sample(double u1, double u2) => Math.Max(0, Value);
}

/// <summary>Normal with mean <see cref="Mean"/> and standard deviation <see cref="StdDev"/> seconds, cut at 0.</summary>
public sealed record NormalDistribution : Distribution
{
    public NormalDistribution(double mean, double stdDev)
    {
        Mean = mean;
        StdDev = stdDev;
    }

    public override double Mean { get; }

    public double StdDev { get; }

    public override double Sample(double u1, double u2)
    {
        // 1 - u1 lies in (0, 1], so the logarithm is finite.
        var z = Math.Sqrt(-2.0 * Math.Log(1.0 - u1)) * Math.Cos(2.0 * Math.PI * u2);
        return Math.Max(0, Mean + (StdDev * z));
    }
}

/// <summary>Uniform between <see cref="Min"/> and <see cref="Max"/> seconds.</summary>
public sealed record UniformDistribution(double Min, double Max) : Distribution
{
    public override double Mean => (Min + Max) / 2.0;

    public override double Sample(double u1, double u2) => Math.Max(0, Min + (u1 * (Max - Min)));
}

/// <summary>Exponential with mean <see cref="Mean"/> seconds (memoryless arrivals).</summary>
public sealed record ExponentialDistribution : Distribution
{
    public ExponentialDistribution(double mean) => Mean = mean;

    public override double Mean { get; }

    public override double Sample(double u1, double u2) => -Mean * Math.Log(1.0 - u1);
}
