using System.Runtime.CompilerServices;

namespace TwinGateway.Telemetry.Recording;

/// <summary>
/// The samples waiting for a commit, oldest first, in segments of <see cref="SegmentLength"/> samples that are reused
/// once committed. The memory it holds follows what is pending: the recorder's first design kept two lists (the one
/// being filled and the one being committed), each grown by doubling to the largest backlog it had seen and kept at that
/// size, which held about 550 MB of managed heap for 4 M pending samples, plus a copy while a list doubled.
/// </summary>
/// <remarks>
/// Not thread-safe: the recorder calls every member under its lock. The slices <see cref="PeekOldest"/> hands out may be
/// read outside the lock until <see cref="RemoveOldest"/>: producers only write after them, and a segment is reused only
/// once it has been removed.
/// </remarks>
internal sealed class PendingSamples
{
    /// <summary>
    /// Samples per segment: 16,384 of 64 bytes, 1 MiB. Small against the byte bound (64 MiB by default), and a commit
    /// batch of 200,000 samples spans 13 segments.
    /// </summary>
    public const int SegmentLength = 16_384;

    /// <summary>The memory one pending sample takes in its segment (64 bytes); its series is shared, not copied.</summary>
    public static readonly int SampleBytes = Unsafe.SizeOf<TelemetrySample>();

    /// <summary>Segments in order; the oldest pending sample is at <see cref="_head"/> in the first one.</summary>
    private readonly List<TelemetrySample[]> _segments = [];

    /// <summary>Committed segments kept for reuse, so a sustained backlog allocates nothing once the buffer is full.</summary>
    private readonly Stack<TelemetrySample[]> _spare = [];
    private int _head;

    /// <summary>Samples in the last segment.</summary>
    private int _tail;

    /// <summary>Samples waiting for a commit.</summary>
    public int Count { get; private set; }

    /// <summary>Segments allocated so far, in use or spare: the memory the buffer holds is this times 1 MiB.</summary>
    public int SegmentsAllocated { get; private set; }

    /// <summary>The memory the segments hold, in bytes.</summary>
    public long BytesAllocated => (long)SegmentsAllocated * SegmentLength * SampleBytes;

    /// <summary>The segments that can hold <paramref name="samples"/> pending samples wherever they start in a segment.</summary>
    public static int SegmentsFor(long samples) => (int)((samples + SegmentLength - 1) / SegmentLength) + 1;

    public void Add(in TelemetrySample sample)
    {
        if (_segments.Count == 0 || _tail == SegmentLength)
        {
            _segments.Add(TakeSegment());
            _tail = 0;
        }

        _segments[^1][_tail++] = sample;
        Count++;
    }

    /// <summary>Fills <paramref name="slices"/> with the oldest <paramref name="count"/> samples, in order.</summary>
    public void PeekOldest(int count, List<ArraySegment<TelemetrySample>> slices)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Count);
        slices.Clear();
        var start = _head;
        for (var i = 0; count > 0; i++)
        {
            var end = i == _segments.Count - 1 ? _tail : SegmentLength;
            var take = Math.Min(count, end - start);
            slices.Add(new ArraySegment<TelemetrySample>(_segments[i], start, take));
            count -= take;
            start = 0;
        }
    }

    /// <summary>Drops the oldest <paramref name="count"/> samples (committed); their emptied segments are kept for reuse.</summary>
    public void RemoveOldest(int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Count);
        Count -= count;
        while (count > 0)
        {
            var last = _segments.Count == 1;
            var end = last ? _tail : SegmentLength;
            var take = Math.Min(count, end - _head);
            _head += take;
            count -= take;
            if (_head < end)
            {
                continue;
            }

            if (last)
            {
                // Emptied: producers start filling it again from the beginning.
                _head = 0;
                _tail = 0;
            }
            else
            {
                _spare.Push(_segments[0]);
                _segments.RemoveAt(0);
                _head = 0;
            }
        }
    }

    private TelemetrySample[] TakeSegment()
    {
        if (_spare.TryPop(out var segment))
        {
            return segment;
        }

        SegmentsAllocated++;
        return new TelemetrySample[SegmentLength];
    }
}
