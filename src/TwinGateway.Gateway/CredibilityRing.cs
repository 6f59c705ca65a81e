using TwinGateway.Core.Changes;

namespace TwinGateway.Gateway;

/// <summary>
/// A running record of how far one signal's real value was from the twin's expected value, as |real - expected| scaled
/// by the signal's nominal range width: a ring of per-second buckets (sum, count, max), so a window of up to
/// <see cref="MaxWindow"/> is answered without keeping every sample. Written by the twin loop once per step, read by
/// the commissioning gate.
/// </summary>
/// <remarks>
/// Memory: 24 bytes a bucket, 3,600 buckets: 86 KB per signal, allocated on its first sample, so about 17 MB for the
/// demo line's ~200 modelled numeric signals. A window is answered in whole seconds: the buckets of the current second
/// and of the <c>ceil(window)</c> seconds before it, so it may include up to one second more than asked.
/// </remarks>
/// <param name="scale">
/// The width a residual is divided by (<see cref="TwinGateway.Core.Twins.SignalComparison.Scale"/> of the signal, positive), computed once when
/// the ring is built rather than per sample; 1 records residuals as they come (scaled already).
/// </param>
internal sealed class CredibilityRing(double scale = 1)
{
    /// <summary>The longest window answered; a longer one is answered over this much.</summary>
    public static readonly TimeSpan MaxWindow = TimeSpan.FromMinutes(60);

    private const int Capacity = 3600;

    private readonly Lock _sync = new();
    private Bucket[]? _buckets;

    private struct Bucket
    {
        /// <summary>Unix second the bucket holds, plus one (0: never used).</summary>
        public long SecondPlusOne;
        public int Count;
        public float Sum;
        public float Max;
    }

    /// <summary>The width residuals are divided by (see the constructor).</summary>
    public double Scale { get; } = scale;

    /// <summary>Adds one residual |real - expected| observed at <paramref name="at"/>, divided by <see cref="Scale"/>.</summary>
    public void RecordResidual(double residual, DateTimeOffset at) => Record(residual / Scale, at);

    /// <summary>Adds one scaled error observed at <paramref name="at"/>. Non-finite values are ignored.</summary>
    public void Record(double scaledError, DateTimeOffset at)
    {
        if (!double.IsFinite(scaledError))
        {
            return;
        }

        var second = SecondOf(at);
        lock (_sync)
        {
            _buckets ??= new Bucket[Capacity];
            ref var bucket = ref _buckets[Slot(second)];
            if (bucket.SecondPlusOne != second + 1)
            {
                bucket = new Bucket { SecondPlusOne = second + 1 };
            }

            bucket.Count++;
            bucket.Sum += (float)scaledError;
            bucket.Max = Math.Max(bucket.Max, (float)scaledError);
        }
    }

    /// <summary>The samples, mean and max of the last <paramref name="window"/> as of <paramref name="now"/>; null figures when there were none.</summary>
    public (long Samples, double? Mean, double? Max) Query(TimeSpan window, DateTimeOffset now)
    {
        var span = (int)Math.Ceiling(Math.Clamp(window.TotalSeconds, 0, MaxWindow.TotalSeconds - 1));
        var newest = SecondOf(now);
        long count = 0;
        double sum = 0;
        double max = 0;
        lock (_sync)
        {
            if (_buckets is null)
            {
                return (0, null, null);
            }

            for (var second = newest - span; second <= newest; second++)
            {
                ref readonly var bucket = ref _buckets[Slot(second)];
                if (bucket.SecondPlusOne == second + 1)
                {
                    count += bucket.Count;
                    sum += bucket.Sum;
                    max = Math.Max(max, bucket.Max);
                }
            }
        }

        return count == 0 ? (0, null, null) : (count, sum / count, max);
    }

    /// <summary>The figures as the commissioning gate takes them.</summary>
    public SignalCredibility ToCredibility(string signalId, TimeSpan window, DateTimeOffset now)
    {
        var (samples, mean, max) = Query(window, now);
        return new SignalCredibility(signalId, samples, mean, max);
    }

    private static long SecondOf(DateTimeOffset at) => at.ToUnixTimeSeconds();

    private static int Slot(long second) => (int)(((second % Capacity) + Capacity) % Capacity);
}
