using Microsoft.Extensions.Logging;
using TwinGateway.Core.Lines;

namespace TwinGateway.PlcSim;

/// <summary>
/// The embedded default: a simulated PLC for each controller whose endpoint is on loopback, serving the line's node ids
/// with the line's own model (its own seed), so the gateway runs with no hardware. Controllers elsewhere are left alone.
/// </summary>
public sealed class LoopbackPlcSimulator(TimeProvider time, ILoggerFactory loggers) : IControllerSimulator
{
    public async Task<IAsyncDisposable?> StartAsync(LineDefinition line, ControllerDefinition controller, ulong seed, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(controller.EndpointUrl, UriKind.Absolute, out var uri) || !(uri.IsLoopback || uri.Host == "localhost"))
        {
            return null;
        }

        var plc = new SimulatedPlc(line, new SimulatedPlcOptions { Seed = seed, Port = uri.Port > 0 ? uri.Port : null, ControllerId = controller.Id }, time, loggers);
        try
        {
            await plc.StartAsync(cancellationToken).ConfigureAwait(false);
            return plc;
        }
        catch
        {
            await plc.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
