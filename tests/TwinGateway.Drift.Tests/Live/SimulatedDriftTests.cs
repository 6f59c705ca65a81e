using TwinGateway.Core;
using TwinGateway.Core.Alerts;
using TwinGateway.Drift.Alerts;
using TwinGateway.Drift.Models;
using TwinGateway.Simulation;

namespace TwinGateway.Drift.Tests.Live;

/// <summary>A PCA model trained once on two healthy simulated hours of the demo line (seed 21), for every test here.</summary>
public sealed class HealthyDemoModel
{
    public HealthyDemoModel()
    {
        using var line = new DriftOnTheSimulatedLine(realSeed: 21);
        Frames = line.Record(TimeSpan.FromHours(2));
        Model = new PcaTrainer().Train(Frames, new TrainingOptions());
    }

    public FrameMatrix Frames { get; }

    public DriftModel Model { get; }
}

/// <summary>
/// Drift injected into the line that plays the real one raises one alert per detector that sees it, within a bounded
/// time, naming the right signals; a healthy hour raises none. The runs are seeded, so each result is exact and the
/// bounds are about what the detectors must achieve, not about timing.
/// </summary>
public sealed class SimulatedDriftTests(HealthyDemoModel trained) : IClassFixture<HealthyDemoModel>
{
    [Fact]
    public void A_healthy_simulated_hour_raises_no_alert_from_either_authority()
    {
        using var line = Start(realSeed: 22);
        var peak = (Physics: 0.0, Statistical: 0.0);
        var frames = 0;
        line.Monitor.FrameScored = f =>
        {
            // After the warm-up (5 minutes): what could have raised an alert.
            if (++frames > 300)
            {
                peak = (Math.Max(peak.Physics, f.Physics), Math.Max(peak.Statistical, f.Statistical ?? 0));
            }
        };
        line.Play(TimeSpan.FromMinutes(70));

        Assert.True(!line.Opened.Any(), "alerts on a healthy line: " + string.Join("; ", line.Opened.Select(Describe)));
        Assert.True(line.Monitor.Status().Frames >= 4100, "the monitor saw about one frame per simulated second");
        Assert.NotNull(line.Monitor.Status().StatisticalScore);
        Assert.True(peak.Physics < 1, $"the physics rule's healthy peak {peak.Physics:0.00} stays under its tolerance");
        Assert.True(peak.Statistical > 0, "the model scored the frames");
    }

    [Fact]
    public void A_sensor_offset_raises_one_statistical_alert_within_minutes_naming_the_sensor()
    {
        using var line = Start(realSeed: 23);
        line.Play(TimeSpan.FromMinutes(15));
        var onset = line.Run.Time;
        line.Run.Real.InjectFault(new SensorOffset("cnc1.spindleTemperature", 3));
        line.Play(TimeSpan.FromMinutes(30));

        var alert = Assert.Single(line.Opened, a => a.Authority == Authority.Statistical);
        Assert.Equal("pca", alert.Detector);
        Assert.Equal("1", alert.ModelVersion);
        Assert.InRange(alert.Onset.UtcDateTime - onset, TimeSpan.Zero, TimeSpan.FromMinutes(5));
        Assert.Equal("cnc1.spindleTemperature", alert.Contributors[0].Signal);
        Assert.True(alert.Contributors[0].Real > alert.Contributors[0].Expected, "the contributor shows the real value above the twin's");
    }

    [Fact]
    public void A_heating_bearing_raises_alerts_naming_the_stations_temperatures()
    {
        using var line = Start(realSeed: 24);
        line.Play(TimeSpan.FromMinutes(15));
        var onset = line.Run.Time;
        line.Run.Real.InjectFault(new BearingHeat("cnc2", 10));
        line.Play(TimeSpan.FromMinutes(40));

        var first = line.Opened.OrderBy(a => a.Onset).First();
        Assert.InRange(first.Onset.UtcDateTime - onset, TimeSpan.Zero, TimeSpan.FromMinutes(30));
        Assert.StartsWith("cnc2.", first.Contributors[0].Signal, StringComparison.Ordinal);
        // One alert per detector and episode, however long the drift goes on.
        Assert.All(line.Opened.GroupBy(a => a.Detector), g => Assert.Single(g));
    }

    [Fact]
    public void A_wearing_tool_raises_a_physics_alert_on_the_stations_cycle_time()
    {
        using var line = Start(realSeed: 25);
        line.Play(TimeSpan.FromMinutes(15));
        var onset = line.Run.Time;
        line.Run.Real.InjectFault(new ToolWear("cnc1", 30));
        line.Play(TimeSpan.FromMinutes(75));

        var alert = Assert.Single(line.Opened, a => a.Authority == Authority.Physics);
        Assert.Equal("physics", alert.Detector);
        Assert.Null(alert.ModelVersion);
        Assert.InRange(alert.Onset.UtcDateTime - onset, TimeSpan.Zero, TimeSpan.FromMinutes(60));
        Assert.Equal("cnc1.lastCycleTime", alert.Contributors[0].Signal);
    }

    [Fact]
    public void A_sensor_that_became_noisier_raises_a_physics_alert_on_its_spread_though_its_mean_stays()
    {
        using var line = Start(realSeed: 27);
        line.Play(TimeSpan.FromMinutes(15));
        var onset = line.Run.Time;
        line.Run.Real.InjectFault(new NoiseIncrease("line.airPressure", 4));
        line.Play(TimeSpan.FromMinutes(20));

        var alert = Assert.Single(line.Opened, a => a.Authority == Authority.Physics);
        Assert.InRange(alert.Onset.UtcDateTime - onset, TimeSpan.Zero, TimeSpan.FromMinutes(10));
        Assert.Equal("line.airPressure", alert.Contributors[0].Signal);
        var status = line.Monitor.Status();
        var pressure = status.Features.IndexOf("line.airPressure");
        Assert.True(Math.Abs(status.MeanResiduals[pressure]) < status.Tolerances[pressure], "the mean stayed within the tolerance: only the spread grew");
    }

    [Fact]
    public void A_drift_that_stops_resolves_its_alert_by_itself_after_the_hold_time()
    {
        using var line = Start(realSeed: 26);
        line.Play(TimeSpan.FromMinutes(15));
        line.Run.Real.InjectFault(new SensorOffset("cnc1.spindleTemperature", 3));
        line.Play(TimeSpan.FromMinutes(10));
        var alert = Assert.Single(line.Opened, a => a.Authority == Authority.Statistical);
        line.Run.Real.ClearFaults();
        line.Play(TimeSpan.FromMinutes(10));

        var resolved = Assert.Single(line.Events, e => e.Kind == AlertEventKind.Resolved && e.Alert.Id == alert.Id).Alert;
        Assert.Equal(alert.Id, resolved.Id);
        Assert.Equal(DriftAlert.AutoResolver, resolved.ResolvedBy);
        var refused = Assert.Throws<AlertActionException>(() => line.Engine.Acknowledge(alert.Id, "ada", "late", resolved.ResolvedAt!.Value.AddMinutes(1)));
        Assert.Contains("cannot be acknowledged", refused.Message, StringComparison.Ordinal);
    }

    private static string Describe(DriftAlert a) =>
        $"{a.Detector} at {a.Onset:HH:mm:ss} peak {a.PeakScore:0.00}: {string.Join(", ", a.Contributors.Select(c => $"{c.Signal} {c.Share:P0} real {c.Real} twin {c.Expected}"))}";

    private DriftOnTheSimulatedLine Start(ulong realSeed)
    {
        var line = new DriftOnTheSimulatedLine(realSeed);
        DriftOnTheSimulatedLine.Activate(line.Monitor, trained.Model, trained.Frames);
        return line;
    }
}
