using TwinGateway.Drift.Alerts;
using TwinGateway.Drift.Live;
using TwinGateway.Drift.Models;

namespace TwinGateway.Host.Drift;

/// <summary>Drift detection's settings (section <c>Drift</c>); every default is stated and none is tuned on held-out data.</summary>
internal sealed class DriftOptions
{
    public const string Section = "Drift";

    /// <summary>Watch every line for drift (the detector is a sink of each line's pipeline).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Time between frames (a frame's scores exist one interval after its samples).</summary>
    public double FrameSeconds { get; set; } = 1;

    /// <summary>The physics rule's window for the mean residual.</summary>
    public double PhysicsWindowSeconds { get; set; } = 600;

    /// <summary>After a start or a gap in the samples, how long frames raise no alert (the shadow twin's start-up).</summary>
    public double WarmupSeconds { get; set; } = 300;

    /// <summary>Use ONNX Runtime's CPU provider even where CUDA would load.</summary>
    public bool ForceCpu { get; set; }

    /// <summary>The model kind <c>drift train</c> uses without <c>--model</c>: the one that measured better (README, "Drift").</summary>
    public string DefaultModel { get; set; } = "autoencoder";

    /// <summary>Frames per model window.</summary>
    public int Window { get; set; } = 10;

    /// <summary>The trailing share of the healthy range the threshold is learned on.</summary>
    public double HoldBackFraction { get; set; } = 0.25;

    /// <summary>The held-back quantile the threshold starts from.</summary>
    public double ThresholdQuantile { get; set; } = 0.999;

    /// <summary>The factor on that quantile.</summary>
    public double ThresholdMargin { get; set; } = 1.25;

    /// <summary>When an alert opens, escalates and ends.</summary>
    public AlertRules Alerts { get; set; } = new();

    /// <summary>
    /// A Quartz cron expression (seconds first, e.g. <c>0 0 3 * * ?</c>) on which a candidate model is trained for every
    /// line on the last <see cref="CandidateHours"/>; empty: never. A candidate is registered, never activated.
    /// </summary>
    public string CandidateSchedule { get; set; } = "";

    public double CandidateHours { get; set; } = 24;

    public DriftMonitorOptions Monitor => new() { FrameSeconds = FrameSeconds, PhysicsWindowSeconds = PhysicsWindowSeconds, WarmupSeconds = WarmupSeconds };

    public TrainingOptions Training => new(Window, HoldBackFraction, ThresholdQuantile, ThresholdMargin);

    /// <summary>True when <paramref name="text"/> is a Quartz cron expression.</summary>
    public static bool IsCron(string text)
    {
        try
        {
            _ = new Quartz.CronExpression(text);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>Every problem, each naming its key.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>(Monitor.Problems());
        if (!DriftTrainers.TryParse(DefaultModel, out _))
        {
            problems.Add($"Drift:DefaultModel '{DefaultModel}' is not a model kind (expected {DriftTrainers.Names})");
        }

        if (Window is < 1 or > 600)
        {
            problems.Add($"Drift:Window {Window} must be between 1 and 600 frames");
        }

        if (HoldBackFraction is <= 0 or >= 1)
        {
            problems.Add($"Drift:HoldBackFraction {HoldBackFraction} must be between 0 and 1");
        }

        if (ThresholdQuantile is <= 0.5 or > 1)
        {
            problems.Add($"Drift:ThresholdQuantile {ThresholdQuantile} must be above 0.5 and at most 1");
        }

        if (!double.IsFinite(ThresholdMargin) || ThresholdMargin < 1)
        {
            problems.Add($"Drift:ThresholdMargin {ThresholdMargin} must be at least 1");
        }

        if (!double.IsFinite(CandidateHours) || CandidateHours <= 0)
        {
            problems.Add($"Drift:CandidateHours {CandidateHours} must be positive");
        }

        if (!string.IsNullOrWhiteSpace(CandidateSchedule) && !IsCron(CandidateSchedule))
        {
            problems.Add($"Drift:CandidateSchedule '{CandidateSchedule}' is not a Quartz cron expression (seconds minutes hours day month weekday, e.g. '0 0 3 * * ?')");
        }

        problems.AddRange((Alerts ?? new AlertRules()).Problems().Select(p => "Drift:Alerts: " + p));
        return problems;
    }
}
