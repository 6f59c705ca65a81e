using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Quartz;
using TwinGateway.Telemetry.Forwarding;
using TwinGateway.Core.Pipeline;
using TwinGateway.Telemetry.Recording;

namespace TwinGateway.Host.Telemetry;

/// <summary>Wires the flight recorder, the InfluxDB forwarder and their Quartz jobs (forwarding, retention, status log).</summary>
internal static class TelemetryWiring
{
    /// <param name="builder">The gateway's builder.</param>
    /// <param name="time">The gateway's clock: Quartz schedules on it too.</param>
    public static void AddTwinGatewayTelemetry(this WebApplicationBuilder builder, TimeProvider time)
    {
        var services = builder.Services;
        services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.Section).ValidateOnStart();
        services.AddOptions<InfluxForwarderOptions>().BindConfiguration(InfluxForwarderOptions.SectionName);
        services.AddSingleton<IValidateOptions<TelemetryOptions>, TelemetryOptionsValidator>();

        // Opened when first asked for (the gateway service asks at start); a corrupt file is moved aside, so only a
        // folder or file that cannot be opened at all stops the start, with the reason and the path.
        services.AddSingleton(sp => TelemetryRecorder.Open(
            sp.GetRequiredService<IOptions<TelemetryOptions>>().Value.ToRecorderOptions(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("TwinGateway.Telemetry.Recorder")));
        services.AddSingleton(InfluxForwarding.Create);

        // Every line's samples go to the recorder through the line pipeline (a sink that never drops).
        var telemetry = builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        if (telemetry.Record)
        {
            services.AddSingleton<ILineSinkFactory, FlightRecorderSinkFactory>();
        }

        var forwarding = builder.Configuration.GetSection(InfluxForwarderOptions.SectionName).Get<InfluxForwarderOptions>()?.Enabled == true;
        services.AddQuartz(quartz =>
        {
            quartz.UseTimeProvider(time);
            quartz.ScheduleJob<RecorderRetentionJob>(trigger => trigger
                .WithIdentity("recorder-retention")
                .StartAt(time.GetUtcNow().AddMinutes(1))
                .WithSimpleSchedule(s => s.WithInterval(TimeSpan.FromMinutes(telemetry.RetentionCheckMinutes)).RepeatForever()));
            if (forwarding)
            {
                quartz.ScheduleJob<ForwardTelemetryJob>(trigger => trigger
                    .WithIdentity("influx-forward")
                    .StartNow()
                    .WithSimpleSchedule(s => s.WithInterval(TimeSpan.FromSeconds(telemetry.ForwardIntervalSeconds)).RepeatForever()));
                quartz.ScheduleJob<ForwarderStatusLogJob>(trigger => trigger
                    .WithIdentity("influx-status-log")
                    .StartAt(time.GetUtcNow().AddSeconds(telemetry.StatusLogSeconds))
                    .WithSimpleSchedule(s => s.WithInterval(TimeSpan.FromSeconds(telemetry.StatusLogSeconds)).RepeatForever()));
            }
        });
        services.AddQuartzHostedService(options => options.WaitForJobsToComplete = true);
        services.AddHealthChecks().AddCheck<RecorderHealthCheck>("flight-recorder");
    }

}

/// <summary>
/// InfluxDB forwarding, on or off as <c>Telemetry:Influx:Enabled</c> says: the forwarder when it is on, none otherwise.
/// Consumers take this (never a null service) and ask <see cref="Forwarder"/>.
/// </summary>
internal sealed class InfluxForwarding(InfluxForwarder? forwarder) : IDisposable
{
    public static InfluxForwarding Create(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<InfluxForwarderOptions>>().Value;
        return new InfluxForwarding(options.Enabled
            ? new InfluxForwarder(services.GetRequiredService<TelemetryRecorder>(), options, services.GetRequiredService<TimeProvider>(),
                services.GetRequiredService<ILoggerFactory>().CreateLogger("TwinGateway.Telemetry.Forwarder"))
            : null);
    }

    /// <summary>The forwarder; null when forwarding is off.</summary>
    public InfluxForwarder? Forwarder { get; } = forwarder;

    public void Dispose() => Forwarder?.Dispose();
}

/// <summary>Drains the recorder's backlog to InfluxDB; the forwarder itself backs off after failures.</summary>
[DisallowConcurrentExecution]
internal sealed class ForwardTelemetryJob(InfluxForwarding forwarding) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        if (forwarding.Forwarder is { } forwarder)
        {
            await forwarder.ForwardAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>Logs the forwarder's backlog and lag, so an operator sees an outage and its catch-up in the log.</summary>
[DisallowConcurrentExecution]
internal sealed class ForwarderStatusLogJob(InfluxForwarding forwarding) : IJob
{
    public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        forwarding.Forwarder?.LogStatus();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// Deletes samples older than the retention, but never one that InfluxDB has not acknowledged yet: an outage longer
/// than the retention keeps the data until it is forwarded (and the log says so).
/// </summary>
[DisallowConcurrentExecution]
internal sealed partial class RecorderRetentionJob(TelemetryRecorder recorder, InfluxForwarding forwarding, IOptions<TelemetryOptions> options, TimeProvider time, ILogger<RecorderRetentionJob> logger) : IJob
{
    public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow() - TimeSpan.FromDays(options.Value.RetentionDays);
        var limit = forwarding.Forwarder is null ? recorder.LastSeq : recorder.GetHighWater(InfluxForwarder.ConsumerName);
        try
        {
            var deleted = recorder.DeleteBefore(TwinGateway.Telemetry.TelemetryTime.ToUnixNanoseconds(cutoff), limit);
            if (deleted > 0)
            {
                Log.Deleted(logger, deleted, cutoff);
            }

            if (limit < recorder.LastSeq && recorder.CountBefore(TwinGateway.Telemetry.TelemetryTime.ToUnixNanoseconds(cutoff)) is var kept and > 0)
            {
                Log.KeptUnforwarded(logger, kept, cutoff);
            }
        }
        catch (TelemetryStoreException ex)
        {
            Log.Failed(logger, ex.Message);
        }

        return ValueTask.CompletedTask;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5101, Level = LogLevel.Information, Message = "Retention: deleted {Count} samples recorded before {Cutoff:u}")]
        public static partial void Deleted(ILogger logger, long count, DateTimeOffset cutoff);

        [LoggerMessage(EventId = 5102, Level = LogLevel.Warning, Message = "Retention: kept {Count} samples older than {Cutoff:u} because InfluxDB has not acknowledged them yet")]
        public static partial void KeptUnforwarded(ILogger logger, long count, DateTimeOffset cutoff);

        [LoggerMessage(EventId = 5103, Level = LogLevel.Error, Message = "Retention run failed: {Reason}")]
        public static partial void Failed(ILogger logger, string reason);
    }
}

/// <summary>Unhealthy while commits fail (disk full, I/O errors) or the file is gone.</summary>
internal sealed class RecorderHealthCheck(TelemetryRecorder recorder) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = recorder.GetStatus();
        return Task.FromResult(status.Problem is { } problem
            ? HealthCheckResult.Unhealthy(problem)
            : HealthCheckResult.Healthy($"{status.LastSeq} samples recorded"));
    }
}
