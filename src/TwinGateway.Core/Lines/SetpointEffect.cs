namespace TwinGateway.Core.Lines;

/// <summary>
/// What a setpoint's value does to the line (<c>effects:</c> of a setpoint signal): the one kind so far,
/// <c>cycleTime</c>, scales the cycle time of a station (or of every station) by <see cref="CycleTimeFactor"/>.
/// A station's factor is the product of the factors of every effect that targets it. The twin applies the factor to
/// cycles that start after the value changed; parts in progress keep the time they started with.
/// </summary>
/// <param name="Station">The station whose cycle time scales; null for every station that has a cycle time (<c>cycleTime: all</c>).</param>
/// <param name="Reference">The setpoint value at which the station runs its defined cycle time (above 0): 100 for a
/// speed override in percent, the nominal rpm for a spindle speed.</param>
/// <param name="Share">The fraction of the cycle that scales (above 0, at most 1): the cutting share of a machining
/// cycle scales with the spindle speed, its loading and tool changes do not.</param>
public sealed record SetpointEffect(string? Station, double Reference, double Share)
{
    /// <summary>The word for "every station" in <c>cycleTime: all</c>.</summary>
    public const string AllStations = "all";

    /// <summary>Where the effect was written.</summary>
    public SourceLocation? Source { get; init; }

    /// <summary>True when the effect scales the cycle time of <paramref name="stationId"/>.</summary>
    public bool AppliesTo(string stationId) => Station is null || string.Equals(Station, stationId, StringComparison.Ordinal);

    /// <summary>
    /// The factor on the cycle time at setpoint <paramref name="value"/>: <c>1 + Share * (Reference / value - 1)</c>, so
    /// exactly 1 at the reference, 2 for the scaled share at half the reference. A value at or below 0 (an override of
    /// 0 %, a stopped spindle) gives positive infinity: the station does not process until the value rises again.
    /// </summary>
    public double CycleTimeFactor(double value) =>
        value > 0 ? 1.0 + (Share * ((Reference / value) - 1.0)) : double.PositiveInfinity;
}
