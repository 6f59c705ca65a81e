using Microsoft.Extensions.Diagnostics.HealthChecks;
using TwinGateway.Gateway.Supervision;

namespace TwinGateway.Gateway.Health;

/// <summary>One line's health and every reason for it.</summary>
public sealed record LineHealthReport(HealthStatus Status, IReadOnlyList<string> Reasons)
{
    public string Reason => string.Join("; ", Reasons);

    /// <summary>
    /// Unhealthy when the twin loop or a critical sink (the flight recorder) is failed; Degraded when a controller is
    /// not connected, signals are not monitored, or a sink is failed or behind; Healthy otherwise.
    /// </summary>
    public static LineHealthReport Of(LineRuntime line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var unhealthy = new List<string>();
        var degraded = new List<string>();
        if (line.TwinLoop is { State: ComponentState.Failed } twin)
        {
            unhealthy.Add($"line {line.Id}: the twin loop failed ({twin.Reason})");
        }

        foreach (var link in line.Links)
        {
            if (link.State != LinkState.Connected)
            {
                degraded.Add($"line {line.Id}: controller {link.ControllerId} is {link.State.ToString().ToLowerInvariant()} ({link.Reason})");
            }
            else if (link.Problems.Count > 0)
            {
                degraded.Add($"line {line.Id}: {link.Problems.Count} signal(s) on {link.ControllerId} are not monitored (first: {link.Problems[0].SignalId}: {link.Problems[0].Reason})");
            }
        }

        foreach (var sink in line.Sinks)
        {
            if (sink.Component.State == ComponentState.Failed)
            {
                (sink.Critical ? unhealthy : degraded).Add($"line {line.Id}: sink {sink.Name} failed ({sink.Component.Reason})");
            }
            else if (sink.Problem is { } problem)
            {
                (sink.Critical ? unhealthy : degraded).Add($"line {line.Id}: sink {sink.Name}: {problem}");
            }
            else if (sink.Behind)
            {
                degraded.Add($"line {line.Id}: sink {sink.Name} is behind ({sink.QueuedBatches} of {sink.Capacity} batches queued)");
            }
        }

        var status = unhealthy.Count > 0 ? HealthStatus.Unhealthy : degraded.Count > 0 ? HealthStatus.Degraded : HealthStatus.Healthy;
        return new LineHealthReport(status, [.. unhealthy, .. degraded]);
    }
}
