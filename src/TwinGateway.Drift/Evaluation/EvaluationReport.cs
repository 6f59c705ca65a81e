using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TwinGateway.Drift.Evaluation;

/// <summary>NAB scores on NAB's 0–100 scale (100 = perfect, 0 = no detections), one per application profile; null where there is no window.</summary>
public sealed record NabScores(double? Standard, double? LowFP, double? LowFN)
{
    internal static NabScores From(IReadOnlyList<NabRawScore> raw) => new(raw[0].Normalised, raw[1].Normalised, raw[2].Normalised);
}

/// <summary>How long a detector took to answer one change.</summary>
/// <param name="Row">The change's first anomalous row.</param>
/// <param name="AlarmRow">The first alarm at or after it inside its anomaly window; null when none (missed).</param>
/// <param name="Rows">Rows from the change to the alarm; null when missed.</param>
/// <param name="Seconds">Time from the change's row to the alarm's row; null when missed or the data has no times.</param>
public sealed record DetectionDelay(int Row, int? AlarmRow, int? Rows, double? Seconds);

/// <summary>One file's result. Metrics are null where the file has no labels, was skipped, or the rate is undefined.</summary>
/// <param name="File">Path relative to the input folder.</param>
/// <param name="Rows">Data rows in the file.</param>
/// <param name="TrainRows">Leading rows trained on (the format's protocol).</param>
/// <param name="ScoredRows">Rows after the training part, each scored by the window ending at it.</param>
/// <param name="Skipped">Why the file was not scored (too short to train, for example); null when it was.</param>
/// <param name="Alarms">Scored rows that alarmed.</param>
/// <param name="F1">Point-wise F1 over the scored rows.</param>
/// <param name="Far">False-alarm rate FP / (FP + TN) over the scored rows.</param>
/// <param name="Mar">Missed-alarm rate FN / (FN + TP) over the scored rows.</param>
/// <param name="Nab">NAB scores of this file alone.</param>
/// <param name="Confusion">The point-wise counts.</param>
/// <param name="Windows">Anomaly windows with at least one scored row.</param>
/// <param name="Delays">Detection delay per change point in the scored part.</param>
/// <param name="Threshold">The trained model's raw-score threshold (normalised score 1).</param>
public sealed record FileResult(
    string File,
    int Rows,
    int TrainRows,
    int ScoredRows,
    string? Skipped,
    int Alarms,
    double? F1,
    double? Far,
    double? Mar,
    NabScores? Nab,
    ConfusionCounts? Confusion,
    int Windows,
    ImmutableArray<DetectionDelay> Delays,
    double? Threshold);

/// <summary>
/// The whole run. F1, FAR and MAR are pooled: one confusion count over every scored row of every labelled, scored file
/// (so long files weigh more), not a mean of per-file rates. NAB sums the raw scores (and the null and perfect scores)
/// over the files and normalises once, as NAB scores a corpus.
/// </summary>
public sealed record OverallResult(
    int Files,
    int FilesScored,
    int FilesSkipped,
    long ScoredRows,
    double? F1,
    double? Far,
    double? Mar,
    NabScores? Nab,
    ConfusionCounts Confusion,
    double? MeanDelayRows,
    double? MeanDelaySeconds,
    int Changepoints,
    int ChangepointsDetected,
    string Pooling);

/// <summary>The detector and rules the run used, so a report says what it measured.</summary>
public sealed record DetectorSettings(
    string Kind,
    int Window,
    double ThresholdQuantile,
    double ThresholdMargin,
    double HoldBackFraction,
    int Seed,
    string Format,
    string TrainProtocol,
    string AlarmRule,
    int ConsecutiveRows);

/// <summary>What <c>drift eval</c> writes: overall figures, one entry per file, and the detector settings.</summary>
public sealed record EvaluationReport(OverallResult Overall, ImmutableArray<FileResult> Files, DetectorSettings Detector)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,

        // A report file, not HTML: keep ">=" and non-ASCII column names readable.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Writes the report as indented JSON (UTF-8), creating the folder if needed.</summary>
    public void WriteJson(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }

        File.WriteAllText(path, ToJson());
    }
}
