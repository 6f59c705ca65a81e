using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using TwinGateway.Drift.Models;

namespace TwinGateway.Drift.Evaluation;

/// <summary>The data layouts <c>drift eval --format</c> reads.</summary>
public enum EvaluationFormat
{
    /// <summary>SKAB: <c>;</c>-separated files with <c>datetime</c>, sensor columns, <c>anomaly</c> and <c>changepoint</c>; read recursively, <c>anomaly-free*</c> skipped.</summary>
    Skab,

    /// <summary>NAB: <c>data/&lt;category&gt;/*.csv</c> with <c>timestamp,value</c> and the windows in <c>labels/combined_windows.json</c>.</summary>
    Nab,

    /// <summary>Plain CSV: <c>,</c>-separated, a time column first, numeric columns, an optional <c>anomaly</c> column of 0/1.</summary>
    Csv,
}

/// <summary>Rows <c>[Start, End]</c>, both inclusive: a labelled anomaly window or segment.</summary>
public readonly record struct RowRange(int Start, int End)
{
    public int Length => End - Start + 1;
}

/// <summary>One data file ready to evaluate: its frames, labels, anomaly windows and how many leading rows train.</summary>
public sealed class EvaluationFile
{
    public EvaluationFile(string name, FrameMatrix frames, IReadOnlyList<bool>? labels, ImmutableArray<RowRange> windows, ImmutableArray<int> changepoints, int trainRows)
    {
        ArgumentNullException.ThrowIfNull(frames);
        if (labels is not null && labels.Count != frames.Rows)
        {
            throw new ArgumentException($"{labels.Count} labels for {frames.Rows} rows", nameof(labels));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(trainRows);
        Name = name;
        Frames = frames;
        Labels = labels;
        Windows = windows.IsDefault ? [] : windows;
        Changepoints = changepoints.IsDefault ? [] : changepoints;
        TrainRows = trainRows;
    }

    /// <summary>The path relative to the input folder, with <c>/</c> separators (NAB's key: <c>category/file.csv</c>).</summary>
    public string Name { get; }

    /// <summary>The sensor columns only (no time, label or changepoint column); times in <see cref="FrameMatrix.Times"/>.</summary>
    public FrameMatrix Frames { get; }

    /// <summary>Per row: inside an anomaly; null when the format gives this file no labels.</summary>
    public IReadOnlyList<bool>? Labels { get; }

    /// <summary>The anomaly windows (NAB's labelled windows; for SKAB and CSV the maximal runs of anomalous rows), in row order.</summary>
    public ImmutableArray<RowRange> Windows { get; }

    /// <summary>Rows where a change starts, one per window: its first <c>changepoint</c> mark (SKAB), else the window's first row.</summary>
    public ImmutableArray<int> Changepoints { get; }

    /// <summary>The leading rows the detector trains on, per the format's protocol (<see cref="EvaluationData.TrainRows"/>).</summary>
    public int TrainRows { get; }
}

/// <summary>
/// Reads a folder of data files in one of the <see cref="EvaluationFormat"/> layouts. Values parse with the invariant
/// culture; an empty sensor value is missing (NaN, which trainers and scorers treat as the feature's mean). Times parse
/// as ISO-like date-times (UTC when no offset is given) or as a number of seconds. Every problem throws
/// <see cref="EvaluationDataException"/> naming the file, line and column.
/// </summary>
public static class EvaluationData
{
    /// <summary>SKAB's protocol: the first 400 rows of each file are anomaly-free and train the detector.</summary>
    public const int SkabTrainRows = 400;

    /// <summary>NAB's probationary share of a file (<c>probationPercent</c>).</summary>
    public const double NabProbationFraction = 0.15;

    /// <summary>
    /// NAB's probationary period as its scorer defines it: <c>min(floor(0.15 * rows), 0.15 * 5000)</c>, so never more
    /// than 750 rows.
    /// </summary>
    public static int NabProbationaryRows(int rows) =>
        (int)Math.Min(Math.Floor(NabProbationFraction * rows), NabProbationFraction * 5000);

    /// <summary>
    /// The leading rows that train, per format: SKAB the first 400; NAB its probationary period; plain CSV the
    /// probationary period too, cut short before the first labelled anomaly so the detector never trains on one.
    /// </summary>
    public static int TrainRows(EvaluationFormat format, int rows, IReadOnlyList<bool>? labels) => format switch
    {
        EvaluationFormat.Skab => Math.Min(SkabTrainRows, rows),
        EvaluationFormat.Nab => NabProbationaryRows(rows),
        _ => Math.Min(NabProbationaryRows(rows), FirstAnomaly(labels) ?? rows),
    };

    /// <summary>
    /// The files under <paramref name="inputDirectory"/> in path order, each read when enumerated (one file in memory
    /// at a time). NAB's labels file is read first, so a bad one fails before any data file.
    /// </summary>
    public static IEnumerable<EvaluationFile> Read(string inputDirectory, EvaluationFormat format, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(inputDirectory);
        if (!Directory.Exists(inputDirectory))
        {
            throw new DirectoryNotFoundException($"the evaluation input folder {inputDirectory} does not exist");
        }

        return format switch
        {
            EvaluationFormat.Skab => ReadSkab(inputDirectory, cancellationToken),
            EvaluationFormat.Nab => ReadNab(inputDirectory, cancellationToken),
            EvaluationFormat.Csv => ReadCsv(inputDirectory, cancellationToken),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown evaluation format"),
        };
    }

    private static IEnumerable<EvaluationFile> ReadSkab(string root, CancellationToken cancellationToken)
    {
        foreach (var (path, name) in CsvFiles(root))
        {
            if (Path.GetFileName(path).StartsWith("anomaly-free", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            cancellationToken.ThrowIfCancellationRequested();
            var table = CsvTable.Read(path, ';', "datetime", requireLabels: true);
            var labels = table.Labels!;
            var windows = Segments(labels);
            var changepoints = table.Changepoints is { } marks ? EnteringChangepoints(marks, labels) : windows.Select(w => w.Start).ToImmutableArray();
            yield return new EvaluationFile(name, table.Frames, labels, windows, changepoints, TrainRows(EvaluationFormat.Skab, table.Frames.Rows, labels));
        }
    }

    private static IEnumerable<EvaluationFile> ReadCsv(string root, CancellationToken cancellationToken)
    {
        foreach (var (path, name) in CsvFiles(root))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var table = CsvTable.Read(path, ',', timeColumn: null, requireLabels: false);
            var labels = table.Labels;
            var windows = labels is null ? [] : Segments(labels);
            var changepoints = table.Changepoints is { } marks && labels is not null
                ? EnteringChangepoints(marks, labels)
                : windows.Select(w => w.Start).ToImmutableArray();
            yield return new EvaluationFile(name, table.Frames, labels, windows, changepoints, TrainRows(EvaluationFormat.Csv, table.Frames.Rows, labels));
        }
    }

    private static IEnumerable<EvaluationFile> ReadNab(string root, CancellationToken cancellationToken)
    {
        var dataRoot = Path.Combine(root, "data");
        var labelsPath = Path.Combine(root, "labels", "combined_windows.json");
        if (!Directory.Exists(dataRoot))
        {
            throw new EvaluationDataException(dataRoot, 0, null, null, "a NAB folder needs data/<category>/*.csv");
        }

        var windowsByFile = ReadNabWindows(labelsPath);
        return ReadNabFiles(dataRoot, labelsPath, windowsByFile, cancellationToken);
    }

    private static IEnumerable<EvaluationFile> ReadNabFiles(string dataRoot, string labelsPath, Dictionary<string, List<(DateTimeOffset Start, DateTimeOffset End)>> windowsByFile, CancellationToken cancellationToken)
    {
        foreach (var (path, name) in CsvFiles(dataRoot))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!windowsByFile.TryGetValue(name, out var limits))
            {
                throw new EvaluationDataException(labelsPath, 0, null, null, $"has no entry \"{name}\" for the data file {path}");
            }

            var table = CsvTable.Read(path, ',', "timestamp", requireLabels: false);
            var times = table.Frames.Times;
            var labels = new bool[table.Frames.Rows];
            var windows = ImmutableArray.CreateBuilder<RowRange>();
            foreach (var (start, end) in limits)
            {
                // NAB's windows start and end on data timestamps; mapping by range also holds when they fall between rows.
                var first = LowerBound(times, start.ToUnixTimeMilliseconds());
                var last = LowerBound(times, end.ToUnixTimeMilliseconds() + 1) - 1;
                if (last < first)
                {
                    continue;
                }

                if (windows.Count > 0 && first <= windows[^1].End)
                {
                    throw new EvaluationDataException(labelsPath, 0, null, null, $"the windows of \"{name}\" overlap at {start:u}");
                }

                windows.Add(new RowRange(first, last));
                labels.AsSpan(first, last - first + 1).Fill(true);
            }

            var rows = windows.ToImmutable();
            yield return new EvaluationFile(name, table.Frames, labels, rows, rows.Select(w => w.Start).ToImmutableArray(), TrainRows(EvaluationFormat.Nab, table.Frames.Rows, labels));
        }
    }

    /// <summary>Reads <c>combined_windows.json</c>: file key to a list of [start, end] timestamp pairs, each list sorted by start.</summary>
    internal static Dictionary<string, List<(DateTimeOffset Start, DateTimeOffset End)>> ReadNabWindows(string labelsPath)
    {
        if (!File.Exists(labelsPath))
        {
            throw new EvaluationDataException(labelsPath, 0, null, null, "a NAB folder needs labels/combined_windows.json");
        }

        var text = File.ReadAllText(labelsPath);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            throw new EvaluationDataException(labelsPath, (int)(e.LineNumber ?? -1) + 1, e.BytePositionInLine is { } b ? (int)b + 1 : null, null, $"is not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new EvaluationDataException(labelsPath, 1, null, null, "must be a JSON object mapping \"category/file.csv\" to [[start, end], ...]");
            }

            var result = new Dictionary<string, List<(DateTimeOffset, DateTimeOffset)>>(StringComparer.Ordinal);
            foreach (var entry in document.RootElement.EnumerateObject())
            {
                var line = LineOf(text, $"\"{entry.Name}\"");
                if (entry.Value.ValueKind != JsonValueKind.Array)
                {
                    throw new EvaluationDataException(labelsPath, line, null, null, $"\"{entry.Name}\" must map to a list of [start, end] pairs");
                }

                var windows = new List<(DateTimeOffset Start, DateTimeOffset End)>();
                foreach (var pair in entry.Value.EnumerateArray())
                {
                    if (pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() != 2
                        || pair[0].ValueKind != JsonValueKind.String || pair[1].ValueKind != JsonValueKind.String)
                    {
                        throw new EvaluationDataException(labelsPath, line, null, null, $"\"{entry.Name}\": every window must be a [start, end] pair of timestamp strings");
                    }

                    if (!TryParseTime(pair[0].GetString()!, out var start) || !TryParseTime(pair[1].GetString()!, out var end))
                    {
                        throw new EvaluationDataException(labelsPath, line, null, null, $"\"{entry.Name}\": window [{pair[0]}, {pair[1]}] is not a pair of timestamps");
                    }

                    if (end < start)
                    {
                        throw new EvaluationDataException(labelsPath, line, null, null, $"\"{entry.Name}\": window [{pair[0]}, {pair[1]}] ends before it starts");
                    }

                    windows.Add((start, end));
                }

                windows.Sort((a, b) => a.Start.CompareTo(b.Start));
                result[entry.Name.Replace('\\', '/')] = windows;
            }

            return result;
        }
    }

    /// <summary>The 1-based line where <paramref name="needle"/> first occurs (a labels entry's key), or 0.</summary>
    private static int LineOf(string text, string needle)
    {
        var at = text.IndexOf(needle, StringComparison.Ordinal);
        return at < 0 ? 0 : text.AsSpan(0, at).Count('\n') + 1;
    }

    /// <summary>The <c>*.csv</c> files under a folder, recursively, ordered by their relative path (ordinal) so reports are stable.</summary>
    private static IEnumerable<(string Path, string Name)> CsvFiles(string root) =>
        Directory.EnumerateFiles(root, "*.csv", SearchOption.AllDirectories)
            .Select(p => (Path: p, Name: Path.GetRelativePath(root, p).Replace(Path.DirectorySeparatorChar, '/')))
            .OrderBy(f => f.Name, StringComparer.Ordinal);

    /// <summary>The maximal runs of anomalous rows.</summary>
    internal static ImmutableArray<RowRange> Segments(IReadOnlyList<bool> labels)
    {
        var result = ImmutableArray.CreateBuilder<RowRange>();
        var start = -1;
        for (var r = 0; r <= labels.Count; r++)
        {
            var anomalous = r < labels.Count && labels[r];
            if (anomalous && start < 0)
            {
                start = r;
            }
            else if (!anomalous && start >= 0)
            {
                result.Add(new RowRange(start, r - 1));
                start = -1;
            }
        }

        return result.ToImmutable();
    }

    /// <summary>
    /// The change each anomalous segment starts with: its first <c>changepoint</c> mark (SKAB marks a change both where an
    /// anomaly starts and where it ends; a mark outside a segment or after the first inside one is not a change a
    /// detector should answer), or the segment's first row where it has no mark.
    /// </summary>
    private static ImmutableArray<int> EnteringChangepoints(bool[] marks, bool[] labels)
    {
        var result = ImmutableArray.CreateBuilder<int>();
        foreach (var segment in Segments(labels))
        {
            var first = Array.IndexOf(marks, true, segment.Start, segment.Length);
            result.Add(first >= 0 ? first : segment.Start);
        }

        return result.ToImmutable();
    }

    private static int? FirstAnomaly(IReadOnlyList<bool>? labels)
    {
        if (labels is null)
        {
            return null;
        }

        for (var r = 0; r < labels.Count; r++)
        {
            if (labels[r])
            {
                return r;
            }
        }

        return null;
    }

    /// <summary>The first index whose time is at least <paramref name="time"/> (times ascending).</summary>
    private static int LowerBound(ImmutableArray<long> times, long time)
    {
        int lo = 0, hi = times.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (times[mid] < time)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>
    /// A number of seconds (Unix seconds, or seconds from any origin), else a date-time (UTC unless it carries an
    /// offset). Numbers go first, so a bare number is never taken for a date by the lenient date parser.
    /// </summary>
    internal static bool TryParseTime(string text, out DateTimeOffset time)
    {
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && double.IsFinite(seconds)
            && Math.Abs(seconds) < 1e11)
        {
            time = DateTimeOffset.UnixEpoch.AddMilliseconds(Math.Round(seconds * 1000));
            return true;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);
    }
}
