using System.Globalization;
using TwinGateway.Commissioning.Gate;
using TwinGateway.Commissioning.Validation;
using TwinGateway.Core;
using TwinGateway.Core.Changes;

namespace TwinGateway.Host.Web;

/// <summary>How the change pages word and colour a change's facts (the colour always comes with the text).</summary>
internal static class ChangeFacts
{
    public static IReadOnlyList<ChangeState> States { get; } = Enum.GetValues<ChangeState>();

    /// <summary>The badge class of a state: ok applied/approved, bad refused or failed, warn in progress, info otherwise.</summary>
    public static string Badge(ChangeState state) => state switch
    {
        ChangeState.Applied or ChangeState.Approved or ChangeState.Validated => "ok",
        ChangeState.RejectedByValidation or ChangeState.Rejected or ChangeState.Failed or ChangeState.RolledBack => "bad",
        ChangeState.Validating or ChangeState.Applying or ChangeState.Verifying => "warn",
        _ => "info",
    };

    /// <summary>The state from its text form (<c>rejected-by-validation</c>); null when it is none.</summary>
    public static ChangeState? ParseState(string? text) =>
        States.Where(s => string.Equals(s.ToText(), text, StringComparison.Ordinal)).Select(s => (ChangeState?)s).FirstOrDefault();

    public static string Verdict(Evidence? evidence) => evidence is null ? "not validated" : EvidenceJson.VerdictText(evidence.Verdict);

    public static string VerdictBadge(Evidence? evidence) => evidence?.Verdict switch
    {
        ValidationVerdict.Pass => "ok",
        ValidationVerdict.Fail => "bad",
        ValidationVerdict.NotCredible => "warn",
        _ => "info",
    };

    /// <summary>"1 of 2": the human approvals that count (bound to this content and evidence) of those the policy needs; "1" when the policy cannot say.</summary>
    public static string Approvals(ChangeView view, CommissioningGate gate, TwinGateway.Gateway.LineRegistry lines)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(gate);
        ArgumentNullException.ThrowIfNull(lines);
        var counted = view.Approvals.Count(a => a.Counts && a.Approval.Authority == Authority.Human);
        var text = counted.ToString(CultureInfo.InvariantCulture);
        if (!lines.TryGet(view.Record.LineId, out var line))
        {
            return text;
        }

        try
        {
            var rule = gate.Policies.Get(line.Definition).Policy.RuleFor(view.Record.Class);
            return rule.Needs(Authority.Human) ? $"{text} of {rule.Approvals.ToString(CultureInfo.InvariantCulture)}" : $"{text} (none needed)";
        }
        catch (ChangeRefusedException)
        {
            // No readable policy for the line: the change page says why (Missing).
            return text;
        }
    }

    public static string Utc(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";

    public static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    public static string Number(double value, string format = "G5") =>
        double.IsNaN(value) ? "–" : value.ToString(format, CultureInfo.InvariantCulture);
}
