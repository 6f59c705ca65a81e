using SharpFuzz;
using TwinGateway.OpcUa.Fuzzing;
using TwinGateway.OpcUa.Types;

// SharpFuzz harness for the OPC UA stack's network decoders (fuzz/README.md has the commands).
//   TwinGateway.Fuzz chunks|messages|requests              under libfuzzer-dotnet (--target_arg) or afl-fuzz
//   TwinGateway.Fuzz chunks|messages|requests FILE|DIR...   replay inputs (a crash, a corpus) without a fuzzer
//   TwinGateway.Fuzz seed DIR                               write the seed corpus to DIR/chunks, DIR/messages and DIR/requests
// The target may also come from TWINGW_FUZZ_TARGET, for drivers that pass no argument of their own.
var target = args.Length > 0 ? args[0] : Environment.GetEnvironmentVariable("TWINGW_FUZZ_TARGET");
if (target == "seed")
{
    return Harness.WriteSeeds(args.Length > 1 ? args[1] : Path.Combine("fuzz", "corpus"));
}

FuzzTargetAction? run = target switch
{
    "chunks" => FuzzTargets.ChunkStream,
    "messages" => FuzzTargets.MessageDecoder,
    "requests" => FuzzTargets.ServerRequest,
    _ => null,
};
if (run is null)
{
    await Console.Error.WriteLineAsync("usage: TwinGateway.Fuzz chunks|messages|requests [FILE|DIR...] | seed DIR").ConfigureAwait(false);
    return 2;
}

if (Environment.GetEnvironmentVariable("__LIBFUZZER_SHM_ID") is not null)
{
    Fuzzer.LibFuzzer.Run(span => Harness.Invoke(run, span));
    return 0;
}

if (Environment.GetEnvironmentVariable("__AFL_SHM_ID") is not null)
{
    // Out of process: a stack overflow or a hang kills only the child, which SharpFuzz restarts.
    Fuzzer.OutOfProcess.Run(stream => Harness.Invoke(run, Harness.ReadAll(stream)));
    return 0;
}

Harness.GiveInstrumentationSomewhereToWrite();
return Harness.Replay(run, args.Skip(1).ToList());

/// <summary>A fuzz target: returns, or throws <see cref="ServiceResultException"/> for bad input.</summary>
internal delegate void FuzzTargetAction(ReadOnlySpan<byte> data);

internal static class Harness
{
    /// <summary>libfuzzer-dotnet's shared memory holds at most 1 MiB; AFL's inputs are far smaller.</summary>
    private const int MaxInput = 1 << 20;

    /// <summary>Runs the target; a <see cref="ServiceResultException"/> is the expected answer to bad input, anything else escapes as a crash.</summary>
    public static void Invoke(FuzzTargetAction run, ReadOnlySpan<byte> data)
    {
        try
        {
            run(data);
        }
        catch (ServiceResultException)
        {
            // The documented failure: a status code and a reason.
        }
    }

    /// <summary>
    /// An assembly instrumented by <c>sharpfuzz</c> writes coverage to the fuzzer's shared memory on every branch;
    /// without a fuzzer that pointer is null. A private buffer lets the instrumented build replay crashes as they were
    /// found. (The buffer lives as long as the process.)
    /// </summary>
    public static unsafe void GiveInstrumentationSomewhereToWrite()
    {
        if (SharpFuzz.Common.Trace.SharedMem == null)
        {
            SharpFuzz.Common.Trace.SharedMem = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed(1 << 16);
        }
    }

    public static byte[] ReadAll(Stream stream)
    {
        using var memory = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0 && memory.Length < MaxInput)
        {
            memory.Write(buffer, 0, read);
        }

        return memory.ToArray();
    }

    /// <summary>Replays files (or every file in folders), printing each outcome; exit code 1 when any input crashes the target.</summary>
    public static int Replay(FuzzTargetAction run, IReadOnlyList<string> paths)
    {
        if (paths.Count == 0)
        {
            Console.Error.WriteLine("no input: give files or folders to replay, or run under libfuzzer-dotnet or afl-fuzz");
            return 2;
        }

        var missing = paths.Where(p => !Directory.Exists(p) && !File.Exists(p)).ToList();
        if (missing.Count > 0)
        {
            Console.Error.WriteLine("no such file or folder: " + string.Join(", ", missing));
            return 2;
        }

        var files = paths.SelectMany(p => Directory.Exists(p) ? Directory.EnumerateFiles(p).Order(StringComparer.Ordinal) : (IEnumerable<string>)[p]).ToList();
        var crashes = 0;
        var mostAllocated = 0L;
        foreach (var file in files)
        {
            var input = File.ReadAllBytes(file);
            var before = GC.GetAllocatedBytesForCurrentThread();
            string outcome;
            try
            {
                run(input);
                outcome = "ok";
            }
            catch (ServiceResultException ex)
            {
                outcome = ex.Message;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                crashes++;
                outcome = $"CRASH {ex}";
            }

            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            mostAllocated = Math.Max(mostAllocated, allocated);
            Console.WriteLine($"{file} ({input.Length} bytes, {allocated} allocated): {outcome}");
        }

        Console.WriteLine($"{files.Count} inputs, {crashes} crashes, at most {mostAllocated} bytes allocated by one input");
        return crashes == 0 ? 0 : 1;
    }

    public static int WriteSeeds(string root)
    {
        foreach (var (folder, seeds) in new[] { ("chunks", FuzzSeeds.Chunks()), ("messages", FuzzSeeds.Messages()), ("requests", FuzzTargets.ServerRequestSeeds()) })
        {
            var directory = Path.Combine(root, folder);
            Directory.CreateDirectory(directory);
            foreach (var seed in seeds)
            {
                File.WriteAllBytes(Path.Combine(directory, seed.Name), seed.Bytes);
            }

            Console.WriteLine($"{seeds.Count} seeds written to {directory}");
        }

        return 0;
    }
}
