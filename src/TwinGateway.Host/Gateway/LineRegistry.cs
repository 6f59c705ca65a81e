using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TwinGateway.Core.Lines;
using TwinGateway.Host.Telemetry;
using TwinGateway.Telemetry.Recording;

namespace TwinGateway.Host.Gateway;

/// <summary>The lines this gateway runs, loaded from the line definition folder at start.</summary>
public sealed class LineRegistry
{
    private readonly Dictionary<string, LineRuntime> _lines = new(StringComparer.Ordinal);

    public IReadOnlyCollection<LineRuntime> Lines => _lines.Values;

    public bool TryGet(string id, out LineRuntime line) => _lines.TryGetValue(id, out line!);

    internal void Add(LineRuntime line) => _lines.Add(line.Id, line);
}

/// <summary>
/// Loads the line definitions, starts the simulated PLCs (embedded default) and one <see cref="LineRuntime"/> per line
/// once the host has started, and stops them with it. A bad definition folder stops the start with every problem listed.
/// </summary>
internal sealed partial class GatewayService(
    LineRegistry registry,
    IOptions<GatewayOptions> options,
    IControllerSimulator simulator,
    TimeProvider time,
    ILoggerFactory loggers,
    IHostApplicationLifetime lifetime,
    TelemetryRecorder recorder,
    IOptions<TelemetryOptions> telemetry) : IHostedService
{
    private readonly ILogger _logger = loggers.CreateLogger("TwinGateway.Gateway");
    private readonly List<IAsyncDisposable> _simulators = [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var directory = Path.IsPathRooted(settings.LinesDirectory) ? settings.LinesDirectory : Path.Combine(AppContext.BaseDirectory, settings.LinesDirectory);
        if (!Directory.Exists(directory) && !Path.IsPathRooted(settings.LinesDirectory) && Directory.Exists(settings.LinesDirectory))
        {
            directory = Path.GetFullPath(settings.LinesDirectory);
        }

        var lines = LineDefinitionLoader.LoadDirectory(directory).GetLinesOrThrow();
        if (lines.Length == 0)
        {
            Log.NoLines(_logger, directory);
        }

        foreach (var line in lines)
        {
            if (settings.SimulateControllers)
            {
                foreach (var controller in line.Controllers)
                {
                    if (await simulator.StartAsync(line, controller, settings.SimulatorSeed, cancellationToken).ConfigureAwait(false) is { } running)
                    {
                        _simulators.Add(running);
                        Log.Simulating(_logger, line.Id, controller.Id, controller.EndpointUrl);
                    }
                }
            }

            registry.Add(new LineRuntime(line, settings, time, loggers, telemetry.Value.Record ? recorder : null));
        }

        // Connect once the host runs, so a slow or absent controller never delays or fails the start.
        lifetime.ApplicationStarted.Register(() =>
        {
            foreach (var line in registry.Lines)
            {
                line.Start();
                Log.Started(_logger, line.Id, line.Definition.Signals.Length, line.Definition.Controllers.Length);
            }
        });
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var line in registry.Lines)
        {
            await line.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var simulator in _simulators)
        {
            await simulator.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4201, Level = LogLevel.Warning, Message = "No line definitions in {Directory}")]
        public static partial void NoLines(ILogger logger, string directory);

        [LoggerMessage(EventId = 4202, Level = LogLevel.Information, Message = "Line {LineId}: shadowing {SignalCount} signals on {ControllerCount} controller(s)")]
        public static partial void Started(ILogger logger, string lineId, int signalCount, int controllerCount);

        [LoggerMessage(EventId = 4203, Level = LogLevel.Information, Message = "Line {LineId}: simulated PLC for {ControllerId} on {Endpoint}")]
        public static partial void Simulating(ILogger logger, string lineId, string controllerId, string endpoint);
    }
}

/// <summary>Starts a simulated controller for a line (the embedded default); returns null when it does not simulate that one.</summary>
public interface IControllerSimulator
{
    Task<IAsyncDisposable?> StartAsync(LineDefinition line, ControllerDefinition controller, ulong seed, CancellationToken cancellationToken);
}
