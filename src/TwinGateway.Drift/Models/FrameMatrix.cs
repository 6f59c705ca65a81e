using System.Collections.Immutable;

namespace TwinGateway.Drift.Models;

/// <summary>
/// Frames of features over time: row <c>r</c> is the line (or a data file) at one instant, column <c>c</c> one feature
/// (for a line, a signal's scaled residual or scaled value; for a data file, a sensor column). Row-major floats, so a
/// window of <c>W</c> consecutive rows is one contiguous span of <c>W * Columns</c> values: the model's input.
/// </summary>
public sealed class FrameMatrix
{
    public FrameMatrix(ImmutableArray<string> columns, float[] data, ImmutableArray<long> times = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (columns.IsDefaultOrEmpty)
        {
            throw new ArgumentException("a frame matrix needs at least one column", nameof(columns));
        }

        if (data.Length % columns.Length != 0)
        {
            throw new ArgumentException($"{data.Length} values are not whole rows of {columns.Length} columns", nameof(data));
        }

        Columns = columns;
        Data = data;
        Rows = data.Length / columns.Length;
        if (!times.IsDefault && times.Length != Rows)
        {
            throw new ArgumentException($"{times.Length} times for {Rows} rows", nameof(times));
        }

        Times = times;
    }

    /// <summary>Feature names, in column order (signal ids, or a data file's column names).</summary>
    public ImmutableArray<string> Columns { get; }

    /// <summary>Row-major values; NaN where a value was missing (trainers and scorers treat it as the feature's mean).</summary>
    public float[] Data { get; }

    public int Rows { get; }

    public int Width => Columns.Length;

    /// <summary>Each row's time (Unix milliseconds, UTC); default when the data has none.</summary>
    public ImmutableArray<long> Times { get; }

    public ReadOnlySpan<float> Row(int row) => Data.AsSpan(row * Width, Width);

    /// <summary>Rows <c>[start, start + count)</c> as a matrix of their own (copied).</summary>
    public FrameMatrix Slice(int start, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start + count, Rows);
        return new FrameMatrix(Columns, Data.AsSpan(start * Width, count * Width).ToArray(),
            Times.IsDefault ? default : Times.Slice(start, count));
    }
}
