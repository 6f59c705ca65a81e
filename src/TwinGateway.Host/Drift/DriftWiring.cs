using Microsoft.Extensions.Options;
using Quartz;
using TwinGateway.Core.Pipeline;
using TwinGateway.Drift.Models;
using TwinGateway.Gateway;

namespace TwinGateway.Host.Drift;

/// <summary>Wires drift detection: its settings, the runtime, the detector as a sink of every line, the candidate training job.</summary>
internal static class DriftWiring
{
    public static void AddTwinGatewayDrift(this WebApplicationBuilder builder, TimeProvider time)
    {
        var services = builder.Services;
        services.AddOptions<DriftOptions>().BindConfiguration(DriftOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DriftOptions>, DriftOptionsValidator>();
        services.AddSingleton<DriftRuntime>();
        var drift = builder.Configuration.GetSection(DriftOptions.Section).Get<DriftOptions>() ?? new DriftOptions();
        if (drift.Enabled)
        {
            services.AddSingleton<ILineSinkFactory>(sp => sp.GetRequiredService<DriftRuntime>().Monitor);
        }

        if (!string.IsNullOrWhiteSpace(drift.CandidateSchedule) && DriftOptions.IsCron(drift.CandidateSchedule))
        {
            services.AddQuartz(quartz =>
            {
                quartz.UseTimeProvider(time);
                quartz.ScheduleJob<CandidateTrainingJob>(trigger => trigger
                    .WithIdentity("drift-candidate-training")
                    .WithCronSchedule(drift.CandidateSchedule));
            });
        }
    }
}

internal sealed class DriftOptionsValidator : IValidateOptions<DriftOptions>
{
    public ValidateOptionsResult Validate(string? name, DriftOptions options)
    {
        var problems = options.Problems();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}

/// <summary>
/// Trains a candidate model for every line on the last <see cref="DriftOptions.CandidateHours"/> of recorded data and
/// registers it. It never activates one: that is a person's decision (<c>twingw drift activate</c>), audited.
/// </summary>
[DisallowConcurrentExecution]
internal sealed partial class CandidateTrainingJob(DriftRuntime drift, LineConfiguration lines, TimeProvider time, ILogger<CandidateTrainingJob> logger) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var to = time.GetUtcNow();
        var from = to - TimeSpan.FromHours(drift.Options.CandidateHours);
        foreach (var line in lines.Lines)
        {
            try
            {
                var model = await drift.TrainAsync(line.Id, from, to, kind: null, by: "scheduler", activate: false, progress: null, cancellationToken).ConfigureAwait(false);
                Log.Candidate(logger, line.Id, model.Version, DriftTrainers.Name(model.Card.Kind));
            }
            catch (Exception ex) when (ex is ArgumentException or KeyNotFoundException or TwinGateway.Drift.Registry.ModelRegistryException)
            {
                Log.CandidateFailed(logger, line.Id, ex.Message);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7111, Level = LogLevel.Information, Message = "Candidate drift model {Version} ({Kind}) registered for line {Line}; it is not active until someone activates it")]
        public static partial void Candidate(ILogger logger, string line, string version, string kind);

        [LoggerMessage(EventId = 7112, Level = LogLevel.Warning, Message = "No candidate drift model for line {Line}: {Reason}")]
        public static partial void CandidateFailed(ILogger logger, string line, string reason);
    }
}
