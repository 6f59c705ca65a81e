using System.Collections.Immutable;
using System.Globalization;
using TwinGateway.Drift.Models;

namespace TwinGateway.Drift.Evaluation;

/// <summary>
/// One delimited data file: a header line, then one row per line (blank lines skipped). The time column (by name, or
/// the first column) gives <see cref="FrameMatrix.Times"/>; <c>anomaly</c> and <c>changepoint</c> columns (by name,
/// case-insensitive) give labels and change marks of 0/1; every other column is a numeric sensor column. No quoting
/// beyond one pair of surrounding double quotes on a field: none of the formats read here quote.
/// </summary>
internal sealed class CsvTable
{
    private const string LabelColumn = "anomaly";
    private const string ChangepointColumn = "changepoint";

    private CsvTable(FrameMatrix frames, bool[]? labels, bool[]? changepoints)
    {
        Frames = frames;
        Labels = labels;
        Changepoints = changepoints;
    }

    public FrameMatrix Frames { get; }

    public bool[]? Labels { get; }

    public bool[]? Changepoints { get; }

    /// <param name="path">The file.</param>
    /// <param name="separator">The field separator.</param>
    /// <param name="timeColumn">The time column's name, or null for "the first column".</param>
    /// <param name="requireLabels">Whether an <c>anomaly</c> column must be present.</param>
    public static CsvTable Read(string path, char separator, string? timeColumn, bool requireLabels)
    {
        using var reader = new StreamReader(path, detectEncodingFromByteOrderMarks: true);
        var headerLine = reader.ReadLine();
        if (string.IsNullOrWhiteSpace(headerLine))
        {
            throw new EvaluationDataException(path, 1, null, null, "has no header line");
        }

        var header = headerLine.Split(separator).Select(Unquote).ToArray();
        var timeIndex = 0;
        if (timeColumn is not null)
        {
            timeIndex = Array.FindIndex(header, h => string.Equals(h, timeColumn, StringComparison.OrdinalIgnoreCase));
            if (timeIndex < 0)
            {
                throw new EvaluationDataException(path, 1, null, null, $"has no \"{timeColumn}\" column (columns: {string.Join(", ", header)}; separator '{separator}')");
            }
        }

        var labelIndex = Array.FindIndex(header, h => string.Equals(h, LabelColumn, StringComparison.OrdinalIgnoreCase));
        var changeIndex = Array.FindIndex(header, h => string.Equals(h, ChangepointColumn, StringComparison.OrdinalIgnoreCase));
        if (requireLabels && labelIndex < 0)
        {
            throw new EvaluationDataException(path, 1, null, null, $"has no \"{LabelColumn}\" column (columns: {string.Join(", ", header)}; separator '{separator}')");
        }

        var sensorIndexes = Enumerable.Range(0, header.Length).Where(i => i != timeIndex && i != labelIndex && i != changeIndex).ToArray();
        if (sensorIndexes.Length == 0)
        {
            throw new EvaluationDataException(path, 1, null, null, $"has no sensor column (columns: {string.Join(", ", header)}; separator '{separator}')");
        }

        foreach (var i in sensorIndexes)
        {
            if (header[i].Length == 0)
            {
                throw new EvaluationDataException(path, 1, i + 1, null, "the column has no name");
            }
        }

        var data = new List<float>();
        var times = ImmutableArray.CreateBuilder<long>();
        var labels = labelIndex >= 0 ? new List<bool>() : null;
        var changes = changeIndex >= 0 ? new List<bool>() : null;
        var lineNumber = 1;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var fields = line.Split(separator);
            if (fields.Length != header.Length)
            {
                throw new EvaluationDataException(path, lineNumber, null, null, $"has {fields.Length} fields where the header has {header.Length} (separator '{separator}')");
            }

            var timeText = Unquote(fields[timeIndex]);
            if (!EvaluationData.TryParseTime(timeText, out var time))
            {
                throw new EvaluationDataException(path, lineNumber, timeIndex + 1, header[timeIndex], $"\"{timeText}\" is not a date-time or a number of seconds");
            }

            var unixMs = time.ToUnixTimeMilliseconds();
            if (times.Count > 0 && unixMs < times[^1])
            {
                throw new EvaluationDataException(path, lineNumber, timeIndex + 1, header[timeIndex], $"{timeText} is earlier than the row before it: rows must be in time order");
            }

            times.Add(unixMs);
            foreach (var i in sensorIndexes)
            {
                var text = Unquote(fields[i]);
                if (text.Length == 0)
                {
                    data.Add(float.NaN);
                }
                else if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) && Math.Abs(value) <= float.MaxValue)
                {
                    data.Add((float)value);
                }
                else
                {
                    throw new EvaluationDataException(path, lineNumber, i + 1, header[i], $"\"{text}\" is not a finite number");
                }
            }

            labels?.Add(ReadFlag(path, lineNumber, labelIndex, header, fields));
            changes?.Add(ReadFlag(path, lineNumber, changeIndex, header, fields));
        }

        if (times.Count == 0)
        {
            throw new EvaluationDataException(path, lineNumber, null, null, "has no data rows");
        }

        var columns = sensorIndexes.Select(i => header[i]).ToImmutableArray();
        return new CsvTable(new FrameMatrix(columns, [.. data], times.ToImmutable()), labels?.ToArray(), changes?.ToArray());
    }

    private static bool ReadFlag(string path, int line, int index, string[] header, string[] fields)
    {
        var text = Unquote(fields[index]);
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
        {
            if (value == 0)
            {
                return false;
            }

            if (value == 1)
            {
                return true;
            }
        }

        throw new EvaluationDataException(path, line, index + 1, header[index], $"\"{text}\" is not 0 or 1");
    }

    private static string Unquote(string field)
    {
        var text = field.Trim();
        return text.Length >= 2 && text[0] == '"' && text[^1] == '"' ? text[1..^1].Trim() : text;
    }
}
