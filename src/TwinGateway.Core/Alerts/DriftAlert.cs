using System.Collections.Immutable;

namespace TwinGateway.Core.Alerts;

/// <summary>How bad a drift alert is; decided by its peak normalised score (see the drift alert rules' critical factor).</summary>
public enum AlertSeverity
{
    /// <summary>The score crossed the threshold (normalised score 1) for long enough.</summary>
    Warning = 1,

    /// <summary>The peak normalised score reached the critical factor (2 by default): twice as far as the threshold.</summary>
    Critical = 2,
}

/// <summary>Where an alert is in its life. The numbers are stored; never renumber them.</summary>
public enum AlertState
{
    /// <summary>Raised; nobody has looked at it yet.</summary>
    Open = 1,

    /// <summary>A person has seen it; the episode may still continue.</summary>
    Acknowledged = 2,

    /// <summary>Closed by a person, or by itself (<see cref="DriftAlert.ResolvedBy"/> <c>auto</c>) once the score cleared.</summary>
    Resolved = 3,
}

/// <summary>One signal's part in a drift score.</summary>
/// <param name="Signal">The signal id (or a model feature such as <c>signalId:residual</c>).</param>
/// <param name="Share">Its non-negative share of the score (the shares of one score sum to 1).</param>
/// <param name="Real">The real line's value at the peak, when known.</param>
/// <param name="Expected">The twin's expected value at the peak, when known.</param>
public sealed record AlertContributor(string Signal, double Share, double? Real, double? Expected);

/// <summary>
/// One drift episode of one line as an operator sees it: raised when a detector's normalised score stayed at or above
/// the threshold long enough, updated while the episode lasts, closed by a person or by itself once the score cleared.
/// One alert per episode; the detector that raised it names its authority (the twin's physics rules, or a learned model
/// with its version).
/// </summary>
public sealed record DriftAlert
{
    /// <summary>The resolver's name when the alert closed by itself because the score cleared.</summary>
    public const string AutoResolver = "auto";

    /// <summary>Assigned by the store when the alert is first written; 0 before.</summary>
    public long Id { get; init; }

    public required string Line { get; init; }

    /// <summary><see cref="Authority.Physics"/> for the twin's rules, <see cref="Authority.Statistical"/> for a learned model.</summary>
    public required Authority Authority { get; init; }

    /// <summary>What scored it: <c>physics</c>, or the model kind (<c>pca</c>, <c>autoencoder</c>).</summary>
    public required string Detector { get; init; }

    /// <summary>The registry version of the model that raised it; null for physics.</summary>
    public string? ModelVersion { get; init; }

    public required AlertSeverity Severity { get; init; }

    public required AlertState State { get; init; }

    /// <summary>When the score first reached the threshold in this episode.</summary>
    public required DateTimeOffset Onset { get; init; }

    /// <summary>The last time the score was at or above the threshold in this episode.</summary>
    public required DateTimeOffset LastSeen { get; init; }

    /// <summary>The highest normalised score of the episode.</summary>
    public required double PeakScore { get; init; }

    /// <summary>The top contributors at the peak, largest share first.</summary>
    public required ImmutableArray<AlertContributor> Contributors { get; init; }

    public string? AcknowledgedBy { get; init; }

    public DateTimeOffset? AcknowledgedAt { get; init; }

    public string? AcknowledgeNote { get; init; }

    /// <summary>Who closed it; <see cref="AutoResolver"/> when it closed by itself.</summary>
    public string? ResolvedBy { get; init; }

    public DateTimeOffset? ResolvedAt { get; init; }

    public string? ResolveNote { get; init; }

    /// <summary>A relative link to the plot of the contributing signals over the episode: <c>/lines/{line}?signals=a,b&amp;from=..&amp;to=..</c>.</summary>
    public required string PlotLink { get; init; }

    /// <summary>Later episodes on the same line that the per-line rate limit kept from opening alerts of their own.</summary>
    public int SuppressedEpisodes { get; init; }
}

/// <summary>What happened to an alert, for the host to stream.</summary>
public enum AlertEventKind
{
    Opened = 1,
    Updated = 2,
    Acknowledged = 3,
    Resolved = 4,
}

/// <summary>An alert as it is after <paramref name="Kind"/> happened to it.</summary>
public sealed record AlertEvent(AlertEventKind Kind, DriftAlert Alert);
