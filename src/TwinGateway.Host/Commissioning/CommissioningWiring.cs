using Microsoft.Extensions.Options;
using TwinGateway.Commissioning.Gate;
using TwinGateway.Gateway;

namespace TwinGateway.Host.Commissioning;

/// <summary>The commissioning gate's settings (section <c>Commissioning</c>).</summary>
internal sealed class CommissioningOptions
{
    public const string Section = "Commissioning";

    /// <summary>The validation policies' folder (<c>&lt;line&gt;.yaml</c> each); relative: the working directory's, else the one beside the binary.</summary>
    public string ValidationDirectory { get; set; } = "config/validation";

    /// <summary>How often an interrupted apply's recovery checks again for its line's controllers to be connected.</summary>
    public double RecoveryRetrySeconds { get; set; } = 2;
}

/// <summary>Wires the commissioning gate: its records in the data folder, the policies, the gate, the gRPC services, the recovery at start.</summary>
internal static class CommissioningWiring
{
    public static void AddTwinGatewayCommissioning(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<CommissioningOptions>().BindConfiguration(CommissioningOptions.Section);
        builder.Services.AddSingleton<CommissioningStores>();
        builder.Services.AddSingleton(sp => new ValidationPolicies(LineConfiguration.ResolveLinesDirectory(sp.GetRequiredService<IOptions<CommissioningOptions>>().Value.ValidationDirectory)));
        builder.Services.AddSingleton<CommissioningRuntime>();
        builder.Services.AddHostedService<CommissioningStartup>();
    }
}

/// <summary>The gate, built once its records are open.</summary>
internal sealed class CommissioningRuntime(CommissioningStores stores, LineRegistry lines, ValidationPolicies policies, TimeProvider time, ILoggerFactory loggers) : IAsyncDisposable
{
    private readonly SemaphoreSlim _build = new(1, 1);
    private CommissioningGate? _gate;

    public async Task<CommissioningGate> GetGateAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _gate) is { } built)
        {
            return built;
        }

        await _build.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_gate is null)
            {
                var audit = await stores.GetAuditAsync(cancellationToken).ConfigureAwait(false);
                var changes = await stores.GetChangesAsync(cancellationToken).ConfigureAwait(false);
                Volatile.Write(ref _gate, new CommissioningGate(changes, audit, lines, policies, Path.Combine(stores.DataFolder, "changes"), time, loggers));
            }

            return _gate;
        }
        finally
        {
            _build.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_gate is not null)
        {
            await _gate.DisposeAsync().ConfigureAwait(false);
        }

        _build.Dispose();
    }
}

/// <summary>
/// At start: opens the gate (so a damaged record stops nothing but is logged) and finishes every apply a stop or crash
/// interrupted, once the line's controllers are connected.
/// </summary>
internal sealed partial class CommissioningStartup(CommissioningRuntime runtime, ValidationPolicies policies, LineConfiguration lines,
    IOptions<CommissioningOptions> options, ILogger<CommissioningStartup> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A policy with problems stops only its line's changes (the gate refuses them, listing the problems), as a bad
        // line file stops only its line: monitoring the other lines must not depend on a commissioning file.
        foreach (var problem in policies.Check(lines.Lines))
        {
            Log.PolicyProblem(logger, problem);
        }

        try
        {
            var gate = await runtime.GetGateAsync(stoppingToken).ConfigureAwait(false);
            await gate.ReadoptAppliedDefinitionsAsync(stoppingToken).ConfigureAwait(false);
            await gate.RecoverAsync(TimeSpan.FromSeconds(Math.Max(0.1, options.Value.RecoveryRetrySeconds)), stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.StartFailed(logger, ex.Message, ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6121, Level = LogLevel.Warning, Message = "Validation policy problem (changes of this line are refused until it is fixed): {Problem}")]
        public static partial void PolicyProblem(ILogger logger, string problem);

        [LoggerMessage(EventId = 6120, Level = LogLevel.Error, Message = "The commissioning gate could not start or finish an interrupted apply: {Reason}")]
        public static partial void StartFailed(ILogger logger, string reason, Exception exception);
    }
}
