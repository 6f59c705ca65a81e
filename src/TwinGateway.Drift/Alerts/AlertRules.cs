namespace TwinGateway.Drift.Alerts;

/// <summary>
/// When a drift score becomes an alert. Every field has a stated default; <see cref="Validate"/> lists every problem at
/// once, each naming its field.
/// </summary>
public sealed record AlertRules
{
    public static AlertRules Default { get; } = new();

    /// <summary>The normalised score at which a detector calls a frame drifting (1: the model's learned threshold, or the physics tolerance). Default 1.</summary>
    public double Threshold { get; init; } = 1.0;

    /// <summary>How long the score must stay at or above <see cref="Threshold"/> before an episode starts: a shorter spike raises nothing. Default 10 s.</summary>
    public TimeSpan MinDuration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The level the score must fall below to count as cleared; below <see cref="Threshold"/> (hysteresis), so a score hovering around it does not flap. Default 0.8.</summary>
    public double ClearLevel { get; init; } = 0.8;

    /// <summary>How long the score must stay below <see cref="ClearLevel"/> before the episode ends and its alert resolves by itself. Default 60 s.</summary>
    public TimeSpan HoldTime { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The peak normalised score from which an alert is <c>Critical</c> rather than <c>Warning</c>. Default 2.</summary>
    public double CriticalFactor { get; init; } = 2.0;

    /// <summary>Alerts opened per line in any rolling hour (counted by onset); later episodes are counted on the line's last alert instead. Default 6.</summary>
    public int MaxAlertsPerHour { get; init; } = 6;

    /// <summary>Between new peaks, an open alert's <c>Updated</c> event (with its new last-seen time) is sent, and stored, at most this often. Default 30 s.</summary>
    public TimeSpan UpdateInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How many contributors an alert keeps (the largest shares at the peak). Default 5.</summary>
    public int MaxContributors { get; init; } = 5;

    /// <summary>How much time the plot link shows before the onset and after the last sighting. Default 5 min.</summary>
    public TimeSpan PlotMargin { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Every problem with these rules, each naming its field; empty when they are usable.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (!double.IsFinite(Threshold) || Threshold <= 0)
        {
            problems.Add($"{nameof(Threshold)} ({Threshold}) must be a positive number");
        }

        if (!double.IsFinite(ClearLevel) || ClearLevel < 0 || ClearLevel >= Threshold)
        {
            problems.Add($"{nameof(ClearLevel)} ({ClearLevel}) must be at least 0 and below {nameof(Threshold)} ({Threshold}), or an alert would flap");
        }

        if (!double.IsFinite(CriticalFactor) || CriticalFactor < Threshold)
        {
            problems.Add($"{nameof(CriticalFactor)} ({CriticalFactor}) must be at least {nameof(Threshold)} ({Threshold})");
        }

        if (MinDuration < TimeSpan.Zero)
        {
            problems.Add($"{nameof(MinDuration)} ({MinDuration}) must not be negative");
        }

        if (HoldTime < TimeSpan.Zero)
        {
            problems.Add($"{nameof(HoldTime)} ({HoldTime}) must not be negative");
        }

        if (MaxAlertsPerHour < 1)
        {
            problems.Add($"{nameof(MaxAlertsPerHour)} ({MaxAlertsPerHour}) must be at least 1");
        }

        if (UpdateInterval <= TimeSpan.Zero)
        {
            problems.Add($"{nameof(UpdateInterval)} ({UpdateInterval}) must be positive");
        }

        if (MaxContributors < 1)
        {
            problems.Add($"{nameof(MaxContributors)} ({MaxContributors}) must be at least 1");
        }

        if (PlotMargin < TimeSpan.Zero)
        {
            problems.Add($"{nameof(PlotMargin)} ({PlotMargin}) must not be negative");
        }

        return problems;
    }

    /// <summary>Throws <see cref="ArgumentException"/> listing every problem when the rules are not usable.</summary>
    public void Validate()
    {
        var problems = Problems();
        if (problems.Count > 0)
        {
            throw new ArgumentException("the drift alert rules are not usable: " + string.Join("; ", problems));
        }
    }
}
