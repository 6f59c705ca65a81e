namespace TwinGateway.Simulation;

/// <summary>What a <see cref="LineTwin"/> stands for; it decides the defaults of the stochastic parts.</summary>
public enum TwinMode
{
    /// <summary>Plays the real line (the simulated PLC): random failures, noise, injected faults.</summary>
    Real,

    /// <summary>
    /// Runs beside the real line: the gateway feeds the real line's inputs through <see cref="LineTwin.SetInput"/> and
    /// reads the expected outputs. Random failures are off by default, because the real line's failures are exactly
    /// what the comparison should show.
    /// </summary>
    Shadow,

    /// <summary>A copy with a change applied, run ahead as fast as possible (the commissioning gate's validation runs).</summary>
    WhatIf,
}

/// <summary>Settings of a <see cref="LineTwin"/>; the same options, line and inputs give bit-identical outputs.</summary>
public sealed record TwinOptions
{
    /// <summary>Seed of the twin's own generator (cycle times, failures, rejects, noise).</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Simulated time per <see cref="LineTwin.Step"/>; the continuous signals are sampled at this rate.</summary>
    public TimeSpan Step { get; init; } = TimeSpan.FromMilliseconds(100);

    public TwinMode Mode { get; init; } = TwinMode.Shadow;

    /// <summary>The simulated time of step 0.</summary>
    public DateTime Start { get; init; } = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>
    /// Whether stations fail at their <c>failureRate</c> (repaired after about <c>meanTimeToRepair</c>). Null: on in
    /// <see cref="TwinMode.Real"/> and <see cref="TwinMode.WhatIf"/>, off in <see cref="TwinMode.Shadow"/>.
    /// Injected faults (<see cref="Jam"/> and the others) work either way.
    /// </summary>
    public bool? RandomFailures { get; init; }

    /// <summary>Whether random failures are on after applying the mode's default.</summary>
    public bool RandomFailuresEnabled => RandomFailures ?? Mode != TwinMode.Shadow;
}
