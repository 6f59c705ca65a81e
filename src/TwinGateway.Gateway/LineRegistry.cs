using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Lines;
using TwinGateway.Core.Pipeline;
using TwinGateway.Core.Twins;

namespace TwinGateway.Gateway;

/// <summary>
/// The lines this gateway runs, loaded from the line definition folder at start, and the files that did not load. As
/// <see cref="ILineControlProvider"/> it hands the commissioning gate a running line.
/// </summary>
public sealed class LineRegistry : ILineControlProvider
{
    private readonly Dictionary<string, LineRuntime> _lines = new(StringComparer.Ordinal);

    public IReadOnlyCollection<LineRuntime> Lines => _lines.Values;

    /// <summary>
    /// Problems of line files that did not load: those lines do not run, every other line does. Shown by
    /// <c>twingw lines list</c> and the health checks until the file is fixed and the gateway restarted.
    /// </summary>
    public IReadOnlyList<LineDefinitionError> FileProblems { get; private set; } = [];

    /// <summary>The folder the line definitions were read from.</summary>
    public string? Directory { get; private set; }

    public bool TryGet(string id, out LineRuntime line) => _lines.TryGetValue(id, out line!);

    /// <inheritdoc/>
    public ILineControl? Find(string lineId) => _lines.GetValueOrDefault(lineId);

    internal void Add(LineRuntime line) => _lines.Add(line.Id, line);

    internal void SetLoaded(string directory, IReadOnlyList<LineDefinitionError> problems)
    {
        Directory = directory;
        FileProblems = problems;
    }
}

/// <summary>Problems in the gateway's configuration that can be known at start; the start fails with every one listed.</summary>
public sealed class GatewayConfigurationException(IReadOnlyList<string> problems)
    : Exception("the gateway's configuration has problems:" + string.Concat(problems.Select(p => Environment.NewLine + "  " + p)))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>
/// The line definitions as the gateway will run them, read once at start: the lines that loaded, the files that did
/// not (their lines are left out, the others run), and the problems that concern the whole configuration (the folder
/// missing, a line id defined twice, a <c>credentialsRef</c> that Gateway:Credentials does not define), which stop the
/// start. The host checks <see cref="Problems"/> with the settings' own, so one start lists every problem at once.
/// </summary>
public sealed class LineConfiguration
{
    private LineConfiguration(string directory, IReadOnlyList<LineDefinition> lines, IReadOnlyList<LineDefinitionError> fileProblems, IReadOnlyList<string> problems)
    {
        Directory = directory;
        Lines = lines;
        FileProblems = fileProblems;
        Problems = problems;
    }

    public string Directory { get; }

    public IReadOnlyList<LineDefinition> Lines { get; }

    public IReadOnlyList<LineDefinitionError> FileProblems { get; }

    public IReadOnlyList<string> Problems { get; }

    public static LineConfiguration Load(GatewayOptions settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var directory = ResolveLinesDirectory(settings.LinesDirectory);
        var loaded = LineDefinitionLoader.LoadDirectory(directory);

        // A file with mistakes is that line's problem; a missing folder or an id used twice is the configuration's.
        var problems = loaded.SetErrors.Select(e => e.ToString()).ToList();
        var fileProblems = loaded.Errors.Where(e => !loaded.SetErrors.Contains(e)).ToList();
        foreach (var line in loaded.Lines)
        {
            foreach (var controller in line.Controllers)
            {
                if (controller.CredentialsRef is { } reference && !settings.Credentials.ContainsKey(reference))
                {
                    problems.Add($"{line.Source?.File ?? line.Id}: controller '{controller.Id}' of line '{line.Id}' names credentialsRef '{reference}', which Gateway:Credentials does not define"
                        + (settings.Credentials.Count == 0 ? " (it defines none)" : $" (it defines: {string.Join(", ", settings.Credentials.Keys.Order(StringComparer.Ordinal))})"));
                }
            }
        }

        return new LineConfiguration(directory, loaded.Lines, fileProblems, problems);
    }

    /// <summary>A relative folder is the working directory's when it exists there, else the one beside the binary (the built-in demo).</summary>
    public static string ResolveLinesDirectory(string configured)
    {
        if (Path.IsPathRooted(configured))
        {
            return configured;
        }

        var fromWorkingDirectory = Path.GetFullPath(configured);
        return System.IO.Directory.Exists(fromWorkingDirectory) ? fromWorkingDirectory : Path.Combine(AppContext.BaseDirectory, configured);
    }
}

/// <summary>
/// Starts the simulated PLCs (embedded default) and one <see cref="LineRuntime"/> per line of the
/// <see cref="LineConfiguration"/> once the host has started, and stops them with it. A line file that did not load is
/// reported in <see cref="LineRegistry.FileProblems"/> and the health.
/// </summary>
public sealed partial class GatewayService(
    LineRegistry registry,
    LineConfiguration configuration,
    IOptions<GatewayOptions> options,
    IControllerSimulator simulator,
    ITwinFactory twins,
    IEnumerable<ILineSinkFactory> sinks,
    TimeProvider time,
    ILoggerFactory loggers,
    IHostApplicationLifetime lifetime) : IHostedService
{
    private readonly ILogger _logger = loggers.CreateLogger("TwinGateway.Gateway");
    private readonly List<IAsyncDisposable> _simulators = [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (configuration.Problems.Count > 0)
        {
            throw new GatewayConfigurationException(configuration.Problems);
        }

        var (directory, fileProblems, lines) = (configuration.Directory, configuration.FileProblems, configuration.Lines);
        registry.SetLoaded(directory, fileProblems);
        Log.Loaded(_logger, directory, lines.Count, string.Join(", ", lines.Select(l => l.Id)));
        foreach (var problem in fileProblems)
        {
            Log.BadFile(_logger, problem.ToString());
        }

        if (lines.Count == 0)
        {
            Log.NoLines(_logger, directory);
        }

        foreach (var line in lines)
        {
            if (settings.SimulateControllers)
            {
                foreach (var controller in line.Controllers)
                {
                    IAsyncDisposable? running;
                    try
                    {
                        running = await simulator.StartAsync(line, controller, settings.SimulatorSeed, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is OpcUa.Types.ServiceResultException or IOException or System.Net.Sockets.SocketException)
                    {
                        await StopAsync(CancellationToken.None).ConfigureAwait(false);
                        throw new GatewayConfigurationException([
                            $"line '{line.Id}': cannot start the simulated PLC for controller '{controller.Id}' on {controller.EndpointUrl}: {ex.Message} "
                            + "(another twingw or plc-sim running? change the controller's endpointUrl, or run with --no-simulation next to real controllers)"]);
                    }

                    if (running is not null)
                    {
                        _simulators.Add(running);
                        Log.Simulating(_logger, line.Id, controller.Id, controller.EndpointUrl);
                    }
                }
            }

            registry.Add(new LineRuntime(line, settings, twins, sinks, time, loggers));
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

        [LoggerMessage(EventId = 4204, Level = LogLevel.Information, Message = "Line definitions from {Directory}: {Count} line(s) loaded ({Lines})")]
        public static partial void Loaded(ILogger logger, string directory, int count, string lines);

        [LoggerMessage(EventId = 4205, Level = LogLevel.Error, Message = "A line file did not load, so its line does not run: {Problem}")]
        public static partial void BadFile(ILogger logger, string problem);
    }
}
