using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using TwinGateway.Drift.Evaluation;
using TwinGateway.Drift.Models;

namespace TwinGateway.Drift.Tests.Evaluation;

public sealed class DriftEvaluatorTests : IDisposable
{
    private static readonly TrainingOptions Options = new();

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>Gaussian noise (Box–Muller) on three sensors, with <paramref name="offset"/> standard deviations added to one sensor over the anomaly rows.</summary>
    private static string SyntheticSkab(int seed, int rows, int anomalyStart, int anomalyEnd, int sensor, double offset)
    {
        var random = new Random(seed);
        double Gaussian() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        double[] bases = [0.03, 1.2, 90.0];
        double[] spreads = [0.002, 0.05, 0.4];
        var text = new StringBuilder("datetime;Accelerometer1RMS;Pressure;Temperature;anomaly;changepoint\n");
        var start = new DateTime(2020, 3, 9, 10, 0, 0, DateTimeKind.Utc);
        for (var r = 0; r < rows; r++)
        {
            var anomalous = r >= anomalyStart && r <= anomalyEnd;
            text.Append(start.AddSeconds(r).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
            for (var c = 0; c < 3; c++)
            {
                var value = bases[c] + (spreads[c] * (Gaussian() + (anomalous && c == sensor ? offset : 0)));
                text.Append(';').Append(value.ToString("R", CultureInfo.InvariantCulture));
            }

            var change = r == anomalyStart || r == anomalyEnd + 1;
            text.Append(anomalous ? ";1.0" : ";0.0").Append(change ? ";1.0\n" : ";0.0\n");
        }

        return text.ToString();
    }

    private void WriteSkabFolder()
    {
        _folder.Write("valve1/1.csv", SyntheticSkab(seed: 1, rows: 1200, anomalyStart: 700, anomalyEnd: 799, sensor: 1, offset: 6));
        _folder.Write("other/2.csv", SyntheticSkab(seed: 2, rows: 1000, anomalyStart: 600, anomalyEnd: 699, sensor: 2, offset: -6));
        _folder.Write("anomaly-free/anomaly-free.csv", SyntheticSkab(seed: 3, rows: 500, anomalyStart: -1, anomalyEnd: -1, sensor: 0, offset: 0));

        // Constant sensors: the trainer cannot learn from them, so the file is reported as skipped, not a failed run.
        var constant = new StringBuilder("datetime;Pressure;anomaly;changepoint\n");
        for (var r = 0; r < 500; r++)
        {
            constant.Append(CultureInfo.InvariantCulture, $"2020-03-09 10:{r / 60:00}:{r % 60:00};1.0;0;0\n");
        }

        _folder.Write("valve2/constant.csv", constant.ToString());
    }

    [Fact]
    public void Skab_run_detects_injected_offsets_and_skips_a_file_it_cannot_train_on()
    {
        WriteSkabFolder();
        var messages = new List<string>();

        var report = new DriftEvaluator().Run(_folder.Path, EvaluationFormat.Skab, new ZScoreTrainer(), Options, new SyncProgress(messages), CancellationToken.None);

        Assert.Equal(["other/2.csv", "valve1/1.csv", "valve2/constant.csv"], report.Files.Select(f => f.File));
        Assert.Equal(3, messages.Count);
        var skipped = report.Files[2];
        Assert.NotNull(skipped.Skipped);
        Assert.Contains("variance", skipped.Skipped, StringComparison.Ordinal);
        Assert.Null(skipped.F1);
        Assert.Equal((3, 2, 1), (report.Overall.Files, report.Overall.FilesScored, report.Overall.FilesSkipped));

        foreach (var file in report.Files.Take(2))
        {
            Assert.Equal(400, file.TrainRows);
            Assert.Equal(file.Rows - 400, file.ScoredRows);
            Assert.True(file.F1 > 0.8, $"{file.File}: F1 {file.F1}");
            var delay = Assert.Single(file.Delays);
            Assert.NotNull(delay.Rows);
            Assert.InRange(delay.Rows!.Value, 0, 3);
            Assert.Equal(delay.Rows.Value, delay.Seconds!.Value, 9); // one row a second
        }

        // Pooled over both scored files' rows: 1400 scored rows, 200 of them anomalous.
        Assert.Equal(1400, report.Overall.ScoredRows);
        Assert.Equal(1400, report.Overall.Confusion.Total);
        Assert.Equal(200, report.Overall.Confusion.TruePositives + report.Overall.Confusion.FalseNegatives);
        Assert.True(report.Overall.F1 > 0.8, $"overall F1 {report.Overall.F1}");
        Assert.True(report.Overall.Far < 0.05, $"overall FAR {report.Overall.Far}");
        Assert.True(report.Overall.Mar < 0.1, $"overall MAR {report.Overall.Mar}");
        Assert.True(report.Overall.Nab!.Standard > 50, $"NAB standard {report.Overall.Nab.Standard}");
        Assert.True(report.Overall.Nab.LowFP <= report.Overall.Nab.Standard);
        Assert.Equal((2, 2), (report.Overall.Changepoints, report.Overall.ChangepointsDetected));
        Assert.Equal("pca", report.Detector.Kind);
        Assert.Equal(Options.Window, report.Detector.Window);
    }

    [Fact]
    public void Report_json_has_the_documented_shape()
    {
        WriteSkabFolder();
        var report = new DriftEvaluator().Run(_folder.Path, EvaluationFormat.Skab, new ZScoreTrainer(), Options, null, CancellationToken.None);
        var path = Path.Combine(_folder.Path, "out", "report.json");

        report.WriteJson(path);

        using var json = JsonDocument.Parse(File.ReadAllText(path));
        var root = json.RootElement;
        var overall = root.GetProperty("overall");
        foreach (var name in new[] { "f1", "far", "mar" })
        {
            Assert.InRange(overall.GetProperty(name).GetDouble(), 0, 1);
        }

        foreach (var name in new[] { "standard", "lowFP", "lowFN" })
        {
            Assert.InRange(overall.GetProperty("nab").GetProperty(name).GetDouble(), -1000, 100);
        }

        var files = root.GetProperty("files");
        Assert.Equal(3, files.GetArrayLength());
        var first = files[0];
        Assert.Equal("other/2.csv", first.GetProperty("file").GetString());
        Assert.Equal(1000, first.GetProperty("rows").GetInt32());
        Assert.InRange(first.GetProperty("f1").GetDouble(), 0, 1);
        Assert.InRange(first.GetProperty("far").GetDouble(), 0, 1);
        Assert.InRange(first.GetProperty("mar").GetDouble(), 0, 1);
        Assert.Equal(JsonValueKind.Number, first.GetProperty("nab").GetProperty("standard").ValueKind);
        Assert.Equal(JsonValueKind.Array, first.GetProperty("delays").ValueKind);
        Assert.Equal(JsonValueKind.String, files[2].GetProperty("skipped").ValueKind);
        Assert.Equal(JsonValueKind.Null, files[2].GetProperty("f1").ValueKind);

        var detector = root.GetProperty("detector");
        Assert.Equal("pca", detector.GetProperty("kind").GetString());
        Assert.Equal(Options.Window, detector.GetProperty("window").GetInt32());
        Assert.Equal(Options.ThresholdQuantile, detector.GetProperty("thresholdQuantile").GetDouble());
        Assert.Equal("normalised score >= 1", detector.GetProperty("alarmRule").GetString());
    }

    [Fact]
    public void Nab_run_scores_a_level_shift_inside_its_window()
    {
        // 3000 rows five minutes apart; the level shifts at row 2000, inside the labelled window [1950, 2150].
        var random = new Random(7);
        var start = new DateTime(2014, 4, 1, 0, 0, 0, DateTimeKind.Utc);
        string Time(int row) => start.AddMinutes(5 * row).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        var data = new StringBuilder("timestamp,value\n");
        for (var r = 0; r < 3000; r++)
        {
            var value = 50 + (random.NextDouble() - 0.5) + (r >= 2000 && r <= 2150 ? 10 : 0);
            data.Append(Time(r)).Append(',').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }

        _folder.Write("data/artificialWithAnomaly/level_shift.csv", data.ToString());
        _folder.Write("labels/combined_windows.json", $$"""{ "artificialWithAnomaly/level_shift.csv": [["{{Time(1950)}}.000000", "{{Time(2150)}}.000000"]] }""");

        var report = new DriftEvaluator().Run(_folder.Path, EvaluationFormat.Nab, new ZScoreTrainer(), Options, null, CancellationToken.None);

        var file = Assert.Single(report.Files);
        Assert.Equal(450, file.TrainRows); // floor(0.15 * 3000)
        Assert.Equal(1, file.Windows);
        Assert.True(file.Nab!.Standard > 50, $"NAB standard {file.Nab.Standard}");
        Assert.Equal(file.Nab.Standard, report.Overall.Nab!.Standard);

        // The change point is the window's first row; the alarm comes when the shift does, 50 rows (250 minutes) later.
        var delay = Assert.Single(file.Delays);
        Assert.Equal(1950, delay.Row);
        Assert.InRange(delay.Rows!.Value, 50, 53);
        Assert.Equal(delay.Rows.Value * 300.0, delay.Seconds!.Value, 9);
    }

    [Fact]
    public void A_file_too_short_to_score_is_skipped_with_the_reason()
    {
        _folder.Write("short.csv", SyntheticSkab(seed: 4, rows: 300, anomalyStart: -1, anomalyEnd: -1, sensor: 0, offset: 0));

        var report = new DriftEvaluator().Run(_folder.Path, EvaluationFormat.Skab, new ZScoreTrainer(), Options, null, CancellationToken.None);

        var file = Assert.Single(report.Files);
        Assert.Contains("no rows to score", file.Skipped, StringComparison.Ordinal);
        Assert.Null(report.Overall.F1);
        Assert.Null(report.Overall.Nab);
    }

    [Fact]
    public void Requiring_consecutive_rows_never_adds_alarms_and_delays_the_first()
    {
        WriteSkabFolder();
        var trainer = new ZScoreTrainer();

        var single = new DriftEvaluator().Run(_folder.Path, EvaluationFormat.Skab, trainer, Options, null, CancellationToken.None);
        var three = new DriftEvaluator(consecutiveRows: 3).Run(_folder.Path, EvaluationFormat.Skab, trainer, Options, null, CancellationToken.None);

        for (var i = 0; i < 2; i++)
        {
            Assert.True(three.Files[i].Alarms <= single.Files[i].Alarms);
            Assert.True(three.Files[i].Delays[0].Rows >= 2);
        }

        Assert.Equal(3, three.Detector.ConsecutiveRows);
    }

    [Fact]
    public void A_file_without_labels_reports_alarms_but_no_metrics()
    {
        var random = new Random(5);
        var rows = 600;
        var data = new float[rows];
        for (var r = 0; r < rows; r++)
        {
            data[r] = (float)random.NextDouble() + (r >= 400 ? 20 : 0);
        }

        var file = new EvaluationFile("unlabelled.csv", new FrameMatrix(["x"], data), null, [], [], trainRows: 200);

        var report = new DriftEvaluator().Evaluate([file], EvaluationFormat.Csv, new ZScoreTrainer(), Options, null, CancellationToken.None);

        var result = Assert.Single(report.Files);
        Assert.Null(result.Skipped);
        Assert.InRange(result.Alarms, 200, 210);
        Assert.Null(result.F1);
        Assert.Null(result.Nab);
        Assert.Null(report.Overall.F1);
        Assert.Empty(result.Delays);
    }

    [Fact]
    public void A_cancelled_run_stops()
    {
        WriteSkabFolder();
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() =>
            new DriftEvaluator().Run(_folder.Path, EvaluationFormat.Skab, new ZScoreTrainer(), Options, null, cts.Token));
    }

    /// <summary>Records progress on the reporting thread (<see cref="Progress{T}"/> would post to the thread pool).</summary>
    private sealed class SyncProgress(List<string> messages) : IProgress<string>
    {
        public void Report(string value) => messages.Add(value);
    }
}
