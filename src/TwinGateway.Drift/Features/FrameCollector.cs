using TwinGateway.Drift.Models;

namespace TwinGateway.Drift.Features;

/// <summary>
/// Collects frames into a <see cref="FrameMatrix"/> (training and offline scoring). A gap is recorded as a row
/// boundary (<see cref="Segments"/>) so windows are not built across it.
/// </summary>
public sealed class FrameCollector(LineFeatures features) : IFrameSink
{
    private readonly List<float> _data = [];
    private readonly List<long> _times = [];
    private readonly List<int> _segmentStarts = [0];

    public int Rows => _times.Count;

    /// <summary>The first row of each run of frames without a gap (0 is always the first).</summary>
    public IReadOnlyList<int> Segments => _segmentStarts;

    public void Frame(long endMs, ReadOnlySpan<float> frame)
    {
        foreach (var value in frame)
        {
            _data.Add(value);
        }

        _times.Add(endMs);
    }

    public void Gap(long lastEndMs, long resumeMs)
    {
        if (_segmentStarts[^1] != _times.Count)
        {
            _segmentStarts.Add(_times.Count);
        }
    }

    public FrameMatrix ToMatrix() => new(features.Names, [.. _data], [.. _times]);

}
