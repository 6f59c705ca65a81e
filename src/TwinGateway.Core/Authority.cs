namespace TwinGateway.Core;

/// <summary>
/// What a decision rests on. Every decision the gateway takes or records names one (DESIGN.md, "Authority"); the
/// numbers are part of the audit log's signed encoding and must never be renumbered.
/// </summary>
public enum Authority
{
    /// <summary>The twin's deterministic simulation, with its measured credibility for the signals involved.</summary>
    Physics = 1,

    /// <summary>A learned model, with its version and training data hash; never the sole authority for a safety-related change.</summary>
    Statistical = 2,

    /// <summary>A named, authenticated person with a role.</summary>
    Human = 3,
}
