using TwinGateway.Core.Lines;

namespace TwinGateway.Core.Pipeline;

/// <summary>What a sink's queue does when the sink falls behind the line.</summary>
public enum SinkOverflow
{
    /// <summary>The controller links wait for room: nothing is ever dropped (the flight recorder).</summary>
    Wait,

    /// <summary>The oldest queued batch is dropped and counted; the line never waits (live watchers, displays).</summary>
    DropOldest,
}

/// <summary>
/// A consumer of a line's samples, registered with the host (a new consumer never edits the pipeline). The pipeline
/// creates one <see cref="ILineSink"/> per line, gives it its own bounded queue with the declared
/// <see cref="Overflow"/> rule, and supervises it: a sink that throws is disposed, created again after a backoff and
/// given the sample it failed on again.
/// </summary>
public interface ILineSinkFactory
{
    /// <summary>Name shown in the line's state and health (for example <c>flight-recorder</c>).</summary>
    string Name { get; }

    SinkOverflow Overflow { get; }

    /// <summary>
    /// True when the line cannot be trusted without this sink (the recorder): while it is failed the gateway reports
    /// Unhealthy; a failed non-critical sink makes it Degraded.
    /// </summary>
    bool Critical { get; }

    /// <summary>Batches the sink's queue holds before <see cref="Overflow"/> applies.</summary>
    int QueueCapacity => 1024;

    /// <summary>
    /// A problem of what stands behind the sink that does not make it throw (the recorder's commits failing while it
    /// keeps the samples in memory): shown with the sink and counted in the health like a failure; null when fine.
    /// </summary>
    string? Problem => null;

    ILineSink Create(LineDefinition line);
}

/// <summary>One sink of one line. Called by one task at a time, in the order the line produced the samples.</summary>
public interface ILineSink
{
    /// <summary>Takes one sample. May block while the sink applies back-pressure; a throw fails (and restarts) the sink.</summary>
    void Write(in LineSample sample);
}
