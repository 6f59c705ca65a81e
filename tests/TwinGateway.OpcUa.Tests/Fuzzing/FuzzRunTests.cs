using System.Diagnostics;
using TwinGateway.OpcUa.Fuzzing;
using TwinGateway.OpcUa.Types;
using Xunit.Abstractions;

namespace TwinGateway.OpcUa.Tests.Fuzzing;

/// <summary>
/// A short, deterministic mutation run over each fuzz target, so CI exercises them without the SharpFuzz
/// instrumentation (fuzz/README.md has the coverage-guided run). Each iteration takes a seed built in code, applies
/// byte flips, inserted or deleted runs, length fields smashed with 0xFF/0x7F patterns, repeated regions (chunk
/// floods), splices and truncation, and checks that only <see cref="ServiceResultException"/> escapes and that the
/// target allocated no more than its limits allow.
/// </summary>
public sealed class FuzzRunTests(ITestOutputHelper output)
{
    /// <summary>Iterations per target; TWINGW_FUZZ_ITERATIONS runs a longer local session (fuzz/README.md).</summary>
    private static readonly int Iterations = int.TryParse(Environment.GetEnvironmentVariable("TWINGW_FUZZ_ITERATIONS"), out var n) && n > 0 ? n : 20_000;

    /// <summary>TWINGW_FUZZ_SEED varies the mutations of a local session; CI always uses the fixed seeds below.</summary>
    private static readonly int? SeedOverride = int.TryParse(Environment.GetEnvironmentVariable("TWINGW_FUZZ_SEED"), out var s) ? s : null;

    /// <summary>A safety net only: the run stops early rather than hold CI up on a slow machine (it never fails for time).</summary>
    private static readonly TimeSpan TimeCap = Iterations > 20_000 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(20);

    [Fact]
    public void Chunk_stream_target_fails_only_with_ServiceResultException_within_its_allocation_budget()
    {
        var limits = FuzzTargets.ChunkLimits;

        // Per iteration: the input copied into the stream, the reader's buffer (two chunks), the messages in progress
        // (together at most MaxMessageSize, in pooled arrays that round up to a power of two and double as they grow,
        // fresh when the pool runs dry), the asymmetric header strings and exceptions. 64 KiB input: 272 KiB.
        long Budget(int inputLength) => inputLength
            + (2L * limits.ReceiveBufferSize)
            + (4L * limits.MaxMessageSize)
            + (64 * 1024);

        Run(FuzzSeeds.Chunks(), FuzzTargets.ChunkStream, maxLength: 64 * 1024, Budget, seed: 0x0C4A_11);
    }

    [Fact]
    public void Message_decoder_target_fails_only_with_ServiceResultException_within_its_allocation_budget()
    {
        var limits = FuzzTargets.MessageLimits;

        // Five decodes and re-encodes of at most MaxMessageSize bytes. The worst case per input byte is an array of
        // one-byte elements that each become a boxed DataValue or Variant in a typed array (about 120 bytes), plus
        // the writer's buffer; the 64 KiB covers exceptions and their messages.
        long Budget(int inputLength) => (5L * 128 * Math.Min(inputLength, limits.MaxMessageSize)) + (64 * 1024);

        Run(FuzzSeeds.Messages(), FuzzTargets.MessageDecoder, maxLength: limits.MaxMessageSize + 64, Budget, seed: 0x0D3C_0DE);
    }

    [Fact]
    public void Server_request_target_fails_only_with_ServiceResultException_within_its_allocation_budget()
    {
        // The seeds decode, and fuzz/corpus/requests holds them (written by the harness's `seed` command).
        var seeds = FuzzTargets.ServerRequestSeeds();
        var root = RepositoryRoot();
        foreach (var s in seeds)
        {
            FuzzTargets.ServerRequest(s.Bytes);
            var path = Path.Combine(root, "fuzz", "corpus", "requests", s.Name);
            Assert.True(File.Exists(path) && s.Bytes.AsSpan().SequenceEqual(File.ReadAllBytes(path)),
                $"{path} is missing or differs from FuzzTargets.ServerRequestSeeds: run `dotnet run --project fuzz/TwinGateway.Fuzz -- seed fuzz/corpus`");
        }

        // Every seed decodes, so Run's warm-up never throws: warm the failure paths (first exceptions cost far more
        // than later ones) with truncated seeds.
        for (var round = 0; round < 2; round++)
        {
            foreach (var s in seeds)
            {
                foreach (var cut in new[] { 1, 3, s.Bytes.Length / 2, s.Bytes.Length - 1 })
                {
                    _ = Invoke(FuzzTargets.ServerRequest, s.Bytes[..cut]);
                }
            }
        }

        var limits = FuzzTargets.MessageLimits;

        // Two decodes and two encodes of at most MaxMessageSize bytes, with the same worst case per input byte as the
        // message decoder's (a boxed element per byte of an array); the 64 KiB covers exceptions and their messages.
        long Budget(int inputLength) => (4L * 128 * Math.Min(inputLength, limits.MaxMessageSize)) + (64 * 1024);

        Run(seeds, FuzzTargets.ServerRequest, maxLength: limits.MaxMessageSize + 64, Budget, seed: 0x5E_4E0);
    }

    private delegate void Target(ReadOnlySpan<byte> data);

    private void Run(IReadOnlyList<FuzzSeed> seeds, Target target, int maxLength, Func<int, long> budget, int seed)
    {
        // Warm up: type initialisers, the array pool's first rentals and JIT-time allocations are not the target's.
        foreach (var s in seeds)
        {
            Invoke(target, s.Bytes);
            Invoke(target, s.Bytes);
        }

        var random = new Random(SeedOverride ?? seed);
        var statuses = new Dictionary<string, int>();
        var clean = 0;
        var maxAllocated = 0L;
        var maxInput = 0;
        var stopwatch = Stopwatch.StartNew();
        var iteration = 0;
        for (; iteration < Iterations && (TimeCap == Timeout.InfiniteTimeSpan || stopwatch.Elapsed < TimeCap); iteration++)
        {
            var input = Mutator.Mutate(seeds, random, maxLength);
            maxInput = Math.Max(maxInput, input.Length);
            var before = GC.GetAllocatedBytesForCurrentThread();
            var failure = Invoke(target, input);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            switch (failure)
            {
                case null:
                    clean++;
                    break;
                case ServiceResultException ex:
                    statuses[ex.StatusCode.Name] = statuses.GetValueOrDefault(ex.StatusCode.Name) + 1;
                    break;
                default:
                    Assert.Fail($"iteration {iteration}: {failure.GetType().Name} escaped (only ServiceResultException may): {failure}\ninput ({input.Length} bytes): {Convert.ToHexString(input)}");
                    break;
            }

            maxAllocated = Math.Max(maxAllocated, allocated);
            var allowed = budget(input.Length);
            Assert.True(allocated <= allowed,
                $"iteration {iteration}: allocated {allocated} bytes for a {input.Length}-byte input, budget {allowed}\ninput: {Convert.ToHexString(input)}");
        }

        output.WriteLine($"{iteration} iterations in {stopwatch.Elapsed.TotalSeconds:0.0} s; {clean} decoded cleanly; largest input {maxInput} bytes; most allocated in one iteration {maxAllocated} bytes");
        foreach (var (status, count) in statuses.OrderByDescending(p => p.Value))
        {
            output.WriteLine($"  {status}: {count}");
        }

        Assert.True(iteration >= 1000, $"only {iteration} iterations ran before the time cap");
        Assert.True(statuses.Count > 1, "the mutations never produced more than one kind of failure: the run is not reaching the decoders");
        Assert.True(clean > 0, "no mutated input was accepted: the run is not reaching past the first check");
    }

    private static Exception? Invoke(Target target, byte[] input)
    {
        try
        {
            target(input);
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    [Fact]
    public void Committed_seed_corpus_matches_the_seeds_built_in_code()
    {
        // fuzz/corpus is written by `dotnet run --project fuzz/TwinGateway.Fuzz -- seed fuzz/corpus`; a codec change that
        // alters the seeds must regenerate it.
        var root = RepositoryRoot();
        foreach (var (folder, seeds) in new[] { ("chunks", FuzzSeeds.Chunks()), ("messages", FuzzSeeds.Messages()) })
        {
            foreach (var s in seeds)
            {
                var path = Path.Combine(root, "fuzz", "corpus", folder, s.Name);
                Assert.True(File.Exists(path), $"{path} is missing: run `dotnet run --project fuzz/TwinGateway.Fuzz -- seed fuzz/corpus`");
                Assert.True(s.Bytes.AsSpan().SequenceEqual(File.ReadAllBytes(path)),
                    $"{path} differs from FuzzSeeds: run `dotnet run --project fuzz/TwinGateway.Fuzz -- seed fuzz/corpus`");
            }
        }
    }

    [Fact]
    public void Seeds_are_accepted_by_their_targets()
    {
        foreach (var s in FuzzSeeds.Chunks())
        {
            FuzzTargets.ChunkStream(s.Bytes);
        }

        foreach (var s in FuzzSeeds.Messages())
        {
            // A seed is valid for at least one of the decoders the target tries; the others may reject it.
            var failure = Invoke(FuzzTargets.MessageDecoder, s.Bytes);
            Assert.True(failure is null or ServiceResultException, $"{s.Name}: {failure}");
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TwinGateway.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no TwinGateway.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>Byte-level mutations in the style of libFuzzer's, driven by one seeded <see cref="Random"/>.</summary>
    private static class Mutator
    {
        private static readonly uint[] HostileWords = [0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0x00000000, 0x7FFFFFF0, 0x00002000, 0x00008001, 0x0000FFFF];
        private static readonly byte[] HostileBytes = [0xFF, 0x7F, 0x80, 0x00, 0x01, 0x3F, 0xC0];

        public static byte[] Mutate(IReadOnlyList<FuzzSeed> seeds, Random random, int maxLength)
        {
            var data = new List<byte>(seeds[random.Next(seeds.Count)].Bytes);
            var rounds = 1 + random.Next(random.Next(8) == 0 ? 16 : 4);
            for (var round = 0; round < rounds; round++)
            {
                switch (random.Next(10))
                {
                    case 0 when data.Count > 0:
                        data[random.Next(data.Count)] ^= (byte)(1 << random.Next(8));
                        break;
                    case 1 when data.Count > 0:
                        data[random.Next(data.Count)] = random.Next(2) == 0 ? (byte)random.Next(256) : HostileBytes[random.Next(HostileBytes.Length)];
                        break;
                    case 2:
                        {
                            var run = new byte[1 + random.Next(64)];
                            if (random.Next(2) == 0)
                            {
                                random.NextBytes(run);
                            }
                            else
                            {
                                Array.Fill(run, HostileBytes[random.Next(HostileBytes.Length)]);
                            }

                            data.InsertRange(random.Next(data.Count + 1), run);
                            break;
                        }

                    case 3 when data.Count > 0:
                        {
                            var at = random.Next(data.Count);
                            data.RemoveRange(at, Math.Min(data.Count - at, 1 + random.Next(32)));
                            break;
                        }

                    case 4 or 5 when data.Count >= 4:
                        {
                            // Length fields are 4-byte little-endian: smash one, favouring the aligned offsets they sit at.
                            var at = random.Next(data.Count - 3);
                            if (random.Next(2) == 0)
                            {
                                at &= ~3;
                            }

                            var word = HostileWords[random.Next(HostileWords.Length)];
                            if (random.Next(4) == 0)
                            {
                                word = (uint)random.Next(0, data.Count * 2);
                            }

                            for (var i = 0; i < 4; i++)
                            {
                                data[at + i] = (byte)(word >> (8 * i));
                            }

                            break;
                        }

                    case 6 when data.Count > 0:
                        {
                            var keep = random.Next(data.Count);
                            data.RemoveRange(keep, data.Count - keep);
                            break;
                        }

                    case 7 when data.Count > 1:
                        {
                            // Repeat a region: chunk floods, long arrays, deep nesting.
                            var start = random.Next(data.Count);
                            var length = 1 + random.Next(Math.Min(data.Count - start, 512));
                            var region = data.GetRange(start, length);
                            var times = 1 + random.Next(random.Next(4) == 0 ? 64 : 4);
                            for (var i = 0; i < times && data.Count + region.Count <= maxLength; i++)
                            {
                                data.InsertRange(start, region);
                            }

                            break;
                        }

                    case 8:
                        {
                            // Splice part of another seed in (a second message after the first, or in its middle).
                            var other = seeds[random.Next(seeds.Count)].Bytes;
                            var start = random.Next(other.Length);
                            var piece = other.AsSpan(start, 1 + random.Next(other.Length - start)).ToArray();
                            data.InsertRange(random.Next(2) == 0 ? data.Count : random.Next(data.Count + 1), piece);
                            break;
                        }

                    default:
                        if (data.Count > 0)
                        {
                            data.RemoveRange(data.Count - 1 - random.Next(Math.Min(data.Count, 16)), 1);
                        }

                        break;
                }
            }

            if (data.Count > maxLength)
            {
                data.RemoveRange(maxLength, data.Count - maxLength);
            }

            return [.. data];
        }
    }
}
