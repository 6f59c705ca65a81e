using TwinGateway.Core.Lines;
using TwinGateway.Core.Pipeline;

namespace TwinGateway.Telemetry.Recording;

/// <summary>
/// The flight recorder as a sink of every line's pipeline: each sample, with the twin's value of the same instant,
/// appended to the recorder. It never drops: when the recorder's pending samples are full, <see cref="TelemetryRecorder.Append(in TelemetrySample)"/>
/// waits, the sink's queue fills and the controller links wait. While it is failed the gateway is Unhealthy.
/// </summary>
public sealed class FlightRecorderSinkFactory(TelemetryRecorder recorder) : ILineSinkFactory
{
    public const string SinkName = "flight-recorder";

    public string Name => SinkName;

    public SinkOverflow Overflow => SinkOverflow.Wait;

    public bool Critical => true;

    public string? Problem => recorder.GetStatus().Problem;

    public ILineSink Create(LineDefinition line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var series = new TelemetrySeries[line.Signals.Length];
        for (var i = 0; i < series.Length; i++)
        {
            var signal = line.Signals[i];
            series[i] = recorder.GetSeries(line.Id, signal.Id, signal.StationId);
        }

        return new Sink(recorder, series);
    }

    private sealed class Sink(TelemetryRecorder recorder, TelemetrySeries[] series) : ILineSink
    {
        public void Write(in LineSample sample) => recorder.Append(new TelemetrySample(
            series[sample.SignalIndex],
            TelemetryTime.ToUnixNanoseconds(sample.Time),
            TelemetryTime.ToUnixNanoseconds(sample.ServerTime),
            sample.Value,
            sample.Status,
            sample.Expected));
    }
}
