using System.CommandLine;
using System.Globalization;
using System.Text;
using TwinGateway.Commissioning.Changes;
using TwinGateway.Commissioning.Gate;
using TwinGateway.Commissioning.Policy;
using TwinGateway.Commissioning.Validation;
using TwinGateway.Core.Changes;
using TwinGateway.Core.Lines;
using TwinGateway.Simulation;

namespace TwinGateway.Host.Cli;

/// <summary>
/// <c>twingw change reproduce BUNDLE</c>: checks an evidence bundle offline (manifest, hashes, audit entries and their
/// signatures, approvals) and re-runs its validation from the bundled twin snapshot, line definition, policy and seeds,
/// confirming every figure: the evidence hash must come out the same. Needs no gateway and no token.
/// </summary>
internal static class ReproduceCommand
{
    public static Command Create()
    {
        var bundle = new Argument<FileInfo>("bundle") { Description = "The evidence bundle (`twingw change export ID --out F`)" };
        var json = new Option<bool>("--json") { Description = "One JSON object per check" };
        var command = new Command("reproduce", "Check an evidence bundle offline and re-run its validation from the bundled twin snapshot; exit 0 when every check and figure matches, 1 when not") { bundle, json };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(bundle)!, parse.GetValue(json), ct));
        return command;
    }

    private static async Task<int> RunAsync(FileInfo file, bool json, CancellationToken cancellationToken)
    {
        IReadOnlyDictionary<string, byte[]> files;
        try
        {
            var stream = file.OpenRead();
            await using (stream.ConfigureAwait(false))
            {
                files = EvidenceBundle.Read(stream);
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"error: cannot read the evidence bundle '{file.FullName}': {ex.Message}").ConfigureAwait(false);
            return 2;
        }

        var checks = EvidenceBundle.Check(files).Checks.ToList();
        if (files.TryGetValue(EvidenceBundle.EvidenceFile, out var evidenceBytes))
        {
            checks.Add(await Task.Run(() => Rerun(files, Encoding.UTF8.GetString(evidenceBytes), cancellationToken), cancellationToken).ConfigureAwait(false));
        }
        else
        {
            checks.Add(("validation re-run", true, "the change was never validated: nothing to re-run"));
        }

        foreach (var (name, passed, detail) in checks)
        {
            if (json)
            {
                LinesCommands.JsonLine(w =>
                {
                    w.WriteString("check", name);
                    w.WriteBoolean("passed", passed);
                    w.WriteString("detail", detail);
                });
            }
            else
            {
                Console.WriteLine($"{(passed ? "ok  " : "FAIL")}  {name}: {detail}");
            }
        }

        var ok = checks.All(c => c.Passed);
        if (!json)
        {
            Console.WriteLine(ok ? "the bundle checks out: every hash, signature and figure reproduced" : "the bundle does NOT check out");
        }

        return ok ? 0 : 1;
    }

    private static (string, bool, string) Rerun(IReadOnlyDictionary<string, byte[]> files, string evidenceJson, CancellationToken cancellationToken)
    {
        const string Name = "validation re-run";
        foreach (var needed in new[] { CommissioningGate.SnapshotFile, CommissioningGate.LineFile, CommissioningGate.PolicyFile })
        {
            if (!files.ContainsKey(needed))
            {
                return (Name, false, $"the bundle has no {needed}: the validation cannot be re-run");
            }
        }

        Evidence recorded;
        try
        {
            recorded = EvidenceJson.Read(evidenceJson);
        }
        catch (Exception ex) when (EvidenceBundle.IsDamage(ex))
        {
            return (Name, false, $"{EvidenceBundle.EvidenceFile} does not read as the gateway wrote it, so there is nothing to re-run: {ex.Message}");
        }

        var lineText = Encoding.UTF8.GetString(files[CommissioningGate.LineFile]);
        var line = LineDefinitionLoader.Parse(lineText, CommissioningGate.LineFile);
        if (line.Definition is not { } definition)
        {
            return (Name, false, $"line.yaml does not load: {string.Join("; ", line.Errors)}");
        }

        var policy = ValidationPolicyLoader.Parse(Encoding.UTF8.GetString(files[CommissioningGate.PolicyFile]), CommissioningGate.PolicyFile, definition);
        if (policy.Policy is not { } loadedPolicy)
        {
            return (Name, false, $"policy.yaml does not load: {string.Join("; ", policy.Problems)}");
        }

        var snapshot = new LineTwinFactory().Restore(definition, files[CommissioningGate.SnapshotFile]);
        var change = ChangeJson.Read(Encoding.UTF8.GetString(files[EvidenceBundle.ChangeFile]));
        var credibility = recorded.Credibility.Signals.Select(s => new SignalCredibility(s.SignalId, s.Samples, s.MeanScaledError, s.MaxScaledError)).ToList();
        var rerun = new ValidationSuite().Run(new ValidationRequest
        {
            Snapshot = snapshot,
            CurrentLine = definition,
            CurrentLineText = lineText,
            Change = change,
            Policy = loadedPolicy,
            Credibility = credibility,
            BaseSeed = recorded.BaseSeed,
            Seeds = recorded.Seeds.Length,
            Horizon = TimeSpan.FromSeconds(recorded.HorizonSeconds),
        }, null, cancellationToken);
        if (rerun.Hash == recorded.Hash)
        {
            return (Name, true, $"{recorded.Seeds.Length} seeds x {(recorded.HorizonSeconds / 3600).ToString("0.##", CultureInfo.InvariantCulture)} h re-run in {rerun.Timing.WallSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s: evidence hash {rerun.Hash} reproduced, verdict {EvidenceJson.VerdictText(rerun.Verdict)}, every criterion's figures identical");
        }

        var differing = recorded.Criteria.Zip(rerun.Criteria)
            .Where(p => p.First.BaselineMean != p.Second.BaselineMean || p.First.CandidateMean != p.Second.CandidateMean || p.First.Passed != p.Second.Passed)
            .Select(p => $"{p.First.Kind} {p.First.Subject}: recorded {p.First.BaselineMean.ToString("R", CultureInfo.InvariantCulture)} -> {p.First.CandidateMean.ToString("R", CultureInfo.InvariantCulture)}, re-run {p.Second.BaselineMean.ToString("R", CultureInfo.InvariantCulture)} -> {p.Second.CandidateMean.ToString("R", CultureInfo.InvariantCulture)}");
        return (Name, false, $"the re-run's evidence hash {rerun.Hash} differs from the recorded {recorded.Hash}: {string.Join("; ", differing.DefaultIfEmpty("the figures match but another field differs"))}");
    }
}
