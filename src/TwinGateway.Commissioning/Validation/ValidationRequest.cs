using TwinGateway.Commissioning.Policy;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Lines;
using TwinGateway.Core.Twins;

namespace TwinGateway.Commissioning.Validation;

/// <summary>What one validation runs on.</summary>
public sealed record ValidationRequest
{
    /// <summary>
    /// The twin state to fork from (<c>ILineControl.SnapshotTwin()</c>): an independent copy nobody else steps while the
    /// validation runs. Its step must be the policy's <see cref="ValidationPolicy.Step"/>.
    /// </summary>
    public required ILineTwin Snapshot { get; init; }

    /// <summary>The definition the line runs now (<c>ILineControl.Definition</c>).</summary>
    public required LineDefinition CurrentLine { get; init; }

    /// <summary>
    /// The exact text that definition was loaded from (the line file, or the adopted change's
    /// <see cref="DefinitionOperation.Text"/>): its SHA-256 names the definition in the evidence.
    /// </summary>
    public required string CurrentLineText { get; init; }

    /// <summary>The change; it must pass <see cref="Changes.ChangeChecks"/>.</summary>
    public required ChangeRequest Change { get; init; }

    public required ValidationPolicy Policy { get; init; }

    /// <summary>
    /// The twin's measured credibility (<c>ILineControl.GetCredibility(ValidationSuite.TouchedSignals(...), policy window)</c>)
    /// for the signals the change touches; a touched signal without figures makes the twin not credible.
    /// </summary>
    public required IReadOnlyList<SignalCredibility> Credibility { get; init; }

    /// <summary>The seed the run seeds are derived from (recorded in the evidence).</summary>
    public ulong BaseSeed { get; init; } = 1;

    /// <summary>Overrides the policy's seed count (tests, quick looks); null: the policy's.</summary>
    public int? Seeds { get; init; }

    /// <summary>Overrides the policy's horizon; null: the policy's.</summary>
    public TimeSpan? Horizon { get; init; }

    /// <summary>Runs at once; the default uses every core.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;
}
