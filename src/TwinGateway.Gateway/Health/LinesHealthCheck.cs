using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TwinGateway.Gateway.Health;

/// <summary>
/// The lines' health for the gRPC health service and <c>/healthz</c>: the worst of every line's
/// <see cref="LineHealthReport"/>, Degraded at least while a line file did not load. The description names every reason.
/// </summary>
public sealed class LinesHealthCheck(LineRegistry registry) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var reports = registry.Lines.Select(LineHealthReport.Of).ToList();
        var reasons = reports.SelectMany(r => r.Reasons).Concat(registry.FileProblems.Select(p => $"line file not loaded: {p}")).ToList();
        var status = reports.Select(r => r.Status).Append(registry.FileProblems.Count > 0 ? HealthStatus.Degraded : HealthStatus.Healthy).Min();
        var data = new Dictionary<string, object>
        {
            ["lines"] = registry.Lines.Count,
            ["healthy"] = reports.Count(r => r.Status == HealthStatus.Healthy),
        };
        var result = status switch
        {
            HealthStatus.Unhealthy => HealthCheckResult.Unhealthy(string.Join("; ", reasons), data: data),
            HealthStatus.Degraded => HealthCheckResult.Degraded(string.Join("; ", reasons), data: data),
            _ => HealthCheckResult.Healthy($"{registry.Lines.Count} line(s) connected and recording", data),
        };
        return Task.FromResult(result);
    }
}
