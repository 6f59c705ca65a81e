using System.IO.Compression;
using Xunit.Abstractions;

namespace TwinGateway.Interop.Tests.Commissioning;

/// <summary>
/// <c>twingw change export</c> and <c>twingw change reproduce</c> with real processes: the bundle of a change validated
/// by a gateway process re-runs to the same evidence hash offline, and one byte changed in its evidence is caught.
/// </summary>
public sealed class EvidenceBundleCliTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly ProcessLine _line = new(output);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _line.DisposeAsync();

    /// <summary>Rewrites <paramref name="entryName"/> in the zip with the first digit after <paramref name="after"/> changed to another digit (still valid JSON).</summary>
    private static void ChangeOneDigit(string zip, string entryName, string after)
    {
        using var archive = ZipFile.Open(zip, ZipArchiveMode.Update);
        var entry = archive.GetEntry(entryName) ?? throw new InvalidOperationException($"{zip} has no {entryName}");
        byte[] bytes;
        using (var read = entry.Open())
        using (var copy = new MemoryStream())
        {
            read.CopyTo(copy);
            bytes = copy.ToArray();
        }

        var from = System.Text.Encoding.UTF8.GetString(bytes).IndexOf(after, StringComparison.Ordinal);
        Assert.True(from >= 0, $"{entryName} has no {after}");
        var at = Array.FindIndex(bytes, from, b => b is >= (byte)'0' and <= (byte)'9');
        Assert.True(at >= 0, $"{entryName} has no digit after {after}");
        bytes[at] = bytes[at] == (byte)'9' ? (byte)'8' : (byte)(bytes[at] + 1);
        entry.Delete();
        using var write = archive.CreateEntry(entryName).Open();
        write.Write(bytes);
    }

    [Fact]
    public async Task An_exported_bundle_reproduces_its_evidence_hash_and_one_byte_changed_in_its_evidence_is_caught()
    {
        _line.WriteWorkingDirectory();
        var erin = await _line.AddUserAsync("erin", "engineer");
        await _line.StartPlcAsync();
        await _line.StartGatewayAsync(erin);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var id = await _line.SubmitValidateApproveAsync(ProcessLine.ChangeFile("robot2-speed-90.yaml"), erin, approver: null);
        var evidenceHash = (await _line.TryGetChangeAsync(erin, id))!.Validation.EvidenceHash;

        var bundle = Path.Combine(_line.Folder, "evidence.zip");
        var exported = await _line.CliAsync(erin, "change", "export", id, "--out", bundle, "--server", _line.Server);
        Assert.True(exported.ExitCode == 0, exported.ToString());
        Assert.True(File.Exists(bundle), exported.ToString());

        var reproduced = await _line.CliAsync(null, "change", "reproduce", bundle);
        output.WriteLine(reproduced.StdOut);
        Assert.True(reproduced.ExitCode == 0, reproduced.ToString());
        Assert.Contains("the bundle checks out", reproduced.StdOut, StringComparison.Ordinal);
        var rerun = reproduced.StdOut.Split('\n').Single(l => l.Contains("validation re-run", StringComparison.Ordinal));
        Assert.StartsWith("ok", rerun, StringComparison.Ordinal);
        Assert.Contains(evidenceHash, rerun, StringComparison.Ordinal);

        // One digit of the format line, then one digit of a figure in the body (the first criterion's): each is caught
        // by the manifest and by the evidence's own hash, and nothing is re-run on it.
        foreach (var (name, after, why) in new[] { ("format.zip", "\"format\"", "format"), ("figure.zip", "\"criteria\"", "altered") })
        {
            var tampered = Path.Combine(_line.Folder, name);
            File.Copy(bundle, tampered);
            ChangeOneDigit(tampered, "evidence.json", after);
            var caught = await _line.CliAsync(null, "change", "reproduce", tampered, "--json");
            output.WriteLine(caught.StdOut + caught.StdErr);
            Assert.True(caught.ExitCode == 1, caught.ToString());
            Assert.DoesNotContain("   at ", caught.StdOut + caught.StdErr, StringComparison.Ordinal);
            var checks = caught.JsonLines.ToDictionary(c => c.GetProperty("check").GetString()!, c => (Passed: c.GetProperty("passed").GetBoolean(), Detail: c.GetProperty("detail").GetString()!));
            Assert.Equal((false, "evidence.json changed or missing"), checks["manifest"]);
            Assert.False(checks["evidence hash"].Passed);
            Assert.Contains(why, checks["evidence hash"].Detail, StringComparison.Ordinal);
            Assert.False(checks["validation re-run"].Passed);
            Assert.True(checks["content hash"].Passed, checks["content hash"].Detail);
            Assert.True(checks["audit entries"].Passed, checks["audit entries"].Detail);

            var text = await _line.CliAsync(null, "change", "reproduce", tampered);
            Assert.True(text.ExitCode == 1, text.ToString());
            Assert.Contains("FAIL  manifest: evidence.json changed", text.StdOut, StringComparison.Ordinal);
            Assert.Contains("the bundle does NOT check out", text.StdOut, StringComparison.Ordinal);
        }

        // One byte of the manifest itself, so that it is no longer JSON: the manifest check fails, the rest still run.
        var manifestTampered = Path.Combine(_line.Folder, "manifest.zip");
        File.Copy(bundle, manifestTampered);
        using (var archive = ZipFile.Open(manifestTampered, ZipArchiveMode.Update))
        {
            var entry = archive.GetEntry("manifest.json")!;
            byte[] bytes;
            using (var read = entry.Open())
            using (var copy = new MemoryStream())
            {
                read.CopyTo(copy);
                bytes = copy.ToArray();
            }

            Assert.Equal((byte)'{', bytes[0]);
            bytes[0] = (byte)'[';
            entry.Delete();
            using var write = archive.CreateEntry("manifest.json").Open();
            write.Write(bytes);
        }

        var manifestCaught = await _line.CliAsync(null, "change", "reproduce", manifestTampered, "--json");
        output.WriteLine(manifestCaught.StdOut + manifestCaught.StdErr);
        Assert.True(manifestCaught.ExitCode == 1, manifestCaught.ToString());
        Assert.DoesNotContain("   at ", manifestCaught.StdOut + manifestCaught.StdErr, StringComparison.Ordinal);
        var manifestCheck = manifestCaught.JsonLines.Single(c => c.GetProperty("check").GetString() == "manifest");
        Assert.False(manifestCheck.GetProperty("passed").GetBoolean());
        Assert.Contains("manifest.json does not read", manifestCheck.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains(manifestCaught.JsonLines, c => c.GetProperty("check").GetString() == "validation re-run" && c.GetProperty("passed").GetBoolean());
    }
}
