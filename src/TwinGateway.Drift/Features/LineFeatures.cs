using System.Collections.Immutable;
using TwinGateway.Core.Lines;
using TwinGateway.Core.Twins;

namespace TwinGateway.Drift.Features;

/// <summary>
/// What a drift detector sees of a line: one feature per signal the real line and the twin can be compared on
/// (<see cref="SignalComparison"/>), the residual <c>(real - expected) / scale</c>, named <c>signalId</c>. The same
/// layout turns live samples and recorded ones into frames, so a model trained on the recorder scores the live line
/// the same way.
/// </summary>
public sealed class LineFeatures
{
    private readonly int[] _featureOfSignal;

    private LineFeatures(string line, ImmutableArray<string> names, int[] signalOfFeature, double[] scale, double[] tolerance, int[] featureOfSignal)
    {
        Line = line;
        Names = names;
        SignalOfFeature = signalOfFeature;
        Scales = scale;
        Tolerances = tolerance;
        _featureOfSignal = featureOfSignal;
    }

    public string Line { get; }

    /// <summary>Feature names: the signal ids, in the line definition's order.</summary>
    public ImmutableArray<string> Names { get; }

    public int Count => Names.Length;

    /// <summary>The index in the line definition's <c>Signals</c> of each feature's signal.</summary>
    public IReadOnlyList<int> SignalOfFeature { get; }

    /// <summary>Each feature's comparison scale (the signal's unit per 1.0 of residual).</summary>
    public IReadOnlyList<double> Scales { get; }

    /// <summary>Each feature's physics tolerance, in the signal's unit (<see cref="SignalComparison.Tolerance"/>).</summary>
    public IReadOnlyList<double> Tolerances { get; }

    /// <summary>The feature of a signal (by its index in the definition), or -1 when the signal is not compared.</summary>
    public int FeatureOf(int signalIndex) => (uint)signalIndex < (uint)_featureOfSignal.Length ? _featureOfSignal[signalIndex] : -1;

    public static LineFeatures For(LineDefinition line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var names = ImmutableArray.CreateBuilder<string>();
        var signals = new List<int>();
        var scales = new List<double>();
        var tolerances = new List<double>();
        var featureOf = new int[line.Signals.Length];
        for (var i = 0; i < line.Signals.Length; i++)
        {
            var signal = line.Signals[i];
            var scale = SignalComparison.Scale(signal);
            if (scale > 0)
            {
                featureOf[i] = names.Count;
                names.Add(signal.Id);
                signals.Add(i);
                scales.Add(scale);
                tolerances.Add(SignalComparison.Tolerance(signal));
            }
            else
            {
                featureOf[i] = -1;
            }
        }

        return new LineFeatures(line.Id, names.ToImmutable(), [.. signals], [.. scales], [.. tolerances], featureOf);
    }
}
