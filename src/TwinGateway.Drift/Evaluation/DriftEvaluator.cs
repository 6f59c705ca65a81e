using System.Collections.Immutable;
using System.Globalization;
using TwinGateway.Drift.Models;

namespace TwinGateway.Drift.Evaluation;

/// <summary>
/// Runs the gateway's detector on a folder of data files (<c>twingw drift eval</c>): per file it trains a model on the
/// leading rows the format's protocol names (<see cref="EvaluationData.TrainRows"/>), scores every later row with the
/// window ending at it (a window may reach back into the training rows for context), and takes a row as an alarm when
/// the normalised score is at least 1 on <see cref="ConsecutiveRows"/> consecutive scored rows (1: the score alone, no
/// smoothing). It knows trainers only through <see cref="IDriftModelTrainer"/>; nothing here is fitted to any data set.
/// </summary>
public sealed class DriftEvaluator
{
    /// <summary>Windows scored per call: bounds the buffers (64 KiB of floats for 10 rows of 8 features) whatever the file length.</summary>
    private const int Batch = 256;

    /// <param name="consecutiveRows">How many consecutive scored rows must reach the threshold before a row alarms (at least 1).</param>
    public DriftEvaluator(int consecutiveRows = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(consecutiveRows, 1);
        ConsecutiveRows = consecutiveRows;
    }

    public int ConsecutiveRows { get; }

    /// <summary>Reads <paramref name="inputDirectory"/> in <paramref name="format"/> and evaluates every file.</summary>
    /// <exception cref="EvaluationDataException">A file cannot be read (names the file, line and column).</exception>
    public EvaluationReport Run(string inputDirectory, EvaluationFormat format, IDriftModelTrainer trainer, TrainingOptions options, IProgress<string>? progress, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(inputDirectory);
        return Evaluate(EvaluationData.Read(inputDirectory, format, ct), format, trainer, options, progress, ct);
    }

    /// <summary>Evaluates files already read (or built by a test); <paramref name="format"/> only labels the report.</summary>
    public EvaluationReport Evaluate(IEnumerable<EvaluationFile> files, EvaluationFormat format, IDriftModelTrainer trainer, TrainingOptions options, IProgress<string>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(options);
        var results = ImmutableArray.CreateBuilder<FileResult>();
        var confusion = default(ConfusionCounts);
        var nab = new NabRawScore[NabProfile.All.Length];
        var anyLabels = false;
        long scoredRows = 0;
        var delays = new List<DetectionDelay>();
        foreach (var file in files)
        {
            ct.ThrowIfCancellationRequested();
            var result = EvaluateFile(file, trainer, options, ct, out var fileNab);
            results.Add(result);
            progress?.Report(result.Skipped is null
                ? string.Create(CultureInfo.InvariantCulture, $"{file.Name}: trained on {result.TrainRows} rows, scored {result.ScoredRows}, {result.Alarms} alarms, F1 {Show(result.F1)}")
                : $"{file.Name}: skipped, {result.Skipped}");
            if (result.Skipped is not null)
            {
                continue;
            }

            scoredRows += result.ScoredRows;
            delays.AddRange(result.Delays);
            if (result.Confusion is { } counts && fileNab is not null)
            {
                anyLabels = true;
                confusion += counts;
                for (var p = 0; p < nab.Length; p++)
                {
                    nab[p] += fileNab[p];
                }
            }
        }

        var detected = delays.Where(d => d.Rows is not null).ToList();
        var withSeconds = detected.Where(d => d.Seconds is not null).ToList();
        var fileResults = results.ToImmutable();
        var overall = new OverallResult(
            Files: fileResults.Length,
            FilesScored: fileResults.Count(f => f.Skipped is null),
            FilesSkipped: fileResults.Count(f => f.Skipped is not null),
            ScoredRows: scoredRows,
            F1: anyLabels ? confusion.F1 : null,
            Far: anyLabels ? confusion.FalseAlarmRate : null,
            Mar: anyLabels ? confusion.MissedAlarmRate : null,
            Nab: anyLabels ? NabScores.From(nab) : null,
            Confusion: confusion,
            MeanDelayRows: detected.Count > 0 ? detected.Average(d => d.Rows!.Value) : null,
            MeanDelaySeconds: withSeconds.Count > 0 ? withSeconds.Average(d => d.Seconds!.Value) : null,
            Changepoints: delays.Count,
            ChangepointsDetected: detected.Count,
            Pooling: "f1, far and mar pooled over every scored row of every labelled, scored file; nab: raw scores summed over files, normalised once");
        return new EvaluationReport(overall, fileResults, Settings(trainer, options, format));
    }

    private FileResult EvaluateFile(EvaluationFile file, IDriftModelTrainer trainer, TrainingOptions options, CancellationToken ct, out NabRawScore[]? nab)
    {
        nab = null;
        var rows = file.Frames.Rows;
        var train = file.TrainRows;
        FileResult Skip(string reason) => new(file.Name, rows, train, 0, reason, 0, null, null, null, null, null, 0, [], null);

        if (train >= rows)
        {
            return Skip($"no rows to score after the {train} training rows of {rows}");
        }

        if (train < options.Window)
        {
            return Skip($"the {train} training rows do not fill one window of {options.Window} rows");
        }

        DriftModel model;
        try
        {
            model = trainer.Train(file.Frames.Slice(0, train), options, null, ct);
        }
        catch (ArgumentException e)
        {
            // The trainer's contract: ArgumentException means these rows cannot train a model (too few, no variance).
            return Skip($"cannot train on the leading {train} rows: {e.Message}");
        }

        if (model.Window > train + 1)
        {
            return Skip($"the model's window of {model.Window} rows reaches before the file's first row");
        }

        if (!model.Features.SequenceEqual(file.Frames.Columns))
        {
            return Skip("the trained model's features differ from the file's columns");
        }

        var alarms = Alarms(file.Frames, model, train);
        var alarmCount = 0;
        for (var r = train; r < rows; r++)
        {
            alarmCount += alarms[r] ? 1 : 0;
        }

        var delays = Delays(file, alarms);
        ConfusionCounts? confusion = null;
        NabScores? nabScores = null;
        var scoredWindows = file.Windows.Count(w => w.End >= train);
        if (file.Labels is { } labels)
        {
            confusion = DetectionMetrics.Count(labels, alarms, train);
            nab = NabProfile.All.Select(p => NabScorer.Score(alarms, file.Windows, train, p)).ToArray();
            nabScores = NabScores.From(nab);
        }

        return new FileResult(
            file.Name, rows, train, rows - train, null, alarmCount,
            confusion?.F1, confusion?.FalseAlarmRate, confusion?.MissedAlarmRate, nabScores, confusion,
            scoredWindows, delays, double.IsFinite(model.Metrics.Threshold) ? model.Metrics.Threshold : null);
    }

    /// <summary>One flag per row: false in the training part, then the alarm rule over the normalised scores.</summary>
    private bool[] Alarms(FrameMatrix frames, DriftModel model, int firstRow)
    {
        var rows = frames.Rows;
        var window = model.Window;
        var width = frames.Width;
        var alarms = new bool[rows];
        var windows = new float[Batch * window * width];
        var scores = new float[Batch];
        var contributions = new float[Batch * width];
        var run = 0;
        for (var start = firstRow; start < rows; start += Batch)
        {
            var count = Math.Min(Batch, rows - start);
            TrainingData.CopyWindows(frames, window, start, count, windows);
            model.Score(windows.AsSpan(0, count * window * width), count, scores.AsSpan(0, count), contributions.AsSpan(0, count * width));
            for (var i = 0; i < count; i++)
            {
                // NaN compares false: a score the model could not compute never alarms.
                run = scores[i] >= 1f ? run + 1 : 0;
                alarms[start + i] = run >= ConsecutiveRows;
            }
        }

        return alarms;
    }

    /// <summary>Per change point in the scored part: the first alarm from it to the end of its anomaly window (or of the file when it lies in none).</summary>
    private static ImmutableArray<DetectionDelay> Delays(EvaluationFile file, bool[] alarms)
    {
        var times = file.Frames.Times;
        var result = ImmutableArray.CreateBuilder<DetectionDelay>();
        foreach (var change in file.Changepoints)
        {
            if (change < file.TrainRows || change >= alarms.Length)
            {
                continue;
            }

            var end = alarms.Length - 1;
            foreach (var w in file.Windows)
            {
                if (w.Start <= change && change <= w.End)
                {
                    end = w.End;
                    break;
                }
            }

            var alarm = Array.IndexOf(alarms, true, change, end - change + 1);
            result.Add(alarm < 0
                ? new DetectionDelay(change, null, null, null)
                : new DetectionDelay(change, alarm, alarm - change, times.IsDefault ? null : (times[alarm] - times[change]) / 1000.0));
        }

        return result.ToImmutable();
    }

    private DetectorSettings Settings(IDriftModelTrainer trainer, TrainingOptions options, EvaluationFormat format) => new(
        Kind: trainer.Kind.ToString().ToLowerInvariant(),
        Window: options.Window,
        ThresholdQuantile: options.ThresholdQuantile,
        ThresholdMargin: options.ThresholdMargin,
        HoldBackFraction: options.HoldBackFraction,
        Seed: options.Seed,
        Format: format.ToString().ToLowerInvariant(),
        TrainProtocol: format switch
        {
            EvaluationFormat.Skab => $"the first {EvaluationData.SkabTrainRows} rows of each file (SKAB)",
            EvaluationFormat.Nab => "the probationary period, min(floor(0.15 * rows), 750) rows (NAB)",
            _ => "the probationary period, min(floor(0.15 * rows), 750) rows, cut before the first labelled anomaly",
        },
        AlarmRule: ConsecutiveRows == 1
            ? "normalised score >= 1"
            : string.Create(CultureInfo.InvariantCulture, $"normalised score >= 1 on {ConsecutiveRows} consecutive scored rows"),
        ConsecutiveRows: ConsecutiveRows);

    private static string Show(double? value) => value is { } v ? v.ToString("0.000", CultureInfo.InvariantCulture) : "n/a";
}
