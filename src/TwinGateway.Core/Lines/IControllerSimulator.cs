namespace TwinGateway.Core.Lines;

/// <summary>
/// Starts a simulated controller for a line (the embedded default that lets the gateway run with no hardware).
/// Returns null when it does not simulate that controller (its endpoint is not on this machine, say).
/// </summary>
public interface IControllerSimulator
{
    Task<IAsyncDisposable?> StartAsync(LineDefinition line, ControllerDefinition controller, ulong seed, CancellationToken cancellationToken);
}
