namespace TwinGateway.Drift.Live;

/// <summary>How a line's drift is watched. Section <c>Drift</c> of the gateway's settings.</summary>
public sealed class DriftMonitorOptions
{
    /// <summary>Time between frames: a frame's scores exist one interval after its samples (default 1 s).</summary>
    public double FrameSeconds { get; set; } = 1;

    /// <summary>The physics rule's window: the mean residual is taken over this long (default 10 minutes).</summary>
    public double PhysicsWindowSeconds { get; set; } = 600;

    /// <summary>
    /// After the monitor starts, and after a gap in the samples, how long the frames are scored and shown but raise no
    /// alert: a shadow twin that has just started has not completed its first cycles (a cycle time of 0 against the
    /// real line's last one), so its first minutes are a start-up, not drift. Default 5 minutes.
    /// </summary>
    public double WarmupSeconds { get; set; } = 300;

    public int WarmupFrames => Math.Max(0, (int)Math.Round(WarmupSeconds / FrameSeconds));

    public TimeSpan FrameInterval => TimeSpan.FromSeconds(FrameSeconds);

    public int PhysicsWindowFrames => Math.Max(1, (int)Math.Round(PhysicsWindowSeconds / FrameSeconds));

    /// <summary>Every problem of these settings, each naming its key; empty when usable.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (!double.IsFinite(FrameSeconds) || FrameSeconds < 0.01 || FrameSeconds > 60)
        {
            problems.Add($"Drift:FrameSeconds {FrameSeconds} must be between 0.01 and 60");
        }

        if (!double.IsFinite(PhysicsWindowSeconds) || PhysicsWindowSeconds < FrameSeconds)
        {
            problems.Add($"Drift:PhysicsWindowSeconds {PhysicsWindowSeconds} must be at least one frame ({FrameSeconds} s)");
        }

        if (!double.IsFinite(WarmupSeconds) || WarmupSeconds < 0)
        {
            problems.Add($"Drift:WarmupSeconds {WarmupSeconds} must be 0 or more");
        }

        return problems;
    }
}
