namespace TwinGateway.Core.Pipeline;

/// <summary>
/// One value a controller delivered for a line's signal, with the twin's expected value of the same instant: what
/// flows through a line's pipeline to every sink.
/// </summary>
/// <param name="SignalIndex">The signal's index in the line definition's <c>Signals</c> (sinks keep per-signal state in arrays).</param>
/// <param name="SourceTime">The controller's source timestamp (UTC); <c>default</c> when it sent none.</param>
/// <param name="ServerTime">The server timestamp (UTC).</param>
/// <param name="Value">The value as a number (Booleans 0 and 1); null when the controller sent no usable number.</param>
/// <param name="Status">The OPC UA status code of the value (0 is Good).</param>
/// <param name="Expected">The twin's expected value; null when the twin does not model the signal or has not stepped yet.</param>
public readonly record struct LineSample(int SignalIndex, DateTime SourceTime, DateTime ServerTime, double? Value, uint Status, double? Expected)
{
    /// <summary>The time the sample stands for: the source timestamp, or the server's when the source sent none.</summary>
    public DateTime Time => SourceTime == default ? ServerTime : SourceTime;
}
