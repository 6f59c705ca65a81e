using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using TwinGateway.Bench.Harness;
using TwinGateway.Commissioning.Audit;
using TwinGateway.Core;

namespace TwinGateway.Bench.Audit;

/// <summary>
/// <c>audit [--entries 1000000] [--batch 1000] [--single 2000] [--out bench/results/audit.json]</c>: the audit chain's
/// append and verification rates (issue 10 §8) on a fresh data folder, through <see cref="AuditLog"/> as the gateway
/// uses it.
/// <list type="number">
/// <item>Batched appends: <c>--entries</c> entries through <see cref="AuditLog.AppendBatchAsync"/>, <c>--batch</c> records
/// per call, each call one SQLite transaction (WAL, synchronous=FULL); every entry hashed and signed.</item>
/// <item>Single appends: <c>--single</c> more entries one <see cref="AuditLog.AppendAsync"/> at a time (one transaction and
/// one fsync each): what one commissioning event costs.</item>
/// <item>Verification of the whole chain (<see cref="AuditLog.VerifyAsync"/>): every hash recomputed, every link and
/// signature checked, pages checked on every core.</item>
/// <item>For scale: ECDSA P-256 signing and verification alone, on one core.</item>
/// </list>
/// </summary>
internal static class AuditMeasurement
{
    /// <summary>The audit report's own format (indented, default escaping, nulls written), kept as it was.</summary>
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    public static async Task<int> RunAsync(string[] args)
    {
        var entries = 1_000_000;
        var batch = 1_000;
        var single = 2_000;
        var output = "bench/results/audit.json";
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--entries" when int.TryParse(value, CultureInfo.InvariantCulture, out entries) && entries > 0:
                case "--batch" when int.TryParse(value, CultureInfo.InvariantCulture, out batch) && batch > 0:
                case "--single" when int.TryParse(value, CultureInfo.InvariantCulture, out single) && single >= 0:
                    i++;
                    break;
                case "--out" when value is not null:
                    output = value;
                    i++;
                    break;
                default:
                    Console.Error.WriteLine($"audit: unknown or invalid option '{args[i]}' (--entries N, --batch N, --single N, --out FILE)");
                    return 2;
            }
        }

        var folder = Directory.CreateTempSubdirectory("twingateway-audit-bench-").FullName;
        try
        {
            var loadBefore = LoadAverage();
            var (signPerSecond, verifyPerSecond) = MeasureSignatures(20_000);
            Console.WriteLine($"audit: ECDSA P-256 on one core: {signPerSecond:N0} signatures/s, {verifyPerSecond:N0} verifications/s");

            await using var log = await AuditLog.OpenAsync(folder, TimeProvider.System).ConfigureAwait(false);
            var records = new AuditRecord[batch];
            var clock = Stopwatch.StartNew();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            for (var done = 0; done < entries; done += batch)
            {
                var count = Math.Min(batch, entries - done);
                for (var j = 0; j < count; j++)
                {
                    records[j] = Record(done + j);
                }

                await log.AppendBatchAsync(count == batch ? records : records[..count]).ConfigureAwait(false);
                if ((done / batch) % 100 == 0)
                {
                    Console.Write($"\raudit: appended {done + count:N0} of {entries:N0}");
                }
            }

            var batchedSeconds = clock.Elapsed.TotalSeconds;
            var batchedCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
            Console.WriteLine($"\raudit: batched appends: {entries:N0} in {batchedSeconds:F1} s = {entries / batchedSeconds:N0} entries/s ({batch} per transaction)");

            clock.Restart();
            for (var i = 0; i < single; i++)
            {
                await log.AppendAsync(Record(entries + i)).ConfigureAwait(false);
            }

            var singleSeconds = clock.Elapsed.TotalSeconds;
            Console.WriteLine($"audit: single appends: {single:N0} in {singleSeconds:F2} s = {single / Math.Max(singleSeconds, 1e-9):N0} entries/s (one transaction each)");

            var total = await log.Store.CountAsync().ConfigureAwait(false);
            clock.Restart();
            cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var result = await log.VerifyAsync().ConfigureAwait(false);
            var verifySeconds = clock.Elapsed.TotalSeconds;
            var verifyCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
            Console.WriteLine($"audit: verification: {result.EntriesChecked:N0} entries in {verifySeconds:F1} s = {result.EntriesChecked / verifySeconds:N0} entries/s; {result.Message}");
            if (!result.IsValid || result.EntriesChecked != total)
            {
                Console.Error.WriteLine($"audit: the chain did not verify: {result.Message}");
                return 1;
            }

            var dbBytes = new FileInfo(Path.Combine(folder, SqliteAuditStore.FileName)).Length;
            var report = new Dictionary<string, object?>
            {
                ["benchmark"] = "audit",
                ["timestampUtc"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
                ["command"] = "dotnet run -c Release --project bench/TwinGateway.Bench -- audit " + string.Join(' ', args),
                ["machine"] = new Dictionary<string, object?>
                {
                    ["cores"] = Environment.ProcessorCount,
                    ["os"] = RuntimeInformation.OSDescription,
                    ["dotnet"] = RuntimeInformation.FrameworkDescription,
                    ["architecture"] = RuntimeInformation.OSArchitecture.ToString(),
                },
                ["loadAverage1mBefore"] = loadBefore,
                ["loadAverage1mAfter"] = LoadAverage(),
                ["settings"] = new Dictionary<string, object?>
                {
                    ["entries"] = entries,
                    ["batchSize"] = batch,
                    ["singleAppends"] = single,
                    ["store"] = "SQLite WAL, synchronous=FULL, one audit.db",
                    ["payloadBytes"] = Record(0).Payload.Length,
                },
                ["batchedAppend"] = new Dictionary<string, object?>
                {
                    ["entries"] = entries,
                    ["seconds"] = Math.Round(batchedSeconds, 2),
                    ["entriesPerSecond"] = Math.Round(entries / batchedSeconds),
                    ["cpuSeconds"] = Math.Round(batchedCpu, 2),
                    ["how"] = $"AuditLog.AppendBatchAsync with {batch} records: one transaction, every entry hashed and signed (one core signs)",
                },
                ["singleAppend"] = new Dictionary<string, object?>
                {
                    ["entries"] = single,
                    ["seconds"] = Math.Round(singleSeconds, 3),
                    ["entriesPerSecond"] = single == 0 ? null : Math.Round(single / singleSeconds),
                    ["how"] = "AuditLog.AppendAsync: head read, hash, signature, one transaction and fsync per entry",
                },
                ["verify"] = new Dictionary<string, object?>
                {
                    ["entries"] = result.EntriesChecked,
                    ["seconds"] = Math.Round(verifySeconds, 2),
                    ["entriesPerSecond"] = Math.Round(result.EntriesChecked / verifySeconds),
                    ["cpuSeconds"] = Math.Round(verifyCpu, 2),
                    ["how"] = "AuditLog.VerifyAsync: pages of 4096 read from SQLite, hashes and signatures checked in parallel on every core, links in order",
                },
                ["ecdsaP256OneCore"] = new Dictionary<string, object?>
                {
                    ["signaturesPerSecond"] = Math.Round(signPerSecond),
                    ["verificationsPerSecond"] = Math.Round(verifyPerSecond),
                },
                ["databaseBytes"] = dbBytes,
                ["bytesPerEntry"] = Math.Round((double)dbBytes / total, 1),
            };
            var path = await HarnessReport.WriteAsync(output, report, s_json).ConfigureAwait(false);
            Console.WriteLine($"audit: report written to {path}");
            return 0;
        }
        finally
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>A validation event with an evidence hash: about the size the gate will write.</summary>
    private static AuditRecord Record(int n) => new(
        "demo-line",
        $"chg-{n / 8:D7}",
        (AuditEventKind)((n % 12) + 1),
        n % 2 == 0 ? "alice" : "gateway",
        (Authority)((n % 3) + 1),
        $$"""{"evidence":"{{n:x8}}e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b","criteria":7,"passed":true}""");

    private static (double Sign, double Verify) MeasureSignatures(int count)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var hash = SHA256.HashData("audit"u8);
        var clock = Stopwatch.StartNew();
        byte[] signature = [];
        for (var i = 0; i < count; i++)
        {
            signature = key.SignHash(hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }

        var sign = count / clock.Elapsed.TotalSeconds;
        clock.Restart();
        for (var i = 0; i < count; i++)
        {
            _ = key.VerifyHash(hash, signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }

        return (sign, count / clock.Elapsed.TotalSeconds);
    }

    private static double? LoadAverage()
    {
        try
        {
            var text = File.ReadAllText("/proc/loadavg");
            return double.Parse(text.Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }
}
