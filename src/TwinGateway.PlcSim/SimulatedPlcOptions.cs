using System.Net;
using TwinGateway.Simulation;

namespace TwinGateway.PlcSim;

/// <summary>Settings of a <see cref="SimulatedPlc"/>.</summary>
public sealed record SimulatedPlcOptions
{
    /// <summary>Seed of the line's "real" behaviour; the gateway's shadow twin uses its own.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>TCP port; null takes the port of the controller's endpoint URL (4840 when it names none); 0 picks a free one.</summary>
    public int? Port { get; init; }

    /// <summary>Address to listen on; loopback unless told otherwise.</summary>
    public IPAddress ListenAddress { get; init; } = IPAddress.Loopback;

    /// <summary>The controller whose signals the PLC serves; null for the line's first controller.</summary>
    public string? ControllerId { get; init; }

    /// <summary>Faults active from the start (the command line's <c>--fault</c>).</summary>
    public IReadOnlyList<TwinFault> Faults { get; init; } = [];

    /// <summary>Simulated time per step; the PLC steps in real time, so this is also its update period.</summary>
    public TimeSpan Step { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Who may log in (user name and password); null lets anyone in anonymously, as a PLC without users.</summary>
    public TwinGateway.OpcUa.Server.IUserAuthenticator? Users { get; init; }

    /// <summary>
    /// PKI folder: when set, the PLC also offers the secured endpoints with the certificate in <c>own/</c> (created when
    /// missing) and trusts the client certificates in <c>trusted/certs</c> (see <see cref="OpcUa.Server.ServerCertificates"/>).
    /// </summary>
    public string? PkiFolder { get; init; }
}
