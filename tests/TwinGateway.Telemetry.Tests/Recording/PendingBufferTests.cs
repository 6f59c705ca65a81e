using TwinGateway.Telemetry.Recording;

namespace TwinGateway.Telemetry.Tests.Recording;

/// <summary>
/// The memory bound of what waits for a commit: producers wait when <see cref="RecorderOptions.MaxPendingBytes"/> is
/// reached and go on once a commit makes room; nothing is dropped. Commits are held back through the recorder's test
/// gate, and every wait is on a condition (the producer blocked, a count reached), never on a duration.
/// </summary>
public sealed class PendingBufferTests : IDisposable
{
    private const int Batch = 1_000;
    private const int Capacity = 3 * Batch;
    private const int Total = 10_000;
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(60);
    private readonly TempFolder _folder = new();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Producers_wait_when_the_byte_budget_is_full_and_resume_after_each_commit_losing_nothing(bool batched)
    {
        var options = new RecorderOptions
        {
            DatabasePath = _folder.File("recorder.duckdb"),
            // Commits start only when a batch is pending (or on a flush), so each one is exactly one batch.
            FlushIntervalMilliseconds = 60_000,
            MaxBatchSamples = Batch,
            // The sample bound stays far away: only the byte bound can stop the producer.
            MaxPendingSamples = 1_000_000,
            MaxPendingBytes = (long)Capacity * PendingSamples.SampleBytes,
        };
        using var gate = new SemaphoreSlim(0);
        var recorder = TelemetryRecorder.Open(options);
        await using (recorder)
        {
            recorder.CommitGate = gate;
            var series = Enumerable.Range(0, 7).Select(i => recorder.GetSeries("line1", $"s.signal{i}", "s")).ToArray();
            var samples = Enumerable.Range(0, Total)
                .Select(i => new TelemetrySample(series[i % series.Length], 1_000_000L * i, (1_000_000L * i) + 3, i % 5 == 0 ? null : i * 0.5, 0, i))
                .ToArray();
            var producer = new Thread(() => Produce(recorder, samples, batched)) { IsBackground = true, Name = "test producer" };
            producer.Start();
            try
            {
                // Nothing is committed, so the producer stops at the byte budget.
                WaitUntilBlocked(producer, recorder, appended: Capacity);
                var full = recorder.GetStatus();
                Assert.Equal(Capacity, full.Pending);
                Assert.Equal(0, full.Committed);
                Assert.True(producer.IsAlive);
                Assert.InRange(recorder.PendingBytesAllocated, 1, options.MaxPendingBytes + (2L * PendingSamples.SegmentLength * PendingSamples.SampleBytes));

                // One commit of one batch: the producer takes exactly the room it made, and waits again.
                gate.Release();
                WaitUntilBlocked(producer, recorder, appended: Capacity + Batch);
                var afterOne = recorder.GetStatus();
                Assert.Equal(Batch, afterOne.Committed);
                Assert.Equal(Capacity, afterOne.Pending);
                Assert.Equal(Batch, recorder.LastSeq);

                // Commits flow again: the producer finishes and everything arrives once, in order.
                gate.Release(Total);
                Assert.True(producer.Join(Hang), "the producer did not finish once commits flowed again");
                await recorder.FlushAsync();
                Assert.Equal(Total, recorder.LastSeq);
                var status = recorder.GetStatus();
                Assert.Equal(Total, status.Appended);
                Assert.Equal(Total, status.Committed);
                Assert.Equal(0, status.Pending);
                var read = recorder.ReadAfter(0, 2 * Total);
                Assert.Equal(Total, read.Count);
                for (var i = 0; i < Total; i++)
                {
                    Assert.Equal(i + 1, read[i].Seq);
                    Assert.Equal(samples[i], read[i].Sample);
                }
            }
            finally
            {
                // A failed assertion must not leave the writer at the gate: disposing waits for it.
                gate.Release(Total);
            }
        }
    }

    [Fact]
    public void A_byte_budget_below_one_batch_is_refused()
    {
        var error = Assert.Throws<TelemetryStoreException>(() => TelemetryRecorder.Open(new RecorderOptions
        {
            DatabasePath = _folder.File("recorder.duckdb"),
            MaxBatchSamples = 10_000,
            MaxPendingBytes = 10_000,
        }));
        Assert.Contains("MaxPendingBytes: 10000 is less than one batch", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_buffer_keeps_order_across_segments_and_reuses_them()
    {
        var buffer = new PendingSamples();
        var slices = new List<ArraySegment<TelemetrySample>>();
        long added = 0, removed = 0;
        var most = 0;
        for (var round = 0; round < 40; round++)
        {
            // Uneven adds and removals, so segment borders fall inside batches and the buffer empties now and then.
            var add = (round % 3 == 0 ? 5_000 : 23_000) + round;
            for (var i = 0; i < add; i++)
            {
                buffer.Add(new TelemetrySample(null!, added++, 0, null, 0, null));
            }

            most = Math.Max(most, buffer.Count);
            var take = round % 4 == 3 ? buffer.Count : Math.Min(buffer.Count, 20_000 + (round * 7));
            buffer.PeekOldest(take, slices);
            Assert.Equal(take, slices.Sum(s => s.Count));
            foreach (var sample in slices.SelectMany(s => s))
            {
                Assert.Equal(removed++, sample.SourceTime);
            }

            buffer.RemoveOldest(take);
            Assert.Equal(added - removed, buffer.Count);
        }

        Assert.InRange(buffer.SegmentsAllocated, 1, PendingSamples.SegmentsFor(most));
    }

    private static void Produce(TelemetryRecorder recorder, TelemetrySample[] samples, bool batched)
    {
        try
        {
            if (batched)
            {
                // Scans of 7, as a line's controller link would hand them over.
                for (var i = 0; i < samples.Length; i += 7)
                {
                    recorder.Append(samples.AsSpan(i, Math.Min(7, samples.Length - i)));
                }
            }
            else
            {
                foreach (var sample in samples)
                {
                    recorder.Append(sample);
                }
            }
        }
        catch (ObjectDisposedException)
        {
            // The test failed and disposed the recorder under the waiting producer.
        }
    }

    private static void WaitUntilBlocked(Thread producer, TelemetryRecorder recorder, long appended)
    {
        var blocked = SpinWait.SpinUntil(
            () => recorder.GetStatus().Appended == appended && (producer.ThreadState & ThreadState.WaitSleepJoin) != 0,
            Hang);
        Assert.True(blocked, $"the producer did not stop at {appended} appended samples (status: {recorder.GetStatus()})");
    }

    public void Dispose() => _folder.Dispose();
}
