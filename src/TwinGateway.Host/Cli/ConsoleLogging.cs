using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Events;

namespace TwinGateway.Host.Cli;

/// <summary>Serilog on stderr for command-line tools, so stdout stays clean for tables and JSON lines.</summary>
internal static class ConsoleLogging
{
    public static ILoggerFactory Create(bool verbose)
    {
        var logger = new LoggerConfiguration()
            .MinimumLevel.Is(verbose ? LogEventLevel.Debug : LogEventLevel.Information)
            .WriteTo.Console(
                outputTemplate: "{Timestamp:HH:mm:ss.fff} {Level:u3} {Message:lj}{NewLine}{Exception}",
                standardErrorFromLevel: LogEventLevel.Verbose)
            .CreateLogger();
        return LoggerFactory.Create(builder => builder.AddSerilog(logger, dispose: true));
    }
}
