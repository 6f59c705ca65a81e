using TwinGateway.Core.Lines;

namespace TwinGateway.Core.Twins;

/// <summary>
/// Which signals the real line and the twin can be compared on, and on what scale: the rule behind the twin's
/// credibility (before a change) and the verification (after it), so that both measure the same thing.
/// </summary>
public static class SignalComparison
{
    /// <summary>
    /// The width a residual |real - expected| is divided by: the nominal range's for a numeric signal, 1 for a
    /// Boolean; 0 when the signal cannot be compared: the twin does not model it, a numeric signal without a nominal
    /// range, text, or a running total (a part counter counts from when each side started, so they never agree).
    /// </summary>
    public static double Scale(SignalDefinition signal)
    {
        ArgumentNullException.ThrowIfNull(signal);
        if (signal.Model is null || signal.Model is PartCountModel { Counter: not PartCounter.Level })
        {
            return 0;
        }

        if (signal.DataType == SignalDataType.Boolean)
        {
            return 1;
        }

        return signal.DataType.IsNumeric() && signal.NominalRange is { } range && range.High > range.Low ? range.High - range.Low : 0;
    }

    /// <summary>The share of the comparison scale a signal's mean residual may reach when its definition states no tolerance.</summary>
    public const double DefaultToleranceShare = 0.05;

    /// <summary>
    /// The physics authority's tolerance for the signal's mean residual, in its unit: the definition's
    /// <see cref="SignalDefinition.Tolerance"/>, else <see cref="DefaultToleranceShare"/> of <see cref="Scale"/>
    /// (5 % of the nominal range; 0.05 for a Boolean, i.e. the share of time the two may disagree on average);
    /// 0 when the signal cannot be compared.
    /// </summary>
    public static double Tolerance(SignalDefinition signal)
    {
        var scale = Scale(signal);
        return scale <= 0 ? 0 : signal.Tolerance ?? DefaultToleranceShare * scale;
    }

    /// <summary>True when <see cref="Scale"/> is positive.</summary>
    public static bool IsComparable(SignalDefinition signal) => Scale(signal) > 0;
}
